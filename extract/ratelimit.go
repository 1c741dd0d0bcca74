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
// -Remaining and -Reset. The budget is kept as a local count: each request is charged when it is sent,
// and a new window starts with the limit less every request still in flight (any of them may be counted
// in the new window). The server's Remaining is not copied into that count, because with many requests
// in flight it is stale on arrival and answers come back out of order: an answer counted last may
// arrive first, and subtracting the requests still in flight from its Remaining charges the ones the
// server counted before it twice. At 50 in flight that loses a third of each window. Remaining is used
// only to find usage that is not ours (another export, another integration on the same workspace): what
// the server counted beyond our answered and in-flight requests is taken off the budget.
type limiter struct {
	mu        sync.Mutex
	known     bool      // a response has reported the budget
	limit     int       // requests per window, 0 while unknown
	remaining int       // budget left in the current window, less requests in flight
	windowEnd time.Time // the latest X-RateLimit-Reset seen: when the current window ends
	inFlight  int
	paused    time.Time // no request before this, whatever the budget: after a 429 that did not say when
	now       func() time.Time

	// rolled: windowEnd has passed and remaining is the next window's budget, counted locally until an
	// answer from that window says when it ends.
	rolled bool
	// prevEnd is the end of the window before the budget's one, whose late answers give back the charge
	// they took from the new window; zero after a 429, which must never be argued with.
	prevEnd  time.Time
	answered int // answers from the budget's window
	others   int // requests of the budget's window that are not ours, as far as the answers show

	// What the Extractor needs to size its pool: how long the window is and how long an answer takes.
	lastReset time.Time     // the latest X-RateLimit-Reset of an answer, not of a 429's wait
	span      time.Duration // the longest time from an answer to its window's reset: the window is at least that
	gap       time.Duration // the shortest step between two resets seen: the window is at most that
	latency   time.Duration // moving average of successful attempts, 0 until one succeeds
}

func newLimiter() *limiter { return &limiter{now: time.Now} }

// maxResetWait caps a wait computed from the server's clock, in case that clock is far from ours.
const maxResetWait = 60 * time.Second

// rolledPoll is how often a worker looks again when the new window's budget is spent before any
// answer has said when that window ends.
const rolledPoll = 50 * time.Millisecond

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
		if l.known && !now.Before(l.windowEnd) && (!l.rolled || (l.remaining <= 0 && l.inFlight == 0)) {
			// The window has rolled over: until answers from the new window say otherwise, assume a
			// full budget less what is in flight. windowEnd stays, so late answers from the old window
			// are recognised as such. Rolling once per window matters: rolling again whenever the
			// budget runs out would hand out a second budget in the same server window. Only when
			// nothing is in flight, so that no answer can come to say more, is it done again.
			if l.limit > 0 {
				if !l.rolled {
					l.prevEnd = l.windowEnd
				}
				l.remaining = l.limit - l.inFlight
				l.rolled, l.answered, l.others = true, 0, 0
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
		if wait <= 0 {
			wait = rolledPoll // the new window's end is not known yet: wait for answers that tell
		}
		l.mu.Unlock()
		if err := sleep(ctx, wait+jitter(100*time.Millisecond)); err != nil {
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
	l.learnWindow(resetAt)
	// A window has one reset, so any other reset is another window. A tolerance of a second either way
	// would take the next 1-second window for the current one. If a server's reset did wobble, exact
	// comparison only makes us wait for the later value: slower, never over the limit.
	switch {
	case !l.known || (resetAt.After(l.windowEnd) && !l.rolled):
		// The first answer from a window no rollover has started: its Remaining is the best there is,
		// less everything in flight, which may all count in this window.
		if l.known {
			l.prevEnd = l.windowEnd
		}
		l.known, l.windowEnd = true, resetAt
		l.remaining = remaining - l.inFlight
		l.answered, l.others = 1, max(0, l.limit-remaining-1-l.inFlight)
		return
	case resetAt.After(l.windowEnd):
		// The first answer from the window a rollover started: the local count already holds every
		// request charged to it.
		l.windowEnd, l.rolled = resetAt, false
		l.answered, l.others = 1, 0
	case resetAt.Equal(l.windowEnd) && !l.rolled:
		l.answered++
	case resetAt.Equal(l.windowEnd) || resetAt.Equal(l.prevEnd):
		// Counted in the window before the budget's one, yet charged to the budget's one when it
		// started (it was in flight then): give the charge back.
		l.remaining++
		return
	default:
		// From an older window, or the budget was set by a 429: nothing to learn.
		return
	}
	// What the server counted beyond our answered and in-flight requests is someone else's.
	if excess := l.limit - remaining - l.answered - l.inFlight; excess > l.others {
		l.remaining -= excess - l.others
		l.others = excess
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
	l.rolled, l.prevEnd = false, time.Time{}
}

// learnWindow narrows the window's length down from both sides. The time left until a reset is a lower
// bound, and is close to the length at the start of a window; the step between successive resets is an
// upper bound (a multiple of the length when windows went unused), which also guards against a server
// clock ahead of ours inflating the first bound.
func (l *limiter) learnWindow(resetAt time.Time) {
	if left := resetAt.Sub(l.now()); left > l.span {
		l.span = left
	}
	if !l.lastReset.IsZero() && resetAt.After(l.lastReset) {
		if step := resetAt.Sub(l.lastReset); l.gap == 0 || step < l.gap {
			l.gap = step
		}
	}
	if resetAt.After(l.lastReset) {
		l.lastReset = resetAt
	}
}

// latencyWeight is the weight of a new sample in the moving average of latency: at the limit a hundred or
// more answers arrive a second, so the average follows a change within a fraction of a second while one
// slow answer moves it little.
const latencyWeight = 0.1

// observe records how long a successful attempt took, from sending it to the end of its body: the time
// it held a slot of the pool.
func (l *limiter) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latency == 0 {
		l.latency = d
		return
	}
	l.latency += time.Duration(latencyWeight * float64(d-l.latency))
}

// defaultWindow is Intercom's documented window, assumed until answers tell better.
const defaultWindow = 10 * time.Second

// pace returns the requests a second the limit allows and the average latency of an attempt; ok is
// false until an answer has reported the limit and an attempt has succeeded.
func (l *limiter) pace() (perSecond float64, latency time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 0 || l.latency <= 0 {
		return 0, 0, false
	}
	window := defaultWindow
	if l.span > 0 {
		// Resets are whole seconds, so the time left is never known to better than a second.
		window = max(l.span, time.Second)
	}
	if l.gap > 0 {
		window = min(window, l.gap)
	}
	return float64(l.limit) / window.Seconds(), l.latency, true
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
