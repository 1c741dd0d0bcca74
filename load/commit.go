package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/intercom-export/intercom-export/schemas"
)

// Result is what a Commit published.
type Result struct {
	// Files lists the files written or removed, by date then table. Tables of a touched partition
	// whose content did not change are left alone and not listed.
	Files []File
	// Rows from this run in the published files, after deduplication and deletes.
	Conversations, Parts, Tags, Ratings int64
}

// File is one (table, partition) file a Commit replaced, created or removed.
type File struct {
	Table string
	Date  schemas.Date
	// Path is the published file, relative to Dir: <table>/date=YYYY-MM-DD/data.parquet.
	Path string
	// TempPath is where the new file was written before the rename, relative to Dir; empty when
	// Removed.
	TempPath string
	Rows     int64
	Bytes    int64
	// Removed is set when the partition has no rows left for the table: its file is deleted.
	Removed bool
	// ReplacedRows counts the rows of the previous file that were dropped (replaced or deleted).
	ReplacedRows int64
	// Added counts the rows this run contributed to the file.
	Added int64
	// Existed is set when a previous file was replaced or removed.
	Existed bool
}

// PreviousRows is the row count of the file this one replaced or removed; 0 when there was none.
func (f File) PreviousRows() int64 {
	if !f.Existed {
		return 0
	}
	return f.Rows - f.Added + f.ReplacedRows
}

// pending is a File between the two phases of Commit.
type pending struct {
	File
	temp    string   // absolute; empty when Removed
	created []string // folders created for the temp file, shallowest first
	linked  bool     // temp is a hard link to a spool, written without an fsync
}

// Commit merges every partition touched by Add or Delete with its published files and publishes the
// result: for each (table, partition), the existing rows of the conversations this run added or deleted
// are dropped, the new rows merged in, and one file sorted by conversation_id written in place of the
// old one.
//
// It works in two phases so that a failure leaves the published data as it was. First every new file is
// written under a temporary name in its final folder and synced; then Config.BeforePublish runs; then
// all are renamed into place and the folders synced. Cancelling ctx stops the first phase between
// partitions; the second is not interruptible, since stopping half-way would publish half a run.
//
// When Commit fails, temporary files are removed and the Writer keeps its buffers and staging: Commit
// may be retried (merging is idempotent, so a retry after a partly published second phase converges to
// the same files) or the run Aborted. After a successful Commit the Writer is closed.
func (w *Writer) Commit(ctx context.Context) (Result, error) {
	if err := w.usable(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	dates := make([]schemas.Date, 0, len(w.parts))
	for d := range w.parts {
		dates = append(dates, d)
	}
	slices.Sort(dates)

	// Phase 0: the memory buffers go to staging first, so that each partition's rows leave the heap
	// before the merges start, instead of all staying until the end (a retry needs them): merging many
	// spools with the whole budget still held ran the garbage collector without pause under the CLI's
	// memory limit. A partition with nothing else becomes a single spool, published by linkSpool, so
	// this writes nothing twice when the input comes in date order.
	if err := w.spillAll(ctx, dates); err != nil {
		return Result{}, fmt.Errorf("load: commit: %w", err)
	}
	phases := zerolog.Dict().Dur("spill", time.Since(start))
	mark := time.Now()
	phase := func(name string) {
		phases.Dur(name, time.Since(mark))
		mark = time.Now()
	}

	// Phase 1: write and sync every new file under its temporary name.
	slots := make([][]pending, len(dates))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.cfg.CommitWorkers)
	for i, d := range dates {
		if gctx.Err() != nil {
			break
		}
		p := w.parts[d]
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var err error
			slots[i], err = w.commitPartition(p)
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	var pend []pending
	for _, s := range slots {
		pend = append(pend, s...)
	}
	phase("write")
	if err == nil {
		// Every new file, and every folder made for one, must be on disk before the journal is: one
		// syncfs covers them all (see durable).
		err = w.durable(pend)
		phase("sync")
	}
	if err != nil {
		removeTemps(pend)
		return Result{}, fmt.Errorf("load: commit: %w", err)
	}

	if hook := w.cfg.BeforePublish; hook != nil {
		files := make([]File, len(pend))
		for i := range pend {
			files[i] = pend[i].File
		}
		if err := hook(files); err != nil {
			removeTemps(pend)
			return Result{}, fmt.Errorf("load: commit: before publish: %w", err)
		}
		phase("before_publish")
	}

	// Phase 2: rename into place.
	res, err := w.publish(pend)
	if err != nil {
		return res, fmt.Errorf("load: commit: %w", err)
	}
	phase("publish")
	w.closed = true
	w.parts, w.bytes = nil, 0
	if err := w.removeStaging(); err != nil {
		// The data is published; a leftover staging folder only costs disk space.
		w.cfg.Logger.Warn().Err(err).Msg("load: staging folder not removed")
	}
	phase("cleanup")
	w.cfg.Logger.Debug().Dict("phases", phases).Msg("load: commit phases")
	w.cfg.Logger.Info().Str("run_id", w.cfg.RunID).Int("partitions", len(dates)).Int("files", len(res.Files)).
		Int64("conversations", res.Conversations).Int64("parts", res.Parts).Int64("tags", res.Tags).
		Int64("ratings", res.Ratings).Int("spills", w.spills).Dur("took", time.Since(start)).Msg("load: committed")
	return res, nil
}

// spillAll spills every partition holding rows in memory, CommitWorkers at a time. A partition whose
// spill fails is left as it was, so Commit may be retried.
func (w *Writer) spillAll(ctx context.Context, dates []schemas.Date) error {
	var ps []*partition
	for _, d := range dates {
		if p := w.parts[d]; len(p.recs) > 0 {
			ps = append(ps, p)
		}
	}
	return w.spillPartitions(ctx, ps)
}

// tempName is the name new files are written under next to data.parquet. The leading dot and the
// suffix keep it out of `*.parquet` globs; the run id keeps runs apart.
func (w *Writer) tempName() string { return "." + DataFile + "." + w.cfg.RunID + ".tmp" }

// commitPartition writes the new files of one partition under their temporary names.
func (w *Writer) commitPartition(p *partition) ([]pending, error) {
	part := p.date.PartitionDir()
	if out, ok, err := w.linkSpool(p); ok || err != nil {
		return out, err
	}
	j := &mergeJob{
		p:        p,
		recs:     sortedRecords(p.recs),
		spools:   p.spools,
		spoolAt:  func(table string, epoch int) string { return w.spoolPath(table, p.date, epoch) },
		existing: func(table string) string { return filepath.Join(w.cfg.Dir, table, part, DataFile) },
		outAt:    func(table string) string { return filepath.Join(w.cfg.Dir, table, part, w.tempName()) },
		opts:     w.writerOptions(zstdCodec),
		pools:    &w.finalPool,
		sync:     !w.bulkSync(),
	}
	res, err := j.run()
	if err != nil {
		return nil, fmt.Errorf("partition %s: %w", p.date, err)
	}
	var out []pending
	for i := range res {
		r := &res[i]
		f := File{
			Table: Tables[i], Date: p.date, Path: filepath.Join(Tables[i], part, DataFile),
			Rows: r.rows, Bytes: r.size, ReplacedRows: r.replaced, Added: r.added, Existed: r.existed,
		}
		switch {
		case r.existed && r.added == 0 && r.replaced == 0:
			discardResult(r) // same rows as the published file: leave it alone
		case r.rows == 0 && r.existed:
			f.Removed = true
			out = append(out, pending{File: f})
		case r.rows == 0:
			// nothing was there and nothing is
		default:
			f.TempPath = filepath.Join(Tables[i], part, w.tempName())
			out = append(out, pending{File: f, temp: r.path, created: r.created})
		}
	}
	return out, nil
}

// linkSpool publishes a partition whose rows all sit in one spool, with nothing published before and
// nothing deleted: the spool's files are what merging would write (spools are written with the final
// files' options), so they are hard-linked under their temporary names instead of being rewritten. The
// spool keeps its own name, so a failed Commit can be retried. ok is false when the partition does not
// qualify, or the filesystem has no hard links: it is then merged as usual.
func (w *Writer) linkSpool(p *partition) (out []pending, ok bool, err error) {
	if len(p.recs) != 0 || len(p.spools) != 1 || len(p.deletes) != 0 {
		return nil, false, nil
	}
	part := p.date.PartitionDir()
	for _, table := range Tables {
		switch _, err := os.Lstat(filepath.Join(w.cfg.Dir, table, part)); {
		case err == nil:
			return nil, false, nil // a published partition: merge with it
		case !errors.Is(err, fs.ErrNotExist):
			return nil, false, err
		}
	}
	s := p.spools[0]
	fail := func(err error) ([]pending, bool, error) {
		removeTemps(out)
		return nil, false, err
	}
	for i, table := range Tables {
		if !s.has[i] {
			continue
		}
		temp := filepath.Join(w.cfg.Dir, table, part, w.tempName())
		created, err := mkdirAll(filepath.Dir(temp))
		if err != nil {
			return fail(err)
		}
		pd := pending{
			File: File{Table: table, Date: p.date, Path: filepath.Join(table, part, DataFile),
				TempPath: filepath.Join(table, part, w.tempName()), Rows: s.rows[i], Added: s.rows[i]},
			temp: temp, created: created, linked: true,
		}
		out = append(out, pd)
		if err := os.Link(w.spoolPath(table, p.date, s.epoch), temp); err != nil {
			if len(out) == 1 && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EXDEV)) {
				out[0].temp = ""
				removeTemps(out)
				return nil, false, nil // no hard links here: merge
			}
			return fail(err)
		}
		fi, err := os.Stat(temp)
		if err != nil {
			return fail(err)
		}
		out[len(out)-1].Bytes = fi.Size()
	}
	return out, true, nil
}

// publish renames the temporary files into place, removes emptied files and syncs the folders that
// changed. It stops at the first error, removing the temporary files not yet published.
func (w *Writer) publish(pend []pending) (Result, error) {
	var res Result
	dirs := make(map[string]bool) // folders whose entries changed and need an fsync
	for i := range pend {
		p := &pend[i]
		final := filepath.Join(w.cfg.Dir, p.Path)
		partDir := filepath.Dir(final)
		if p.Removed {
			if err := os.Remove(final); err != nil && !errors.Is(err, fs.ErrNotExist) {
				removeTemps(pend[i:])
				return res, fmt.Errorf("removing %s: %w", p.Path, err)
			}
			// The empty folder goes too, else it would read as an empty partition; something else
			// living in it (a user's file, another run's temp) keeps it.
			if os.Remove(partDir) == nil {
				delete(dirs, partDir)
				dirs[filepath.Dir(partDir)] = true
			} else {
				dirs[partDir] = true
			}
		} else {
			if err := os.Rename(p.temp, final); err != nil {
				removeTemps(pend[i:])
				return res, fmt.Errorf("publishing %s: %w", p.Path, err)
			}
			dirs[partDir] = true
			for _, c := range p.created {
				dirs[filepath.Dir(c)] = true
			}
		}
		res.Files = append(res.Files, p.File)
		switch p.Table {
		case schemas.TableConversations:
			res.Conversations += p.Added
		case schemas.TableConversationParts:
			res.Parts += p.Added
		case schemas.TableConversationTags:
			res.Tags += p.Added
		case schemas.TableConversationRatings:
			res.Ratings += p.Added
		}
	}
	// Deepest first, so that a folder's own entry is synced after its content.
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	if w.bulkSync() {
		switch err := syncFS(w.cfg.Dir); {
		case err == nil:
			return res, nil
		case !errors.Is(err, errSyncFSUnsupported):
			return res, err
		}
	}
	slices.SortFunc(sorted, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, d := range sorted {
		if err := syncDir(d); err != nil {
			return res, err
		}
	}
	return res, nil
}

// errSyncFSUnsupported is syncFS's answer where syncfs(2) does not exist.
var errSyncFSUnsupported = errors.New("syncfs is not supported")

// bulkSync reports whether Commit makes its files durable with one syncfs(2) on the output folder's
// filesystem instead of an fsync per file and per folder.
func (w *Writer) bulkSync() bool { return !w.noSyncFS && runtime.GOOS == "linux" }

// durable makes the files of phase 1 and the folders created for them durable, before the journal
// names them. Written without an fsync each (see bulkSync), they are flushed by one syncfs; where
// syncfs is missing, each is synced on its own.
func (w *Writer) durable(pend []pending) error {
	bulk := w.bulkSync()
	if bulk {
		err := syncFS(w.cfg.Dir)
		if !errors.Is(err, errSyncFSUnsupported) {
			return err
		}
		w.noSyncFS = true
	}
	// Without bulk syncing, merged files were synced as they were closed; linked spools were not.
	dirs := map[string]bool{}
	for _, p := range pend {
		if p.temp == "" || !p.linked && !bulk {
			continue
		}
		if err := syncFile(p.temp); err != nil {
			return err
		}
		dirs[filepath.Dir(p.temp)] = true
		for _, c := range p.created {
			dirs[filepath.Dir(c)] = true
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// removeTemps removes unpublished temporary files and the folders created for them when empty.
func removeTemps(pend []pending) {
	var dirs []string
	for _, p := range pend {
		if p.temp != "" {
			os.Remove(p.temp)
		}
		dirs = append(dirs, p.created...)
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, d := range dirs {
		os.Remove(d) // fails, as it should, when not empty
	}
}

// syncDir makes a folder's entries (a rename, a new or removed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}

// PartitionPath returns the path of a table's file for a date, relative to the output folder.
func PartitionPath(table string, date schemas.Date) string {
	return filepath.Join(table, date.PartitionDir(), DataFile)
}

// ReadPartition reads all rows of a table's file for a date under dir; a missing file has no rows.
func ReadPartition[T any](dir, table string, date schemas.Date) ([]T, error) {
	rows, err := ReadFile[T](filepath.Join(dir, PartitionPath(table, date)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return rows, err
}
