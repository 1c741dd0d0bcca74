package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
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
	Command                             string // export, or convert, which reads files instead of the API
	Listed, Skipped, Retrieved          int64  // for convert, Retrieved is the conversations read
	InputFiles                          int    // convert's
	Conversations, Parts, Tags, Ratings int64
	Files                               int
	Deleted                             int
	Truncated, Rejected, Failed         int64
	Superseded, Stale, Warnings         int64
	NotFound                            int64
	Calls, Retries, RateLimited         int64
	Elapsed                             time.Duration
}

func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "conversations %d, parts %d, tags %d, ratings %d, files %d, deleted %d\n", s.Conversations, s.Parts, s.Tags, s.Ratings, s.Files, s.Deleted)
	if s.Command == "convert" {
		fmt.Fprintf(w, "read %d conversations from %d input files: rejected %d, superseded %d, stale %d, truncated %d, warnings %d\n",
			s.Retrieved, s.InputFiles, s.Rejected, s.Superseded, s.Stale, s.Truncated, s.Warnings)
		fmt.Fprintf(w, "elapsed %s\n", s.Elapsed.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "listed %d, skipped unchanged %d, retrieved %d, truncated %d, rejected %d, failed %d, deleted while running %d, superseded %d, stale %d, warnings %d\n",
		s.Listed, s.Skipped, s.Retrieved, s.Truncated, s.Rejected, s.Failed, s.NotFound, s.Superseded, s.Stale, s.Warnings)
	fmt.Fprintf(w, "API calls %d, retries %d, rate limited %d, elapsed %s\n", s.Calls, s.Retries, s.RateLimited, s.Elapsed.Round(time.Millisecond))
}

// log writes the summary as the run's last event: "export finished" or "convert finished", with the
// figures of its command.
func (s summary) log(log zerolog.Logger, err error) {
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Int64("conversations", s.Conversations).Int64("parts", s.Parts).Int64("tags", s.Tags).
		Int64("ratings", s.Ratings).Int("files", s.Files).Int("deleted", s.Deleted).Int64("truncated", s.Truncated).
		Int64("rejected", s.Rejected).Int64("superseded", s.Superseded).Int64("stale", s.Stale).Int64("warnings", s.Warnings)
	if s.Command == "convert" {
		ev.Int("input_files", s.InputFiles).Int64("read", s.Retrieved).Int64("elapsed_ms", s.Elapsed.Milliseconds()).Msg("convert finished")
		return
	}
	ev.Int64("listed", s.Listed).Int64("skipped", s.Skipped).Int64("retrieved", s.Retrieved).
		Int64("failed", s.Failed).Int64("not_found", s.NotFound).Int64("api_calls", s.Calls).
		Int64("retries", s.Retries).Int64("rate_limited", s.RateLimited).Int64("elapsed_ms", s.Elapsed.Milliseconds()).
		Msg("export finished")
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

// rejects collects rejections into `_intercom_export/rejects/<run-id>.ndjson`, written to a local file
// (in a folder, a hidden one next to its final name) and published when the run ends, so a reader never
// sees half of it.
type rejects struct {
	mu     sync.Mutex
	store  load.Store
	name   string // the final name in the store
	staged string
	local  string
	file   *os.File
	err    error
	items  []rejection // without their JSON, for the manifest and the bookmark
}

func newRejects(st load.Store, runID string) *rejects {
	r := &rejects{store: st, name: load.StateDir + "/rejects/" + runID + ".ndjson"}
	r.staged, r.local = st.Stage(runID, r.name)
	return r
}

func (r *rejects) add(rej rejection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil && r.err == nil {
		if r.err = os.MkdirAll(filepath.Dir(r.local), 0o755); r.err == nil {
			r.file, r.err = os.Create(r.local)
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

// close publishes the file; it returns where it is, or "" when nothing was rejected.
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
	r.file = nil
	if err == nil {
		err = r.err
	}
	ctx := context.Background()
	if err == nil {
		err = r.store.Upload(ctx, r.staged, r.local)
	}
	if err == nil {
		err = r.store.Publish(ctx, r.staged, r.name)
	}
	if err != nil {
		os.Remove(r.local)
		r.store.Remove(ctx, r.staged)
		return "", fmt.Errorf("writing rejected conversations: %w", err)
	}
	return location(r.store, r.name), nil
}

// location names an object of a store in messages: a path in a folder, a URL in a bucket.
func location(st load.Store, name string) string {
	if load.IsFolder(st.Location()) {
		return filepath.Join(st.Location(), filepath.FromSlash(name))
	}
	return strings.TrimSuffix(st.Location(), "/") + "/" + name
}

// storeFlags registers the flags of a bucket --out; credentials never come from flags but from the
// standard AWS chain.
func storeFlags(fs *flag.FlagSet, o *load.StoreOptions) {
	fs.StringVar(&o.S3Endpoint, "s3-endpoint", "", "endpoint URL of an S3-compatible store (MinIO, R2, Ceph, GCS); default AWS_ENDPOINT_URL_S3, else AWS S3")
	fs.StringVar(&o.S3Region, "s3-region", "", "the bucket's region; default from the AWS configuration (AWS_REGION, the profile), else us-east-1")
	fs.BoolVar(&o.S3PathStyle, "s3-path-style", false, "address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT, as most S3-compatible stores want")
	fs.BoolVar(&o.AllowUnsafeLock, "s3-allow-unsafe-lock", false, "write to a store without conditional writes, whose lock cannot keep two runs apart")
	fs.DurationVar(&o.LockTTL, "s3-lock-ttl", load.DefaultLockTTL, "how long a bucket's lock outlives a run that stopped renewing it: a killed run blocks the prefix this long")
}

// openStore opens --out: a usage error when the location is not one the tool knows, or cannot be
// written to.
func openStore(ctx context.Context, out string, opts load.StoreOptions) (load.Store, error) {
	st, err := load.OpenStore(ctx, out, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: --out: %w", errUsage, err)
	}
	if err := st.CheckWritable(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return st, nil
}

// folderRun is what export and convert share: the output folder held for one run, what it holds, the
// writer of the run's files, and where rejected conversations go.
type folderRun struct {
	ds *load.Dataset
	// heldMu guards held: the listing reads it (to skip what is unchanged) while deletions change it.
	heldMu sync.RWMutex
	held   map[string]load.Held
	writer *load.Writer
	rej    *rejects
	log    zerolog.Logger

	// added is what this run has handed to the writer, by id: the version an in-run duplicate must
	// beat. It is apart from held, which export's Skip reads from other goroutines while add runs.
	added map[string]load.Held
	// superseded counts inputs that did not land because another input of this run has the same id
	// and is as new or newer; stale, inputs older than what the folder already holds.
	superseded, stale int64
}

// lookup returns what the folder holds of a conversation.
func (r *folderRun) lookup(id string) (load.Held, bool) {
	r.heldMu.RLock()
	defer r.heldMu.RUnlock()
	h, ok := r.held[id]
	return h, ok
}

// forget notes that a conversation is removed from the folder.
func (r *folderRun) forget(id string) {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	delete(r.held, id)
}

func (r *folderRun) heldCount() int {
	r.heldMu.RLock()
	defer r.heldMu.RUnlock()
	return len(r.held)
}

// heldIDs returns the ids the folder holds.
func (r *folderRun) heldIDs() []string {
	r.heldMu.RLock()
	defer r.heldMu.RUnlock()
	ids := make([]string, 0, len(r.held))
	for id := range r.held {
		ids = append(ids, id)
	}
	return ids
}

// newWriter replaces a committed writer by a new one, for the run's next segment.
func (r *folderRun) newWriter(cfg load.Config, runID string) error {
	cfg.RunID = runID
	w, err := r.ds.NewWriter(cfg)
	if err != nil {
		return err
	}
	r.writer = w
	return nil
}

// openRun takes the folder's lock (rolling forward or cleaning up after a dead run), installs the
// check of new files, reads what the folder holds and starts a writer.
func openRun(st load.Store, cfg load.Config, log zerolog.Logger) (*folderRun, error) {
	return openRunWaiting(context.Background(), st, cfg, log, 0)
}

// openRunWaiting is openRun, waiting up to wait for another run to release the folder.
func openRunWaiting(ctx context.Context, st load.Store, cfg load.Config, log zerolog.Logger, wait time.Duration) (*folderRun, error) {
	limitMemory()
	ds, err := load.OpenWaiting(ctx, st, log, wait)
	if err != nil {
		return nil, err
	}
	// Every new file is read back by an independent implementation before the run commits it.
	ds.SetVerify(func(files []load.File) error {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for _, f := range files {
			if !f.Removed {
				g.Go(func() error { return load.CheckFile(f.Local, f.Table, f.Rows) })
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
		if errors.Is(err, load.ErrLayout) {
			err = fmt.Errorf("%w: %w", errUsage, err)
		}
		return nil, err
	}
	return &folderRun{ds: ds, held: held, writer: w, rej: newRejects(st, w.RunID()), log: log, added: map[string]load.Held{}}, nil
}

// partitionFlag registers --partition, which export, demo and convert share.
func partitionFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "partition", string(schemas.ByDay), "partition folders by the conversation's creation day (date=YYYY-MM-DD) or month (month=YYYY-MM); a folder keeps the layout of its first run")
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

// add hands a conversation's rows to the writer, replacing what the folder holds of it, unless the
// version is older than one the folder holds or this run already added: the newest version wins, and
// of equal ones the later (the stages deliver in input order, so for convert the later in the input;
// for export, the one just retrieved over the one held). A refused version is counted, not an error.
// A record without updated_at counts as older than any with one.
func (r *folderRun) add(rec schemas.Record) error {
	id := rec.ID()
	var updated int64
	if t := rec.Conversation.UpdatedAt; t != nil {
		updated = t.Unix()
	}
	if a, ok := r.added[id]; ok {
		if updated < a.UpdatedAt {
			r.superseded++ // an older version after a newer one of the same run
			r.log.Debug().Str("conversation_id", id).Int64("updated_at", updated).Int64("kept_updated_at", a.UpdatedAt).Msg("older duplicate in this run's input ignored")
			return nil
		}
		r.superseded++ // the earlier version this one replaces
		if a.Date != rec.Date {
			r.writer.Delete(id, a.Date)
		}
	} else if h, ok := r.lookup(id); ok {
		if updated < h.UpdatedAt {
			r.stale++
			r.log.Debug().Str("conversation_id", id).Int64("updated_at", updated).Int64("held_updated_at", h.UpdatedAt).Msg("version older than the folder's ignored")
			return nil
		}
		if h.Date != rec.Date {
			r.writer.Delete(id, h.Date) // its created_at moved: the old partition must let it go
		}
	}
	r.added[id] = load.Held{UpdatedAt: updated, Date: rec.Date}
	rec.SetLineage(r.writer.RunID(), time.Now())
	return r.writer.Add(rec)
}

// count copies the run's tallies of refused versions into its summary and manifest.
func (r *folderRun) count(sum *summary, m *load.ManifestCounts) {
	sum.Superseded, sum.Stale = r.superseded, r.stale
	if m != nil {
		m.Superseded, m.Stale = r.superseded, r.stale
	}
}

// logRefused says at info level how many inputs lost to newer versions, once the stages are done.
func (r *folderRun) logRefused() {
	if r.superseded > 0 || r.stale > 0 {
		r.log.Info().Int64("superseded", r.superseded).Int64("stale", r.stale).
			Msg("conversations not written because a newer version of the same id won (superseded: in this run's input; stale: already in the folder)")
	}
}

// close drops what was not committed and releases the lock.
func (r *folderRun) close() {
	r.writer.Abort() // a no-op once committed
	r.ds.Close()
}

// stageCounts is what the transform stage counted.
type stageCounts struct {
	Truncated int64 // conversations whose oldest parts the API withheld
	Warnings  int64 // values written as NULL or corrected, each named in a warning
}

// transformed is one conversation through the transform stage, waiting for its turn to reach the sink.
type transformed struct {
	in  extract.Conversation
	res transform.Result
	err error
}

// runStages wires src → transform (one worker per core) → sink, and returns when every stage is done
// or one failed. The transform is an ordered parallel map: the sink gets the records in the order src
// produced them, whatever worker finished first, so that a run's output (which of two versions of an
// id wins, the order of rejects) depends on its input alone. Conversations that cannot be transformed
// go to rej, in input order too, and the run goes on.
func runStages(ctx context.Context, log zerolog.Logger, src source, opts transform.Options, rej *rejects, sink func(schemas.Record) error) (counts stageCounts, err error) {
	g, gctx := errgroup.WithContext(ctx)
	raw := make(chan extract.Conversation, stageBuffer)
	type job struct {
		in  extract.Conversation
		out chan transformed // capacity 1: a worker never waits for the sink
	}
	jobs := make(chan job, stageBuffer)
	// Each conversation's result slot, in input order. Its capacity bounds how far the workers may run
	// ahead of the slowest conversation: the reorder buffer is at most stageBuffer results long.
	order := make(chan chan transformed, stageBuffer)

	g.Go(func() error {
		defer close(raw)
		return src(gctx, raw)
	})
	g.Go(func() error {
		defer close(jobs)
		defer close(order)
		for c := range raw {
			j := job{in: c, out: make(chan transformed, 1)}
			select {
			case order <- j.out:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case jobs <- j:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for j := range jobs {
				if gctx.Err() != nil {
					return gctx.Err() // the sink is gone: no one waits for the rest
				}
				res, err := transform.Convert(j.in.JSON, opts)
				j.out <- transformed{in: j.in, res: res, err: err}
			}
			return nil
		})
	}
	g.Go(func() error {
		for slot := range order {
			var t transformed
			select {
			case t = <-slot:
			case <-gctx.Done():
				return gctx.Err()
			}
			if t.err != nil {
				reject(log, rej, t.in, t.err)
				continue
			}
			rec := &t.res.Record
			for _, w := range t.res.Warnings {
				counts.Warnings++
				log.Warn().Str("conversation_id", rec.ID()).Str("origin", t.in.Origin).Str("field", w.Field).
					Msg(w.Msg + " (the conversation is exported; source_json keeps the value as sent)")
			}
			if rec.Conversation.PartsTruncated {
				counts.Truncated++
				log.Warn().Str("conversation_id", rec.ID()).Int64("parts_exported", deref(rec.Conversation.PartsExportedCount)).
					Int64("parts_total", deref(rec.Conversation.PartsTotalCount)).
					Msg("the API withheld this conversation's oldest parts (it returns at most 500)")
			}
			if err := sink(*rec); err != nil {
				return err
			}
		}
		return nil
	})
	err = g.Wait()
	return counts, err
}

// reject sets a conversation aside with its reason: bad data does not stop good data.
func reject(log zerolog.Logger, rej *rejects, c extract.Conversation, err error) {
	if c.ID == "" {
		c.ID = idOf(c.JSON)
	}
	log.Warn().Str("conversation_id", c.ID).Str("origin", c.Origin).Err(err).Msg("conversation rejected")
	rej.add(rejection{ConversationID: c.ID, UpdatedAt: c.UpdatedAt, Source: c.Origin, Reason: err.Error(), JSON: rawJSON(c.JSON)})
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
