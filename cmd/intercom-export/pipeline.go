package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
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

// source produces conversations as the API returns them (an extractor, or files of saved answers).
type source func(ctx context.Context, out chan<- extract.Conversation) error

// summary is what a run did, printed at its end.
type summary struct {
	Listed, Skipped, Retrieved          int64
	Conversations, Parts, Tags, Ratings int64
	Files                               int
	Deleted                             int
	Truncated, Rejected, Failed         int64
	NotFound                            int64
	Calls, Retries, RateLimited         int64
	Elapsed                             time.Duration
}

func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "conversations %d, parts %d, tags %d, ratings %d, files %d, deleted %d\n", s.Conversations, s.Parts, s.Tags, s.Ratings, s.Files, s.Deleted)
	fmt.Fprintf(w, "listed %d, skipped unchanged %d, retrieved %d, truncated %d, rejected %d, failed %d, deleted while running %d\n",
		s.Listed, s.Skipped, s.Retrieved, s.Truncated, s.Rejected, s.Failed, s.NotFound)
	fmt.Fprintf(w, "API calls %d, retries %d, rate limited %d, elapsed %s\n", s.Calls, s.Retries, s.RateLimited, s.Elapsed.Round(time.Millisecond))
}

// stageBuffer is small: it only smooths bursts between stages; back-pressure does the rest.
const stageBuffer = 64

// rejection is a conversation that could not be turned into rows.
type rejection struct {
	ConversationID string          `json:"conversation_id,omitempty"`
	UpdatedAt      int64           `json:"-"`
	Source         string          `json:"source,omitempty"` // file:line, for convert
	Reason         string          `json:"reason"`
	JSON           json.RawMessage `json:"json,omitempty"`
}

// rejects collects rejections into `_intercom_export/rejects/<run-id>.ndjson`, written under a hidden
// name and renamed when the run ends, so a reader never sees half of it.
type rejects struct {
	mu    sync.Mutex
	path  string
	file  *os.File
	err   error
	items []rejection // without their JSON, for the manifest and the bookmark
}

func newRejects(dir, runID string) *rejects {
	return &rejects{path: filepath.Join(dir, load.StateDir, "rejects", runID+".ndjson")}
}

func (r *rejects) add(rej rejection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil && r.err == nil {
		if r.err = os.MkdirAll(filepath.Dir(r.path), 0o755); r.err == nil {
			r.file, r.err = os.Create(r.tempPath())
		}
	}
	if r.file != nil {
		line, _ := json.Marshal(rej)
		if _, err := r.file.Write(append(line, '\n')); err != nil && r.err == nil {
			r.err = err
		}
	}
	rej.JSON = nil
	r.items = append(r.items, rej)
}

func (r *rejects) tempPath() string {
	return filepath.Join(filepath.Dir(r.path), "."+filepath.Base(r.path)+".tmp")
}

// close publishes the file; it returns its path, or "" when nothing was rejected.
func (r *rejects) close() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return "", r.err
	}
	err := r.file.Sync()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.err
	}
	if err != nil {
		os.Remove(r.tempPath())
		return "", fmt.Errorf("writing rejected conversations: %w", err)
	}
	if err := os.Rename(r.tempPath(), r.path); err != nil {
		return "", err
	}
	return r.path, nil
}

// folderRun is what export and convert share: the output folder held for one run, what it holds, the
// writer of the run's files, and where rejected conversations go.
type folderRun struct {
	ds     *load.Dataset
	held   map[string]load.Held
	writer *load.Writer
	rej    *rejects
}

// openRun takes the folder's lock (rolling forward or cleaning up after a dead run), installs the
// check of new files, reads what the folder holds and starts a writer.
func openRun(out string, cfg load.Config, log zerolog.Logger) (*folderRun, error) {
	limitMemory()
	ds, err := load.OpenDataset(out, log)
	if err != nil {
		return nil, err
	}
	// Every new file is read back by an independent implementation before the run commits it.
	ds.SetVerify(func(files []load.File) error {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for _, f := range files {
			if !f.Removed {
				g.Go(func() error { return load.CheckFile(filepath.Join(out, f.TempPath), f.Table, f.Rows) })
			}
		}
		return g.Wait()
	})
	held, err := ds.Index()
	if err != nil {
		ds.Close()
		return nil, err
	}
	w, err := ds.NewWriter(cfg)
	if err != nil {
		ds.Close()
		return nil, err
	}
	return &folderRun{ds: ds, held: held, writer: w, rej: newRejects(out, w.RunID())}, nil
}

// softMemoryLimit is the Go runtime's soft memory limit during export and convert, unless GOMEMLIMIT
// says otherwise. The loader's MemoryBudget bounds the rows it holds (48 MiB by default), but with the
// default GOGC the heap may grow to twice what is live before a collection: past this limit the
// collector works harder instead, which keeps the peak RSS under 200 MB whatever the number of
// conversations and partitions.
const softMemoryLimit = 150 << 20

func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}

// add hands a conversation's rows to the writer, replacing what the folder holds of it.
func (r *folderRun) add(rec schemas.Record) error {
	if h, ok := r.held[rec.ID()]; ok && h.Date != rec.Date {
		r.writer.Delete(rec.ID(), h.Date) // its created_at moved: the old partition must let it go
	}
	return r.writer.Add(rec)
}

// close drops what was not committed and releases the lock.
func (r *folderRun) close() {
	r.writer.Abort() // a no-op once committed
	r.ds.Close()
}

// runStages wires src → transform (one worker per core) → sink, and returns when every stage is done
// or one failed. Conversations that cannot be transformed go to rej, and the run goes on.
func runStages(ctx context.Context, log zerolog.Logger, src source, opts transform.Options, rej *rejects, sink func(schemas.Record) error) (truncated int64, err error) {
	var truncatedN atomic.Int64
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
				rec, err := transform.ConversationWith(c.JSON, opts)
				if err != nil {
					// Bad data does not stop good data: the conversation is set aside with its reason.
					if c.ID == "" {
						c.ID = idOf(c.JSON)
					}
					log.Warn().Str("conversation_id", c.ID).Str("origin", c.Origin).Err(err).Msg("conversation rejected")
					rej.add(rejection{ConversationID: c.ID, UpdatedAt: c.UpdatedAt, Source: c.Origin, Reason: err.Error(), JSON: rawJSON(c.JSON)})
					continue
				}
				if rec.Conversation.PartsTruncated {
					truncatedN.Add(1)
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
			if err := sink(rec); err != nil {
				return err
			}
		}
		return nil
	})
	err = g.Wait()
	return truncatedN.Load(), err
}

// idOf finds a rejected conversation's id, when it has one, to name it.
func idOf(raw []byte) string {
	var probe struct {
		ID json.Number `json:"id"`
	}
	if json.Unmarshal(raw, &probe) == nil {
		return probe.ID.String()
	}
	var quoted struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &quoted) == nil {
		return quoted.ID
	}
	return ""
}

// rawJSON keeps a rejected conversation's bytes as JSON when they are JSON, else as a JSON string.
func rawJSON(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
