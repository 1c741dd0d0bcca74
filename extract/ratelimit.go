package extract

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is shared by every request of a Client. It spends the window's budget as fast as requests come
// and waits only when the budget is gone, which is what "at the limit, no faster" means: sleeping before
// every request (as some exporters do) is always slower than the limit allows.
//
// Intercom enforces the limit in fixed windows and reports the window's budget in X-RateLimit-Limit,
// -Remaining and -Reset. Requests already sent but not yet answered are not in the server's Remaining
// yet, so the local budget subtracts them.
type limiter struct {
	mu        sync.Mutex
	known     bool      // a response has reported the budget
	limit     int       // requests per window, 0 while unknown
	remaining int       // budget left in the current window, less requests in flight
	windowEnd time.Time // the latest X-RateLimit-Reset seen: when the current window ends
	inFlight  int
	paused    time.Time // no request before this, whatever the budget: after a 429 that did not say when
	now       func() time.Time
}

func newLimiter() *limiter { return &limiter{now: time.Now} }

// maxResetWait caps a wait computed from the server's clock, in case that clock is far from ours.
const maxResetWait = 60 * time.Second

// acquire blocks until the budget allows one more request, or ctx ends.
func (l *limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		if now.Before(l.paused) {
			wait := l.paused.Sub(now)
			l.mu.Unlock()
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if l.known && l.remaining <= 0 && !now.Before(l.windowEnd) {
			// The window has rolled over: until an answer from the new window says otherwise, assume a
			// full budget. windowEnd stays, so late answers from the old window are recognised as such.
			if l.limit > 0 {
				l.remaining = l.limit - l.inFlight
			} else {
				l.known = false
			}
		}
		if !l.known || l.remaining > 0 {
			l.remaining--
			l.inFlight++
			l.mu.Unlock()
			return nil
		}
		wait := min(l.windowEnd.Sub(now), maxResetWait)
		l.mu.Unlock()
		if err := sleep(ctx, max(wait, 0)+jitter(100*time.Millisecond)); err != nil {
			return err
		}
	}
}

// release records the answer to a request acquire let through; h is nil when none arrived.
func (l *limiter) release(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	remaining, okRemaining := headerInt(h, "X-RateLimit-Remaining")
	reset, okReset := headerInt(h, "X-RateLimit-Reset")
	if !okRemaining || !okReset {
		return
	}
	if limit, ok := headerInt(h, "X-RateLimit-Limit"); ok {
		l.limit = limit
	}
	resetAt := time.Unix(int64(reset), 0)
	switch {
	case !l.known || resetAt.After(l.windowEnd.Add(time.Second)):
		// A new window: its budget is what the server reports, less what we have in flight.
		l.known = true
		l.windowEnd = resetAt
		l.remaining = remaining - l.inFlight
	case resetAt.Before(l.windowEnd.Add(-time.Second)):
		// An answer from a window already past says nothing about the current one.
	default:
		l.remaining = min(l.remaining, remaining-l.inFlight)
	}
}

// exhausted records a 429: nothing is left until until.
func (l *limiter) exhausted(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.known = true
	l.remaining = 0
	if until.After(l.windowEnd) {
		l.windowEnd = until
	}
}

// pause holds every request back until until. Unlike exhausted it leaves the window's budget alone: a
// 429 without rate-limit headers says nothing about the window.
func (l *limiter) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.paused) {
		l.paused = until
	}
}

// waitFor429 says how long to wait before retrying a 429: Retry-After, else the window's reset, else 0
// (the caller then backs off exponentially).
func waitFor429(h http.Header, now time.Time) time.Duration {
	if s := h.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			return min(time.Duration(secs)*time.Second, maxResetWait)
		}
		if t, err := http.ParseTime(s); err == nil {
			return min(max(t.Sub(now), 0), maxResetWait)
		}
	}
	if reset, ok := headerInt(h, "X-RateLimit-Reset"); ok {
		return min(max(time.Unix(int64(reset), 0).Sub(now), 0), maxResetWait)
	}
	return 0
}

func headerInt(h http.Header, key string) (int, bool) {
	if h == nil {
		return 0, false
	}
	v, err := strconv.Atoi(h.Get(key))
	return v, err == nil
}

func jitter(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	return rand.N(upTo)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
