package extract

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Conversation is one retrieved conversation: the API's JSON, exactly as received.
type Conversation struct {
	ID        string
	UpdatedAt int64 // as listed
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
}

// Extractor retrieves every conversation a ListFunc finds, Concurrency at a time, starting while the
// listing is still going.
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
}

// Progress returns the counts so far.
func (e *Extractor) Progress() Progress {
	return Progress{Listed: e.listed.Load(), Skipped: e.skipped.Load(), Retrieved: e.retrieved.Load(),
		NotFound: e.notFound.Load(), Failed: e.failed.Load()}
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
		return list(ctx, func(r Ref) error {
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
	})
	for range c.cfg.Concurrency {
		g.Go(func() error {
			for r := range refs {
				data, err := c.Retrieve(ctx, r.ID)
				if errors.Is(err, ErrNotFound) {
					e.notFound.Add(1)
					if e.Gone != nil {
						e.Gone(r)
					}
					c.log.Info().Str("conversation_id", r.ID).Msg("conversation deleted after it was listed; skipped")
					continue
				}
				if err != nil && e.Failed != nil && conversationOwnError(err) {
					e.failed.Add(1)
					e.Failed(r, err)
					continue
				}
				if err != nil {
					return err
				}
				select {
				case out <- Conversation{ID: r.ID, UpdatedAt: r.UpdatedAt, JSON: data}:
					e.retrieved.Add(1)
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	return g.Wait()
}
