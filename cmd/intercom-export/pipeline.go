package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

// source produces conversations as the API returns them (an extractor, or a file of saved answers).
type source func(ctx context.Context, out chan<- extract.Conversation) error

// summary is what a run did, printed at its end.
type summary struct {
	Conversations, Parts, Tags, Ratings int64
	Files                               int
	Truncated, Rejected, NotFound       int64
	Calls, Retries, RateLimited         int64
	Elapsed                             time.Duration
}

func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "conversations %d, parts %d, tags %d, ratings %d, files %d\n", s.Conversations, s.Parts, s.Tags, s.Ratings, s.Files)
	fmt.Fprintf(w, "truncated %d, rejected %d, deleted while running %d\n", s.Truncated, s.Rejected, s.NotFound)
	fmt.Fprintf(w, "API calls %d, retries %d, rate limited %d, elapsed %s\n", s.Calls, s.Retries, s.RateLimited, s.Elapsed.Round(time.Millisecond))
}

// stageBuffer is small: it only smooths bursts between stages; back-pressure does the rest.
const stageBuffer = 64

// runPipeline wires source → transform (one worker per core) → load, and commits the loader's files
// only when every stage finished cleanly. On error nothing new is published.
func runPipeline(ctx context.Context, log zerolog.Logger, src source, w *load.Writer) (summary, error) {
	var sum summary
	var rejected, truncated atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	raw := make(chan extract.Conversation, stageBuffer)
	records := make(chan schemas.Record, stageBuffer)

	g.Go(func() error {
		defer close(raw)
		return src(gctx, raw)
	})

	var transformers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		transformers.Add(1)
		g.Go(func() error {
			defer transformers.Done()
			for c := range raw {
				rec, err := transform.Conversation(c.JSON)
				if err != nil {
					// Bad data does not stop good data: the conversation is counted and named, the run goes on.
					rejected.Add(1)
					log.Warn().Str("conversation_id", c.ID).Err(err).Msg("conversation rejected")
					continue
				}
				if rec.Conversation.PartsTruncated {
					truncated.Add(1)
					log.Warn().Str("conversation_id", rec.ID()).Int64("parts_exported", rec.Conversation.PartsExportedCount).
						Int64("parts_total", deref(rec.Conversation.PartsTotalCount)).
						Msg("the API withheld this conversation's oldest parts (it returns at most 500)")
				}
				select {
				case records <- rec:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() {
		transformers.Wait()
		close(records)
	}()

	g.Go(func() error {
		for rec := range records {
			if err := w.Add(rec); err != nil {
				return err
			}
		}
		return nil
	})

	if err := g.Wait(); err != nil {
		sum.Rejected, sum.Truncated = rejected.Load(), truncated.Load()
		if abortErr := w.Abort(); abortErr != nil {
			log.Error().Err(abortErr).Msg("cleaning up staging files")
		}
		return sum, err
	}
	sum.Rejected, sum.Truncated = rejected.Load(), truncated.Load()
	res, err := w.Commit(ctx)
	if err != nil {
		return sum, fmt.Errorf("publishing files: %w", err)
	}
	sum.Conversations, sum.Parts, sum.Tags, sum.Ratings = res.Conversations, res.Parts, res.Tags, res.Ratings
	sum.Files = len(res.Files)
	return sum, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
