package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"golang.org/x/sync/errgroup"

	"github.com/intercom-export/intercom-export/schemas"
)

// ErrClosed is returned by a Writer used after a successful Commit or an Abort.
var ErrClosed = errors.New("load: writer is closed")

// Writer collects one run's records and publishes them with Commit.
//
// A Writer is not safe for concurrent use: Add, Delete, Commit and Abort must not be called at the same
// time from several goroutines (Commit parallelises internally).
type Writer struct {
	cfg     Config
	staging string // <Dir>/_intercom_export/staging/<run-id>

	parts  map[schemas.Date]*partition
	bytes  int64 // estimated bytes of all memory buffers
	spills int   // spill events, for the log
	err    error // sticky: a failed spill leaves buffers that cannot be trusted
	closed bool
	// noSyncFS: sync each file and folder instead of one syncfs (see bulkSync).
	noSyncFS bool

	// Parquet writers for reuse, by table: final files and linkable spools (zstd), other spools (snappy).
	finalPool, spoolPool [numTables]sync.Pool
}

// NewWriter validates cfg (after SetDefaults) and creates Dir and the run's staging folder. It does not
// touch existing data.
func NewWriter(cfg Config) (*Writer, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("load: creating output directory: %w", err)
	}
	staging := filepath.Join(cfg.Dir, StateDir, "staging", cfg.RunID)
	if err := os.MkdirAll(filepath.Dir(staging), 0o755); err != nil {
		return nil, fmt.Errorf("load: creating staging folder: %w", err)
	}
	// Mkdir, not MkdirAll: two writers sharing a run id would spill over each other's files.
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("load: creating staging folder for run %q: %w", cfg.RunID, err)
	}
	return &Writer{cfg: cfg, staging: staging, parts: make(map[schemas.Date]*partition)}, nil
}

// RunID returns the run id naming the staging folder and temporary files.
func (w *Writer) RunID() string { return w.cfg.RunID }

// BufferedBytes returns the estimated bytes of rows held in memory.
func (w *Writer) BufferedBytes() int64 { return w.bytes }

// Add buffers a conversation's rows for rec.Date's partition, replacing any earlier Add of the same id
// to that partition in this run. It keeps rec's strings and pointed-to values (it copies the slices):
// the caller must not modify them afterwards. Every row's ConversationID must equal rec.ID().
//
// Deduplication is per partition: a conversation whose date changed since an earlier run must also be
// Deleted from its old partition.
//
// When buffered rows pass the memory budget, Add spills partitions to staging; an error from that is
// sticky and the Writer can then only be Aborted.
func (w *Writer) Add(rec schemas.Record) error {
	if err := w.usable(); err != nil {
		return err
	}
	if err := checkRecord(&rec); err != nil {
		return err
	}
	rec.Parts = slices.Clone(rec.Parts)
	rec.Tags = slices.Clone(rec.Tags)
	if rec.Rating != nil {
		r := *rec.Rating
		rec.Rating = &r
	}
	p := w.partition(rec.Date)
	id := rec.ID()
	if old, ok := p.recs[id]; ok {
		p.bytes -= old.size
		w.bytes -= old.size
	}
	b := &buffered{rec: rec, size: estimateSize(&rec)}
	p.recs[id] = b
	p.bytes += b.size
	w.bytes += b.size
	if w.bytes > w.cfg.MemoryBudget {
		return w.spill()
	}
	return nil
}

func checkRecord(rec *schemas.Record) error {
	id := rec.ID()
	if id == "" {
		return errors.New("load: record without a conversation id")
	}
	for i := range rec.Parts {
		if got := rec.Parts[i].ConversationID; got != id {
			return fmt.Errorf("load: conversation %q: part %d has conversation_id %q", id, i, got)
		}
	}
	for i := range rec.Tags {
		if got := rec.Tags[i].ConversationID; got != id {
			return fmt.Errorf("load: conversation %q: tag %d has conversation_id %q", id, i, got)
		}
	}
	if rec.Rating != nil && rec.Rating.ConversationID != id {
		return fmt.Errorf("load: conversation %q: rating has conversation_id %q", id, rec.Rating.ConversationID)
	}
	return nil
}

// Delete removes the conversation's rows from the date's partition at Commit, in all four tables. It
// applies in order with Add: an Add of the id after the Delete is kept. Deleting an id that is not there
// is not an error. Deletes are held in memory outside the budget; they are expected to be few.
func (w *Writer) Delete(conversationID string, date schemas.Date) {
	if w.usable() != nil {
		w.cfg.Logger.Warn().Str("conversation_id", conversationID).Msg("load: Delete on a closed or failed writer ignored")
		return
	}
	p := w.partition(date)
	if old, ok := p.recs[conversationID]; ok {
		delete(p.recs, conversationID)
		p.bytes -= old.size
		w.bytes -= old.size
	}
	p.deletes[conversationID] = p.epoch
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

func (w *Writer) partition(d schemas.Date) *partition {
	p := w.parts[d]
	if p == nil {
		p = &partition{date: d, recs: make(map[string]*buffered), deletes: make(map[string]int)}
		w.parts[d] = p
	}
	return p
}

func (w *Writer) spoolPath(table string, d schemas.Date, epoch int) string {
	// One folder for all: creating folders is a good part of a spill's cost on some filesystems.
	return filepath.Join(w.staging, "spools", "spool-"+table+"-"+d.String()+"-"+strconv.Itoa(epoch)+".parquet")
}

// spill writes the largest memory buffers to staging until half the budget is free, so that the next
// spill is not one record away.
func (w *Writer) spill() error {
	var ps []*partition
	for _, p := range w.parts {
		if p.bytes > 0 {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *partition) int {
		return cmp.Or(cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.date, b.date))
	})
	before, left := w.bytes, w.bytes
	var chosen []*partition
	for _, p := range ps {
		if left <= w.cfg.MemoryBudget/2 {
			break
		}
		chosen = append(chosen, p)
		left -= p.bytes
	}
	if err := w.spillPartitions(context.Background(), chosen); err != nil {
		w.err = fmt.Errorf("load: spilling %w", err)
		return w.err
	}
	w.spills++
	w.cfg.Logger.Debug().Int("partitions", len(chosen)).Int64("bytes_before", before).Int64("bytes_after", w.bytes).
		Msg("load: spilled buffers to staging")
	return nil
}

// spillPartitions spills partitions independently, CommitWorkers at a time, and takes what they held off
// the Writer's total once all are done. It stops starting new ones after the first failure or when ctx
// is done; a partition whose spill failed or did not start is left as it was.
func (w *Writer) spillPartitions(ctx context.Context, ps []*partition) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.cfg.CommitWorkers)
	for _, p := range ps {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := w.spillPartition(p); err != nil {
				return fmt.Errorf("partition %s: %w", p.date, err)
			}
			return nil
		})
	}
	err := g.Wait()
	for _, p := range ps {
		w.bytes -= p.spilled
		p.spilled = 0
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// spillPartition writes a partition's memory buffer as spool files of a new epoch. When the partition
// already has maxSpools spools they are merged into the new one, so Commit never opens more than
// maxSpools+2 readers per table.
func (w *Writer) spillPartition(p *partition) error {
	compact := len(p.spools) >= maxSpools
	j := &mergeJob{
		p:       p,
		recs:    sortedRecords(p.recs),
		spoolAt: func(table string, epoch int) string { return w.spoolPath(table, p.date, epoch) },
		outAt:   func(table string) string { return w.spoolPath(table, p.date, p.epoch) },
		// A spool that is the partition's only one is written like a final file (zstd), so that Commit
		// can publish it as it is, with a hard link (linkSpool), when nothing else arrives for the
		// partition. The others will be merged again: speed over size (snappy). No fsync: a crash loses
		// the run anyway, and Commit syncs what it publishes.
		opts:  w.writerOptions(&parquet.Snappy),
		pools: &w.spoolPool,
	}
	if len(p.spools) == 0 || compact {
		j.opts, j.pools = w.writerOptions(zstdCodec), &w.finalPool
	}
	if compact {
		j.spools = p.spools
	}
	res, err := j.run()
	if err != nil {
		return err
	}
	s := spool{epoch: p.epoch}
	for i := range res {
		s.has[i] = res[i].rows > 0
		s.rows[i] = res[i].rows
	}
	if compact {
		for _, old := range p.spools {
			for i, table := range Tables {
				if old.has[i] {
					os.Remove(w.spoolPath(table, p.date, old.epoch))
				}
			}
		}
		p.spools = p.spools[:0]
	}
	p.spools = append(p.spools, s)
	p.spilled = p.bytes // subtracted from the Writer's total by spill, once every worker is done
	p.bytes = 0
	p.recs = make(map[string]*buffered)
	p.epoch++
	return nil
}

// freeText lists the columns holding free text or JSON, by path: their minimum and maximum are whole
// values (a conversation's JSON, a message body), useless for pruning, and would be copied into every
// file's footer.
var freeText = [][]string{
	{"title"}, {"message_subject"}, {"message_body"}, {"message_url"}, {"message_author_name"},
	{"message_author_email"}, {"first_contact_reply_url"}, {"sla_name"}, {"ai_agent_source_title"},
	{"ai_agent_rating_remark"}, {"custom_attributes"}, {"source_json"},
	{"message_attachments", "list", "element", "name"}, {"message_attachments", "list", "element", "url"},
	{"body"}, {"author_name"}, {"author_email"},
	{"attachments", "list", "element", "name"}, {"attachments", "list", "element", "url"},
	{"remark"},
}

func (w *Writer) writerOptions(codec compress.Codec) []parquet.WriterOption {
	opts := []parquet.WriterOption{
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(w.cfg.RowGroupRows),
		parquet.CreatedBy("intercom-export", w.cfg.Version, ""),
		// Statistics in every data page header repeat the column chunk's (footer and column index),
		// uncompressed: with one page per column in a daily partition, they doubled the size of the
		// free-text columns. Readers use the chunk statistics and the column index.
		parquet.DataPageStatistics(false),
	}
	for _, path := range freeText {
		opts = append(opts, parquet.SkipPageBounds(path...))
	}
	return opts
}

// Abort drops the run: staging is removed and the published data is left as it was. Abort after a
// successful Commit does nothing, so `defer w.Abort()` is the way to clean up on every error path.
func (w *Writer) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.parts, w.bytes = nil, 0
	if err := w.removeStaging(); err != nil {
		return err
	}
	w.cfg.Logger.Debug().Str("run_id", w.cfg.RunID).Msg("load: run aborted")
	return nil
}

func (w *Writer) removeStaging() error {
	if err := os.RemoveAll(w.staging); err != nil {
		return fmt.Errorf("load: removing staging folder: %w", err)
	}
	// Leave the shared parents when other runs use them; Remove fails on a non-empty folder.
	os.Remove(filepath.Dir(w.staging))
	return nil
}
