package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/apache/arrow/go/v15/parquet/schema"
	"github.com/apache/thrift/lib/go/thrift"

	"github.com/intercom-export/intercom-export/schemas"
)

// Verification reads files back with Apache Arrow, an implementation independent of parquet-go which
// writes them: a writer bug that a round trip through parquet-go itself would hide shows up here. The
// expected schema is derived from the row types' Go types and `parquet` tags by this file's own rules,
// not by asking parquet-go what it would write.

// Errors a verification reports, for errors.Is.
var (
	// ErrVerify marks a VerifyDir that found at least one problem; the Report lists them all.
	ErrVerify = errors.New("load: verify found problems")
	// ErrCorrupt: the file cannot be read as Parquet, or its bytes disagree with its own checksums
	// and metadata.
	ErrCorrupt = errors.New("corrupt Parquet file")
	// ErrSchemaMismatch: the file's columns differ from its table's.
	ErrSchemaMismatch = errors.New("schema differs from its table's")
	// ErrRowCount: the rows read differ from the footer's count or from the expected count.
	ErrRowCount = errors.New("row count mismatch")
	// ErrUnexpected: an entry VerifyDir does not expect in an output folder.
	ErrUnexpected = errors.New("unexpected entry")
)

// VerifyFile reads the Parquet file at path completely and checks that it is a sound file of the named
// table: the footer parses; every page's CRC matches its bytes and the pages account exactly for each
// column chunk's size and value count; the Arrow schema equals the table's expected schema (names,
// order, types, nullability); every row decodes; and the rows read equal the footer's count and, when
// wantRows >= 0, wantRows. The error names path.
func VerifyFile(path, table string, wantRows int64) error {
	if _, err := verifyFile(path, table, wantRows, true); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// CheckFile is VerifyFile without decoding the values: the footer, the page checksums and sizes, the
// schema and the row counts. Export runs it on every new file before committing: the page CRCs catch
// damaged data at a fraction of the cost of a full decode, which for thousands of small partition files
// would take longer than the export itself.
func CheckFile(path, table string, wantRows int64) error {
	if _, err := verifyFile(path, table, wantRows, false); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Report is what VerifyDir found.
type Report struct {
	// Files lists every Parquet file read, good or bad, by path.
	Files []CheckedFile
	// Problems lists each bad file and each unexpected entry, by path.
	Problems []Problem
}

// CheckedFile is one Parquet file VerifyDir read.
type CheckedFile struct {
	Path  string // relative to the verified folder, with forward slashes
	Table string
	Rows  int64 // rows read; 0 when the file is bad
	Bytes int64
}

// Problem is a bad file, or an entry that does not belong in the output folder.
type Problem struct {
	Path string // relative to the verified folder, with forward slashes
	Err  error
}

func (p Problem) Error() string { return p.Path + ": " + p.Err.Error() }
func (p Problem) Unwrap() error { return p.Err }

// OK reports whether nothing was wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Rows returns the rows of every good file checked.
func (r Report) Rows() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Rows
	}
	return n
}

// Err returns nil when r is OK, else an error wrapping ErrVerify and every problem.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	errs := make([]error, 0, len(r.Problems)+1)
	errs = append(errs, fmt.Errorf("%w: %d of %d files bad or unexpected", ErrVerify, len(r.Problems), len(r.Files)))
	for _, p := range r.Problems {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// VerifyDir checks an output folder: every `<table>/<partition>/*.parquet` file of the four tables with
// VerifyFile (without an expected row count: the folder records none), that nothing else is there that
// readers globbing `<table>/*/*.parquet` would trip over, and that the folder's index agrees with the
// conversations files. Hidden names (a leading dot: the
// temporary files of a run in progress) and the tool's state folder are skipped. It returns every
// problem in the Report; the error is Report.Err(), or the reason dir could not be read at all.
func VerifyDir(dir string) (Report, error) { return VerifyDirContext(context.Background(), dir) }

// VerifyDirContext is VerifyDir stopping between files when ctx is done, with ctx's error.
func VerifyDirContext(ctx context.Context, dir string) (Report, error) {
	return VerifyStore(ctx, NewFolderStore(dir))
}

// VerifyStore is VerifyDirContext on a Store: a bucket's objects are read as a folder's files, each
// downloaded to a temporary file for its check.
func VerifyStore(ctx context.Context, st Store) (Report, error) {
	var rep Report
	tree, err := st.Tree(ctx)
	if err != nil {
		return rep, fmt.Errorf("load: verify: %w", err)
	}
	entries, err := fs.ReadDir(tree, ".")
	if err != nil {
		return rep, fmt.Errorf("load: verify %s: %w", st.Location(), err)
	}
	isDir := func(name string) bool {
		fi, err := fs.Stat(tree, name)
		return err == nil && fi.IsDir()
	}
	type job struct{ rel, table string }
	var jobs []job
	var layout schemas.Partitioning
	problem := func(rel string, err error) {
		rep.Problems = append(rep.Problems, Problem{Path: filepath.ToSlash(rel), Err: err})
	}
	for _, e := range entries {
		name := e.Name()
		if hidden(name) || name == StateDir {
			continue
		}
		whole := slices.Contains(WholeTables, name)
		if !whole && !slices.Contains(Tables[:], name) {
			all := append(Tables[:], WholeTables...)
			problem(name, fmt.Errorf("%w: not one of the tables %s", ErrUnexpected, strings.Join(all, ", ")))
			continue
		}
		tableDir := name
		if !isDir(tableDir) {
			problem(name, fmt.Errorf("%w: a file where the table's folder belongs", ErrUnexpected))
			continue
		}
		parts, err := fs.ReadDir(tree, tableDir)
		if err != nil {
			problem(name, err)
			continue
		}
		if whole {
			// One file, data.parquet; nothing else that a reader of <table>/*.parquet would read.
			for _, fe := range parts {
				fname, frel := fe.Name(), path.Join(name, fe.Name())
				switch {
				case hidden(fname):
				case fname != DataFile || isDir(path.Join(tableDir, fname)):
					problem(frel, fmt.Errorf("%w: only %s belongs in the folder of %s, which has no partitions", ErrUnexpected, DataFile, name))
				default:
					jobs = append(jobs, job{rel: frel, table: name})
				}
			}
			continue
		}
		for _, pe := range parts {
			pname := pe.Name()
			prel := path.Join(name, pname)
			if hidden(pname) {
				continue
			}
			partDir := prel
			if !isDir(partDir) {
				problem(prel, fmt.Errorf("%w: a file in a table folder, which holds only partition folders (date=YYYY-MM-DD or month=YYYY-MM)", ErrUnexpected))
				continue
			}
			// A folder name that does not round-trip would give readers a wrong or unparsable partition
			// value; and a folder holds one layout, else readers see two partition columns.
			p := schemas.ByDay
			if strings.HasPrefix(pname, "month=") {
				p = schemas.ByMonth
			}
			if _, err := p.ParseDir(pname); err != nil {
				problem(prel, fmt.Errorf("%w: not a partition folder date=YYYY-MM-DD or month=YYYY-MM", ErrUnexpected))
				continue
			}
			if layout == "" {
				layout = p
			} else if p != layout {
				problem(prel, fmt.Errorf("%w: a %s partition in a folder partitioned by %s", ErrUnexpected, p, layout))
				continue
			}
			files, err := fs.ReadDir(tree, partDir)
			if err != nil {
				problem(prel, err)
				continue
			}
			for _, fe := range files {
				fname := fe.Name()
				frel := path.Join(prel, fname)
				if hidden(fname) {
					continue
				}
				switch {
				case isDir(frel):
					problem(frel, fmt.Errorf("%w: a folder inside a partition folder", ErrUnexpected))
				case fname != DataFile:
					// Readers' `*/*.parquet` globs would read a second .parquet file too.
					problem(frel, fmt.Errorf("%w: only %s belongs in a partition folder", ErrUnexpected, DataFile))
				default:
					jobs = append(jobs, job{rel: frel, table: name})
				}
			}
		}
	}

	// Files are independent and reading one is CPU-bound (decompression, decoding).
	type result struct {
		rows, size int64
		err        error
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				local, release, err := st.Fetch(ctx, jobs[i].rel)
				if err != nil {
					results[i] = result{err: err}
					continue
				}
				fst, err := verifyFile(local, jobs[i].table, -1, true)
				release()
				results[i] = result{fst.rows, fst.size, err}
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("load: verify: %w", err)
	}
	for i, j := range jobs {
		r := results[i]
		cf := CheckedFile{Path: filepath.ToSlash(j.rel), Table: j.table, Bytes: r.size}
		if r.err != nil {
			problem(j.rel, r.err)
		} else {
			cf.Rows = r.rows
		}
		rep.Files = append(rep.Files, cf)
	}
	if err := compareIndex(ctx, st); err != nil {
		problem(filepath.Join(StateDir, indexFile), err)
	}
	slices.SortFunc(rep.Files, func(a, b CheckedFile) int { return strings.Compare(a.Path, b.Path) })
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	return rep, rep.Err()
}

// hidden names are skipped by readers' globs and by VerifyDir: a run's temporary files start with a dot.
func hidden(name string) bool { return strings.HasPrefix(name, ".") }

type fileStats struct{ rows, size int64 }

// wholeFileLimit is the size up to which verifyFile reads a file into memory at once.
const wholeFileLimit = 4 << 20

func verifyFile(path, table string, wantRows int64, decode bool) (st fileStats, err error) {
	want, err := ArrowSchema(table)
	if err != nil {
		return st, err
	}
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return st, err
	}
	st.size = fi.Size()
	// Arrow panics on some malformed input (zstd frames, slice bounds in decoders); one bad file must
	// become an error naming it, not take down the run or the rest of the check. recover only sees this
	// goroutine, which is why decodeColumns meets the data before pqarrow's goroutines do.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: Arrow panicked reading it: %v", ErrCorrupt, r)
		}
	}()
	// A small file (most daily partitions) is read whole, in one system call instead of a few per column.
	var src interface {
		io.ReaderAt
		io.Seeker
	} = f
	if st.size <= wholeFileLimit {
		data := make([]byte, st.size)
		if _, err := io.ReadFull(f, data); err != nil {
			return st, err
		}
		src = bytes.NewReader(data)
	}
	if err := checkMagic(src, st.size); err != nil {
		return st, err
	}
	rdr, err := file.NewParquetReader(src)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	defer rdr.Close()
	pages, err := checkPages(src, rdr, st.size)
	if err != nil {
		return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if decode {
		if err := decodeColumns(rdr, pages); err != nil {
			return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	md := rdr.MetaData()
	if err := checkColumnPaths(md); err != nil {
		return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	var fr *pqarrow.FileReader
	key := table + "\x00" + parquetSchemaKey(md)
	if _, ok := goodSchemas.Load(key); !ok || decode {
		if fr, err = pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator); err != nil {
			return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		got, err := fr.Schema()
		if err != nil {
			return st, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if err := compareSchemas(table, want, got); err != nil {
			return st, err
		}
		goodSchemas.Store(key, true)
	}

	if !decode {
		var rows int64
		for i := range rdr.NumRowGroups() {
			rows += md.RowGroups[i].GetNumRows()
		}
		if rows != rdr.NumRows() {
			return st, fmt.Errorf("%w: the row groups hold %d rows, the footer says %d", ErrRowCount, rows, rdr.NumRows())
		}
		if wantRows >= 0 && rows != wantRows {
			return st, fmt.Errorf("%w: the file holds %d rows, want %d", ErrRowCount, rows, wantRows)
		}
		st.rows = rows
		return st, nil
	}

	// Row group by row group, so memory stays bounded by Config.RowGroupRows whatever the file's size.
	ctx := context.Background()
	leaves := make([]int, md.Schema.NumColumns())
	for i := range leaves {
		leaves[i] = i
	}
	var rows int64
	for i := range rdr.NumRowGroups() {
		tbl, err := fr.RowGroup(i).ReadTable(ctx, leaves)
		if err != nil {
			return st, fmt.Errorf("%w: row group %d: %w", ErrCorrupt, i, err)
		}
		n := tbl.NumRows()
		tbl.Release()
		if meta := md.RowGroups[i].GetNumRows(); n != meta {
			return st, fmt.Errorf("%w: row group %d: read %d rows, its metadata says %d", ErrRowCount, i, n, meta)
		}
		rows += n
	}
	if rows != rdr.NumRows() {
		return st, fmt.Errorf("%w: read %d rows, the footer says %d", ErrRowCount, rows, rdr.NumRows())
	}
	if wantRows >= 0 && rows != wantRows {
		return st, fmt.Errorf("%w: read %d rows, want %d", ErrRowCount, rows, wantRows)
	}
	st.rows = rows
	return st, nil
}

// goodSchemas holds the keys (parquetSchemaKey, by table) of the Parquet schemas whose Arrow conversion
// matched the table's expected schema. The conversion is a function of what the key records, so a file
// whose schema was already found good skips it: converting and comparing some 80 columns was a third of
// the check of a small file, and a run checks thousands of files with a handful of distinct schemas.
var goodSchemas sync.Map

// parquetSchemaKey records everything of a file's Parquet schema that its Arrow conversion reads: each
// node's name, repetition, logical and converted type, field id, and the physical type, length and
// decimal precision of leaves, in schema order; and the embedded Arrow schema, which the conversion prefers when present.
// checkColumnPaths compares each column chunk's path_in_schema with its column's path in the schema:
// readers that find columns by path (rather than by position) need them to agree. parquet-go v0.32
// wrote them empty from a reused writer.
func checkColumnPaths(md *metadata.FileMetaData) error {
	sch := md.Schema
	for i := range len(md.RowGroups) {
		rg := md.RowGroup(i)
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				return err
			}
			want := sch.Column(j).ColumnPath().String()
			if got := cc.PathInSchema().String(); got != want {
				return fmt.Errorf("row group %d, column %d (%s): the column chunk's path_in_schema is %q", i, j, want, got)
			}
		}
	}
	return nil
}

func parquetSchemaKey(md *metadata.FileMetaData) string {
	var b strings.Builder
	var walk func(n schema.Node)
	walk = func(n schema.Node) {
		fmt.Fprintf(&b, "%s|%d|%s|%d|%d", n.Name(), n.RepetitionType(), n.LogicalType(), n.ConvertedType(), n.FieldID())
		switch n := n.(type) {
		case *schema.PrimitiveNode:
			fmt.Fprintf(&b, "|%d|%d|%v;", n.PhysicalType(), n.TypeLength(), n.DecimalMetadata())
		case *schema.GroupNode:
			fmt.Fprintf(&b, "{%d:", n.NumFields())
			for i := range n.NumFields() {
				walk(n.Field(i))
			}
			b.WriteString("}")
		}
	}
	walk(md.Schema.Root())
	if v := md.KeyValueMetadata().FindValue("ARROW:schema"); v != nil {
		b.WriteString("arrow:" + *v)
	}
	return b.String()
}

// checkMagic checks the leading magic too: Arrow reads only the trailing one, and a file whose start
// is damaged is rejected by other readers.
func checkMagic(f io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 2*int64(len(magic))+4 {
		return fmt.Errorf("%w: %d bytes is too short for a Parquet file (truncated?)", ErrCorrupt, size)
	}
	var head, tail [4]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return err
	}
	if _, err := f.ReadAt(tail[:], size-4); err != nil {
		return err
	}
	if string(head[:]) != magic || string(tail[:]) != magic {
		return fmt.Errorf("%w: no %s magic at the start or end (truncated or not Parquet)", ErrCorrupt, magic)
	}
	return nil
}

// checkPages walks the pages of every column chunk and checks their CRC-32s. Arrow v15 decodes pages
// without looking at the CRC, and a flipped bit in a page often still decodes (levels and values of v2
// data pages are plain bytes, dictionary indexes stay in range): without this walk most bit flips in
// data would read back as silently different values. parquet-go writes a CRC on every page.
//
// The page headers are decoded here with the Thrift compact protocol directly, since Arrow does not
// expose them. The walk also checks that the pages fill each chunk exactly and carry the chunk's value
// count, which catches damage in the headers themselves (they are outside the CRC).
func checkPages(f io.ReaderAt, rdr *file.Reader, size int64) ([][]chunkPages, error) {
	md := rdr.MetaData()
	sums := make([][]chunkPages, rdr.NumRowGroups())
	for rg := range rdr.NumRowGroups() {
		rgm := md.RowGroup(rg)
		sums[rg] = make([]chunkPages, rgm.NumColumns())
		for c := range rgm.NumColumns() {
			cc, err := rgm.ColumnChunk(c)
			if err != nil {
				return nil, fmt.Errorf("row group %d column %d: %w", rg, c, err)
			}
			col := cc.PathInSchema().String()
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			length := cc.TotalCompressedSize()
			if start < 4 || length <= 0 || start+length > size-8 {
				return nil, fmt.Errorf("row group %d column %s: chunk at %d+%d lies outside the file's %d bytes", rg, col, start, length, size)
			}
			buf := make([]byte, length)
			if _, err := f.ReadAt(buf, start); err != nil {
				return nil, fmt.Errorf("row group %d column %s: %w", rg, col, err)
			}
			sum, err := walkPages(buf)
			if err == nil {
				err = sum.check(cc.NumValues(), rgm.NumRows(), cc.TotalUncompressedSize())
			}
			if err != nil {
				return nil, fmt.Errorf("row group %d column %s: %w", rg, col, err)
			}
			for i := range sum.bodies {
				sum.bodies[i][0] += start
				sum.bodies[i][1] += start
			}
			sums[rg][c] = sum
		}
	}
	return sums, nil
}

// decodeColumns decodes every page of every column chunk with Arrow's Parquet column readers and checks
// the levels: each column of a row group must hold the row group's row count of records. It runs before
// the pqarrow read because pqarrow assembles nested columns (lists, structs) on goroutines of its own,
// where a decoder's panic on damaged input cannot be recovered and would crash the process; these
// readers run on the caller's goroutine, so such input is met here first, where recover works.
func decodeColumns(rdr *file.Reader, pages [][]chunkPages) error {
	const batch = 4096
	defs, reps := make([]int16, batch), make([]int16, batch)
	var (
		bools   []bool
		i32s    []int32
		i64s    []int64
		i96s    []parquet.Int96
		f32s    []float32
		f64s    []float64
		byteArr []parquet.ByteArray
		fixed   []parquet.FixedLenByteArray
	)
	for rg := range rdr.NumRowGroups() {
		rgr := rdr.RowGroup(rg)
		want := rgr.NumRows()
		for c := range rgr.NumColumns() {
			cr, err := rgr.Column(c)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", rg, c, err)
			}
			descr := cr.Descriptor()
			maxDef, maxRep := descr.MaxDefinitionLevel(), descr.MaxRepetitionLevel()
			var rows, nulls int64
			for cr.HasNext() {
				var total int64
				switch r := cr.(type) {
				case *file.BooleanColumnChunkReader:
					bools = grow(bools, batch)
					total, _, err = r.ReadBatch(batch, bools, defs, reps)
				case *file.Int32ColumnChunkReader:
					i32s = grow(i32s, batch)
					total, _, err = r.ReadBatch(batch, i32s, defs, reps)
				case *file.Int64ColumnChunkReader:
					i64s = grow(i64s, batch)
					total, _, err = r.ReadBatch(batch, i64s, defs, reps)
				case *file.Int96ColumnChunkReader:
					i96s = grow(i96s, batch)
					total, _, err = r.ReadBatch(batch, i96s, defs, reps)
				case *file.Float32ColumnChunkReader:
					f32s = grow(f32s, batch)
					total, _, err = r.ReadBatch(batch, f32s, defs, reps)
				case *file.Float64ColumnChunkReader:
					f64s = grow(f64s, batch)
					total, _, err = r.ReadBatch(batch, f64s, defs, reps)
				case *file.ByteArrayColumnChunkReader:
					byteArr = grow(byteArr, batch)
					total, _, err = r.ReadBatch(batch, byteArr, defs, reps)
				case *file.FixedLenByteArrayColumnChunkReader:
					fixed = grow(fixed, batch)
					total, _, err = r.ReadBatch(batch, fixed, defs, reps)
				default:
					err = fmt.Errorf("no reader for physical type %v", descr.PhysicalType())
				}
				if err != nil {
					return fmt.Errorf("row group %d column %s: %w", rg, descr.Path(), err)
				}
				if total == 0 {
					break
				}
				if maxDef > 0 {
					for _, d := range defs[:total] {
						if d < 0 || d > maxDef {
							return fmt.Errorf("row group %d column %s: definition level %d outside 0..%d", rg, descr.Path(), d, maxDef)
						}
						if d < maxDef {
							nulls++
						}
					}
				}
				if maxRep == 0 {
					rows += total
					continue
				}
				for _, r := range reps[:total] {
					if r < 0 || r > maxRep {
						return fmt.Errorf("row group %d column %s: repetition level %d outside 0..%d", rg, descr.Path(), r, maxRep)
					}
					if r == 0 {
						rows++
					}
				}
			}
			if err := cr.Err(); err != nil {
				return fmt.Errorf("row group %d column %s: %w", rg, descr.Path(), err)
			}
			if rows != want {
				return fmt.Errorf("row group %d column %s: decoded %d rows, the row group has %d", rg, descr.Path(), rows, want)
			}
			// Checked here, not in the page walk: only decoding the levels tells the true count.
			if p := pages[rg][c]; !p.v1 && nulls != p.nulls {
				return fmt.Errorf("row group %d column %s: decoded %d nulls, the page headers say %d", rg, descr.Path(), nulls, p.nulls)
			}
		}
	}
	return nil
}

func grow[T any](s []T, n int) []T {
	if len(s) < n {
		return make([]T, n)
	}
	return s
}

// Parquet PageHeader field ids and page types (parquet.thrift).
const (
	phType             = 1
	phUncompressedSize = 2
	phCompressedSize   = 3
	phCRC              = 4
	phDataPage         = 5
	phDataPageV2       = 8
	dphNumValues       = 1 // in both DataPageHeader and DataPageHeaderV2
	dph2NumNulls       = 2 // DataPageHeaderV2 only
	dph2NumRows        = 3

	pageData   = 0
	pageDict   = 2
	pageDataV2 = 3
)

// pageHeader is what walkPages needs from a Thrift PageHeader.
type pageHeader struct {
	typ                              int32
	uncompressedSize, compressedSize int32
	crc                              int32
	hasCRC                           bool
	numValues, numNulls, numRows     int32
}

// chunkPages sums what the page headers of one column chunk say.
type chunkPages struct {
	values, nulls, rows int64 // over data pages; nulls and rows from v2 headers only
	v1                  bool  // a v1 data page was seen: its header has no null or row count
	stored              int64 // header bytes plus uncompressed page sizes
	bodies              [][2]int64
}

// check compares the sums with the footer's numbers for the chunk. The uncompressed sizes are outside
// the CRC: a wrong one can still decode (the decompressor is given a roomy buffer) and must be caught here.
func (s chunkPages) check(values, rows, uncompressed int64) error {
	switch {
	case s.values != values:
		return fmt.Errorf("data pages hold %d values, the chunk's metadata says %d", s.values, values)
	case !s.v1 && s.rows != rows:
		return fmt.Errorf("data pages hold %d rows, the row group has %d", s.rows, rows)
	case s.stored != uncompressed:
		return fmt.Errorf("pages hold %d bytes uncompressed, the chunk's metadata says %d", s.stored, uncompressed)
	}
	return nil
}

// walkPages checks the pages laid out in one column chunk's bytes.
func walkPages(chunk []byte) (chunkPages, error) {
	var s chunkPages
	for pos, page := 0, 0; pos < len(chunk); page++ {
		h, n, err := readPageHeader(chunk[pos:])
		if err != nil {
			return s, fmt.Errorf("page %d at chunk offset %d: header: %w", page, pos, err)
		}
		if h.compressedSize < 0 || int64(h.compressedSize) > int64(len(chunk)-pos-n) {
			return s, fmt.Errorf("page %d at chunk offset %d: %d bytes of data overrun the chunk's %d", page, pos, h.compressedSize, len(chunk))
		}
		body := chunk[pos+n : pos+n+int(h.compressedSize)]
		if h.hasCRC {
			if got := crc32.ChecksumIEEE(body); got != uint32(h.crc) {
				return s, fmt.Errorf("page %d at chunk offset %d: CRC-32 0x%08x, the header says 0x%08x", page, pos, got, uint32(h.crc))
			}
		}
		switch h.typ {
		case pageData:
			s.values += int64(h.numValues)
			s.v1 = true
		case pageDataV2:
			s.values += int64(h.numValues)
			s.nulls += int64(h.numNulls)
			s.rows += int64(h.numRows)
		default:
			// Dictionary and index pages, and types unknown here, hold no values.
		}
		s.stored += int64(n) + int64(h.uncompressedSize)
		s.bodies = append(s.bodies, [2]int64{int64(pos + n), int64(pos + n + int(h.compressedSize))})
		pos += n + int(h.compressedSize)
	}
	return s, nil
}

// readPageHeader decodes a Thrift compact PageHeader at the start of b and returns its length.
func readPageHeader(b []byte) (h pageHeader, n int, err error) {
	ctx := context.Background()
	r := bytes.NewReader(b)
	p := thrift.NewTCompactProtocolConf(&thrift.StreamTransport{Reader: r}, &thrift.TConfiguration{})
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return h, 0, err
	}
	seen := map[int16]bool{}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return h, 0, err
		}
		if typ == thrift.STOP {
			break
		}
		switch {
		case id == phType && typ == thrift.I32:
			h.typ, err = p.ReadI32(ctx)
		case id == phUncompressedSize && typ == thrift.I32:
			h.uncompressedSize, err = p.ReadI32(ctx)
		case id == phCompressedSize && typ == thrift.I32:
			h.compressedSize, err = p.ReadI32(ctx)
		case id == phCRC && typ == thrift.I32:
			h.crc, err = p.ReadI32(ctx)
			h.hasCRC = true
		case (id == phDataPage || id == phDataPageV2) && typ == thrift.STRUCT:
			err = readDataPageHeader(ctx, p, &h)
		default:
			err = p.Skip(ctx, typ)
		}
		if err != nil {
			return h, 0, err
		}
		seen[id] = true
		if err := p.ReadFieldEnd(ctx); err != nil {
			return h, 0, err
		}
	}
	if err := p.ReadStructEnd(ctx); err != nil {
		return h, 0, err
	}
	if !seen[phType] || !seen[phCompressedSize] {
		return h, 0, errors.New("required fields missing")
	}
	return h, len(b) - r.Len(), nil
}

func readDataPageHeader(ctx context.Context, p thrift.TProtocol, h *pageHeader) error {
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			break
		}
		switch {
		case id == dphNumValues && typ == thrift.I32:
			h.numValues, err = p.ReadI32(ctx)
		case id == dph2NumNulls && typ == thrift.I32 && h.typ == pageDataV2:
			h.numNulls, err = p.ReadI32(ctx)
		case id == dph2NumRows && typ == thrift.I32 && h.typ == pageDataV2:
			h.numRows, err = p.ReadI32(ctx)
		default:
			err = p.Skip(ctx, typ)
		}
		if err != nil {
			return err
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return err
		}
	}
	return p.ReadStructEnd(ctx)
}

// ArrowSchema returns the Arrow schema a table's files must have when read with Arrow's pqarrow,
// derived from the table's row type in package schemas.
func ArrowSchema(table string) (*arrow.Schema, error) {
	all, err := arrowSchemas()
	if err != nil {
		return nil, err
	}
	s, ok := all[table]
	if !ok {
		return nil, fmt.Errorf("load: unknown table %q", table)
	}
	return s, nil
}

var arrowSchemas = sync.OnceValues(func() (map[string]*arrow.Schema, error) {
	out := make(map[string]*arrow.Schema)
	for _, t := range schemas.Tables() {
		fields, err := structFields(t.Row)
		if err != nil {
			return nil, fmt.Errorf("load: table %s: %w", t.Name, err)
		}
		out[t.Name] = arrow.NewSchema(fields, nil)
	}
	return out, nil
})

// tagOptions lists the `parquet` tag options the mapping understands. Each of the others (date, json,
// enum, decimal, ...) changes the stored type, so an unknown option fails loudly rather than letting
// the expected schema silently disagree with the writer's.
var tagOptions = map[string]bool{
	"dict": true, "plain": true, "delta": true, "split": true, "list": true, "optional": true,
	"zstd": true, "snappy": true, "gzip": true, "brotli": true, "lz4": true, "uncompressed": true,
}

func structFields(t reflect.Type) ([]arrow.Field, error) {
	var fields []arrow.Field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("parquet")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		if sf.Anonymous {
			return nil, fmt.Errorf("field %s: embedded structs are not supported", sf.Name)
		}
		opts := strings.Split(tag, ",")
		name := opts[0]
		if name == "" {
			name = sf.Name
		}
		f, err := arrowField(name, sf.Type, opts[1:])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

var timeType = reflect.TypeFor[time.Time]()

// arrowField maps a Go field to the Arrow field pqarrow reads for what parquet-go writes: a pointer is
// a nullable (optional) column; a slice a list, not nullable (an empty list, never NULL); a struct a
// struct.
func arrowField(name string, t reflect.Type, opts []string) (arrow.Field, error) {
	f := arrow.Field{Name: name}
	var unit string
	date := false
	for _, o := range opts {
		switch {
		case o == "optional":
			f.Nullable = true
		case o == "date":
			date = true
		case strings.HasPrefix(o, "timestamp(") && strings.HasSuffix(o, ")"):
			unit = strings.TrimSuffix(strings.TrimPrefix(o, "timestamp("), ")")
		case !tagOptions[o]:
			return f, fmt.Errorf("parquet tag option %q is not understood by the verifier", o)
		}
	}
	if t.Kind() == reflect.Pointer {
		f.Nullable = true
		t = t.Elem()
	}
	var err error
	switch {
	case date && t.Kind() == reflect.Int32:
		f.Type = arrow.FixedWidthTypes.Date32
	case date:
		err = fmt.Errorf("date on a %v: use an int32 of days since the epoch", t)
	case t == timeType:
		f.Type, err = timestampType(unit)
	case unit != "":
		err = fmt.Errorf("timestamp(%s) on a %v", unit, t)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		var elem arrow.Field
		elem, err = arrowField("element", t.Elem(), nil)
		f.Type = arrow.ListOfField(elem)
	case t.Kind() == reflect.Struct:
		var fields []arrow.Field
		fields, err = structFields(t)
		f.Type = arrow.StructOf(fields...)
	default:
		f.Type, err = scalarType(t)
	}
	return f, err
}

func timestampType(unit string) (arrow.DataType, error) {
	// parquet-go writes isAdjustedToUTC timestamps, which pqarrow reads with the UTC zone.
	switch unit {
	case "millisecond":
		return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, nil
	case "microsecond":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nil
	case "nanosecond":
		return &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, nil
	case "":
		// Untagged, parquet-go writes nanoseconds, which Spark and Athena cannot read.
		return nil, errors.New("time.Time needs a timestamp(microsecond) tag")
	}
	return nil, fmt.Errorf("unknown timestamp unit %q", unit)
}

func scalarType(t reflect.Type) (arrow.DataType, error) {
	switch t.Kind() {
	case reflect.String:
		return arrow.BinaryTypes.String, nil
	case reflect.Bool:
		return arrow.FixedWidthTypes.Boolean, nil
	case reflect.Int32:
		return arrow.PrimitiveTypes.Int32, nil
	case reflect.Int64, reflect.Int:
		return arrow.PrimitiveTypes.Int64, nil
	case reflect.Float32:
		return arrow.PrimitiveTypes.Float32, nil
	case reflect.Float64:
		return arrow.PrimitiveTypes.Float64, nil
	}
	return nil, fmt.Errorf("no Arrow type for %v", t)
}

// compareSchemas is strict on column names, order, types and nullability, at every level of nesting,
// with one exception: a list's element field. pqarrow v15 names it after the Parquet repeated group
// ("list" for what parquet-go writes, "element" or "item" for other writers) and always marks it
// nullable (pqarrow/schema.go, listToSchemaField), so its name and nullability as Arrow reports them
// say nothing about the file; the element's type is compared.
func compareSchemas(table string, want, got *arrow.Schema) error {
	var diffs []string
	gotIdx := make(map[string]int, got.NumFields())
	for i, f := range got.Fields() {
		gotIdx[f.Name] = i
	}
	wantIdx := make(map[string]int, want.NumFields())
	for i, w := range want.Fields() {
		wantIdx[w.Name] = i
		j, ok := gotIdx[w.Name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("column %s (%s) is missing", w.Name, FormatField(w)))
			continue
		}
		if g := got.Field(j); !fieldsEqual(w, g) {
			diffs = append(diffs, fmt.Sprintf("column %s: expected %s, found %s", w.Name, FormatField(w), FormatField(g)))
		}
	}
	for _, g := range got.Fields() {
		if _, ok := wantIdx[g.Name]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected column %s %s", g.Name, FormatField(g)))
		}
	}
	if len(diffs) == 0 {
		for i, w := range want.Fields() {
			if got.Field(i).Name != w.Name {
				diffs = append(diffs, fmt.Sprintf("columns out of order: expected %s, found %s", fieldNames(want), fieldNames(got)))
				break
			}
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w %s: %s", ErrSchemaMismatch, table, strings.Join(diffs, "; "))
	}
	return nil
}

func fieldNames(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func fieldsEqual(want, got arrow.Field) bool {
	return want.Name == got.Name && want.Nullable == got.Nullable && typesEqual(want.Type, got.Type)
}

func typesEqual(want, got arrow.DataType) bool {
	switch w := want.(type) {
	case *arrow.ListType:
		g, ok := got.(*arrow.ListType)
		return ok && typesEqual(w.Elem(), g.Elem())
	case *arrow.StructType:
		g, ok := got.(*arrow.StructType)
		if !ok || w.NumFields() != g.NumFields() {
			return false
		}
		for i := range w.NumFields() {
			if !fieldsEqual(w.Field(i), g.Field(i)) {
				return false
			}
		}
		return true
	}
	return arrow.TypeEqual(want, got)
}

// FormatField renders a field's type and nullability at every level of nesting, which Arrow's own
// String leaves out for struct members; a column that is not nullable is marked "not null".
func FormatField(f arrow.Field) string {
	s := FormatType(f.Type)
	if !f.Nullable {
		s += " not null"
	}
	return s
}

// FormatType renders a type as FormatField does.
func FormatType(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.ListType:
		e := t.ElemField()
		return "list<" + e.Name + ": " + FormatField(e) + ">"
	case *arrow.StructType:
		parts := make([]string, t.NumFields())
		for i, f := range t.Fields() {
			parts[i] = f.Name + ": " + FormatField(f)
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	}
	return t.String()
}

// FormatSchema renders one column a line, `name: type`, the form of the schema golden files.
func FormatSchema(s *arrow.Schema) string {
	var b strings.Builder
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, FormatField(f))
	}
	return b.String()
}
