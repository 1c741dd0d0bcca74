package load

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"
)

// batchRows is how many rows a cursor reads, and an output file buffers, per call into parquet-go.
const batchRows = 512

// bufRows sizes a read buffer: a batch, or less for a small source (most partitions are small).
func bufRows(rows int64) int { return int(max(1, min(rows, batchRows))) }

// errUnsorted reports an existing file whose rows are not ordered by conversation_id (written by
// something else than this package); the merge then reloads it whole and sorts it.
var errUnsorted = errors.New("rows are not sorted by conversation_id")

// cursor streams one published file's rows of one table in conversation_id order.
type cursor[T any] struct {
	name  string // for error messages
	id    func(*T) string
	fill  func([]T) (int, error)
	close func() error

	buf    []T
	n, pos int
	eof    bool
	last   string
	stuck  int
}

// peek returns the next row without consuming it, or nil at the end.
func (c *cursor[T]) peek() (*T, error) {
	for c.pos >= c.n {
		if c.eof {
			return nil, nil
		}
		// Clear so that parquet-go allocates fresh values for pointer fields: rows handed out earlier
		// may still sit in an output batch.
		clear(c.buf)
		n, err := c.fill(c.buf)
		c.n, c.pos = n, 0
		switch {
		case errors.Is(err, io.EOF):
			c.eof = true
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", c.name, err)
		case n == 0:
			if c.stuck++; c.stuck > 3 {
				return nil, fmt.Errorf("reading %s: %w", c.name, io.ErrNoProgress)
			}
		}
	}
	row := &c.buf[c.pos]
	if id := c.id(row); id < c.last {
		return nil, fmt.Errorf("%s: %w (%q after %q)", c.name, errUnsorted, id, c.last)
	}
	return row, nil
}

func (c *cursor[T]) advance() {
	c.last = c.id(&c.buf[c.pos])
	c.pos++
}

func (c *cursor[T]) Close() error {
	if c.close == nil {
		return nil
	}
	err := c.close()
	c.close = nil
	return err
}

// sliceCursor streams rows already in memory (an unsorted existing file, loaded and sorted).
func sliceCursor[T any](t tableDef[T], rows []T, name string) *cursor[T] {
	return &cursor[T]{
		name: name, id: t.id, buf: make([]T, bufRows(int64(len(rows)))),
		fill: func(buf []T) (int, error) {
			n := copy(buf, rows)
			rows = rows[n:]
			if len(rows) == 0 {
				return n, io.EOF
			}
			return n, nil
		},
	}
}

// fileCursor streams a Parquet file with parquet-go's GenericReader, a batch at a time.
func fileCursor[T any](t tableDef[T], f *os.File, r *parquet.GenericReader[T], path string) *cursor[T] {
	return &cursor[T]{
		name: path, id: t.id, buf: make([]T, min(bufRows(r.NumRows()), t.batch)),
		fill: func(buf []T) (n int, err error) {
			defer recoverParquet(&err, "reading "+path)
			return r.Read(buf)
		},
		close: func() error {
			rerr := r.Close()
			if err := f.Close(); err != nil {
				return err
			}
			return rerr
		},
	}
}

// openReader opens a Parquet file for streaming. parquet-go's NewGenericReader panics on a bad file, so
// the file is opened with OpenFile first, which returns errors, and anything left is recovered.
// The file's created_by is returned too: what this package wrote is sorted by conversation_id.
func openReader[T any](path string) (f *os.File, r *parquet.GenericReader[T], createdBy string, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, "", err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	defer recoverParquet(&err, "opening "+path)
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, "", err
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, nil, "", fmt.Errorf("opening %s: %w", path, err)
	}
	return f, parquet.NewGenericReader[T](pf), pf.Metadata().CreatedBy, nil
}

// recoverParquet turns a panic inside parquet-go into an error: it panics on some bad input instead of
// returning one, and one bad file must not take down a run that has other partitions to publish.
func recoverParquet(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("parquet-go panicked %s: %v", what, r)
	}
}

// outFile is a Parquet file created on the first row written, so that a merge producing no rows leaves
// nothing behind.
type outFile[T any] struct {
	path string
	opts []parquet.WriterOption
	// Each file gets a new writer: parquet-go v0.32's GenericWriter.Reset clears the column paths it
	// shares with the cached schema (format/reset.go, ColumnMetaData.Reset), so a reused writer wrote
	// every column chunk's path_in_schema as "" (TestWriterReuseKeepsColumnPaths).
	sync bool // fsync before close: published files must be on disk before the rename is
	// fresh: the folder is known not to exist yet, so it is made before the first open.
	fresh   bool
	modTime time.Time // of the finished file
	f       *os.File
	w       *parquet.GenericWriter[T]
	batch   []T
	rows    int64
	// created lists folders made to hold the file, deepest last, for cleanup when it is discarded.
	created []string
}

func (o *outFile[T]) write(row *T) error {
	// Grown by append: most partitions have far fewer rows than a batch.
	o.batch = append(o.batch, *row)
	o.rows++
	if len(o.batch) >= batchRows {
		return o.flush()
	}
	return nil
}

func (o *outFile[T]) flush() (err error) {
	if len(o.batch) == 0 {
		return nil
	}
	if o.f == nil {
		if err := o.create(); err != nil {
			return err
		}
		if err := o.newWriter(); err != nil {
			return err
		}
	}
	defer recoverParquet(&err, "writing "+o.path)
	if _, err := o.w.Write(o.batch); err != nil {
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	clear(o.batch)
	o.batch = o.batch[:0]
	return nil
}

// create opens the file, making its folders only when they are missing: most files go to a folder that
// exists (staging), and a failed open costs less than a failed mkdir.
func (o *outFile[T]) create() (err error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !o.fresh {
		o.f, err = os.OpenFile(o.path, flags, 0o644)
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if o.created, err = mkdirAll(filepath.Dir(o.path)); err != nil {
		return err
	}
	o.f, err = os.OpenFile(o.path, flags, 0o644)
	return err
}

func (o *outFile[T]) newWriter() (err error) {
	defer recoverParquet(&err, "creating a writer for "+o.path)
	o.w = parquet.NewGenericWriter[T](o.f, o.opts...)
	return nil
}

// finish completes the file; it returns its size, 0 when no row was written and no file exists. With
// keepEmpty, a file is written even with no row: its footer still holds the table's schema.
func (o *outFile[T]) finish(keepEmpty bool) (size int64, err error) {
	if err := o.flush(); err != nil {
		return 0, err
	}
	if o.f == nil && keepEmpty {
		if err := o.create(); err != nil {
			return 0, err
		}
		if err := o.newWriter(); err != nil {
			return 0, err
		}
	}
	if o.f == nil {
		return 0, nil
	}
	if err := o.closeWriter(); err != nil {
		return 0, err
	}
	if o.sync {
		if err := o.f.Sync(); err != nil {
			return 0, fmt.Errorf("syncing %s: %w", o.path, err)
		}
	}
	fi, err := o.f.Stat()
	if err != nil {
		return 0, err
	}
	if err := o.f.Close(); err != nil {
		return 0, err
	}
	o.f, o.modTime = nil, fi.ModTime()
	o.w = nil
	return fi.Size(), nil
}

func (o *outFile[T]) closeWriter() (err error) {
	defer recoverParquet(&err, "closing "+o.path)
	if err := o.w.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", o.path, err)
	}
	return nil
}

// discard removes whatever was written, and the folders made for it when they are empty.
func (o *outFile[T]) discard() {
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
	if o.w != nil || o.created != nil || o.rows > 0 {
		os.Remove(o.path)
	}
	for i := len(o.created) - 1; i >= 0; i-- {
		os.Remove(o.created[i]) // fails, as it should, when something else lives there
	}
	o.w, o.created, o.batch, o.rows = nil, nil, nil, 0
}

// mkdirAll is os.MkdirAll that reports which folders it created, shallowest first. It tries Mkdir first:
// the usual case, a new partition folder in an existing table folder, costs one system call.
func mkdirAll(dir string) ([]string, error) {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return []string{dir}, nil
	case errors.Is(err, fs.ErrExist):
		return nil, nil
	case !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir:
		return nil, err
	}
	created, err := mkdirAll(filepath.Dir(dir))
	if err != nil {
		return nil, err
	}
	switch err := os.Mkdir(dir, 0o755); {
	case err == nil:
		created = append(created, dir)
	case !errors.Is(err, fs.ErrExist):
		return created, err
	}
	return created, nil
}

// mergeStats counts what one table's merge did.
type mergeStats struct {
	rows     int64 // rows written
	added    int64 // of which come from this run
	replaced int64 // rows of the existing file dropped
}
