package extract

import (
	"context"
	"errors"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Conversation is one retrieved conversation: the API's JSON, exactly as received.
type Conversation struct {
	ID   string
	JSON []byte
}

// ListFunc finds the conversations to retrieve and calls emit once for each; Client.List is one.
type ListFunc func(ctx context.Context, emit func(Ref) error) error

// Progress counts what Extract has done so far; read it with Extractor.Progress while it runs.
type Progress struct {
	Listed    int64 // distinct conversations found
	Retrieved int64 // conversations retrieved and handed on
	NotFound  int64 // listed, then gone (404) by the time they were retrieved
}

// Extractor retrieves every conversation a ListFunc finds, Concurrency at a time, starting while the
// listing is still going.
type Extractor struct {
	Client *Client
	List   ListFunc

	listed, retrieved, notFound atomic.Int64
}

// Progress returns the counts so far.
func (e *Extractor) Progress() Progress {
	return Progress{Listed: e.listed.Load(), Retrieved: e.retrieved.Load(), NotFound: e.notFound.Load()}
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
					c.log.Info().Str("conversation_id", r.ID).Msg("conversation deleted after it was listed; skipped")
					continue
				}
				if err != nil {
					return err
				}
				select {
				case out <- Conversation{ID: r.ID, JSON: data}:
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
