package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
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
	// Date is the partition's key: its day, or the first day of its month.
	Date schemas.Date
	// Partition is the partition's folder name: date=YYYY-MM-DD or month=YYYY-MM.
	Partition string
	// Path is the published file, relative to Dir: <table>/<Partition>/data.parquet.
	Path string
	// TempPath is the staged object the new file was uploaded to before publishing (in a folder, a
	// hidden file next to Path); empty when Removed.
	TempPath string
	// Local is the local file the new file was written to, for checks before it is uploaded; it is
	// gone once uploaded to a bucket.
	Local string `json:"-"`
	Rows  int64
	Bytes int64
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
}

// Commit merges every partition touched by Add or Delete with its published files and publishes the
// result: for each (table, partition), the existing rows of the conversations this run added or deleted
// are dropped, the new rows merged in, and one file sorted by conversation_id written in place of the
// old one.
//
// The runs spilled by Add (and the memory buffer) are merged in partition and id order, once, so each
// partition's files are written once whatever order the records came in; CommitWorkers partitions are
// written at a time while the merge feeds the next.
//
// It works in two phases so that a failure leaves the published data as it was. First every new file is
// written under a temporary name in its final folder and made durable; then Config.BeforePublish runs;
// then all are renamed into place and the folders synced. Cancelling ctx stops the first phase; the
// second is not interruptible, since stopping half-way would publish half a run.
//
// When Commit fails, temporary files are removed and the Writer keeps its buffers and runs: Commit
// may be retried (merging is idempotent, so a retry after a partly published second phase converges to
// the same files) or the run Aborted. After a successful Commit the Writer is closed.
func (w *Writer) Commit(ctx context.Context) (Result, error) {
	if err := w.waitSpill(); err != nil {
		return Result{}, err
	}
	if err := w.usable(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	w.written.Store(0)
	w.writtenFiles.Store(0)
	w.touchedTotal.Store(int64(len(w.touched)))
	srcs, closeSrcs, err := w.sources()
	if err != nil {
		return Result{}, fmt.Errorf("load: commit: %w", err)
	}
	phases := zerolog.Dict().Int64("runs_ms", time.Since(start).Milliseconds())
	mark := time.Now()
	phase := func(name string) {
		phases.Int64(name+"_ms", time.Since(mark).Milliseconds())
		mark = time.Now()
	}

	// Phase 1: write every new file locally, check it, and upload it under its staged name.
	results, err := w.mergeAll(ctx, srcs)
	if cerr := closeSrcs(); err == nil {
		err = cerr
	}
	var pend []pending
	for i := range results {
		pend = append(pend, w.pendingFiles(&results[i])...)
	}
	if err == nil {
		var whole []pending
		whole, err = w.writeWhole(ctx)
		pend = append(pend, whole...)
	}
	phase("write")
	files := func() []File {
		out := make([]File, len(pend))
		for i := range pend {
			out[i] = pend[i].File
		}
		return out
	}
	if err == nil {
		err = w.writeIndex(results)
	}
	if err == nil && w.cfg.Check != nil {
		if err = w.cfg.Check(files()); err != nil {
			err = fmt.Errorf("checking the new files: %w", err)
		}
		phase("check")
	}
	if err == nil {
		// Every new file, and every folder made for one, must be durable before the journal is.
		err = w.durable(ctx, pend)
		phase("sync")
	}
	if err != nil {
		w.removeUnpublished(pend)
		return Result{}, fmt.Errorf("load: commit: %w", err)
	}

	if hook := w.cfg.BeforePublish; hook != nil {
		if err := hook(files()); err != nil {
			w.removeUnpublished(pend)
			return Result{}, fmt.Errorf("load: commit: before publish: %w", err)
		}
		phase("before_publish")
	}

	// Phase 2: publish (rename or copy) into place. Past the commit point: not interruptible.
	res, err := w.publish(context.WithoutCancel(ctx), pend)
	if err != nil {
		return res, fmt.Errorf("load: commit: %w", err)
	}
	phase("publish")
	w.closed = true
	w.mem = nil
	if err := w.removeStaging(); err != nil {
		// The data is published; a leftover staging folder only costs disk space.
		w.cfg.Logger.Warn().Err(err).Msg("load: staging folder not removed")
	}
	phase("cleanup")
	w.cfg.Logger.Debug().Dict("phases", phases).Msg("load: commit phases")
	w.cfg.Logger.Info().Str("run_id", w.cfg.RunID).Int("partitions", len(results)).Int("files", len(res.Files)).
		Int64("conversations", res.Conversations).Int64("parts", res.Parts).Int64("tags", res.Tags).
		Int64("ratings", res.Ratings).Int("spills", w.spills).Int64("took_ms", time.Since(start).Milliseconds()).Msg("load: committed")
	return res, nil
}

// sources opens what Commit merges: the runs, and the memory buffer. With runs on disk the memory buffer
// becomes one more (so that the merge does not hold it all; a retry finds it there); more runs than
// maxFanIn are first merged into fewer.
func (w *Writer) sources() (srcs []source, closeAll func() error, err error) {
	if len(w.runs) > 0 && len(w.mem) > 0 {
		if err := w.spill(); err != nil {
			return nil, nil, err
		}
		if err := w.waitSpill(); err != nil {
			return nil, nil, err
		}
	}
	for len(w.runs) > maxFanIn {
		if err := w.compactRuns(); err != nil {
			return nil, nil, err
		}
	}
	var readers []*runReader
	closeAll = func() error {
		var err error
		for _, r := range readers {
			if cerr := r.close(); err == nil {
				err = cerr
			}
		}
		return err
	}
	for _, path := range w.runs {
		r, err := openRun(path)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		readers = append(readers, r)
		srcs = append(srcs, r)
	}
	if len(w.mem) > 0 {
		// Sorted in place and kept, for a retry.
		w.mem = slices.DeleteFunc(w.mem, func(e *entry) bool { return e == nil })
		sortEntries(w.mem)
		clear(w.byKey)
		for i, e := range w.mem {
			w.byKey[memKey{e.key, e.rec.ID()}] = i
		}
		srcs = append(srcs, &sliceSource{es: w.mem})
	}
	return srcs, closeAll, nil
}

// compactRuns merges the oldest maxFanIn runs into one.
func (w *Writer) compactRuns() (err error) {
	var srcs []source
	var readers []*runReader
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	for _, path := range w.runs[:maxFanIn] {
		r, err := openRun(path)
		if err != nil {
			return err
		}
		readers = append(readers, r)
		srcs = append(srcs, r)
	}
	path := w.runPath(len(w.runs) + w.spills) // a name no run has had
	w.spills++
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	rw := newRunWriter(f)
	m := &mergeSources{srcs: srcs}
	for err == nil {
		var e *entry
		if e, err = m.next(); e == nil {
			break
		}
		if err == nil {
			err = rw.write(e)
		}
	}
	if err == nil {
		err = rw.close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("merging runs: %w", err)
	}
	for _, old := range w.runs[:maxFanIn] {
		os.Remove(old)
	}
	w.runs = append([]string{path}, w.runs[maxFanIn:]...)
	return nil
}

// chunkRecords is how many records the merge hands a partition's writer at a time.
const chunkRecords = 128

// mergeAll runs the merge of srcs, which feeds each partition's records to CommitWorkers writers. On
// error nothing it wrote is left.
func (w *Writer) mergeAll(ctx context.Context, srcs []source) (results []partitionResult, err error) {
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan *partitionJob)
	var mu sync.Mutex
	for range w.cfg.CommitWorkers {
		g.Go(func() error {
			for job := range jobs {
				// On error the group's context stops the feed, which closes this job's chunks.
				r, err := w.mergePartition(gctx, job)
				if err != nil {
					return err
				}
				w.written.Add(1)
				for i := range r.tables {
					if r.tables[i].path != "" {
						w.writtenFiles.Add(1)
					}
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(jobs)
		return w.feed(gctx, srcs, jobs)
	})
	err = g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		for i := range results {
			for t := range results[i].tables {
				discardResult(&results[i].tables[t])
			}
		}
		return nil, err
	}
	slices.SortFunc(results, func(a, b partitionResult) int { return cmp.Compare(a.key, b.key) })
	return results, nil
}

// feed merges the sources and hands each partition's winning records to a job, in partition order,
// with a job for each partition that only has deletes.
func (w *Writer) feed(ctx context.Context, srcs []source, jobs chan<- *partitionJob) error {
	delKeys := slices.Sorted(maps.Keys(w.deletes))
	var cur *partitionJob
	var chunk []*schemas.Record
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		select {
		case cur.chunks <- chunk:
		case <-ctx.Done():
			return ctx.Err()
		}
		chunk = nil
		return nil
	}
	start := func(key schemas.Date) error {
		j := &partitionJob{key: key, deletes: w.deletes[key], chunks: make(chan []*schemas.Record, 4)}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = j
		return nil
	}
	end := func() error {
		if cur == nil {
			return nil
		}
		err := flush()
		close(cur.chunks)
		cur = nil
		return err
	}
	defer end()
	// upTo starts (and ends) the jobs of delete-only partitions before key; all of them when last.
	upTo := func(key schemas.Date, last bool) error {
		for len(delKeys) > 0 && (last || delKeys[0] < key) {
			if err := start(delKeys[0]); err != nil {
				return err
			}
			if err := end(); err != nil {
				return err
			}
			delKeys = delKeys[1:]
		}
		return nil
	}
	m := &mergeSources{srcs: srcs}
	for {
		e, err := m.next()
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		if d, ok := w.deletes[e.key][e.rec.ID()]; ok && d > e.seq {
			continue // deleted after it was added
		}
		if cur == nil || cur.key != e.key {
			if err := end(); err != nil {
				return err
			}
			if err := upTo(e.key, false); err != nil {
				return err
			}
			if len(delKeys) > 0 && delKeys[0] == e.key {
				delKeys = delKeys[1:]
			}
			if err := start(e.key); err != nil {
				return err
			}
		}
		chunk = append(chunk, &e.rec)
		if len(chunk) >= chunkRecords {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := end(); err != nil {
		return err
	}
	return upTo(0, true)
}

// pendingFiles turns what merging a partition wrote into the files Commit publishes.
func (w *Writer) pendingFiles(r *partitionResult) []pending {
	dir := w.cfg.Partition.Dir(r.key)
	var out []pending
	for i := range r.tables {
		t := &r.tables[i]
		f := File{
			Table: Tables[i], Date: r.key, Partition: dir, Path: path.Join(Tables[i], dir, DataFile),
			Rows: t.rows, Bytes: t.size, ReplacedRows: t.replaced, Added: t.added, Existed: t.existed,
		}
		switch {
		case t.existed && t.added == 0 && t.replaced == 0:
			discardResult(t) // same rows as the published file: leave it alone
		case t.path == "" && t.existed:
			f.Removed = true
			out = append(out, pending{File: f})
		case t.path == "":
			// nothing was there and nothing is
		default: // rows, or none in a partition that keeps a file for every table
			f.TempPath, _ = w.store.Stage(w.cfg.RunID, f.Path)
			f.Local = t.path
			out = append(out, pending{File: f, temp: t.path, created: t.created})
		}
	}
	return out
}

// writeIndex writes the folder's next index to a local file for its staged name, when the Writer has
// an index.
func (w *Writer) writeIndex(results []partitionResult) error {
	if w.index == nil {
		return nil
	}
	w.nextIndex = w.index.next(w.cfg.Partition, results)
	staged, local := w.store.Stage(w.cfg.RunID, indexName)
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(local, w.nextIndex.encode(), 0o644); err != nil {
		return fmt.Errorf("writing the index: %w", err)
	}
	w.indexStaged, w.indexLocal = staged, local
	return nil
}

// uploadWorkers is how many files are uploaded, or published, at once: a bucket answers each request
// in tens of milliseconds whatever its size, a folder renames in microseconds.
const uploadWorkers = 16

// removeUnpublished removes what a Commit that failed before its commit point wrote: the local files,
// the folders made for them, and the staged objects.
func (w *Writer) removeUnpublished(pend []pending) {
	removeTemps(pend)
	ctx := context.Background()
	for _, p := range pend {
		if p.TempPath != "" {
			w.store.Remove(ctx, p.TempPath)
		}
	}
	if w.indexStaged != "" {
		os.Remove(w.indexLocal)
		w.store.Remove(ctx, w.indexStaged)
		w.indexStaged, w.indexLocal = "", ""
	}
}

// publish makes every staged file visible under its final name, removes emptied files, and makes that
// durable. It stops at the first error: the journal completes the rest.
func (w *Writer) publish(ctx context.Context, pend []pending) (Result, error) {
	var res Result
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadWorkers)
	names := make([]string, len(pend))
	for i := range pend {
		p := &pend[i]
		names[i] = p.Path
		g.Go(func() error {
			if p.Removed {
				if err := w.store.Remove(gctx, p.Path); err != nil {
					return fmt.Errorf("removing %s: %w", p.Path, err)
				}
				return nil
			}
			if err := w.store.Publish(gctx, p.TempPath, p.Path); err != nil {
				return fmt.Errorf("publishing %s: %w", p.Path, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	for i := range pend {
		p := &pend[i]
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
	return res, w.store.Sync(ctx, names)
}

// errSyncFSUnsupported is syncFS's answer where syncfs(2) does not exist.
var errSyncFSUnsupported = errors.New("syncfs is not supported")

// bulkSync reports whether Commit makes its files durable with one syncfs(2) on the output folder's
// filesystem (or by uploading them) instead of an fsync per file and per folder.
func (w *Writer) bulkSync() bool { return !w.noSyncFS && runtime.GOOS == "linux" }

// durable uploads the files of phase 1 (and the index) under their staged names and makes them
// durable, before the journal names them. In a folder the files are already there, written without an
// fsync each (see bulkSync): one Sync flushes them.
func (w *Writer) durable(ctx context.Context, pend []pending) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadWorkers)
	var names []string
	for i := range pend {
		p := &pend[i]
		if p.temp == "" {
			continue
		}
		names = append(names, p.TempPath)
		g.Go(func() error {
			if err := w.store.Upload(gctx, p.TempPath, p.temp); err != nil {
				return fmt.Errorf("uploading %s: %w", p.Path, err)
			}
			return nil
		})
	}
	if w.indexStaged != "" {
		names = append(names, w.indexStaged)
		g.Go(func() error {
			if err := w.store.Upload(gctx, w.indexStaged, w.indexLocal); err != nil {
				return fmt.Errorf("uploading the index: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return w.store.Sync(ctx, names)
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
