package main

import (
	"fmt"
	"strconv"
	"time"
)

// intercomEpoch is the start of 2011, the year Intercom was founded: no conversation is older, so an
// earlier --since or --until is a mistake (a date without dashes read as seconds, say).
var intercomEpoch = time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)

// instantLayouts are the forms --since and --until take besides Unix seconds. Without a zone, a time
// is UTC, like the partition dates.
var instantLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	time.DateOnly,
}

// parseInstant reads the value of --since or --until: RFC 3339 with or without a zone (UTC without),
// a date (midnight UTC) or Unix seconds. It refuses what is clearly a mistake: milliseconds, a date
// without dashes, anything before 2011 or after now.
func parseInstant(flagName, s string, now time.Time) (int64, error) {
	const forms = "use RFC 3339 (2025-03-14T09:00:00Z; without a zone it is UTC), a date (2025-03-14, midnight UTC) or Unix seconds (1741942800)"
	bad := func(why string) (int64, error) {
		return 0, fmt.Errorf("%w: %s %q: %s; %s", errUsage, flagName, s, why, forms)
	}
	var t time.Time
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if d, err := time.Parse("20060102", s); err == nil && len(s) == 8 {
			return bad(fmt.Sprintf("read as Unix seconds it is %s; for the date write %s", time.Unix(n, 0).UTC().Format(time.RFC3339), d.Format(time.DateOnly)))
		}
		if n > 100_000_000_000 {
			return bad(fmt.Sprintf("this looks like milliseconds; in seconds it is %d (%s)", n/1000, time.Unix(n/1000, 0).UTC().Format(time.RFC3339)))
		}
		t = time.Unix(n, 0)
	} else {
		parsed := false
		for _, layout := range instantLayouts {
			if v, err := time.Parse(layout, s); err == nil {
				t, parsed = v, true
				break
			}
		}
		if !parsed {
			return bad("not a time")
		}
	}
	switch {
	case t.Before(intercomEpoch):
		return bad(fmt.Sprintf("%s is before 2011, older than any Intercom conversation", t.UTC().Format(time.RFC3339)))
	case t.After(now):
		return bad(fmt.Sprintf("%s is in the future", t.UTC().Format(time.RFC3339)))
	}
	return t.Unix(), nil
}

// instantString shows Unix seconds as an RFC 3339 UTC time, for logs and messages.
func instantString(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
