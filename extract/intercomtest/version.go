package intercomtest

import (
	"strconv"
	"strings"
)

// defaultVersion answers requests without an Intercom-Version header, as an app's default version would.
const defaultVersion = "2.11"

// version is a parsed Intercom-Version: 1.0..1.4, 2.0..2.16 or Preview.
type version struct {
	major, minor int
	preview      bool
}

func parseVersion(s string) (version, bool) {
	if s == "Preview" {
		return version{preview: true}, true
	}
	major, minor, ok := strings.Cut(s, ".")
	if !ok {
		return version{}, false
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || strconv.Itoa(ma) != major || strconv.Itoa(mi) != minor {
		return version{}, false
	}
	switch {
	case ma == 1 && mi >= 0 && mi <= 4, ma == 2 && mi >= 0 && mi <= 16:
		return version{major: ma, minor: mi}, true
	}
	return version{}, false
}

func (v version) atLeast(major, minor int) bool {
	return v.preview || v.major > major || v.major == major && v.minor >= minor
}

// v2 reports whether answers take the 2.x shape.
func (v version) v2() bool { return v.atLeast(2, 0) }

// cursorPaging reports whether GET /conversations pages by cursor (2.6 on) rather than by page number.
func (v version) cursorPaging() bool { return v.atLeast(2, 6) }

// hasDeleted reports whether GET /conversations/deleted exists (2.16 on).
func (v version) hasDeleted() bool { return v.atLeast(2, 16) }

// legacyPartTypes are the part types that versions before 2.6 send; they send other events as comment.
var legacyPartTypes = map[string]bool{
	"comment": true, "note": true, "assignment": true, "open": true, "close": true,
	"away_mode_assignment": true, "participant_added": true, "participant_removed": true,
	"conversation_rating_changed": true, "conversation_rating_remark_added": true, "snoozed": true,
	"unsnoozed": true, "timer_unsnooze": true,
}

// RenderedPartType returns the part_type the server sends for partType under apiVersion: before 2.6
// the API sends most newer event types as plain "comment".
func RenderedPartType(apiVersion, partType string) string {
	v, ok := parseVersion(apiVersion)
	if !ok {
		return partType
	}
	return v.partType(partType)
}

func (v version) partType(partType string) string {
	if v.atLeast(2, 6) || legacyPartTypes[partType] {
		return partType
	}
	return "comment"
}
