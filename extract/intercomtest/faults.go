package intercomtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults makes the server misbehave, reproducibly for a given Seed and request order.
//
// The per-request rates (ServerErrorRate to InvalidJSONRate) add up to the probability that a request
// faults. They are laid out one after another on a single draw per request, so turning one rate on leaves
// the requests the others hit unchanged. RejectCursorRate draws from a stream of its own, once per distinct
// cursor: one lister sends those one after another, so which cursors are refused does not depend on how
// concurrent retrievals interleave.
type Faults struct {
	Seed            int64
	ServerErrorRate float64 // answer 500, 502, 503 or 504 with an Intercom error body
	CutRate         float64 // close the connection without answering
	TruncateRate    float64 // send the headers with the full Content-Length, then half the body, then close

	// RateLimitStormRate answers 429 rate_limit_exceeded whatever budget the window has left. The 429
	// carries X-RateLimit-Limit, X-RateLimit-Remaining: 0, X-RateLimit-Reset and Retry-After, unless
	// StormWithoutHeaders, when it carries none of them (as gateways in front of an API do).
	RateLimitStormRate  float64
	StormWithoutHeaders bool

	// SlowRate holds the answer back for SlowDelay (default 30s), or until the client gives up: pick a
	// SlowDelay longer than the client's per-request timeout. A client that waits gets the normal answer.
	SlowRate  float64
	SlowDelay time.Duration

	// InvalidJSONRate answers 200 with a body that is not JSON: a proxy's HTML page, a JSON document cut
	// short but with a matching Content-Length, or an empty body.
	InvalidJSONRate float64

	// RejectCursorRate is the probability that a starting_after cursor (list or search) is refused with
	// 400 parameter_invalid although it is valid, as the real API sometimes does. The draw is made once per
	// cursor, at its first use; a cursor drawn is refused on its first RejectCursorTimes uses (default 1;
	// uses that another fault answers do not count), then accepted. Requests without a cursor are never
	// refused.
	RejectCursorRate  float64
	RejectCursorTimes int

	// Bursts makes runs of consecutive requests fail; see Burst.
	Bursts Burst
}

// Burst describes 5xx bursts: after every Every requests served, the next Length requests all answer
// Status (503 when 0), then the cycle repeats. Every 0 with Length > 0 fails every request: a server that
// is down. Requests are counted once authenticated and within the rate limit.
type Burst struct {
	Every, Length, Status int
}

// FaultCounts counts injected faults by kind; their sum is Stats.Faults.
type FaultCounts struct {
	ServerErrors    int64 // random 5xx
	Bursts          int64 // 5xx within a burst
	Cuts            int64
	Truncations     int64
	Storms          int64 // 429s of a storm (also counted in Stats.RateLimited)
	Slow            int64 // held back for SlowDelay, whether or not the client waited
	InvalidJSON     int64
	RejectedCursors int64
}

func (c *FaultCounts) total() int64 {
	return c.ServerErrors + c.Bursts + c.Cuts + c.Truncations + c.Storms + c.Slow + c.InvalidJSON + c.RejectedCursors
}

type faultKind int

const (
	faultNone faultKind = iota
	faultServerError
	faultCut
	faultTruncate
	faultStorm
	faultSlow
	faultInvalidJSON
	faultRejectCursor
	faultBurst
)

type fault struct {
	kind    faultKind
	status  int // faultServerError, faultBurst
	variant int // faultInvalidJSON: which body
}

// faultDrawer draws faults from seeded PRNGs, so a sequence of requests faults reproducibly.
type faultDrawer struct {
	f        Faults
	mu       sync.Mutex
	r        *rand.Rand     // one draw per request
	cursors  *rand.Rand     // one draw per distinct cursor
	refusals map[string]int // refusals left, by cursor drawn (0 once used up or not drawn)
	seq      int            // requests drawn for, for bursts
}

func newFaultDrawer(f Faults) *faultDrawer {
	if f.SlowDelay <= 0 {
		f.SlowDelay = 30 * time.Second
	}
	if f.RejectCursorTimes <= 0 {
		f.RejectCursorTimes = 1
	}
	return &faultDrawer{
		f:        f,
		refusals: map[string]int{},
		r:        rand.New(rand.NewPCG(uint64(f.Seed), 0x66617531)),
		cursors:  rand.New(rand.NewPCG(uint64(f.Seed), 0x63757273)),
	}
}

func (d *faultDrawer) random() bool {
	f := d.f
	return f.ServerErrorRate > 0 || f.CutRate > 0 || f.TruncateRate > 0 || f.RateLimitStormRate > 0 ||
		f.SlowRate > 0 || f.InvalidJSONRate > 0
}

// draw decides the fault of the next request; cursor is the starting_after it carries, if any.
func (d *faultDrawer) draw(cursor string) fault {
	f := d.f
	if !d.random() && f.Bursts.Length <= 0 && f.RejectCursorRate <= 0 {
		return fault{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := fault{}
	if d.random() {
		// The order of the cases is part of the reproducibility contract: new kinds go at the end.
		u := d.r.Float64()
		edge := 0.0
		next := func(rate float64) bool { edge += rate; return u < edge }
		switch {
		case next(f.ServerErrorRate):
			statuses := []int{500, 502, 503, 504}
			out = fault{kind: faultServerError, status: statuses[d.r.IntN(len(statuses))]}
		case next(f.CutRate):
			out = fault{kind: faultCut}
		case next(f.TruncateRate):
			out = fault{kind: faultTruncate}
		case next(f.RateLimitStormRate):
			out = fault{kind: faultStorm}
		case next(f.SlowRate):
			out = fault{kind: faultSlow}
		case next(f.InvalidJSONRate):
			out = fault{kind: faultInvalidJSON, variant: d.r.IntN(len(invalidBodies))}
		}
	}
	if b := f.Bursts; b.Length > 0 {
		n := d.seq
		d.seq++
		if n%(max(b.Every, 0)+b.Length) >= max(b.Every, 0) {
			status := b.Status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			out = fault{kind: faultBurst, status: status}
		}
	}
	if cursor != "" && f.RejectCursorRate > 0 {
		left, seen := d.refusals[cursor]
		if !seen {
			left = 0
			if d.cursors.Float64() < f.RejectCursorRate {
				left = f.RejectCursorTimes
			}
		}
		if left > 0 && out.kind == faultNone {
			out = fault{kind: faultRejectCursor}
			left--
		}
		d.refusals[cursor] = left
	}
	return out
}

// invalidBodies are 200 answers that are not JSON, with their Content-Type.
var invalidBodies = []struct{ contentType, body string }{
	{"text/html; charset=utf-8", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"},
	{"application/json; charset=utf-8", `{"type":"conversation.list","conversations":[{"type":"conversation","id":"`},
	{"application/json; charset=utf-8", ""},
}

// requestCursor returns the starting_after cursor r asks for a page after, or "". A search's body is read
// and put back for the handler.
func requestCursor(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/conversations":
		return r.URL.Query().Get("starting_after")
	case r.Method == http.MethodPost && r.URL.Path == "/conversations/search":
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return ""
		}
		var req struct {
			Pagination *struct {
				StartingAfter string `json:"starting_after"`
			} `json:"pagination"`
		}
		if json.Unmarshal(body, &req) != nil || req.Pagination == nil {
			return ""
		}
		return req.Pagination.StartingAfter
	}
	return ""
}

// authErrors are the answers Options.AuthError can give, by error code.
var authErrors = map[string]struct {
	status  int
	message string
}{
	"unauthorized":        {http.StatusUnauthorized, "Access Token Invalid"},
	"token_revoked":       {http.StatusUnauthorized, "The access token has been revoked"},
	"token_expired":       {http.StatusUnauthorized, "The access token has expired"},
	"token_not_found":     {http.StatusUnauthorized, "The access token does not exist"},
	"api_plan_restricted": {http.StatusForbidden, "Active subscription needed."},
	"forbidden":           {http.StatusForbidden, "The request is not allowed"},
}

func checkAuthError(code string) {
	if _, ok := authErrors[code]; code != "" && !ok {
		// A typo in a test's options must not turn into a server that silently authorises.
		panic(fmt.Sprintf("intercomtest: unknown Options.AuthError %q", code))
	}
}

// holdBack waits d, or until the client gives up; it reports whether the client is still there.
func holdBack(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
