package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// fakeClient is a client of an intercomtest server, with retry delays short enough for tests.
func fakeClient(t *testing.T, srv *intercomtest.Server, mutate ...func(*Config)) *Client {
	t.Helper()
	return testClient(t, srv.URL, append([]func(*Config){func(c *Config) {
		c.Token = intercomtest.DefaultToken
		c.HTTPClient = srv.Client()
	}}, mutate...)...)
}

// exportAll lists every conversation and retrieves each, concurrency at a time, as the extractor does.
func exportAll(ctx context.Context, c *Client, concurrency int) (map[string][]byte, error) {
	var mu sync.Mutex
	got := map[string][]byte{}
	g, ctx := errgroup.WithContext(ctx)
	refs := make(chan Ref, 64)
	g.Go(func() error {
		defer close(refs)
		return c.List(ctx, func(r Ref) error {
			select {
			case refs <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	for range concurrency {
		g.Go(func() error {
			for r := range refs {
				data, err := c.Retrieve(ctx, r.ID)
				if err != nil {
					return err
				}
				mu.Lock()
				got[r.ID] = data
				mu.Unlock()
			}
			return nil
		})
	}
	return got, g.Wait()
}

func TestClientOutlastsEveryFault(t *testing.T) {
	ws := intercomtest.NewWorkspace(5, 80)
	clean := intercomtest.NewServer(ws, intercomtest.Options{})
	defer clean.Close()
	want, err := exportAll(context.Background(), fakeClient(t, clean, func(c *Config) { c.PerPage = 10 }), 8)
	if err != nil {
		t.Fatal(err)
	}

	faulty := intercomtest.NewServer(ws, intercomtest.Options{Faults: intercomtest.Faults{
		Seed:            21,
		ServerErrorRate: 0.08, CutRate: 0.03, TruncateRate: 0.03,
		RateLimitStormRate: 0.04, StormWithoutHeaders: true,
		SlowRate: 0.03, SlowDelay: 10 * time.Second,
		InvalidJSONRate:  0.04,
		RejectCursorRate: 0.5, RejectCursorTimes: maxCursorRejections - 1,
		Bursts: intercomtest.Burst{Every: 40, Length: 3},
	}})
	defer faulty.Close()
	c := fakeClient(t, faulty, func(c *Config) {
		c.PerPage = 10
		c.RequestTimeout = 300 * time.Millisecond
		c.MaxAttempts = 12
	})
	got, err := exportAll(context.Background(), c, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d conversations under faults, %d without", len(got), len(want))
	}
	for id, data := range want {
		if !bytes.Equal(got[id], data) {
			t.Errorf("conversation %s differs under faults", id)
		}
	}
	st := faulty.Stats()
	fc := st.FaultCounts
	for kind, n := range map[string]int64{"5xx": fc.ServerErrors, "burst": fc.Bursts, "cut": fc.Cuts, "truncation": fc.Truncations,
		"storm": fc.Storms, "slow": fc.Slow, "invalid JSON": fc.InvalidJSON, "refused cursor": fc.RejectedCursors} {
		if n == 0 {
			t.Errorf("no %s fault was injected: the test proves less than it says", kind)
		}
	}
	// Go's transport silently resends a GET whose reused connection closed before answering, so a cut can
	// cost the client no retry of its own.
	if cs := c.Stats(); cs.Retries < st.Faults-fc.Cuts || cs.RateLimited != fc.Storms {
		t.Errorf("client stats %+v for %d faults (%d storms)", cs, st.Faults, fc.Storms)
	}
	t.Logf("server: %d requests, faults %+v; client: %+v", st.Requests, fc, c.Stats())
}

func TestStormWithoutHeadersBacksOffExponentially(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Too many requests"}]}`)
	}))
	defer srv.Close()
	const base, maxDelay = 20 * time.Millisecond, 80 * time.Millisecond
	c := testClient(t, srv.URL, func(c *Config) { c.RetryBaseDelay, c.RetryMaxDelay, c.MaxAttempts = base, maxDelay, 6 })
	_, err := c.Retrieve(context.Background(), "1")
	var api *APIError
	if !errors.Is(err, ErrRetriesExhausted) || !errors.As(err, &api) || api.Status != 429 {
		t.Fatalf("error %v, want retries exhausted on a 429", err)
	}
	if len(at) != 6 {
		t.Fatalf("%d attempts, want 6", len(at))
	}
	for k := 1; k < len(at); k++ {
		// Full jitter: the k-th wait is at least half of min(base·2^(k-1), max).
		floor := min(base<<(k-1), maxDelay) / 2
		if gap := at[k].Sub(at[k-1]); gap < floor {
			t.Errorf("wait %d was %v, want at least %v", k, gap, floor)
		}
		if gap := at[k].Sub(at[k-1]); gap > maxDelay+time.Second {
			t.Errorf("wait %d was %v: the backoff is not capped", k, gap)
		}
	}
	if c.Stats().RateLimited != 6 {
		t.Errorf("stats %+v, want 6 rate limited", c.Stats())
	}
}

func TestLimiterPauseHoldsEveryRequest(t *testing.T) {
	l := newLimiter()
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.release(http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"10"}, "X-Ratelimit-Reset": {strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)}})
	const hold = 100 * time.Millisecond
	l.pause(time.Now().Add(hold))
	l.pause(time.Now()) // an earlier pause does not shorten a later one
	start := time.Now()
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < hold*9/10 {
		t.Errorf("acquire returned after %v, want the %v pause", took, hold)
	}
	if l.remaining != 9 {
		t.Errorf("remaining %d, want 9: a pause must leave the window's budget alone", l.remaining)
	}
}

func TestSlowAnswerHitsRequestTimeoutAndIsRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // never answers: only the request timeout ends the attempt
			return
		}
		fmt.Fprint(w, `{"type":"conversation","id":"1"}`)
	}))
	defer srv.Close()
	c := testClient(t, srv.URL, func(c *Config) { c.RequestTimeout = 100 * time.Millisecond })
	if err := withinHangGuard(t, func() error { _, err := c.Retrieve(context.Background(), "1"); return err }); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Calls != 2 || s.Retries != 1 {
		t.Errorf("stats %+v, want 2 calls", s)
	}
}

func TestAlwaysSlowNamesTheTimeout(t *testing.T) {
	ws := intercomtest.NewWorkspace(1, 3)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Faults: intercomtest.Faults{SlowRate: 1, SlowDelay: 10 * time.Second}})
	defer srv.Close()
	c := fakeClient(t, srv, func(c *Config) { c.RequestTimeout, c.MaxAttempts = 50*time.Millisecond, 3 })
	_, err := c.Retrieve(context.Background(), ws.Conversations()[0].ID)
	if !errors.Is(err, ErrRetriesExhausted) || !strings.Contains(err.Error(), "--request-timeout") {
		t.Fatalf("error %v, want retries exhausted naming --request-timeout", err)
	}
}

func TestInvalidJSONIsRetried(t *testing.T) {
	ws := intercomtest.NewWorkspace(1, 3)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Faults: intercomtest.Faults{Seed: 3, InvalidJSONRate: 0.5}})
	defer srv.Close()
	c := fakeClient(t, srv, func(c *Config) { c.MaxAttempts = 20 })
	for range 20 {
		data, err := c.Retrieve(context.Background(), ws.Conversations()[0].ID)
		if err != nil || !json.Valid(data) {
			t.Fatalf("Retrieve = %.40s, %v", data, err)
		}
	}
	if st := srv.Stats(); st.FaultCounts.InvalidJSON == 0 || c.Stats().Retries != st.FaultCounts.InvalidJSON {
		t.Errorf("%d invalid answers, %d retries: want one retry for each", st.FaultCounts.InvalidJSON, c.Stats().Retries)
	}
}

func TestRefusedCursor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string // 2.16 lists by cursor; search is used by ChangedSince
		search  bool
		times   int
		wantErr bool
	}{
		{"list, refused less than the limit", "2.16", false, maxCursorRejections - 1, false},
		{"search, refused less than the limit", "2.16", true, maxCursorRejections - 1, false},
		{"list, refused up to the limit", "2.16", false, maxCursorRejections, true},
		{"search, refused up to the limit", "2.16", true, maxCursorRejections, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := intercomtest.NewWorkspace(2, 25)
			srv := intercomtest.NewServer(ws, intercomtest.Options{Faults: intercomtest.Faults{Seed: 1, RejectCursorRate: 1, RejectCursorTimes: tc.times}})
			defer srv.Close()
			c := fakeClient(t, srv, func(c *Config) { c.PerPage, c.APIVersion = 10, tc.version })
			seen := map[string]bool{}
			emit := func(r Ref) error { seen[r.ID] = true; return nil }
			var err error
			if tc.search {
				err = c.ChangedSince(context.Background(), 0, emit)
			} else {
				err = c.List(context.Background(), emit)
			}
			st := srv.Stats()
			if tc.wantErr {
				var api *APIError
				if !errors.Is(err, ErrCursorRejected) || !errors.As(err, &api) || api.Code != "parameter_invalid" || !strings.Contains(err.Error(), "run the export again") {
					t.Fatalf("error %v, want ErrCursorRejected with the API's error and the fix", err)
				}
				if st.FaultCounts.RejectedCursors != maxCursorRejections || len(seen) != 10 {
					t.Errorf("%d refusals, %d conversations listed; want %d refusals of the first cursor after 10",
						st.FaultCounts.RejectedCursors, len(seen), maxCursorRejections)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 25 || st.FaultCounts.RejectedCursors != int64(2*tc.times) {
				t.Errorf("%d conversations after %d refusals; want 25 after %d", len(seen), st.FaultCounts.RejectedCursors, 2*tc.times)
			}
		})
	}
}

func TestParameterInvalidWithoutCursorFailsAtOnce(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(400)
		fmt.Fprint(w, `{"type":"error.list","errors":[{"code":"parameter_invalid","message":"Per Page is too big"}]}`)
	}))
	defer srv.Close()
	err := testClient(t, srv.URL).List(context.Background(), func(Ref) error { return nil })
	if err == nil || errors.Is(err, ErrCursorRejected) || !strings.Contains(err.Error(), "Per Page is too big") || n.Load() != 1 {
		t.Fatalf("error %v after %d attempts, want the API's error after 1", err, n.Load())
	}
}

func TestRetriesEndWithinMaxRetryTime(t *testing.T) {
	const maxRetry, timeout = 400 * time.Millisecond, 200 * time.Millisecond
	for _, tc := range []struct {
		name   string
		handle http.HandlerFunc
	}{
		{"always 503", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}},
		{"always slower than the timeout", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"429 until a reset far away", func(w http.ResponseWriter, r *http.Request) {
			// The limiter would hold the next attempt until the reset: the retry time must cut that wait.
			w.Header().Set("X-RateLimit-Limit", "100")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
		}},
		{"Retry-After far away", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handle)
			defer srv.Close()
			// Without the retry time, 100,000 attempts, or the waits for an hour-away reset, would
			// outlast the hang guard: that the request ends at all shows the bound.
			c := testClient(t, srv.URL, func(c *Config) {
				c.MaxAttempts, c.MaxRetryTime, c.RequestTimeout = 100_000, maxRetry, timeout
				c.RetryBaseDelay, c.RetryMaxDelay = 30*time.Millisecond, 100*time.Millisecond
			})
			err := withinHangGuard(t, func() error { _, err := c.Retrieve(context.Background(), "1"); return err })
			if !errors.Is(err, ErrRetriesExhausted) || !strings.Contains(err.Error(), "--max-retry-time") {
				t.Fatalf("error %v, want retries exhausted naming --max-retry-time", err)
			}
		})
	}
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestDebugLogOneEventPerAttemptWithoutSecrets(t *testing.T) {
	const token = "dbg-secret-9c41e07a"
	ws := intercomtest.NewWorkspace(3, 30)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: token, Faults: intercomtest.Faults{
		Seed: 4, ServerErrorRate: 0.1, CutRate: 0.05, TruncateRate: 0.05, InvalidJSONRate: 0.05,
		RateLimitStormRate: 0.05, StormWithoutHeaders: true, RejectCursorRate: 1,
	}})
	defer srv.Close()
	var logs lockedBuffer
	c := testClient(t, srv.URL, func(c *Config) {
		// Without keep-alive, Go's transport cannot resend a cut request unseen: one attempt, one request.
		c.Token, c.PerPage, c.MaxAttempts = token, 10, 20
		c.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		c.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel)
	})
	if _, err := exportAll(context.Background(), c, 4); err != nil {
		t.Fatal(err)
	}
	requests, statuses := 0, map[int]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var ev struct {
			Level, Message, Method, URL string
			Status, Attempt             int
			Duration                    *int64 `json:"duration_ms"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if ev.Message != "request" {
			continue
		}
		requests++
		statuses[ev.Status]++
		if ev.Level != "debug" || ev.Method != http.MethodGet || !strings.HasPrefix(ev.URL, srv.URL+"/conversations") ||
			strings.Contains(ev.URL, "?") || ev.Attempt < 1 || ev.Duration == nil {
			t.Errorf("request event %s", line)
		}
	}
	if int64(requests) != c.Stats().Calls || int64(requests) != srv.Stats().Requests {
		t.Errorf("%d request events for %d calls and %d requests served: want one per attempt", requests, c.Stats().Calls, srv.Stats().Requests)
	}
	for _, status := range []int{0, 200, 400, 429} { // 0: no answer (cut)
		if statuses[status] == 0 {
			t.Errorf("no request event with status %d among %v", status, statuses)
		}
	}
	for _, secret := range []string{token, "Bearer", "Authorization"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the debug log contains %q", secret)
		}
	}
}
