package extract

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// hangGuard is a deadline that only catches a hang: the tests below check that a request stops, not how
// fast.
const hangGuard = 2 * time.Minute

func TestUnreachableHostFailsAfterAShortRetry(t *testing.T) {
	t.Parallel()
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there any more
		return "http://" + addr
	}()
	for _, tc := range []struct {
		name, base, want string
	}{
		{"unknown host", "https://no-such-host.invalid", "no-such-host.invalid (no such host)"},
		{"connection refused", refused, "(connection refused)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testClient(t, tc.base, func(c *Config) { c.MaxAttempts, c.MaxRetryTime = 100, time.Hour })
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			err := c.List(ctx, func(Ref) error { return nil })
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--base-url") {
				t.Fatalf("error %v, want ErrUnreachable naming %q and the flag to check", err, tc.want)
			}
			if got := c.Stats().Calls; got != unreachableAttempts {
				t.Errorf("%d attempts, want %d (a short retry, not --max-attempts 100)", got, unreachableAttempts)
			}
		})
	}
}

func TestTLSFailureIsUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	// The default client does not trust the test server's certificate.
	c := testClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 50 })
	err := c.List(context.Background(), func(Ref) error { return nil })
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("error %v, want ErrUnreachable naming TLS", err)
	}
	if got := c.Stats().Calls; got != unreachableAttempts {
		t.Errorf("%d attempts, want %d", got, unreachableAttempts)
	}
}

func TestFirstRetryOfEachKindIsLoggedAtInfo(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1, 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.Write([]byte(`{"type":"conversation.list","conversations":[]}`))
		}
	}))
	defer srv.Close()
	var logs bytes.Buffer
	c := testClient(t, srv.URL, func(c *Config) { c.Logger = zerolog.New(&logs).Level(zerolog.InfoLevel) })
	if err := c.List(context.Background(), func(Ref) error { return nil }); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"kind":"HTTP 503"`) || !strings.Contains(lines[1], `"kind":"HTTP 502"`) {
		t.Fatalf("want one info line for the first 503 and one for the first 502, got:\n%s", logs.String())
	}
}

func TestDeletedEndpointUnavailable(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(3, 5)
	for _, tc := range []struct {
		name        string
		status      int
		version     string
		unavailable bool
	}{
		{"404", http.StatusNotFound, "2.16", true},
		{"403", http.StatusForbidden, "2.16", true},
		{"405", http.StatusMethodNotAllowed, "2.16", true},
		{"version without it", 0, "2.11", true},
		{"401 is the token's", http.StatusUnauthorized, "2.16", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := intercomtest.NewServer(ws, intercomtest.Options{DeletedStatus: tc.status})
			defer srv.Close()
			c := fakeClient(t, srv, func(c *Config) { c.APIVersion = tc.version })
			err := c.DeletedSince(context.Background(), 0, func(Deletion) error { return nil })
			if errors.Is(err, ErrUnavailable) != tc.unavailable {
				t.Fatalf("error %v: unavailable %v, want %v", err, errors.Is(err, ErrUnavailable), tc.unavailable)
			}
			if !tc.unavailable && !errors.Is(err, ErrAuth) {
				t.Fatalf("error %v, want ErrAuth", err)
			}
		})
	}
}

func TestChangedInKeepsToTheWindow(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(4, 300)
	var times []int64
	for _, c := range ws.Conversations() {
		times = append(times, c.UpdatedAt)
	}
	lo, hi := times[0], times[0]
	for _, u := range times {
		lo, hi = min(lo, u), max(hi, u)
	}
	w := Window{Since: lo + (hi-lo)/3, Until: lo + 2*(hi-lo)/3}
	want := map[string]bool{}
	for _, c := range ws.Conversations() {
		if c.UpdatedAt >= w.Since && c.UpdatedAt < w.Until {
			want[c.ID] = true
		}
	}
	srv := intercomtest.NewServer(ws, intercomtest.Options{})
	defer srv.Close()
	for _, version := range []string{"2.16", "1.4"} {
		t.Run(version, func(t *testing.T) {
			c := fakeClient(t, srv, func(c *Config) { c.APIVersion = version })
			got := map[string]bool{}
			if err := c.ChangedIn(context.Background(), w, func(r Ref) error { got[r.ID] = true; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%d conversations in the window, want %d", len(got), len(want))
			}
			for id := range want {
				if !got[id] {
					t.Fatalf("conversation %s is missing", id)
				}
			}
		})
	}
}
