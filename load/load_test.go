package load_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

func ptr[T any](v T) *T { return &v }

// The test days fall in three months, so that the same tests hold under both layouts: each day its own
// partition by day, and day3 and day3+10 sharing one by month.
var (
	day1 = schemas.DateOf(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	day2 = schemas.DateOf(time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC))
	day3 = schemas.DateOf(time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC))
)

// partitioning is the layout the tests write: by day, or by month when INTERCOM_EXPORT_TEST_PARTITION
// is month (make test runs the package both ways).
var partitioning = func() schemas.Partitioning {
	if os.Getenv("INTERCOM_EXPORT_TEST_PARTITION") == string(schemas.ByMonth) {
		return schemas.ByMonth
	}
	return schemas.ByDay
}()

// partDir is the folder of the partition holding day d; partPath its file of a table.
func partDir(d schemas.Date) string { return partitioning.Dir(partitioning.Key(d)) }

func partPath(table string, d schemas.Date) string {
	return filepath.Join(table, partDir(d), load.DataFile)
}

// readRows reads the rows of day d from the file of its partition: all of it by day, the rows whose
// created_date is d by month.
func readRows[T any](dir, table string, d schemas.Date, date func(*T) schemas.Date) ([]T, error) {
	rows, err := load.ReadFile[T](filepath.Join(dir, partPath(table, d)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if partitioning == schemas.ByMonth {
		rows = slices.DeleteFunc(rows, func(r T) bool { return date(&r) != d })
	}
	if len(rows) == 0 {
		rows = nil // an empty file reads as no file: checkFiles tells them apart
	}
	return rows, err
}

// record builds a conversation with nParts parts, the given tags and optionally a rating; variant
// changes every text so that a replaced row is told apart from the original.
func record(id string, date schemas.Date, nParts int, tags []string, rated bool, variant string) schemas.Record {
	ts := date.Time().Add(3 * time.Hour)
	r := schemas.Record{
		Date: date,
		Conversation: schemas.Conversation{
			ConversationID: id, CreatedAt: ts, UpdatedAt: ptr(ts.Add(time.Minute)),
			State: ptr("open"), Title: ptr("title " + id + variant), PartsExportedCount: ptr(int64(nParts)), PartsIncluded: true,
		},
	}
	for i := range nParts {
		r.Parts = append(r.Parts, schemas.ConversationPart{
			ConversationID: id, PartID: fmt.Sprintf("%s-%d", id, i), PartType: ptr("comment"),
			Body: ptr(fmt.Sprintf("<p>part %d of %s%s</p>", i, id, variant)), CreatedAt: ptr(ts.Add(time.Duration(i) * time.Second)),
		})
	}
	for _, tag := range tags {
		r.Tags = append(r.Tags, schemas.ConversationTag{ConversationID: id, TagID: tag, TagName: ptr("tag " + tag)})
	}
	if rated {
		r.Rating = &schemas.ConversationRating{ConversationID: id, Rating: ptr(int32(4)), Remark: ptr("ok" + variant)}
	}
	return r
}

// state is the content of one partition, the four tables' rows.
type state struct {
	Conversations []schemas.Conversation
	Parts         []schemas.ConversationPart
	Tags          []schemas.ConversationTag
	Ratings       []schemas.ConversationRating
}

// expect builds the state a partition must hold for records (sorted by id, parts in their order),
// every row's created_date the record's day.
func expect(recs ...schemas.Record) state {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b schemas.Record) int { return strings.Compare(a.ID(), b.ID()) })
	var s state
	for _, r := range recs {
		c := r.Conversation
		c.CreatedDate = r.Date
		s.Conversations = append(s.Conversations, c)
		for _, p := range r.Parts {
			p.CreatedDate = r.Date
			s.Parts = append(s.Parts, p)
		}
		for _, t := range r.Tags {
			t.CreatedDate = r.Date
			s.Tags = append(s.Tags, t)
		}
		if r.Rating != nil {
			rt := *r.Rating
			rt.CreatedDate = r.Date
			s.Ratings = append(s.Ratings, rt)
		}
	}
	return s
}

func readState(t *testing.T, dir string, d schemas.Date) state {
	t.Helper()
	var s state
	var err error
	if s.Conversations, err = readRows(dir, schemas.TableConversations, d, func(r *schemas.Conversation) schemas.Date { return r.CreatedDate }); err != nil {
		t.Fatal(err)
	}
	if s.Parts, err = readRows(dir, schemas.TableConversationParts, d, func(r *schemas.ConversationPart) schemas.Date { return r.CreatedDate }); err != nil {
		t.Fatal(err)
	}
	if s.Tags, err = readRows(dir, schemas.TableConversationTags, d, func(r *schemas.ConversationTag) schemas.Date { return r.CreatedDate }); err != nil {
		t.Fatal(err)
	}
	if s.Ratings, err = readRows(dir, schemas.TableConversationRatings, d, func(r *schemas.ConversationRating) schemas.Date { return r.CreatedDate }); err != nil {
		t.Fatal(err)
	}
	return s
}

func checkState(t *testing.T, dir string, d schemas.Date, want state) {
	t.Helper()
	checkFiles(t, dir, d)
	got := readState(t, dir, d)
	// Timestamps come back in UTC with a different *Location; compare through the normalised values.
	norm := func(s state) state {
		for i := range s.Conversations {
			c := &s.Conversations[i]
			c.CreatedAt = c.CreatedAt.UTC()
			if c.UpdatedAt != nil {
				c.UpdatedAt = ptr(c.UpdatedAt.UTC())
			}
		}
		for i := range s.Parts {
			if p := &s.Parts[i]; p.CreatedAt != nil {
				p.CreatedAt = ptr(p.CreatedAt.UTC())
			}
		}
		return s
	}
	got, want = norm(got), norm(want)
	if !reflect.DeepEqual(got.Conversations, want.Conversations) {
		t.Errorf("%s conversations:\n got %v\nwant %v", d, ids(got.Conversations), ids(want.Conversations))
	}
	if !reflect.DeepEqual(got.Parts, want.Parts) {
		t.Errorf("%s parts: got %d rows, want %d (or different content)", d, len(got.Parts), len(want.Parts))
	}
	if !reflect.DeepEqual(got.Tags, want.Tags) {
		t.Errorf("%s tags:\n got %+v\nwant %+v", d, got.Tags, want.Tags)
	}
	if !reflect.DeepEqual(got.Ratings, want.Ratings) {
		t.Errorf("%s ratings: got %d rows, want %d (or different content)", d, len(got.Ratings), len(want.Ratings))
	}
}

// checkFiles checks that a partition holding conversations has a file for every table (an empty one
// for a table without rows there), and that a partition without conversations has no file at all.
func checkFiles(t *testing.T, dir string, d schemas.Date) {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, partPath(schemas.TableConversations, d)))
	held := err == nil
	for _, table := range load.Tables {
		_, err := os.Stat(filepath.Join(dir, partPath(table, d)))
		if exists := err == nil; exists != held {
			t.Errorf("%s: %s file exists %v, conversations file %v: want both or neither", d, table, exists, held)
		}
	}
}

func ids(cs []schemas.Conversation) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ConversationID)
	}
	return out
}

func newWriter(t testing.TB, dir string, mod ...func(*load.Config)) *load.Writer {
	t.Helper()
	cfg := load.Config{Dir: dir, Partition: partitioning}
	for _, m := range mod {
		m(&cfg)
	}
	w, err := load.NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func commit(t *testing.T, dir string, recs []schemas.Record, mod ...func(*load.Config)) load.Result {
	t.Helper()
	w := newWriter(t, dir, mod...)
	defer w.Abort()
	for _, r := range recs {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// files lists every file under dir, relative, skipping nothing.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkClean fails on leftover temporary or staging files.
func checkClean(t *testing.T, dir string) {
	t.Helper()
	for _, f := range files(t, dir) {
		if strings.HasSuffix(f, ".tmp") || strings.HasPrefix(f, load.StateDir+"/staging/") || f == load.StateDir+"/journal.json" {
			t.Errorf("leftover file %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, load.StateDir, "staging")); !errors.Is(err, fs.ErrNotExist) {
		entries, _ := os.ReadDir(filepath.Join(dir, load.StateDir, "staging"))
		if len(entries) > 0 {
			t.Errorf("staging not empty: %v", entries)
		}
	}
}

func TestCommitWritesOneFilePerTableAndPartition(t *testing.T) {
	recs := []schemas.Record{
		record("30", day1, 3, []string{"a", "b"}, true, ""),
		record("100", day1, 1, nil, false, ""),        // sorts before "30": ids compare as strings
		record("7", day2, 2, nil, false, ""),          // day2 has no tags or ratings: empty files
		record("8", day3, 0, []string{"c"}, true, ""), // day3 has no parts: an empty file
	}
	dir := t.TempDir()
	res := commit(t, dir, recs)

	wantFiles := []string{
		partPath("conversation_parts", day1),
		partPath("conversation_parts", day2),
		partPath("conversation_parts", day3),
		partPath("conversation_ratings", day1),
		partPath("conversation_ratings", day2),
		partPath("conversation_ratings", day3),
		partPath("conversation_tags", day1),
		partPath("conversation_tags", day2),
		partPath("conversation_tags", day3),
		partPath("conversations", day1),
		partPath("conversations", day2),
		partPath("conversations", day3),
	}
	wantEmpty := []string{partPath("conversation_parts", day3), partPath("conversation_ratings", day2), partPath("conversation_tags", day2)}
	if wantFiles[0] != "conversation_parts/date=2024-03-01/data.parquet" && wantFiles[0] != "conversation_parts/month=2024-03/data.parquet" {
		t.Fatalf("the layout changed: %s", wantFiles[0])
	}
	if got := files(t, dir); !slices.Equal(got, wantFiles) {
		t.Errorf("files:\n got %q\nwant %q", got, wantFiles)
	}
	checkClean(t, dir)
	if res.Conversations != 4 || res.Parts != 6 || res.Tags != 3 || res.Ratings != 2 || len(res.Files) != len(wantFiles) {
		t.Errorf("result = %+v", res)
	}
	for _, f := range res.Files {
		if f.Removed || (f.Rows == 0) != slices.Contains(wantEmpty, f.Path) || f.ReplacedRows != 0 {
			t.Errorf("file %+v", f)
		}
		fi, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil || fi.Size() != f.Bytes {
			t.Errorf("%s: size %v, %v; result says %d", f.Path, fi, err, f.Bytes)
		}
	}
	checkState(t, dir, day1, expect(recs[0], recs[1]))
	checkState(t, dir, day2, expect(recs[2]))
	checkState(t, dir, day3, expect(recs[3]))

	// The partition key lives in the folder name only, and the files say who wrote them and how.
	for _, rel := range wantFiles {
		pf := openParquet(t, filepath.Join(dir, rel))
		for _, f := range pf.Schema().Fields() {
			if f.Name() == "date" {
				t.Errorf("%s has a date column", rel)
			}
		}
		md := pf.Metadata()
		if !strings.HasPrefix(md.CreatedBy, "intercom-export version dev") {
			t.Errorf("%s created_by = %q", rel, md.CreatedBy)
		}
		for _, rg := range md.RowGroups {
			for _, c := range rg.Columns {
				if got := c.MetaData.Codec.String(); got != "ZSTD" {
					t.Errorf("%s column %v codec %s", rel, c.MetaData.PathInSchema, got)
				}
			}
		}
	}
}

func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

func TestRowGroupRows(t *testing.T) {
	dir := t.TempDir()
	commit(t, dir, []schemas.Record{record("1", day1, 25, nil, false, "")}, func(c *load.Config) { c.RowGroupRows = 10 })
	pf := openParquet(t, filepath.Join(dir, partPath(schemas.TableConversationParts, day1)))
	var sizes []int64
	for _, rg := range pf.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if !slices.Equal(sizes, []int64{10, 10, 5}) {
		t.Errorf("row groups %v, want [10 10 5]", sizes)
	}
}

// fileID identifies a file's version: a rewrite gets a new inode through the rename.
type fileID struct {
	ino   uint64
	mtime time.Time
}

func statID(t *testing.T, path string) fileID {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no inode numbers on this platform")
	}
	return fileID{st.Ino, fi.ModTime()}
}

func TestUpsertReplacesOnlyTouchedConversations(t *testing.T) {
	dir := t.TempDir()
	base := []schemas.Record{
		record("1", day1, 2, []string{"a"}, true, ""),
		record("2", day1, 3, []string{"a", "b"}, true, ""),
		record("3", day1, 1, nil, false, ""),
		record("4", day1, 4, []string{"c"}, false, ""),
		record("5", day1, 2, nil, true, ""),
		record("6", day2, 2, []string{"x"}, true, ""),
	}
	commit(t, dir, base)
	untouched := map[string]fileID{}
	for _, table := range load.Tables {
		untouched[table] = statID(t, filepath.Join(dir, partPath(table, day2)))
	}

	// Conversation 2 loses a tag and its rating and gains a part; 4 loses its only tag.
	new2 := record("2", day1, 4, []string{"b"}, false, " v2")
	new4 := record("4", day1, 1, nil, false, " v2")
	res := commit(t, dir, []schemas.Record{new4, new2})

	checkState(t, dir, day1, expect(base[0], new2, base[2], new4, base[4]))
	checkState(t, dir, day2, expect(base[5]))
	for _, table := range load.Tables {
		if got := statID(t, filepath.Join(dir, partPath(table, day2))); got != untouched[table] {
			t.Errorf("%s of the untouched partition was rewritten", table)
		}
	}
	checkClean(t, dir)

	want := map[string]load.File{
		schemas.TableConversations:       {Rows: 5, ReplacedRows: 2},
		schemas.TableConversationParts:   {Rows: 2 + 4 + 1 + 1 + 2, ReplacedRows: 3 + 4},
		schemas.TableConversationTags:    {Rows: 2, ReplacedRows: 3},
		schemas.TableConversationRatings: {Rows: 2, ReplacedRows: 1},
	}
	if len(res.Files) != 4 {
		t.Fatalf("files = %+v", res.Files)
	}
	for _, f := range res.Files {
		w := want[f.Table]
		if f.Date != day1 || f.Rows != w.Rows || f.ReplacedRows != w.ReplacedRows || f.Removed {
			t.Errorf("%s: %+v, want rows %d replaced %d", f.Table, f, w.Rows, w.ReplacedRows)
		}
	}
	if res.Conversations != 2 || res.Parts != 5 || res.Tags != 1 || res.Ratings != 0 {
		t.Errorf("result counts = %+v", res)
	}
}

func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(w *load.Writer)
		want1 []string // conversation ids left in day1
		// gone: tables whose day1 file must be removed (all of them, when the partition is emptied) or
		// left with no rows (some of them, when the partition keeps conversations).
		gone []string
	}{
		{
			name:  "one conversation",
			run:   func(w *load.Writer) { w.Delete("2", day1) },
			want1: []string{"1"},
			gone:  []string{schemas.TableConversationTags},
		},
		{
			name:  "whole partition",
			run:   func(w *load.Writer) { w.Delete("1", day1); w.Delete("2", day1) },
			gone:  load.Tables[:],
			want1: nil,
		},
		{
			name:  "absent id and wrong partition change nothing",
			run:   func(w *load.Writer) { w.Delete("99", day1); w.Delete("1", day2) },
			want1: []string{"1", "2"},
		},
		{
			name: "add after delete wins",
			run: func(w *load.Writer) {
				w.Delete("2", day1)
				mustAdd(t, w, record("2", day1, 1, nil, false, " v2"))
			},
			want1: []string{"1", "2"},
			gone:  []string{schemas.TableConversationTags},
		},
		{
			name: "delete after add wins",
			run: func(w *load.Writer) {
				mustAdd(t, w, record("3", day1, 1, nil, false, ""))
				w.Delete("3", day1)
				w.Delete("2", day1)
			},
			want1: []string{"1"},
			gone:  []string{schemas.TableConversationTags},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			commit(t, dir, []schemas.Record{
				record("1", day1, 2, nil, true, ""),
				record("2", day1, 2, []string{"a"}, true, ""),
				record("9", day2, 1, nil, false, ""),
			})
			w := newWriter(t, dir)
			tc.run(w)
			res, err := w.Commit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := readState(t, dir, day1)
			if g := ids(got.Conversations); !slices.Equal(g, tc.want1) {
				t.Errorf("day1 conversations %v, want %v", g, tc.want1)
			}
			for _, c := range got.Conversations {
				if c.ConversationID == "2" && tc.name == "add after delete wins" && *c.Title != "title 2 v2" {
					t.Errorf("conversation 2 title %q", *c.Title)
				}
			}
			emptied := len(tc.want1) == 0
			for _, table := range tc.gone {
				_, err := os.Stat(filepath.Join(dir, partPath(table, day1)))
				if exists := err == nil; exists == emptied {
					t.Errorf("%s file exists %v with conversations %v left: %v", table, exists, tc.want1, err)
				}
				if !slices.ContainsFunc(res.Files, func(f load.File) bool { return f.Table == table && f.Removed == emptied && f.Rows == 0 }) {
					t.Errorf("result does not list %s with no rows (removed %v): %+v", table, emptied, res.Files)
				}
			}
			checkFiles(t, dir, day1)
			if len(tc.gone) == len(load.Tables) {
				for _, table := range load.Tables {
					if _, err := os.Stat(filepath.Join(dir, table, partDir(day1))); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("empty partition folder of %s left: %v", table, err)
					}
				}
			}
			checkState(t, dir, day2, expect(record("9", day2, 1, nil, false, "")))
			checkClean(t, dir)
		})
	}
}

func mustAdd(t *testing.T, w *load.Writer, r schemas.Record) {
	t.Helper()
	if err := w.Add(r); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicateAddLaterWins(t *testing.T) {
	dir := t.TempDir()
	first := record("1", day1, 3, []string{"a"}, true, "")
	later := record("1", day1, 1, nil, false, " later")
	res := commit(t, dir, []schemas.Record{first, record("2", day1, 1, nil, false, ""), later})
	checkState(t, dir, day1, expect(later, record("2", day1, 1, nil, false, "")))
	if res.Conversations != 2 || res.Parts != 2 || res.Tags != 0 || res.Ratings != 0 {
		t.Errorf("result %+v", res)
	}
}

// workload is a random mix of Adds (with repeated ids) and Deletes over a few partitions, on top of a
// published base, so that spilling, compaction and merging meet every case.
type op struct {
	rec    schemas.Record
	delete bool
}

func workload(seed uint64) (base []schemas.Record, ops []op) {
	rng := rand.New(rand.NewPCG(seed, 1))
	dates := []schemas.Date{day1, day2, day3, day3 + 10}
	randRec := func(id int, variant string) schemas.Record {
		var tags []string
		for k := range rng.IntN(3) {
			tags = append(tags, fmt.Sprint(k))
		}
		return record(fmt.Sprint(id), dates[id%len(dates)], rng.IntN(6), tags, rng.IntN(2) == 0, variant)
	}
	for id := range 40 {
		base = append(base, randRec(id, ""))
	}
	for i := range 400 {
		id := rng.IntN(60)
		if rng.IntN(8) == 0 {
			ops = append(ops, op{rec: schemas.Record{Date: dates[id%len(dates)], Conversation: schemas.Conversation{ConversationID: fmt.Sprint(id)}}, delete: true})
			continue
		}
		ops = append(ops, op{rec: randRec(id, fmt.Sprintf(" v%d", i))})
	}
	return base, ops
}

// applyOps is the reference: the state each partition must end in.
func applyOps(base []schemas.Record, ops []op) map[schemas.Date]state {
	cur := map[string]schemas.Record{}
	for _, r := range base {
		cur[r.ID()] = r
	}
	for _, o := range ops {
		if o.delete {
			delete(cur, o.rec.ID())
		} else {
			cur[o.rec.ID()] = o.rec
		}
	}
	by := map[schemas.Date][]schemas.Record{}
	for _, r := range cur {
		by[r.Date] = append(by[r.Date], r)
	}
	out := map[schemas.Date]state{}
	for d, rs := range by {
		out[d] = expect(rs...)
	}
	return out
}

func TestSpillingGivesTheSameFiles(t *testing.T) {
	base, ops := workload(7)
	want := applyOps(base, ops)
	run := func(t *testing.T, budget int64) string {
		dir := t.TempDir()
		commit(t, dir, base)
		w := newWriter(t, dir, func(c *load.Config) { c.MemoryBudget = budget })
		defer w.Abort()
		for _, o := range ops {
			if o.delete {
				w.Delete(o.rec.ID(), o.rec.Date)
			} else {
				mustAdd(t, w, o.rec)
			}
			if w.BufferedBytes() > budget {
				t.Fatalf("buffered %d bytes over a budget of %d", w.BufferedBytes(), budget)
			}
		}
		if budget < 1<<20 {
			runs, _ := filepath.Glob(filepath.Join(dir, load.StateDir, "staging", w.RunID(), "run-*"))
			if len(runs) == 0 {
				t.Fatal("tiny budget did not spill")
			}
		}
		if _, err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkClean(t, dir)
		for _, d := range []schemas.Date{day1, day2, day3, day3 + 10} {
			checkState(t, dir, d, want[d])
		}
		return dir
	}
	var dirs []string
	for _, budget := range []int64{1 << 30, 20_000, 1} { // 1 byte: every Add spills, and runs get merged before Commit's merge
		t.Run(fmt.Sprint(budget), func(t *testing.T) { dirs = append(dirs, run(t, budget)) })
	}
}

func TestUnsortedExistingFileIsMerged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, partPath(schemas.TableConversationTags, day1))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	old := []schemas.ConversationTag{{ConversationID: "3", TagID: "x"}, {ConversationID: "1", TagID: "y"}, {ConversationID: "2", TagID: "z"}, {ConversationID: "1", TagID: "w"}}
	if err := parquet.WriteFile(path, old); err != nil {
		t.Fatal(err)
	}
	commit(t, dir, []schemas.Record{record("2", day1, 0, []string{"new"}, false, "")})
	got, err := load.ReadFile[schemas.ConversationTag](filepath.Join(dir, partPath(schemas.TableConversationTags, day1)))
	if err != nil {
		t.Fatal(err)
	}
	// Rows published before created_date existed get their daily partition's day.
	want := []schemas.ConversationTag{{ConversationID: "1", TagID: "y"}, {ConversationID: "1", TagID: "w"}, {ConversationID: "2", TagID: "new", TagName: ptr("tag new")}, {ConversationID: "3", TagID: "x"}}
	for i := range want {
		if partitioning == schemas.ByDay || want[i].ConversationID == "2" {
			want[i].CreatedDate = day1
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tags:\n got %+v\nwant %+v", got, want)
	}
}

// snapshot records every file's content and identity, to prove a failed run changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, load.StateDir+"/") {
			continue // the tool's state: the lock records who holds it
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = fmt.Sprint(statID(t, filepath.Join(dir, f))) + string(b)
	}
	return out
}

func TestFailedRunsLeaveDataUntouched(t *testing.T) {
	hookErr := errors.New("journal full")
	for _, tc := range []struct {
		name string
		cfg  func(*load.Config)
		end  func(w *load.Writer) error
		want error
	}{
		{name: "abort", end: func(w *load.Writer) error { return w.Abort() }},
		{
			name: "before publish hook fails",
			cfg: func(c *load.Config) {
				c.BeforePublish = func(pending []load.File) error {
					if len(pending) == 0 {
						return errors.New("hook saw nothing pending")
					}
					for _, f := range pending {
						if !f.Removed {
							if _, err := os.Stat(filepath.Join(c.Dir, f.TempPath)); err != nil {
								return fmt.Errorf("temp file not there before publish: %w", err)
							}
						}
					}
					return hookErr
				}
			},
			end: func(w *load.Writer) error {
				_, err := w.Commit(context.Background())
				return err
			},
			want: hookErr,
		},
		{
			name: "cancelled context",
			end: func(w *load.Writer) error {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				_, err := w.Commit(ctx)
				return err
			},
			want: context.Canceled,
		},
		{
			name: "context cancelled in the first phase",
			cfg:  func(c *load.Config) { c.CommitWorkers = 1 },
			end: func(w *load.Writer) error {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() { time.Sleep(time.Millisecond); cancel() }()
				_, err := w.Commit(ctx)
				if err == nil {
					return context.Canceled // too fast to cancel on this machine: nothing to check
				}
				return err
			},
			want: context.Canceled,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			commit(t, dir, []schemas.Record{record("1", day1, 2, []string{"a"}, true, ""), record("2", day2, 1, nil, false, "")})
			before := snapshot(t, dir)
			w := newWriter(t, dir, func(c *load.Config) {
				c.MemoryBudget = 2000 // spill, so staging has files to clean up
				if tc.cfg != nil {
					tc.cfg(c)
				}
			})
			w.Delete("1", day1)
			for i := range 200 {
				mustAdd(t, w, record(fmt.Sprint(i+10), day1+schemas.Date(i%50), 3, []string{"b"}, true, ""))
			}
			err := tc.end(w)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.want != nil && strings.Contains(tc.name, "first phase") && err == context.Canceled {
				return
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
				var names []string
				for f := range after {
					names = append(names, f)
				}
				t.Errorf("data changed; files now %v", names)
			}
			checkClean(t, dir)
			if err := w.Add(record("3", day1, 0, nil, false, "")); !errors.Is(err, load.ErrClosed) {
				t.Errorf("Add after Abort: %v", err)
			}
		})
	}
}

func TestCommitRetryAfterFailure(t *testing.T) {
	dir := t.TempDir()
	fail := true
	w := newWriter(t, dir, func(c *load.Config) {
		c.BeforePublish = func([]load.File) error {
			if fail {
				return errors.New("not yet")
			}
			return nil
		}
	})
	mustAdd(t, w, record("1", day1, 2, nil, false, ""))
	if _, err := w.Commit(context.Background()); err == nil {
		t.Fatal("commit succeeded")
	}
	fail = false
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkState(t, dir, day1, expect(record("1", day1, 2, nil, false, "")))
	checkClean(t, dir)
	if _, err := w.Commit(context.Background()); !errors.Is(err, load.ErrClosed) {
		t.Errorf("second Commit: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
}

func TestCorruptExistingFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, partPath(schemas.TableConversations, day1))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("PAR1 not really parquet PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, dir)
	defer w.Abort()
	mustAdd(t, w, record("1", day1, 1, nil, false, ""))
	if _, err := w.Commit(context.Background()); err == nil {
		t.Fatal("commit over a corrupt file succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "PAR1 not really parquet PAR1" {
		t.Error("corrupt file was replaced")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	checkClean(t, dir) // temp files of the other tables removed too
}

func TestAddRejectsMismatchedRows(t *testing.T) {
	w := newWriter(t, t.TempDir())
	defer w.Abort()
	r := record("1", day1, 2, nil, false, "")
	r.Parts[1].ConversationID = "2"
	if err := w.Add(r); err == nil {
		t.Error("part of another conversation accepted")
	}
	if err := w.Add(schemas.Record{Date: day1}); err == nil {
		t.Error("record without id accepted")
	}
}

func TestValidate(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(tmp, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		cfg    load.Config
		errHas string // empty: valid
		root   bool   // permissions do not stop root
	}{
		{name: "ok", cfg: load.Config{Dir: filepath.Join(tmp, "a", "b")}},
		{name: "no dir", cfg: load.Config{}, errHas: "not set"},
		{name: "under a file", cfg: load.Config{Dir: filepath.Join(file, "out")}, errHas: "is a file"},
		{name: "dir is a file", cfg: load.Config{Dir: file}, errHas: "is a file"},
		{name: "read-only", cfg: load.Config{Dir: filepath.Join(readOnly, "out")}, errHas: "not writable", root: true},
		{name: "bad run id", cfg: load.Config{Dir: tmp, RunID: "../x"}, errHas: "run id"},
		{name: "negative budget", cfg: load.Config{Dir: tmp, MemoryBudget: -1}, errHas: "memory budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() == 0 {
				t.Skip("running as root")
			}
			cfg := tc.cfg
			cfg.SetDefaults()
			err := cfg.Validate()
			switch {
			case tc.errHas == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Errorf("error %v, want one mentioning %q", err, tc.errHas)
			case tc.root || strings.Contains(tc.name, "file") && !strings.Contains(err.Error(), tc.cfg.Dir):
				t.Errorf("error %v does not name the directory", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Validate created the directory")
	}
	if _, err := load.NewWriter(load.Config{Dir: filepath.Join(file, "out")}); err == nil {
		t.Error("NewWriter accepted a path under a file")
	}
}

func TestSecondWriterWithSameRunIDFails(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir, func(c *load.Config) { c.RunID = "same" })
	defer w.Abort()
	if _, err := load.NewWriter(load.Config{Dir: dir, RunID: "same"}); err == nil {
		t.Error("two writers share a staging folder")
	}
}

// BenchmarkCommit writes 10k conversations of 14 parts over 730 daily partitions, like a two-year
// export, into a fresh folder.
func BenchmarkCommit(b *testing.B) {
	const convs, partsPer, days = 10_000, 14, 730
	recs := make([]schemas.Record, convs)
	rows := int64(0)
	for i := range recs {
		recs[i] = record(fmt.Sprint(1_000_000+i), day1+schemas.Date(i%days), partsPer, []string{"t1", "t2"}[:i%3%2+1], i%4 == 0, "")
		rows += int64(1 + len(recs[i].Parts) + len(recs[i].Tags))
		if recs[i].Rating != nil {
			rows++
		}
	}
	for _, budget := range []int64{load.DefaultMemoryBudget, 8 << 20} {
		b.Run(fmt.Sprintf("budget=%dMiB", budget>>20), func(b *testing.B) {
			runtime.GC()
			peak := watchHeap(b)
			for b.Loop() {
				dir := b.TempDir()
				w := newWriter(b, dir, func(c *load.Config) { c.MemoryBudget = budget })
				for _, r := range recs {
					if err := w.Add(r); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Commit(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak())/(1<<20), "peak-live-heap-MiB")
		})
	}
}

// watchHeap samples the heap live at each GC until the benchmark ends and returns a function reading the peak. The
// input records themselves (about 60 MiB) are part of it.
func watchHeap(b *testing.B) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	b.Cleanup(func() { close(done); <-stopped })
	return peak.Load
}

// A value larger than the zstd window (the page holding it is too) is written and read back whole, by
// parquet-go and by Arrow.
func TestValueLargerThanTheCompressionWindow(t *testing.T) {
	dir := t.TempDir()
	d := schemas.DateOf(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	r := record("1", d, 1, nil, false, "")
	var big strings.Builder
	for i := 0; big.Len() < 3<<20; i++ {
		fmt.Fprintf(&big, `{"n":%d,"text":"part %d of a long conversation"},`, i, i*7919%100003)
	}
	r.Conversation.SourceJSON = ptr(big.String())
	commit(t, dir, []schemas.Record{r})
	rows, err := load.ReadFile[schemas.Conversation](filepath.Join(dir, partPath(schemas.TableConversations, d)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].SourceJSON == nil || *rows[0].SourceJSON != big.String() {
		t.Fatalf("read back %d rows, not the %d-byte value written", len(rows), big.Len())
	}
	if err := load.VerifyFile(filepath.Join(dir, partPath(schemas.TableConversations, d)), schemas.TableConversations, 1); err != nil {
		t.Fatal(err)
	}
}
