package load_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

var update = flag.Bool("update", false, "rewrite the Arrow schema golden files in testdata/schema")

// sampleOutput commits rows in all four tables over three days and returns the folder and the result.
func sampleOutput(t *testing.T) (string, load.Result) {
	t.Helper()
	dir := t.TempDir()
	res := commit(t, dir, []schemas.Record{
		record("30", day1, 3, []string{"a", "b"}, true, ""),
		record("100", day1, 1, nil, false, ""),
		record("7", day2, 2, nil, false, ""),
		record("8", day3, 0, []string{"c"}, true, ""),
	})
	return dir, res
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantProblem fails unless rep has a problem for path whose error is target and mentions every word.
func wantProblem(t *testing.T, rep load.Report, path string, target error, words ...string) {
	t.Helper()
	for _, p := range rep.Problems {
		if p.Path != path {
			continue
		}
		if !errors.Is(p.Err, target) {
			t.Errorf("%s: %v, want %v", path, p.Err, target)
		}
		for _, w := range words {
			if !strings.Contains(p.Error(), w) {
				t.Errorf("%s: %q does not mention %q", path, p.Error(), w)
			}
		}
		return
	}
	t.Errorf("no problem reported for %s; problems: %v", path, rep.Problems)
}

func TestVerifyAcceptsWhatTheWriterWrites(t *testing.T) {
	dir, res := sampleOutput(t)
	// A run's temporary file and the state folder are not the data, and are skipped.
	writeBytes(t, filepath.Join(dir, schemas.TableConversations, partDir(day1), ".data.parquet.x.tmp"), []byte("partial"))
	writeBytes(t, filepath.Join(dir, load.StateDir, "state.json"), []byte("{}"))

	rep, err := load.VerifyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != len(res.Files) || !rep.OK() {
		t.Fatalf("checked %d files, the commit wrote %d; problems %v", len(rep.Files), len(res.Files), rep.Problems)
	}
	var want int64
	for _, f := range res.Files {
		want += f.Rows
		if err := load.VerifyFile(filepath.Join(dir, f.Path), f.Table, f.Rows); err != nil {
			t.Error(err)
		}
	}
	if rep.Rows() != want {
		t.Errorf("report counts %d rows, the commit %d", rep.Rows(), want)
	}
}

func TestVerifyAcceptsManyRowGroupsAndPages(t *testing.T) {
	dir := t.TempDir()
	var recs []schemas.Record
	for i := range 300 {
		recs = append(recs, record(strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("9", i%11), day1, i%40, []string{"t1", "t2"}[:i%3], i%2 == 0, strings.Repeat("v", i)))
	}
	commit(t, dir, recs, func(c *load.Config) { c.RowGroupRows = 500 })
	if rep, err := load.VerifyDir(dir); err != nil || len(rep.Files) != 4 {
		t.Fatalf("%d files: %v", len(rep.Files), err)
	}
}

func TestVerifyMissingDirIsAnError(t *testing.T) {
	if _, err := load.VerifyDir(filepath.Join(t.TempDir(), "nope")); err == nil || errors.Is(err, load.ErrVerify) {
		t.Errorf("got %v, want an error reading the folder", err)
	}
}

func TestVerifyRejectsTruncatedFiles(t *testing.T) {
	dir, _ := sampleOutput(t)
	rel := partPath(schemas.TableConversationParts, day1)
	path := filepath.Join(dir, rel)
	orig := readBytes(t, path)
	for _, n := range []int{0, 3, 12, len(orig) / 2, len(orig) - 9, len(orig) - 1} {
		writeBytes(t, path, orig[:n])
		err := load.VerifyFile(path, schemas.TableConversationParts, -1)
		if !errors.Is(err, load.ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("truncated to %d of %d bytes: %v", n, len(orig), err)
		}
	}
	rep, err := load.VerifyDir(dir)
	if !errors.Is(err, load.ErrVerify) || len(rep.Problems) != 1 {
		t.Fatalf("VerifyDir: %v, problems %v", err, rep.Problems)
	}
	wantProblem(t, rep, filepath.ToSlash(rel), load.ErrCorrupt)
}

// Every flip inside a page body (the bytes its CRC covers: levels and values) must be caught. Elsewhere
// (page headers, page index, footer) Parquet has no checksum: a flip there must be caught or leave the
// data read back unchanged, as it does when it lands in statistics or in unused high bits of a varint.
// Offsets are sampled evenly (every byte of the small tags file) to keep the test quick under -race.
func TestVerifyRejectsBitFlips(t *testing.T) {
	dir, _ := sampleOutput(t)
	for _, table := range load.Tables {
		path := filepath.Join(dir, partPath(table, day1))
		orig := readBytes(t, path)
		want := readArrow(t, path)
		bodies, err := load.PageBodies(path)
		if err != nil {
			t.Fatal(err)
		}
		flipped := filepath.Join(t.TempDir(), "data.parquet")
		var bodyOffs, otherOffs []int
		for off := range orig {
			if inRanges(bodies, off) {
				bodyOffs = append(bodyOffs, off)
			} else {
				otherOffs = append(otherOffs, off)
			}
		}
		offsets := slices.Concat(sample(bodyOffs, 100), sample(otherOffs, 100))
		if table == schemas.TableConversationTags && !testing.Short() {
			offsets = slices.Concat(bodyOffs, otherOffs)
		}
		var inBody, inBodyCaught, other, otherCaught int
		for _, off := range offsets {
			b := slices.Clone(orig)
			b[off] ^= 0x10
			writeBytes(t, flipped, b)
			err := load.VerifyFile(flipped, table, -1)
			if err != nil && !strings.Contains(err.Error(), flipped) {
				t.Fatalf("error does not name the file: %v", err)
			}
			if inRanges(bodies, off) {
				inBody++
				// The quick check export runs before committing relies on the page checksums alone.
				if cerr := load.CheckFile(flipped, table, -1); cerr == nil {
					t.Errorf("%s: CheckFile missed a flip at offset %d inside a page body", table, off)
				}
				if err == nil {
					t.Errorf("%s: a flip at offset %d inside a page body went unnoticed", table, off)
				} else {
					inBodyCaught++
				}
				continue
			}
			other++
			if err != nil {
				otherCaught++
				continue
			}
			if got := readArrow(t, flipped); got != want {
				t.Errorf("%s: a flip at offset %d went unnoticed and changed the data read", table, off)
			}
		}
		t.Logf("%s (%d bytes, %d in page bodies): caught %d/%d flips in page bodies, %d/%d elsewhere (the rest leave the data unchanged)",
			table, len(orig), len(bodyOffs), inBodyCaught, inBody, otherCaught, other)
	}
}

// readArrow renders every row of a file as Arrow reads it, or the error reading it.
func readArrow(t *testing.T, path string) string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return err.Error()
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return err.Error()
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return err.Error()
	}
	defer tbl.Release()
	var b strings.Builder
	for i := range int(tbl.NumCols()) {
		col := tbl.Column(i)
		fmt.Fprintf(&b, "%s:", col.Name())
		for _, chunk := range col.Data().Chunks() {
			fmt.Fprintf(&b, " %v", chunk)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// sample picks about n of xs, evenly spread.
func sample(xs []int, n int) []int {
	if len(xs) <= n {
		return xs
	}
	out := make([]int, 0, n)
	for i := range n {
		out = append(out, xs[i*len(xs)/n])
	}
	return out
}

func inRanges(rs [][2]int64, off int) bool {
	for _, r := range rs {
		if int64(off) >= r[0] && int64(off) < r[1] {
			return true
		}
	}
	return false
}

func TestVerifyRejectsAnotherTablesFile(t *testing.T) {
	dir, _ := sampleOutput(t)
	// day2 has no tags: a conversations file placed there reads fine but is the wrong table.
	rel := partPath(schemas.TableConversationTags, day2)
	writeBytes(t, filepath.Join(dir, rel), readBytes(t, filepath.Join(dir, partPath(schemas.TableConversations, day2))))
	rep, err := load.VerifyDir(dir)
	if !errors.Is(err, load.ErrVerify) || len(rep.Problems) != 1 {
		t.Fatalf("VerifyDir: %v, problems %v", err, rep.Problems)
	}
	wantProblem(t, rep, filepath.ToSlash(rel), load.ErrSchemaMismatch, "conversation_tags", "tag_id", "missing", "unexpected column created_at")
	if err := load.VerifyFile(filepath.Join(dir, rel), schemas.TableConversationTags, -1); !errors.Is(err, load.ErrSchemaMismatch) || !strings.Contains(err.Error(), rel) {
		t.Errorf("VerifyFile: %v", err)
	}
	// CheckFile remembers the schemas it found good, per table: neither a good file of the right table
	// nor the same file checked as its own table lets the wrong one through.
	goodTags := filepath.Join(dir, partPath(schemas.TableConversationTags, day1))
	conv := filepath.Join(dir, partPath(schemas.TableConversations, day2))
	for range 2 {
		if err := load.CheckFile(goodTags, schemas.TableConversationTags, -1); err != nil {
			t.Fatalf("CheckFile of a good tags file: %v", err)
		}
		if err := load.CheckFile(conv, schemas.TableConversations, -1); err != nil {
			t.Fatalf("CheckFile of a good conversations file: %v", err)
		}
		if err := load.CheckFile(filepath.Join(dir, rel), schemas.TableConversationTags, -1); !errors.Is(err, load.ErrSchemaMismatch) {
			t.Errorf("CheckFile: %v", err)
		}
	}
}

func TestVerifyChecksTheRowCount(t *testing.T) {
	dir, res := sampleOutput(t)
	f := res.Files[0]
	path := filepath.Join(dir, f.Path)
	for _, want := range []int64{f.Rows + 1, f.Rows - 1, 0} {
		err := load.VerifyFile(path, f.Table, want)
		if !errors.Is(err, load.ErrRowCount) || !strings.Contains(err.Error(), path) {
			t.Errorf("want %d rows of %d: %v", want, f.Rows, err)
		}
	}
	if err := load.VerifyFile(path, "no_such_table", -1); err == nil {
		t.Error("an unknown table verified")
	}
}

func TestVerifyReportsStrayEntries(t *testing.T) {
	dir, _ := sampleOutput(t)
	conv := schemas.TableConversations
	part := filepath.Join(dir, conv, partDir(day1))
	writeBytes(t, filepath.Join(dir, "conversation_notes", "date=2024-03-01", "data.parquet"), readBytes(t, filepath.Join(part, load.DataFile)))
	writeBytes(t, filepath.Join(dir, conv, "notes.txt"), []byte("hi"))
	writeBytes(t, filepath.Join(dir, conv, "date=2024-3-1", "data.parquet"), readBytes(t, filepath.Join(part, load.DataFile)))
	writeBytes(t, filepath.Join(part, "copy.parquet"), readBytes(t, filepath.Join(part, load.DataFile)))
	if err := os.MkdirAll(filepath.Join(part, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err := load.VerifyDir(dir)
	if !errors.Is(err, load.ErrVerify) {
		t.Fatal(err)
	}
	wantProblem(t, rep, "conversation_notes", load.ErrUnexpected, "not one of the tables")
	wantProblem(t, rep, conv+"/notes.txt", load.ErrUnexpected)
	wantProblem(t, rep, conv+"/date=2024-3-1", load.ErrUnexpected, "date=YYYY-MM-DD")
	wantProblem(t, rep, conv+"/"+partDir(day1)+"/copy.parquet", load.ErrUnexpected)
	wantProblem(t, rep, conv+"/"+partDir(day1)+"/sub", load.ErrUnexpected)
	if len(rep.Problems) != 5 {
		t.Errorf("%d problems, want 5: %v", len(rep.Problems), rep.Problems)
	}
	for _, p := range rep.Problems {
		if !strings.Contains(err.Error(), p.Error()) {
			t.Errorf("the error leaves out %v", p)
		}
	}
}

// The Arrow schema of each table's files, as Arrow reads a file load.Writer wrote, is pinned in
// testdata/schema: renaming a column or changing its type fails here until the golden file is
// rewritten with -update, so the change is seen in review.
func TestArrowSchemaGolden(t *testing.T) {
	dir, _ := sampleOutput(t)
	for _, table := range load.Tables {
		rdr, err := file.OpenParquetFile(filepath.Join(dir, partPath(table, day1)), false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		s, err := fr.Schema()
		rdr.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := load.FormatSchema(s)
		golden := filepath.Join("..", "testdata", "schema", table+".arrow.txt")
		if *update {
			writeBytes(t, golden, []byte(got))
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./load -run ArrowSchemaGolden -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s: the files' Arrow schema changed (if intended, run go test ./load -run ArrowSchemaGolden -update):\n%s",
				table, lineDiff(string(want), got))
		}
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)"
	}
	return b.String()
}
