package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testClient(t *testing.T, url string, mutate ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: url, Token: "tok", RetryBaseDelay: time.Millisecond, RetryMaxDelay: 10 * time.Millisecond, RequestTimeout: 2 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"defaults", Config{Token: "t"}, ""},
		{"no token", Config{}, "INTERCOM_ACCESS_TOKEN"},
		{"unknown region", Config{Token: "t", Region: "mars"}, "use us, eu or au"},
		{"eu", Config{Token: "t", Region: "EU"}, ""},
		{"http remote", Config{Token: "t", BaseURL: "http://api.example.com"}, "use https"},
		{"http loopback", Config{Token: "t", BaseURL: "http://127.0.0.1:8080"}, ""},
		{"http localhost", Config{Token: "t", BaseURL: "http://localhost:8080/"}, ""},
		{"relative", Config{Token: "t", BaseURL: "api.intercom.io"}, "absolute"},
		{"version", Config{Token: "t", APIVersion: "latest"}, "API version"},
		{"version 3", Config{Token: "t", APIVersion: "3.0"}, "1.x and 2.x"},
		{"preview", Config{Token: "t", APIVersion: "Preview"}, ""},
		{"concurrency", Config{Token: "t", Concurrency: -1}, "concurrency"},
		{"per page", Config{Token: "t", PerPage: 151}, "1 to 150"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.SetDefaults()
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v, want one containing %q wrapping ErrConfig", err, tc.want)
			}
		})
	}
}

func TestAPIVersionPaging(t *testing.T) {
	for v, want := range map[string]bool{"1.0": false, "1.4": false, "2.5": false, "2.6": true, "2.16": true, "Preview": true} {
		got, err := parseAPIVersion(v)
		if err != nil || got.cursorPaging() != want {
			t.Errorf("%s: cursorPaging %v, %v; want %v", v, got.cursorPaging(), err, want)
		}
	}
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Accept") != "application/json" || r.Header.Get("Intercom-Version") != DefaultAPIVersion {
			t.Errorf("headers: %v", r.Header)
		}
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"type":"error.list","errors":[{"code":"server_error","message":"boom"}]}`)
			return
		}
		fmt.Fprint(w, `{"type":"conversation","id":"1"}`)
	}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	data, err := c.Retrieve(context.Background(), "1")
	if err != nil || !strings.Contains(string(data), `"id":"1"`) {
		t.Fatalf("Retrieve = %s, %v", data, err)
	}
	if s := c.Stats(); s.Calls != 3 || s.Retries != 2 {
		t.Errorf("stats %+v, want 3 calls and 2 retries", s)
	}
}

func TestFailsFastOnClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		is     error
		want   string
	}{
		{401, `{"type":"error.list","request_id":"abc","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`, ErrAuth, "HTTP 401 unauthorized: Access Token Invalid (request abc)"},
		{403, `{"type":"error.list","errors":[{"code":"api_plan_restricted","message":"Active subscription needed."}]}`, ErrAuth, "api_plan_restricted"},
		{404, `{"type":"error.list","errors":[{"code":"not_found","message":"Resource Not Found"}]}`, ErrNotFound, "not_found"},
		{400, `not json`, nil, "HTTP 400: Bad Request"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			_, err := testClient(t, srv.URL).Retrieve(context.Background(), "7")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tc.is)
			}
			if n.Load() != 1 {
				t.Errorf("%d attempts, want 1", n.Load())
			}
			if strings.Contains(err.Error(), "tok") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestRetriesCutConnectionsAndTruncatedBodies(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1: // cut before answering
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 2: // truncated body: promise more than is sent
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			fmt.Fprint(w, `{"type":"conv`)
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case 3: // complete but not JSON
			fmt.Fprint(w, `{"type":`)
		default:
			fmt.Fprint(w, `{"type":"conversation","id":"1"}`)
		}
	}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	if _, err := c.Retrieve(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("%d attempts, want 4", got)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := testClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 3 })
	_, err := c.Retrieve(context.Background(), "1")
	if !errors.Is(err, ErrRetriesExhausted) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("error %v, want retries exhausted after 3 attempts", err)
	}
}

func TestWaitsOutRateLimit(t *testing.T) {
	var n atomic.Int32
	var firstAt, secondAt time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			firstAt = time.Now()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 167 in 10_seconds"}]}`)
			return
		}
		secondAt = time.Now()
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	c := testClient(t, srv.URL)
	if _, err := c.Retrieve(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if gap := secondAt.Sub(firstAt); gap < time.Second {
		t.Errorf("retried after %v, want at least the 1 s of Retry-After", gap)
	}
	if s := c.Stats(); s.RateLimited != 1 {
		t.Errorf("stats %+v, want 1 rate-limited", s)
	}
}

func TestCancellationStopsWaiting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600") // waiting it out would outlast the hang guard
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := withinHangGuard(t, func() error {
		_, err := testClient(t, srv.URL).Retrieve(ctx, "1")
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
}

// withinHangGuard runs f and returns its error, failing the test if f does not return before the hang
// guard: for tests that check that something stops, not how fast.
func withinHangGuard(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("still running after %v: it does not stop", hangGuard)
		return nil
	}
}

func TestRefusesNextPageOnAnotherHost(t *testing.T) {
	other, _ := net.Listen("tcp", "127.0.0.1:0")
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"type":"conversation.list","conversations":[{"id":1,"updated_at":5}],"pages":{"next":"http://%s/conversations?page=2"}}`, other.Addr())
	}))
	defer srv.Close()
	c := testClient(t, srv.URL, func(c *Config) { c.APIVersion = "1.4" })
	var got []Ref
	err := c.List(context.Background(), func(r Ref) error { got = append(got, r); return nil })
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("error %v, want a refusal to follow another host", err)
	}
	if len(got) != 1 || got[0] != (Ref{ID: "1", UpdatedAt: 5}) {
		t.Errorf("refs %+v", got)
	}
}

func TestLimiterSpendsBudgetThenWaitsForReset(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter()
	l.now = func() time.Time { return now }
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "3")
	h.Set("X-RateLimit-Remaining", "2")
	h.Set("X-RateLimit-Reset", "1010")
	ctx := context.Background()
	if err := l.acquire(ctx); err != nil { // unknown budget: go
		t.Fatal(err)
	}
	l.release(h)
	for i := 0; i < 2; i++ {
		if err := l.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.acquire(short); err == nil {
		t.Fatal("acquire went past an exhausted budget")
	}
	now = time.Unix(1010, 0) // the window resets: a full budget again, less the two in flight
	if err := l.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if l.remaining != 0 {
		t.Errorf("remaining %d after rollover, want 0 (3 - 2 in flight - 1 taken)", l.remaining)
	}
}

func TestTokenNeverPrints(t *testing.T) {
	cfg := Config{Token: "super-secret-token"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(cfg.Token)} {
		if strings.Contains(s, "super-secret") {
			t.Errorf("the token shows in %q", s)
		}
	}
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), "super-secret") {
		t.Errorf("the token shows in JSON %s", b)
	}
}

func TestUnknownAPIVersionsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		version string
		allow   bool
		ok      bool
	}{
		{"2.16", false, true}, {"1.4", false, true}, {"Preview", false, true},
		{"2.17", false, false}, {"2.99", false, false}, {"1.5", false, false},
		{"2.17", true, true}, {"3.0", true, false},
	} {
		cfg := Config{Token: "t", APIVersion: tc.version, AnyAPIVersion: tc.allow}
		cfg.SetDefaults()
		err := cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s (allow %v): %v, want ok %v", tc.version, tc.allow, err, tc.ok)
		}
		if err != nil && !tc.allow && !strings.Contains(err.Error(), KnownAPIVersions) {
			t.Errorf("%s: %v does not list the known versions", tc.version, err)
		}
	}
}
