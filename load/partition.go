package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
)

// partitionJob is one partition's share of a Commit: the winning records of this run in id order,
// streamed in chunks so that a large (monthly) partition is never held whole, and the ids deleted from
// it.
type partitionJob struct {
	key     schemas.Date
	deletes map[string]uint64
	chunks  chan []*schemas.Record
}

// partitionResult is what merging one partition wrote.
type partitionResult struct {
	key    schemas.Date
	tables [numTables]tableResult
	// held lists what the new conversations file holds, in id order, for the index.
	held []heldEntry
}

// tableResult is what merging one table produced.
type tableResult struct {
	mergeStats
	path    string // the new file; empty when no row was written
	size    int64
	modTime time.Time
	existed bool // a published file was merged in
	created []string
}

func discardResult(r *tableResult) {
	if r.path != "" {
		os.Remove(r.path)
	}
	for i := len(r.created) - 1; i >= 0; i-- {
		os.Remove(r.created[i])
	}
	r.path, r.created = "", nil
}

// tableMerger merges one table of a partition: the published file's rows (a cursor in id order) with
// the rows of this run's records, which arrive in id order too. The four tables of a partition advance
// together, one conversation id at a time.
type tableMerger interface {
	// openExisting opens the published file name of st, when there is one.
	openExisting(ctx context.Context, st Store, name string) error
	// keepBefore copies the published rows with an id before id (all of them when last), except those
	// of deleted conversations.
	keepBefore(id string, last bool, deleted map[string]uint64) error
	// replace drops the published rows of id and writes rec's.
	replace(id string, rec *schemas.Record) error
	// finish completes the table's file. keepEmpty writes it even with no row (see mergePartition).
	finish(keepEmpty bool) (tableResult, error)
	discard()
	close() error
}

type tableMerge[T any] struct {
	t     tableDef[T]
	cur   *cursor[T]
	out   *outFile[T]
	res   tableResult
	onRow func(*T) // sees every row written
	// day is the partition's day when partitioned by day: published rows get it as created_date.
	day *schemas.Date
	// release lets go of the published file's local copy.
	release func()
}

func (m *tableMerge[T]) openExisting(ctx context.Context, st Store, name string) error {
	path, release, err := st.Fetch(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	m.release = release
	f, r, createdBy, err := openReader[T](path)
	if err != nil {
		return err
	}
	m.res.existed = true
	if strings.HasPrefix(createdBy, "intercom-export ") {
		m.cur = fileCursor(m.t, f, r, path)
		return nil
	}
	// A file this package did not write is not known to be sorted by conversation_id: it is read whole
	// and sorted (a partition's table fits in memory; it is one file of a folder written by another tool).
	r.Close()
	f.Close()
	rows, err := ReadFile[T](path)
	if err != nil {
		return err
	}
	slices.SortStableFunc(rows, func(a, b T) int { return cmp.Compare(m.t.id(&a), m.t.id(&b)) })
	m.cur = sliceCursor(m.t, rows, path)
	return nil
}

func (m *tableMerge[T]) keepBefore(id string, last bool, deleted map[string]uint64) error {
	if m.cur == nil {
		return nil
	}
	for {
		row, err := m.cur.peek()
		if err != nil || row == nil {
			return err
		}
		rid := m.t.id(row)
		if !last && rid >= id {
			return nil
		}
		if _, gone := deleted[rid]; gone {
			m.res.replaced++
		} else {
			if m.day != nil {
				m.t.setDate(row, *m.day)
			}
			if err := m.write(row); err != nil {
				return err
			}
		}
		m.cur.advance()
	}
}

func (m *tableMerge[T]) replace(id string, rec *schemas.Record) error {
	if m.cur != nil {
		for {
			row, err := m.cur.peek()
			if err != nil {
				return err
			}
			if row == nil || m.t.id(row) != id {
				break
			}
			m.res.replaced++
			m.cur.advance()
		}
	}
	if rec == nil {
		return nil
	}
	for i := range m.t.count(rec) {
		if err := m.write(m.t.at(rec, i)); err != nil {
			return err
		}
		m.res.added++
	}
	return nil
}

func (m *tableMerge[T]) write(row *T) error {
	if m.onRow != nil {
		m.onRow(row)
	}
	m.res.rows++
	return m.out.write(row)
}

func (m *tableMerge[T]) finish(keepEmpty bool) (tableResult, error) {
	size, err := m.out.finish(keepEmpty)
	if err != nil {
		return m.res, fmt.Errorf("%s: %w", m.t.name, err)
	}
	m.res.size, m.res.modTime = size, m.out.modTime
	if m.out.rows > 0 || keepEmpty {
		m.res.path, m.res.created = m.out.path, m.out.created
	}
	return m.res, nil
}

func (m *tableMerge[T]) discard() { m.out.discard() }

func (m *tableMerge[T]) close() error {
	defer func() {
		if m.release != nil {
			m.release()
			m.release = nil
		}
	}()
	if m.cur == nil {
		return nil
	}
	err := m.cur.Close()
	m.cur = nil
	return err
}

func newTableMerge[T any](w *Writer, t tableDef[T], key schemas.Date, fresh bool) *tableMerge[T] {
	var day *schemas.Date
	if w.cfg.Partition == schemas.ByDay {
		day = &key
	}
	_, local := w.store.Stage(w.cfg.RunID, path.Join(t.name, w.cfg.Partition.Dir(key), DataFile))
	return &tableMerge[T]{t: t, day: day, out: &outFile[T]{
		path: local, opts: w.writerOptions(zstdCodec),
		sync: !w.bulkSync(), fresh: fresh,
	}}
}

// mergePartition writes one partition's new files under their temporary names. On error, or when ctx
// is done, it removes what it wrote.
func (w *Writer) mergePartition(ctx context.Context, job *partitionJob) (res partitionResult, err error) {
	res.key = job.key
	dir := w.cfg.Partition.Dir(job.key)
	// A partition the folder does not hold yet needs its folders made: made before the first open
	// instead of after a failed one.
	fresh := false
	if w.index != nil {
		_, held := w.index.parts[job.key]
		fresh = !held && w.index.trusted
	}
	conv := newTableMerge(w, convDef, job.key, fresh)
	conv.onRow = func(c *schemas.Conversation) { res.held = append(res.held, heldOf(c, job.key, w.cfg.Partition)) }
	ms := [numTables]tableMerger{
		conv, newTableMerge(w, partDef, job.key, fresh), newTableMerge(w, tagDef, job.key, fresh), newTableMerge(w, ratingDef, job.key, fresh),
	}
	defer func() {
		for i, m := range ms {
			if cerr := m.close(); cerr != nil && err == nil {
				err = cerr
			}
			if err != nil {
				m.discard()
				discardResult(&res.tables[i])
			}
		}
		if err != nil {
			err = fmt.Errorf("partition %s: %w", dir, err)
		}
	}()
	// A partition a trusted index does not hold has no files: a partition keeps its child tables' files
	// only while it has a conversations file, so there is nothing to fetch (a backfill to a bucket asked
	// for each of its 2,920 files and got as many 404s).
	if !fresh {
		for i, m := range ms {
			if err := m.openExisting(ctx, w.store, path.Join(Tables[i], dir, DataFile)); err != nil {
				return res, err
			}
		}
	}
	for chunk := range job.chunks {
		for _, rec := range chunk {
			id := rec.ID()
			for _, m := range ms {
				if err := m.keepBefore(id, false, job.deletes); err != nil {
					return res, err
				}
				if err := m.replace(id, rec); err != nil {
					return res, err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err // the feed stopped half way
	}
	// A partition that holds conversations holds a file for every table, with no rows when none of its
	// conversations has a part, a tag or a rating there: a table with no file anywhere (a workspace that
	// never rates) would make every reader of a glob, DuckDB's views among them, fail with "no files
	// found" instead of reading an empty table. The conversations table comes first, so its row count
	// is known.
	for i, m := range ms {
		if err := m.keepBefore("", true, job.deletes); err != nil {
			return res, err
		}
		keepEmpty := i != tConversations && res.tables[tConversations].rows > 0
		if res.tables[i], err = m.finish(keepEmpty); err != nil {
			return res, err
		}
	}
	return res, nil
}

// ReadFile reads every row of a Parquet file; parquet-go panics are returned as errors.
func ReadFile[T any](path string) (rows []T, err error) {
	f, r, _, err := openReader[T](path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer r.Close()
	defer recoverParquet(&err, "reading "+path)
	rows = make([]T, r.NumRows())
	n := 0
	for n < len(rows) {
		m, err := r.Read(rows[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if m == 0 {
			return nil, fmt.Errorf("reading %s: %w", path, io.ErrNoProgress)
		}
	}
	return rows[:n], nil
}
