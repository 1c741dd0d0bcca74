package extract

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Conversation is one retrieved conversation: the API's JSON, exactly as received.
type Conversation struct {
	ID        string
	UpdatedAt int64  // as listed
	Origin    string // where the JSON came from when not from the API (a file and line), for messages
	JSON      []byte
}

// ListFunc finds the conversations to retrieve and calls emit once for each; Client.List is one.
type ListFunc func(ctx context.Context, emit func(Ref) error) error

// Progress counts what Extract has done so far; read it with Extractor.Progress while it runs.
type Progress struct {
	Listed    int64 // distinct conversations found
	Skipped   int64 // found but not retrieved: Skip said they are unchanged
	Retrieved int64 // conversations retrieved and handed on
	NotFound  int64 // listed, then gone (404) by the time they were retrieved
	Failed    int64 // could not be retrieved, reported to Failed
	// ListingDone: the listing has finished, so Listed is final and Listed-Skipped is the number of
	// conversations this run retrieves.
	ListingDone bool
	PoolSize    int // retrievals allowed at once now, which adapts to latency (see Extractor)
}

// Extractor retrieves every conversation a ListFunc finds, starting while the listing is still going.
//
// How many retrievals are in flight adapts to the API's latency. To run at the limit the pool must
// hold about rate × latency requests (Little's law): 10,000 a minute is 167 a second, so at 300 ms
// about 50 in flight; a fixed 32 would reach only 64% of the limit. So the pool allows
// max(Config.Concurrency, ceil(limit per second × average latency × 1.25)) at once, at most
// maxInFlight, recomputed as answers come. The 25% margin covers latency jitter and the time a worker
// spends between answer and next request. Being over is cheap: every request still waits for the
// shared limiter, which spends the window's budget and then holds every worker until the reset, so
// a larger pool never means more requests than the window allows, only that the budget is spent
// sooner. Being under wastes budget that the window then forfeits. Hence a simple formula that errs
// upwards rather than AIMD, which would probe for the limit with 429s: the budget is known from the
// headers, so there is nothing to probe. Config.Concurrency is the floor and the start, until the
// first answers report the limit and the latency.
type Extractor struct {
	Client *Client
	List   ListFunc
	// Skip, when set, says which listed conversations need no retrieval (unchanged since last time).
	Skip func(Ref) bool
	// Failed, when set, receives the conversations whose retrieval the API refused for reasons of their
	// own (a 4xx other than 401, 403, 404 and 429), and the run goes on without them. Unset, such an
	// error ends the run.
	Failed func(Ref, error)
	// Gone, when set, receives the conversations deleted between listing and retrieval (404).
	Gone func(Ref)

	listed, skipped, retrieved, notFound, failed atomic.Int64
	listingDone                                  atomic.Bool
	poolSize, peakPoolSize                       atomic.Int64
}

// Progress returns the counts so far.
func (e *Extractor) Progress() Progress {
	return Progress{Listed: e.listed.Load(), Skipped: e.skipped.Load(), Retrieved: e.retrieved.Load(),
		NotFound: e.notFound.Load(), Failed: e.failed.Load(), ListingDone: e.listingDone.Load(),
		PoolSize: int(e.poolSize.Load())}
}

// maxInFlight caps the adaptive pool (unless Config.Concurrency asks for more): 256 runs at 10,000 a
// minute up to 1.2 s of latency, or at the 25,000 a minute of a whole workspace up to 0.5 s, and keeps a
// latency spike from opening hundreds more connections.
const maxInFlight = 256

// inFlightMargin is the headroom over rate × latency.
const inFlightMargin = 1.25

// resizeEvery is how often the pool's size follows the limiter's view of rate and latency.
const resizeEvery = 100 * time.Millisecond

// wantInFlight is the pool size for the client's current pace, between floor and ceiling.
func wantInFlight(c *Client, floor, ceiling int) int {
	perSecond, latency, ok := c.limiter.pace()
	if !ok {
		return floor
	}
	want := math.Ceil(perSecond * latency.Seconds() * inFlightMargin)
	if want >= float64(ceiling) {
		return ceiling
	}
	return max(floor, int(want))
}

// gate is a semaphore whose size can change while it is held. Shrinking takes tokens back as they are
// returned, so no retrieval is interrupted.
type gate struct {
	tokens chan struct{}
	mu     sync.Mutex
	size   int
	debt   int // tokens to keep rather than return, after a shrink
}

func newGate(size, ceiling int) *gate {
	g := &gate{tokens: make(chan struct{}, ceiling)}
	g.resize(size)
	return g
}

func (g *gate) enter(ctx context.Context) error {
	select {
	case <-g.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) leave() {
	g.mu.Lock()
	if g.debt > 0 {
		g.debt--
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	g.tokens <- struct{}{} // never blocks: at most size ≤ cap tokens exist
}

func (g *gate) resize(size int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for ; g.size < size; g.size++ {
		if g.debt > 0 {
			g.debt--
		} else {
			g.tokens <- struct{}{}
		}
	}
	for ; g.size > size; g.size-- {
		select {
		case <-g.tokens:
		default:
			g.debt++
		}
	}
}

// conversationOwnError reports whether a retrieval error concerns the conversation rather than the
// token, the rate limit or the service, so that the run can go on without it.
func conversationOwnError(err error) bool {
	var api *APIError
	if !errors.As(err, &api) || errors.Is(err, ErrAuth) {
		return false
	}
	return api.Status >= 400 && api.Status < 500 && api.Status != http.StatusTooManyRequests
}

// refBuffer lets listing run ahead of retrieval without holding the whole workspace in memory.
const refBuffer = 4096

// Run sends each retrieved conversation to out and returns when all are sent or at the first error
// other than a 404 on retrieval, which is counted and skipped. It does not close out.
func (e *Extractor) Run(ctx context.Context, out chan<- Conversation) error {
	c := e.Client
	list := e.List
	if list == nil {
		list = c.List
	}
	g, ctx := errgroup.WithContext(ctx)
	refs := make(chan Ref, refBuffer)
	g.Go(func() error {
		defer close(refs)
		err := list(ctx, func(r Ref) error {
			e.listed.Add(1)
			if e.Skip != nil && e.Skip(r) {
				e.skipped.Add(1)
				return nil
			}
			select {
			case refs <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		e.listingDone.Store(err == nil)
		return err
	})

	floor := c.cfg.Concurrency
	ceiling := max(maxInFlight, floor)
	size := floor
	pool := newGate(size, ceiling)
	e.poolSize.Store(int64(size))
	e.peakPoolSize.Store(int64(size))
	resized := make(chan struct{})
	stopResizing := make(chan struct{})
	go func() {
		defer close(resized)
		t := time.NewTicker(resizeEvery)
		defer t.Stop()
		for {
			select {
			case <-stopResizing:
				return
			case <-t.C:
			}
			if want := wantInFlight(c, floor, ceiling); want != size {
				size = want
				pool.resize(size)
				e.poolSize.Store(int64(size))
				if int64(size) > e.peakPoolSize.Load() {
					e.peakPoolSize.Store(int64(size))
				}
				c.log.Debug().Int("in_flight", size).Msg("retrieval pool resized")
			}
		}
	}()
	defer func() {
		close(stopResizing)
		<-resized
	}()

	// Workers beyond the pool's size wait for a token, which costs a goroutine each and nothing else.
	for range ceiling {
		g.Go(func() error {
			for {
				if err := pool.enter(ctx); err != nil {
					return err
				}
				r, ok := <-refs
				if !ok {
					pool.leave()
					return nil
				}
				err := e.retrieve(ctx, r, out)
				pool.leave()
				if err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// retrieve gets one conversation and hands it on; a conversation gone or refused for its own reasons
// is counted and reported, and the run goes on.
func (e *Extractor) retrieve(ctx context.Context, r Ref, out chan<- Conversation) error {
	c := e.Client
	data, err := c.Retrieve(ctx, r.ID)
	if errors.Is(err, ErrNotFound) {
		e.notFound.Add(1)
		if e.Gone != nil {
			e.Gone(r)
		}
		c.log.Info().Str("conversation_id", r.ID).Msg("conversation deleted after it was listed; skipped")
		return nil
	}
	if err != nil && e.Failed != nil && conversationOwnError(err) {
		e.failed.Add(1)
		e.Failed(r, err)
		return nil
	}
	if err != nil {
		return err
	}
	select {
	case out <- Conversation{ID: r.ID, UpdatedAt: r.UpdatedAt, JSON: data}:
		e.retrieved.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxTarget is the largest pool size of the runs so far, for the benchmark.
func (e *Extractor) maxTarget() int { return int(e.peakPoolSize.Load()) }
