package load

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/schemas"
)

// maxSpools bounds the spool files per partition, and so the readers open at once when it is merged:
// the spill that would create one more merges the partition's spools and memory into a single spool.
const maxSpools = 16

// buffered is a record held in memory with its estimated size.
type buffered struct {
	rec  schemas.Record
	size int64
}

// spool is one spill of a partition: a file per table that had rows.
type spool struct {
	epoch int
	has   [numTables]bool
	rows  [numTables]int64
}

// partition is the state of one date touched by this run.
//
// Rows reach a partition in epochs: the memory buffer holds epoch `epoch`, and each spill writes it to
// spool files and starts the next. For a conversation id, the newest epoch holding its conversation row
// wins; Delete records the epoch it happened in, and rows of earlier epochs (and of the existing file)
// are dropped. So "Add, Delete, Add" keeps the second Add, and "Add, Delete" keeps nothing.
type partition struct {
	date    schemas.Date
	recs    map[string]*buffered
	bytes   int64
	spilled int64 // bytes of the last spill, for spill to account for
	epoch   int
	spools  []spool
	deletes map[string]int
}

// mergeJob merges one partition's sources into one new file per table: to spool files when spilling,
// to the final folders when committing.
type mergeJob struct {
	p        *partition
	recs     []*schemas.Record // memory buffer in id order
	spools   []spool
	spoolAt  func(table string, epoch int) string
	existing func(table string) string // path of the published file to merge in; nil when spilling
	outAt    func(table string) string
	opts     []parquet.WriterOption
	pools    *[numTables]sync.Pool // writers built with opts, by table
	sync     bool

	// winner maps each conversation id this run touched in the partition to the epoch whose rows are
	// kept, filled while merging conversations and followed by the other tables.
	winner map[string]int
}

// tableResult is what merging one table produced.
type tableResult struct {
	mergeStats
	path    string // the new file; empty when no row was written
	size    int64
	existed bool // a published file was merged in
	created []string
}

// run merges the four tables, conversations first (see tConversations). On error the files it wrote are
// removed.
func (j *mergeJob) run() (res [numTables]tableResult, err error) {
	j.winner = make(map[string]int)
	defer func() {
		if err != nil {
			for i := range res {
				discardResult(&res[i])
			}
		}
	}()
	if res[tConversations], err = runTable(j, convDef); err != nil {
		return res, err
	}
	if res[tParts], err = runTable(j, partDef); err != nil {
		return res, err
	}
	if res[tTags], err = runTable(j, tagDef); err != nil {
		return res, err
	}
	res[tRatings], err = runTable(j, ratingDef)
	return res, err
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

func runTable[T any](j *mergeJob, t tableDef[T]) (tableResult, error) {
	var res tableResult
	existing := ""
	if j.existing != nil {
		existing = j.existing(t.name)
		switch _, err := os.Stat(existing); {
		case err == nil:
			res.existed = true
		case errors.Is(err, fs.ErrNotExist):
			existing = ""
		default:
			return res, err
		}
	}
	out := &outFile[T]{path: j.outAt(t.name), opts: j.opts, pool: &j.pools[t.index], sync: j.sync}
	decide := j.decideOther
	if t.index == tConversations {
		decide = j.decideConversation
	}
	// A file not sorted by conversation_id (not written by this package) cannot be streamed through
	// the merge; the second attempt loads it whole and sorts it.
	for attempt := 0; ; attempt++ {
		cs, err := openCursors(j, t, existing, attempt > 0)
		if err == nil {
			res.mergeStats, err = mergeCursors(t, cs, decide, out)
		}
		for _, c := range cs {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err == nil {
			res.size, err = out.finish()
		}
		if err != nil {
			out.discard()
			if attempt == 0 && existing != "" && errors.Is(err, errUnsorted) {
				continue
			}
			return res, fmt.Errorf("%s %s: %w", t.name, j.p.date, err)
		}
		break
	}
	if out.rows > 0 {
		res.path, res.created = out.path, out.created
	}
	return res, nil
}

// cursors opens the sources of one table, oldest first.
func openCursors[T any](j *mergeJob, t tableDef[T], existing string, sortExisting bool) ([]*cursor[T], error) {
	var cs []*cursor[T]
	fail := func(err error) ([]*cursor[T], error) {
		for _, c := range cs {
			c.Close()
		}
		return nil, err
	}
	if existing != "" {
		if sortExisting {
			rows, err := ReadFile[T](existing)
			if err != nil {
				return fail(err)
			}
			slices.SortStableFunc(rows, func(a, b T) int { return cmp.Compare(t.id(&a), t.id(&b)) })
			cs = append(cs, sliceCursor(t, rows, epochExisting, existing))
		} else {
			c, err := fileCursor(t, existing, epochExisting)
			if err != nil {
				return fail(err)
			}
			cs = append(cs, c)
		}
	}
	for _, s := range j.spools {
		if !s.has[t.index] {
			continue
		}
		c, err := fileCursor(t, j.spoolAt(t.name, s.epoch), s.epoch)
		if err != nil {
			return fail(err)
		}
		cs = append(cs, c)
	}
	if len(j.recs) > 0 {
		cs = append(cs, memoryCursor(t, j.recs, j.p.epoch))
	}
	return cs, nil
}

// decideConversation picks, for one id, the newest epoch holding its conversation row, unless a later
// Delete dropped it; it remembers the choice for the other tables.
func (j *mergeJob) decideConversation(id string, epochs []int) int {
	newest := epochExisting
	for _, e := range epochs {
		newest = max(newest, e)
	}
	mark, deleted := j.p.deletes[id]
	switch {
	case newest == epochExisting && !deleted:
		return epochExisting // untouched this run
	case deleted && newest < mark:
		newest = epochNone
	}
	j.winner[id] = newest
	return newest
}

// decideOther follows the conversations table's choice: the rows of a replaced conversation go even when
// its new version has none in this table.
func (j *mergeJob) decideOther(id string, _ []int) int {
	if w, ok := j.winner[id]; ok {
		return w
	}
	if _, deleted := j.p.deletes[id]; deleted {
		return epochNone
	}
	return epochExisting
}

// ReadFile reads every row of a Parquet file; parquet-go panics are returned as errors.
func ReadFile[T any](path string) (rows []T, err error) {
	f, r, err := openReader[T](path)
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
