package load

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/intercom-export/intercom-export/schemas"
)

// ErrClosed is returned by a Writer used after a successful Commit or an Abort.
var ErrClosed = errors.New("load: writer is closed")

// Writer collects one run's records and publishes them with Commit.
//
// A Writer is not safe for concurrent use: Add, Delete, Commit and Abort must not be called at the same
// time from several goroutines (Commit parallelises internally, and spills run in the background).
type Writer struct {
	cfg     Config
	store   Store
	staging string // the store's Scratch: <Dir>/_intercom_export/staging/<run-id> in a folder

	// mem is the memory buffer: entries in arrival order, nil where a later Add or a Delete replaced
	// one (byKey finds an entry's position).
	mem      []*entry
	byKey    map[memKey]int
	memBytes int64
	seq      uint64
	// deletes holds, per partition and id, the arrival number of the newest Delete.
	deletes map[schemas.Date]map[string]uint64
	runs    []string // run files, oldest first
	spills  int      // spill events, for the log

	// A spill runs in the background while Add fills the next buffer; spillDone is closed when it is
	// over, and spillBytes is what it still holds.
	spillDone  chan struct{}
	spillErr   error
	spillBytes int64

	// whole holds the new content of the whole tables (ReplaceTable), written by Commit.
	whole []wholeTable

	err    error // sticky: a failed spill leaves buffers that cannot be trusted
	closed bool
	// noSyncFS: sync each file and folder instead of one syncfs (see bulkSync).
	noSyncFS bool

	// touched is every partition an Add or Delete named: what Commit will write. written and
	// writtenFiles count what it has written, for CommitProgress.
	touched                             map[schemas.Date]struct{}
	written, writtenFiles, touchedTotal atomic.Int64

	// index is what the folder held when the run started; nil outside a Dataset (no index is written).
	// nextIndex is what Commit wrote for after it.
	index, nextIndex *folderIndex
	// indexStaged and indexLocal are where Commit wrote the next index.
	indexStaged, indexLocal string
}

type memKey struct {
	key schemas.Date
	id  string
}

// NewWriter validates cfg (after SetDefaults) and creates Dir and the run's staging folder. It does not
// touch existing data.
func NewWriter(cfg Config) (*Writer, error) {
	return newWriter(cfg, NewFolderStore(cfg.Dir))
}

func newWriter(cfg Config, st Store) (*Writer, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := recordCodec(); err != nil {
		return nil, err
	}
	staging := st.Scratch(cfg.RunID)
	if err := os.MkdirAll(filepath.Dir(staging), 0o755); err != nil {
		return nil, fmt.Errorf("load: creating staging folder: %w", err)
	}
	// Mkdir, not MkdirAll: two writers sharing a run id would spill over each other's files.
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("load: creating staging folder for run %q: %w", cfg.RunID, err)
	}
	return &Writer{cfg: cfg, store: st, staging: staging, byKey: make(map[memKey]int), deletes: make(map[schemas.Date]map[string]uint64),
		touched: make(map[schemas.Date]struct{})}, nil
}

// RunID returns the run id naming the staging folder and temporary files.
func (w *Writer) RunID() string { return w.cfg.RunID }

// BufferedBytes returns the estimated bytes of rows held in memory, including a spill in progress.
func (w *Writer) BufferedBytes() int64 { return w.memBytes + w.spillBytes }

// CommitProgress is how far a Commit has got: partitions merged and written of those it has to write
// (every partition an Add or Delete named), and the files written so far. It may be called from any
// goroutine while Commit runs.
func (w *Writer) CommitProgress() (partitions, total, files int64) {
	return w.written.Load(), w.touchedTotal.Load(), w.writtenFiles.Load()
}

// Add buffers a conversation's rows for rec.Date's partition, replacing any earlier Add of the same id
// to that partition in this run. It keeps rec's strings and pointed-to values (it copies the slices):
// the caller must not modify them afterwards. Every row's ConversationID must equal rec.ID(). Add sets
// every row's CreatedDate to rec.Date, so a row's created_date and its partition never disagree.
//
// Deduplication is per partition: a conversation whose date moved to another partition since an
// earlier run must also be Deleted from its old one.
//
// When buffered rows pass half the memory budget (or, with a spill in progress, the whole), Add hands
// them to a background spill, waiting for the previous one first, so that what is held, the spill's
// included, stays within the budget. An error from a spill is sticky and the Writer can then only be
// Aborted.
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
	rec.SetCreatedDate() // whatever the caller set: a row's created_date and its partition never disagree
	k := memKey{w.cfg.Partition.Key(rec.Date), rec.ID()}
	w.touched[k.key] = struct{}{}
	e := &entry{key: k.key, seq: w.seq, rec: rec, size: estimateSize(&rec)}
	w.seq++
	if i, ok := w.byKey[k]; ok {
		w.memBytes -= w.mem[i].size
		w.mem[i] = nil
	}
	w.byKey[k] = len(w.mem)
	w.mem = append(w.mem, e)
	w.memBytes += e.size
	if w.memBytes > w.cfg.MemoryBudget/2 || w.memBytes+w.spillBytes > w.cfg.MemoryBudget {
		if err := w.spill(); err != nil {
			return err
		}
		if w.spillBytes > w.cfg.MemoryBudget {
			return w.waitSpill() // one record over the whole budget: hold it no longer than needed
		}
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
	k := memKey{w.cfg.Partition.Key(date), conversationID}
	w.touched[k.key] = struct{}{}
	if i, ok := w.byKey[k]; ok {
		w.memBytes -= w.mem[i].size
		w.mem[i] = nil
		delete(w.byKey, k)
	}
	ids := w.deletes[k.key]
	if ids == nil {
		ids = make(map[string]uint64)
		w.deletes[k.key] = ids
	}
	ids[conversationID] = w.seq
	w.seq++
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// takeMem returns the memory buffer's entries sorted, and empties it.
func (w *Writer) takeMem() ([]*entry, int64) {
	es := slices.DeleteFunc(w.mem, func(e *entry) bool { return e == nil })
	sortEntries(es)
	bytes := w.memBytes
	w.mem, w.memBytes = nil, 0
	clear(w.byKey)
	return es, bytes
}

// spill hands the memory buffer to a background goroutine that sorts it and writes it as a run file.
func (w *Writer) spill() error {
	if err := w.waitSpill(); err != nil {
		return err
	}
	es, bytes := w.takeMem()
	if len(es) == 0 {
		return nil
	}
	path := w.runPath(len(w.runs))
	w.runs = append(w.runs, path)
	w.spills++
	w.spillBytes = bytes
	done := make(chan struct{})
	w.spillDone = done
	go func() {
		defer close(done)
		if err := writeRun(path, es); err != nil {
			w.spillErr = fmt.Errorf("load: spilling to %s: %w", path, err)
		}
	}()
	w.cfg.Logger.Debug().Int("conversations", len(es)).Int64("bytes", bytes).Int("run", len(w.runs)).
		Msg("load: spilling buffered rows to a run file")
	return nil
}

// waitSpill waits for the background spill, if any; its error becomes the Writer's.
func (w *Writer) waitSpill() error {
	if w.spillDone != nil {
		<-w.spillDone
		w.spillDone = nil
		w.spillBytes = 0
		if w.spillErr != nil && w.err == nil {
			w.err = w.spillErr
		}
	}
	return w.err
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
		parquet.CreatedBy("intercom-export", w.cfg.Version, w.cfg.Build),
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
	w.waitSpill() // its error no longer matters; its file must be closed before staging goes
	w.mem, w.memBytes = nil, 0
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
