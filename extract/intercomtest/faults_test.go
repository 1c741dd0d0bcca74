package intercomtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// rawAnswer is what a client saw: an answer, or the error that stood for one.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error // no answer (cut, timeout) or a body cut short
}

// outcome names what a client saw, for comparing runs.
func (a rawAnswer) outcome() string {
	switch {
	case a.err != nil && a.status == 0:
		return "no answer"
	case a.err != nil:
		return fmt.Sprintf("%d truncated", a.status)
	case a.status == 200 && !json.Valid(a.body):
		return "200 invalid"
	}
	return fmt.Sprint(a.status)
}

// send makes one request on a fresh connection: Go's transport silently retries a GET whose reused
// connection closes before answering, which would hide cuts.
func send(t *testing.T, srv *Server, method, target string, body any, timeout time.Duration) rawAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Intercom-Version", "2.11")
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return rawAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// nextCursor returns the starting_after of the page after a list or search answer, "" on the last page.
func nextCursor(t *testing.T, a rawAnswer) string {
	t.Helper()
	var p struct {
		Pages struct {
			Next *struct {
				StartingAfter string `json:"starting_after"`
			} `json:"next"`
		} `json:"pages"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &p) != nil {
		t.Fatalf("not a page: %s %s", a.outcome(), a.body)
	}
	if p.Pages.Next == nil {
		return ""
	}
	return p.Pages.Next.StartingAfter
}

func listAfter(cursor string) string {
	target := "/conversations?per_page=1"
	if cursor != "" {
		target += "&starting_after=" + url.QueryEscape(cursor)
	}
	return target
}

func TestFaultKinds(t *testing.T) {
	const requests, rate = 300, 0.25
	for _, tc := range []struct {
		name   string
		faults Faults
		want   string // outcome of a faulted request
		count  func(FaultCounts) int64
		check  func(t *testing.T, a rawAnswer)
	}{
		{"storm with headers", Faults{Seed: 4, RateLimitStormRate: rate}, "429",
			func(c FaultCounts) int64 { return c.Storms },
			func(t *testing.T, a rawAnswer) {
				if a.header.Get("X-RateLimit-Remaining") != "0" || a.header.Get("X-RateLimit-Reset") == "" || a.header.Get("Retry-After") == "" {
					t.Fatalf("storm 429 without its rate-limit headers: %v", a.header)
				}
				(answer{a.status, a.header, a.body}).wantError(t, 429, "rate_limit_exceeded")
			}},
		{"storm without headers", Faults{Seed: 5, RateLimitStormRate: rate, StormWithoutHeaders: true}, "429",
			func(c FaultCounts) int64 { return c.Storms },
			func(t *testing.T, a rawAnswer) {
				for k := range a.header {
					if strings.HasPrefix(strings.ToLower(k), "x-ratelimit") || k == "Retry-After" {
						t.Fatalf("storm 429 carries %s", k)
					}
				}
				(answer{a.status, a.header, a.body}).wantError(t, 429, "rate_limit_exceeded")
			}},
		{"invalid JSON", Faults{Seed: 6, InvalidJSONRate: rate}, "200 invalid",
			func(c FaultCounts) int64 { return c.InvalidJSON }, nil},
		{"server errors", Faults{Seed: 7, ServerErrorRate: rate}, "",
			func(c FaultCounts) int64 { return c.ServerErrors }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, srv := newTestServer(t, 10, Options{Faults: tc.faults})
			id := ws.ids()[3]
			faulted := 0
			for range requests {
				a := send(t, srv, http.MethodGet, "/conversations/"+id, nil, 0)
				switch o := a.outcome(); {
				case o == "200":
				case tc.want == "" && a.status >= 500, o == tc.want:
					faulted++
					if tc.check != nil {
						tc.check(t, a)
					}
				default:
					t.Fatalf("unexpected answer %s: %s", o, a.body)
				}
			}
			if want := rate * requests; float64(faulted) < want*0.7 || float64(faulted) > want*1.3 {
				t.Errorf("%d faults in %d requests, want about %.0f", faulted, requests, want)
			}
			st := srv.Stats()
			if tc.count(st.FaultCounts) != int64(faulted) || st.Faults != int64(faulted) || st.RetrieveRequests != int64(requests-faulted) {
				t.Errorf("stats %+v, observed %d faults", st, faulted)
			}
		})
	}
}

func TestFaultsReproducible(t *testing.T) {
	faults := Faults{Seed: 9, ServerErrorRate: 0.1, CutRate: 0.05, TruncateRate: 0.05, RateLimitStormRate: 0.05,
		SlowRate: 0.02, SlowDelay: 5 * time.Second, InvalidJSONRate: 0.05, RejectCursorRate: 0.3}
	seq := func(f Faults) []string {
		ws, srv := newTestServer(t, 60, Options{Faults: f})
		var out []string
		cursor := ""
		for k := range 100 {
			if k%3 != 0 {
				out = append(out, send(t, srv, http.MethodGet, "/conversations/"+ws.ids()[k%40], nil, 500*time.Millisecond).outcome())
				continue
			}
			// One page at a time, the next once this one is answered, as a lister walks them.
			a := send(t, srv, http.MethodGet, listAfter(cursor), nil, 500*time.Millisecond)
			out = append(out, a.outcome())
			if a.outcome() == "200" {
				cursor = nextCursor(t, a)
			}
		}
		return out
	}
	a, b := seq(faults), seq(faults)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave different faults:\n%v\n%v", a, b)
	}
	kinds := map[string]bool{}
	for _, o := range a {
		kinds[o] = true
	}
	for _, o := range []string{"200", "400", "429", "no answer", "200 truncated", "200 invalid"} {
		if !kinds[o] {
			t.Errorf("no %q among %v: the rates are too low for this test to mean anything", o, kinds)
		}
	}
	faults.Seed++
	if c := seq(faults); reflect.DeepEqual(a, c) {
		t.Error("another seed gave the same faults")
	}
}

func TestRejectCursor(t *testing.T) {
	search := func(after string) map[string]any {
		p := map[string]any{"per_page": 5}
		if after != "" {
			p["starting_after"] = after
		}
		return map[string]any{"query": map[string]any{"field": "updated_at", "operator": ">", "value": 0}, "pagination": p}
	}
	for _, times := range []int{0, 3} {
		t.Run(fmt.Sprintf("times %d", times), func(t *testing.T) {
			ws, srv := newTestServer(t, 30, Options{Faults: Faults{Seed: 1, RejectCursorRate: 1, RejectCursorTimes: times}})
			// Pages without a cursor and retrievals are never refused.
			listCursor := nextCursor(t, send(t, srv, http.MethodGet, listAfter(""), nil, 0))
			searchCursor := nextCursor(t, send(t, srv, http.MethodPost, "/conversations/search", search(""), 0))
			if a := send(t, srv, http.MethodGet, "/conversations/"+ws.ids()[0], nil, 0); a.status != 200 {
				t.Fatalf("retrieval: %s", a.outcome())
			}
			refusals := max(times, 1)
			for name, req := range map[string]func() rawAnswer{
				"list": func() rawAnswer { return send(t, srv, http.MethodGet, listAfter(listCursor), nil, 0) },
				"search": func() rawAnswer {
					return send(t, srv, http.MethodPost, "/conversations/search", search(searchCursor), 0)
				},
			} {
				for k := range refusals {
					a := req()
					if a.status != 400 {
						t.Fatalf("%s: use %d of a cursor drawn for refusal: %s", name, k+1, a.outcome())
					}
					(answer{a.status, a.header, a.body}).wantError(t, 400, "parameter_invalid")
				}
				if a := req(); a.status != 200 {
					t.Fatalf("%s: the cursor is still refused after %d refusals: %s", name, refusals, a.body)
				}
			}
			if st := srv.Stats(); st.FaultCounts.RejectedCursors != int64(2*refusals) || st.Faults != int64(2*refusals) {
				t.Errorf("stats %+v, want %d refused cursors", st, 2*refusals)
			}
		})
	}

	t.Run("refusals count only when answered", func(t *testing.T) {
		// Every other request is a burst 503, which must not use up a refusal.
		_, srv := newTestServer(t, 30, Options{Faults: Faults{Seed: 1, RejectCursorRate: 1, RejectCursorTimes: 2,
			Bursts: Burst{Every: 1, Length: 1}}})
		cursor := nextCursor(t, send(t, srv, http.MethodGet, listAfter(""), nil, 0))
		send(t, srv, http.MethodGet, listAfter(""), nil, 0) // the burst after the first page
		var got []int
		for range 5 {
			got = append(got, send(t, srv, http.MethodGet, listAfter(cursor), nil, 0).status)
		}
		if want := []int{400, 503, 400, 503, 200}; !reflect.DeepEqual(got, want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
	})

	// Which cursors are refused depends only on the seed and the order of the pages, not on the
	// retrievals other workers send in between.
	pattern := func(between int) []int {
		ws, srv := newTestServer(t, 30, Options{Faults: Faults{Seed: 8, RejectCursorRate: 0.5}})
		var refusals []int
		for cursor := ""; ; {
			for range between {
				send(t, srv, http.MethodGet, "/conversations/"+ws.ids()[1], nil, 0)
			}
			a := send(t, srv, http.MethodGet, listAfter(cursor), nil, 0)
			if a.status == 400 {
				refusals[len(refusals)-1]++
				continue
			}
			refusals = append(refusals, 0)
			if cursor = nextCursor(t, a); cursor == "" {
				return refusals
			}
		}
	}
	a, b := pattern(0), pattern(3)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("refusals moved with interleaved retrievals:\n%v\n%v", a, b)
	}
	if n := slices.Max(a); n != 1 || len(a) != 30 {
		t.Errorf("refusals %v: want 30 pages, cursors refused at most once each, some refused", a)
	}
}

func TestBursts(t *testing.T) {
	for _, tc := range []struct {
		burst Burst
		want  []int
	}{
		{Burst{Every: 3, Length: 2}, []int{200, 200, 200, 503, 503, 200, 200, 200, 503, 503, 200}},
		{Burst{Every: 1, Length: 1, Status: 502}, []int{200, 502, 200, 502, 200, 502}},
		{Burst{Length: 1}, []int{503, 503, 503, 503}},
	} {
		t.Run(fmt.Sprint(tc.burst), func(t *testing.T) {
			ws, srv := newTestServer(t, 5, Options{Faults: Faults{Bursts: tc.burst}})
			var got []int
			for range tc.want {
				a := send(t, srv, http.MethodGet, "/conversations/"+ws.ids()[0], nil, 0)
				if a.status >= 500 {
					code := map[bool]string{true: "service_unavailable", false: "server_error"}[a.status == 503]
					(answer{a.status, a.header, a.body}).wantError(t, a.status, code)
				}
				got = append(got, a.status)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("statuses %v, want %v", got, tc.want)
			}
			failed := 0
			for _, s := range got {
				if s != 200 {
					failed++
				}
			}
			if st := srv.Stats(); st.FaultCounts.Bursts != int64(failed) || st.Faults != int64(failed) {
				t.Errorf("stats %+v, want %d burst faults", st, failed)
			}
		})
	}
}

func TestSlow(t *testing.T) {
	const delay = 300 * time.Millisecond
	ws, srv := newTestServer(t, 5, Options{Faults: Faults{Seed: 2, SlowRate: 1, SlowDelay: delay}})
	id := ws.ids()[0]
	// A client with a shorter timeout gets nothing.
	a := send(t, srv, http.MethodGet, "/conversations/"+id, nil, 50*time.Millisecond)
	var ne interface{ Timeout() bool }
	if a.err == nil || !errors.As(a.err, &ne) || !ne.Timeout() {
		t.Fatalf("a client with a 50ms timeout got %s, %v; want a timeout", a.outcome(), a.err)
	}
	// A patient client gets the normal answer, late (a lower bound: a busy machine cannot break it).
	start := time.Now()
	if a := send(t, srv, http.MethodGet, "/conversations/"+id, nil, 0); a.outcome() != "200" {
		t.Fatalf("a patient client got %s", a.outcome())
	} else if took := time.Since(start); took < delay {
		t.Errorf("answered in %v, want at least %v", took, delay)
	}
	if st := srv.Stats(); st.FaultCounts.Slow != 2 || st.RetrieveRequests != 1 {
		t.Errorf("stats %+v, want 2 slow and 1 retrieval served", st)
	}
}

func TestAuthError(t *testing.T) {
	for code, want := range map[string]int{
		"unauthorized": 401, "token_revoked": 401, "token_expired": 401, "api_plan_restricted": 403,
	} {
		t.Run(code, func(t *testing.T) {
			ws, srv := newTestServer(t, 5, Options{AuthError: code, AuthErrorAfter: 2})
			for k := range 4 {
				a := send(t, srv, http.MethodGet, "/conversations/"+ws.ids()[0], nil, 0)
				if k < 2 {
					if a.status != 200 {
						t.Fatalf("request %d before the token went bad: %s", k+1, a.outcome())
					}
					continue
				}
				e := (answer{a.status, a.header, a.body}).wantError(t, want, code)
				if e.Message == "" {
					t.Errorf("%s without a message", code)
				}
				if a.header.Get("X-RateLimit-Remaining") != "" {
					t.Error("an unauthenticated answer carries rate-limit headers")
				}
			}
			if st := srv.Stats(); st.AuthErrors != 2 || st.RetrieveRequests != 2 {
				t.Errorf("stats %+v, want 2 auth errors and 2 retrievals", st)
			}
		})
	}
	t.Run("unknown code", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewServer accepted an unknown AuthError")
			}
		}()
		NewServer(NewWorkspace(1, 1), Options{AuthError: "token_revokd"}).Close()
	})
}
