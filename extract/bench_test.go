package extract

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// limitShape is a rate limit and an API latency to extract under.
type limitShape struct {
	name    string
	limit   int           // requests per window
	window  time.Duration // a whole number of seconds, as Intercom's X-RateLimit-Reset is
	latency time.Duration
	convs   int // conversations in the workspace: one retrieval each, plus the list pages
}

// atTheLimit runs the real Extractor (listing and retrieval) against the fake server, starting at the
// beginning of a rate-limit window so that runs are comparable, and returns what it measured.
type atTheLimitResult struct {
	elapsed     time.Duration
	requests    int64 // answered without a 429
	rateLimited int64
	retrieved   int64
	maxTarget   int
}

func extractAtTheLimit(tb testing.TB, s limitShape, concurrency int) atTheLimitResult {
	tb.Helper()
	ws := intercomtest.NewWorkspace(7, s.convs)
	srv := intercomtest.NewServer(ws, intercomtest.Options{RateLimit: s.limit, RateWindow: s.window, Latency: s.latency})
	defer srv.Close()
	// httptest's own client keeps 2 idle connections per host: at 60 in flight most requests would open
	// a new connection, which is a cost of the test, not of the exporter.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}}
	defer hc.CloseIdleConnections()
	c, err := NewClient(Config{BaseURL: srv.URL, Token: intercomtest.DefaultToken, HTTPClient: hc,
		Concurrency: concurrency, RequestTimeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	// Windows are aligned on multiples of their length since the epoch, as the fake counts them. The
	// wait is not part of the run.
	if b, ok := tb.(*testing.B); ok {
		b.StopTimer()
	}
	w := int64(s.window)
	time.Sleep(time.Until(time.Unix(0, (time.Now().UnixNano()/w+1)*w)))
	if b, ok := tb.(*testing.B); ok {
		b.StartTimer()
	}

	ex := &Extractor{Client: c}
	out := make(chan Conversation, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range out {
		}
	}()
	start := time.Now()
	err = ex.Run(context.Background(), out)
	elapsed := time.Since(start)
	close(out)
	<-done
	if err != nil {
		tb.Fatal(err)
	}
	st := srv.Stats()
	p := ex.Progress()
	if p.Retrieved != int64(s.convs) {
		tb.Fatalf("retrieved %d of %d", p.Retrieved, s.convs)
	}
	return atTheLimitResult{elapsed: elapsed, requests: st.Requests - st.RateLimited, rateLimited: st.RateLimited,
		retrieved: p.Retrieved, maxTarget: ex.maxTarget()}
}

// BenchmarkExtractAtTheLimit measures how close extraction comes to the rate limit when every answer
// takes 300 ms: R requests under a limit of L a window should take about ceil(R/L) windows (fewer,
// since the run starts with a full window and the last one is not waited out), with almost no 429.
//
// The 1-second windows keep the run short. "w1s_l167" has the real shape scaled down: Intercom's
// 10,000 a minute is 1,667 per 10 s window, 167 a second, about 50 requests in flight at 300 ms;
// "w10s_l1667" is that real shape itself and takes about 20 s.
func BenchmarkExtractAtTheLimit(b *testing.B) {
	for _, s := range []limitShape{
		{name: "w1s_l100", limit: 100, window: time.Second, latency: 300 * time.Millisecond, convs: 500},
		{name: "w1s_l167", limit: 167, window: time.Second, latency: 300 * time.Millisecond, convs: 800},
		{name: "w10s_l1667", limit: 1667, window: 10 * time.Second, latency: 300 * time.Millisecond, convs: 3200},
	} {
		b.Run(s.name, func(b *testing.B) {
			var r atTheLimitResult
			var elapsed time.Duration
			var requests, limited, maxTarget int64
			for range b.N {
				r = extractAtTheLimit(b, s, 0)
				elapsed += r.elapsed
				requests += r.requests
				limited += r.rateLimited
				maxTarget = max(maxTarget, int64(r.maxTarget))
			}
			n := float64(b.N)
			b.ReportMetric(float64(s.convs)*n/elapsed.Seconds(), "conversations/s")
			b.ReportMetric(elapsed.Seconds()/s.window.Seconds()/n, "windows/op")
			b.ReportMetric(math.Ceil(float64(requests)/n/float64(s.limit)), "ideal_windows/op")
			b.ReportMetric(float64(requests)/n, "requests/op")
			b.ReportMetric(100*float64(limited)/float64(requests+limited), "429_%")
			b.ReportMetric(float64(maxTarget), "max_in_flight")
		})
	}
}

// TestFewRateLimitedAtTheLimit runs the Extractor with far more workers than the limit needs, so that
// every window's budget is gone early and many workers wait at each window boundary: under 1% of the
// requests may get a 429. It counts answers; it does not time anything.
func TestFewRateLimitedAtTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	s := limitShape{limit: 60, window: time.Second, latency: 100 * time.Millisecond, convs: 240}
	r := extractAtTheLimit(t, s, 200)
	total := r.requests + r.rateLimited
	t.Logf("%d requests, %d rate limited", total, r.rateLimited)
	if r.rateLimited*100 >= total {
		t.Errorf("%d of %d requests got a 429, want under 1%%", r.rateLimited, total)
	}
}

// rateHeaders is an answer's rate-limit headers.
func rateHeaders(limit, remaining int, reset int64) http.Header {
	return http.Header{"X-Ratelimit-Limit": {strconv.Itoa(limit)}, "X-Ratelimit-Remaining": {strconv.Itoa(remaining)},
		"X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}
}

func acquireN(t *testing.T, l *limiter, n int) {
	t.Helper()
	for range n {
		if err := l.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLimiterOutOfOrderAnswersKeepTheBudget(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter()
	l.now = func() time.Time { return now }
	acquireN(t, l, 1)
	l.release(rateHeaders(100, 99, 1010))
	acquireN(t, l, 50)
	// The server counted the 50 in order; the answers come back last counted first. Each answer's
	// Remaining, less the requests still in flight, would charge the ones counted before it twice.
	for i := range 50 {
		l.release(rateHeaders(100, 49+i, 1010))
	}
	if l.remaining != 49 {
		t.Fatalf("remaining %d, want 49: 100 less 51 requests", l.remaining)
	}
	// Someone else spent 10: the next answer shows it, and the budget shrinks by as much.
	acquireN(t, l, 1)
	l.release(rateHeaders(100, 38, 1010))
	if l.remaining != 38 {
		t.Fatalf("remaining %d, want 38 after another client's 10 requests", l.remaining)
	}
}

func TestLimiterOneSecondWindowsGetOneBudgetEach(t *testing.T) {
	now := time.Unix(1000, 500e6)
	l := newLimiter()
	l.now = func() time.Time { return now }
	acquireN(t, l, 1)
	l.release(rateHeaders(10, 9, 1001))
	acquireN(t, l, 9)
	for i := range 9 {
		l.release(rateHeaders(10, 8-i, 1001))
	}
	now = time.Unix(1001, 100e6) // the next window: a full budget
	acquireN(t, l, 10)
	for i := range 10 {
		l.release(rateHeaders(10, 9-i, 1002))
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.acquire(short); err == nil {
		t.Fatal("acquire handed out an 11th request in a window of 10")
	}
	now = time.Unix(1002, 0)
	acquireN(t, l, 10)
}

func TestLimiterLateAnswersGiveTheirChargeBack(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter()
	l.now = func() time.Time { return now }
	acquireN(t, l, 1)
	l.release(rateHeaders(10, 9, 1010))
	acquireN(t, l, 4)
	now = time.Unix(1010, 0)
	acquireN(t, l, 1) // the rollover charges the 4 in flight to the new window too: 10 - 4 - 1
	if l.remaining != 5 {
		t.Fatalf("remaining %d after rollover, want 5", l.remaining)
	}
	for i := range 4 { // but the server counted them in the old one
		l.release(rateHeaders(10, 5-i, 1010))
	}
	if l.remaining != 9 {
		t.Fatalf("remaining %d, want 9 once the old window's answers are in", l.remaining)
	}
}

func TestPoolFollowsRateAndLatency(t *testing.T) {
	c := &Client{limiter: newLimiter()}
	if got := wantInFlight(c, 32, 256); got != 32 {
		t.Errorf("before any answer: %d, want the floor 32", got)
	}
	c.limiter.limit, c.limiter.span, c.limiter.gap = 1667, 10*time.Second, 10*time.Second
	c.limiter.latency = 300 * time.Millisecond
	if got := wantInFlight(c, 32, 256); got != 63 { // 166.7/s × 0.3 s × 1.25
		t.Errorf("10,000 a minute at 300 ms: %d, want 63", got)
	}
	c.limiter.latency = 5 * time.Second
	if got := wantInFlight(c, 32, 256); got != 256 {
		t.Errorf("at 5 s: %d, want the ceiling 256", got)
	}
}

func TestGateResizes(t *testing.T) {
	g := newGate(2, 8)
	ctx := context.Background()
	g.enter(ctx)
	g.enter(ctx)
	g.resize(1) // both tokens are out: the next one returned is kept
	g.leave()
	g.leave()
	if n := len(g.tokens); n != 1 {
		t.Fatalf("%d tokens after shrinking to 1, want 1", n)
	}
	g.resize(3)
	if n := len(g.tokens); n != 3 {
		t.Fatalf("%d tokens after growing to 3, want 3", n)
	}
}
