package load

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/klauspost/compress/s2"

	"github.com/intercom-export/intercom-export/schemas"
)

// A spill is an external sort's run: the Writer's memory buffer sorted by partition, conversation id
// and arrival, written as one sequential file in staging. Commit merges the runs (and what is left in
// memory) in that order, so each partition's rows arrive together, in id order, whatever order the
// input came in, and each partition's Parquet files are written once. Nothing is created per partition
// before Commit, and a run is read once, front to back.
//
// A run file is an S2 stream (klauspost/compress, the fast Snappy successor already in the module
// graph) of entries, each a uvarint length then: the partition key (varint), the arrival number
// (uvarint) and the record (codec.go). Small S2 blocks keep a reader's buffers small, since Commit
// holds one reader per run.
const runBlockSize = 64 << 10

// maxFanIn bounds the runs merged at once (and so the readers open at once). Past it, Commit first
// merges the oldest runs into one (the same format: no Parquet is written twice).
const maxFanIn = 32

// entry is one Add: a record, the partition it goes to, and its arrival number. For a (partition,
// id), the entry with the largest seq wins, unless a Delete came later.
type entry struct {
	key  schemas.Date
	seq  uint64
	size int64
	rec  schemas.Record
}

func compareEntries(a, b *entry) int {
	return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.rec.ID(), b.rec.ID()), cmp.Compare(a.seq, b.seq))
}

func sortEntries(es []*entry) { slices.SortFunc(es, compareEntries) }

func (w *Writer) runPath(n int) string {
	return filepath.Join(w.staging, "run-"+strconv.Itoa(n)+".s2")
}

// writeRun writes sorted entries to a new run file.
func writeRun(path string, es []*entry) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	rw := newRunWriter(f)
	for _, e := range es {
		if err := rw.write(e); err != nil {
			return err
		}
	}
	if err := rw.close(); err != nil {
		return err
	}
	// No fsync: a crash loses the run anyway, and staging is removed by the next one.
	return f.Close()
}

type runWriter struct {
	z   *s2.Writer
	buf []byte
}

func newRunWriter(w io.Writer) *runWriter {
	return &runWriter{z: s2.NewWriter(w, s2.WriterBlockSize(runBlockSize), s2.WriterConcurrency(1))}
}

func (rw *runWriter) write(e *entry) error {
	// Room for the length in front, filled in once the body is encoded.
	const room = binary.MaxVarintLen64
	b := append(rw.buf[:0], make([]byte, room)...)
	b = binary.AppendVarint(b, int64(e.key))
	b = binary.AppendUvarint(b, e.seq)
	b = encodeRecord(b, &e.rec)
	var lenBuf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lenBuf[:], uint64(len(b)-room))
	start := room - n
	copy(b[start:], lenBuf[:n])
	rw.buf = b[:0]
	_, err := rw.z.Write(b[start:])
	return err
}

func (rw *runWriter) close() error { return rw.z.Close() }

// runReader reads a run file's entries in order.
type runReader struct {
	path string
	f    *os.File
	r    *bufio.Reader
	buf  []byte
}

func openRun(path string) (*runReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	z := s2.NewReader(f, s2.ReaderMaxBlockSize(runBlockSize))
	return &runReader{path: path, f: f, r: bufio.NewReaderSize(z, 32<<10)}, nil
}

// next returns the next entry, or nil at the end of the file.
func (rr *runReader) next() (*entry, error) {
	n, err := binary.ReadUvarint(rr.r)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rr.path, err)
	}
	if cap(rr.buf) < int(n) {
		rr.buf = make([]byte, n)
	}
	b := rr.buf[:n]
	if _, err := io.ReadFull(rr.r, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", rr.path, err)
	}
	d := decoder{b: b}
	e := &entry{key: schemas.Date(d.varint()), seq: d.uvarint()}
	if d.err != nil {
		return nil, fmt.Errorf("reading %s: %w", rr.path, d.err)
	}
	if err := decodeRecord(d.b, &e.rec); err != nil {
		return nil, fmt.Errorf("reading %s: %w", rr.path, err)
	}
	return e, nil
}

func (rr *runReader) close() error { return rr.f.Close() }

// source is a sorted stream of entries: a run file, or the memory buffer.
type source interface {
	next() (*entry, error)
}

type sliceSource struct{ es []*entry }

func (s *sliceSource) next() (*entry, error) {
	if len(s.es) == 0 {
		return nil, nil
	}
	e := s.es[0]
	s.es = s.es[1:]
	return e, nil
}

// mergeSources yields the entries of sorted sources in (partition, id, seq) order, only the last
// (newest) of each (partition, id).
type mergeSources struct {
	srcs  []source
	heads []*entry
	init  bool
}

func (m *mergeSources) next() (*entry, error) {
	if !m.init {
		m.heads = make([]*entry, len(m.srcs))
		for i, s := range m.srcs {
			var err error
			if m.heads[i], err = s.next(); err != nil {
				return nil, err
			}
		}
		m.init = true
	}
	var best *entry
	for {
		// The smallest head; with few sources (at most maxFanIn+1) a scan beats a heap.
		bi := -1
		for i, h := range m.heads {
			if h != nil && (bi < 0 || compareEntries(h, m.heads[bi]) < 0) {
				bi = i
			}
		}
		if bi < 0 {
			return best, nil
		}
		e := m.heads[bi]
		if best != nil && (e.key != best.key || e.rec.ID() != best.rec.ID()) {
			return best, nil
		}
		best = e // a later entry of the same (partition, id) replaces the earlier one
		var err error
		if m.heads[bi], err = m.srcs[bi].next(); err != nil {
			return nil, err
		}
	}
}
