package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// dumpLines returns the workspace's saved answers, one conversation (as a map) a line.
func dumpLines(t *testing.T, ws *intercomtest.Workspace, version string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(dump(t, ws, version))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// variant returns a copy of c with another updated_at and title, and, when dropParts, no parts.
func variant(c map[string]any, updatedAt int64, title string, dropParts bool) map[string]any {
	v := make(map[string]any, len(c))
	for k, x := range c {
		v[k] = x
	}
	v["updated_at"] = updatedAt
	v["title"] = title
	if dropParts {
		delete(v, "conversation_parts")
	}
	return v
}

func writeNDJSON(t *testing.T, objs []map[string]any) string {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
	}
	path := filepath.Join(t.TempDir(), "input.ndjson")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func updatedAtOf(t *testing.T, c map[string]any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fmt.Sprint(c["updated_at"]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fileContents reads every Parquet file of a folder with DuckDB, rows in file order, by path. (Not the
// files' bytes: the loader's pooled Parquet writers make footers differ from run to run, rows aside.)
func fileContents(t *testing.T, db *sql.DB, dir string) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	for _, rel := range parquetFiles(t, dir) {
		table, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		out[rel] = query(t, db, fmt.Sprintf("SELECT * EXCLUDE (%s) FROM read_parquet('%s')", lineageColumns(table), filepath.Join(dir, rel)))
	}
	return out
}

func TestConvertKeepsTheNewestVersionDeterministically(t *testing.T) {
	t.Parallel()
	convs := dumpLines(t, intercomtest.NewWorkspace(111, 12), "2.16")
	// Each of the first six conversations comes three times: the newest in the middle, without its
	// parts in the oldest copies, so a wrong winner shows in every table. The seventh comes twice with
	// the same updated_at: the later one must win.
	var input []map[string]any
	want := map[string]string{} // id -> title that must land
	for i, c := range convs {
		id := fmt.Sprint(c["id"])
		u := updatedAtOf(t, c)
		switch {
		case i < 6:
			input = append(input, variant(c, u-100, "old", true), variant(c, u, "newest", false), variant(c, u-50, "middle", true))
			want[id] = "newest"
		case i == 6:
			input = append(input, variant(c, u, "first", true), variant(c, u, "second", false))
			want[id] = "second"
		default:
			input = append(input, c)
		}
	}
	path := writeNDJSON(t, input)

	db := openDuckDB(t)
	var first map[string][][]string
	for run := range 10 {
		out := t.TempDir()
		stdout, _ := convertRun(t, exitOK, "--out", out, path)
		if !strings.Contains(stdout, "superseded 13, stale 0") {
			t.Fatalf("run %d: summary does not count the 13 superseded versions:\n%s", run, stdout)
		}
		contents := fileContents(t, db, out)
		if run == 0 {
			first = contents
			for _, row := range query(t, db, "SELECT conversation_id, title FROM "+table(out, "conversations")) {
				if w, ok := want[row[0]]; ok && row[1] != w {
					t.Errorf("conversation %s: title %q landed, want %q", row[0], row[1], w)
				}
			}
			// The newest versions kept their parts.
			for i := range 7 {
				id := fmt.Sprint(convs[i]["id"])
				n := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE conversation_id = '%s'", table(out, "conversation_parts"), id))
				if parts := convs[i]["conversation_parts"].(map[string]any)["conversation_parts"].([]any); n != strconv.Itoa(len(parts)) {
					t.Errorf("conversation %s: %s parts landed, want %d", id, n, len(parts))
				}
			}
			m := readManifestAny(t, out)
			if m.Counts.Superseded != 13 || m.Counts.Conversations != int64(len(convs)) {
				t.Errorf("manifest counts %+v: want superseded 13, conversations %d", m.Counts, len(convs))
			}
			continue
		}
		if len(contents) != len(first) {
			t.Fatalf("run %d wrote %d files, run 0 %d", run, len(contents), len(first))
		}
		for p, rows := range first {
			if !reflect.DeepEqual(contents[p], rows) {
				t.Fatalf("run %d wrote other rows than run 0 in %s", run, p)
			}
		}
	}
}

func TestConvertOfAnOlderSnapshotKeepsTheNewer(t *testing.T) {
	t.Parallel()
	convs := dumpLines(t, intercomtest.NewWorkspace(112, 8), "2.16")
	var newer, older []map[string]any
	for _, c := range convs {
		u := updatedAtOf(t, c)
		newer = append(newer, variant(c, u, "newer", false))
		older = append(older, variant(c, u-3600, "older", true))
	}
	// One conversation of the older snapshot is in fact newer than the folder's: it replaces it.
	older[0] = variant(convs[0], updatedAtOf(t, convs[0])+60, "newest", false)

	out := t.TempDir()
	convertRun(t, exitOK, "--out", out, writeNDJSON(t, newer))
	stdout, stderr := convertRun(t, exitOK, "--out", out, writeNDJSON(t, older))
	if !strings.Contains(stdout, fmt.Sprintf("superseded 0, stale %d", len(convs)-1)) {
		t.Errorf("summary does not count the stale versions:\n%s", stdout)
	}
	if !strings.Contains(stderr, `"stale":7`) || !strings.Contains(stderr, `"level":"info"`) {
		t.Errorf("no info event with the stale count:\n%s", tail(stderr, 2000))
	}
	db := openDuckDB(t)
	got := query(t, db, "SELECT title, count(*) FROM "+table(out, "conversations")+" GROUP BY ALL ORDER BY title")
	if want := [][]string{{"newer", strconv.Itoa(len(convs) - 1)}, {"newest", "1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("titles after converting the older snapshot: %v, want %v", got, want)
	}
	var m load.Manifest
	for _, p := range mustGlob(t, filepath.Join(out, load.StateDir, "runs", "*.json")) {
		if mm := readManifestFile(t, p); mm.Counts.Stale > 0 {
			m = mm
		}
	}
	if m.Counts.Stale != int64(len(convs)-1) || m.Counts.Conversations != 1 {
		t.Errorf("second manifest counts %+v: want stale %d, conversations 1", m.Counts, len(convs)-1)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// partitionCounts counts each table's rows per partition file, by path relative to dir.
func partitionCounts(t *testing.T, db *sql.DB, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, rel := range parquetFiles(t, dir) {
		n, err := strconv.ParseInt(scalar(t, db, fmt.Sprintf("SELECT count(*) FROM read_parquet('%s')", filepath.Join(dir, rel))), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = n
	}
	return out
}

// checkManifestCounts compares a run's manifest with the files: every added file's rows with DuckDB's
// count of it, every removed file's rows with DuckDB's count of the file before the run (before), and
// the totals with the sums of the per-partition figures.
func checkManifestCounts(t *testing.T, db *sql.DB, dir string, m load.Manifest, before map[string]int64) {
	t.Helper()
	after := partitionCounts(t, db, dir)
	for _, tbl := range load.Tables {
		var written, removed int64
		for _, c := range m.Tables[tbl] {
			if c.Added != nil {
				written += c.Added.Rows
				if after[c.Added.Path] != c.Added.Rows {
					t.Errorf("%s: manifest says %d rows, DuckDB counts %d", c.Added.Path, c.Added.Rows, after[c.Added.Path])
				}
			}
			if c.Removed != nil {
				removed += c.Removed.Rows
				if before[c.Removed.Path] != c.Removed.Rows {
					t.Errorf("%s: manifest says %d rows removed, the file had %d", c.Removed.Path, c.Removed.Rows, before[c.Removed.Path])
				}
			}
		}
		if got := m.Counts.Rows[tbl]; got.Written != written || got.Removed != removed {
			t.Errorf("%s: counts.rows %+v, per-partition sums written %d removed %d", tbl, got, written, removed)
		}
	}
}

func TestManifestCountsEqualTheFiles(t *testing.T) {
	t.Parallel()
	db := openDuckDB(t)
	total := func(dir, tbl string) int64 {
		n, _ := strconv.ParseInt(scalar(t, db, "SELECT count(*) FROM "+table(dir, tbl)), 10, 64)
		return n
	}
	// A first run writes every row of the folder as its own.
	checkFirst := func(t *testing.T, dir string, m load.Manifest) {
		checkManifestCounts(t, db, dir, m, nil)
		for tbl, got := range map[string]int64{"conversations": m.Counts.Conversations, "conversation_parts": m.Counts.Parts,
			"conversation_tags": m.Counts.Tags, "conversation_ratings": m.Counts.Ratings} {
			if want := total(dir, tbl); got != want || got == 0 {
				t.Errorf("%s: manifest counts %d, DuckDB %d", tbl, got, want)
			}
		}
	}

	t.Run("export", func(t *testing.T) {
		ws := intercomtest.NewWorkspace(113, 120)
		srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
		defer srv.Close()
		out := t.TempDir()
		exportRun(t, srv, out, exitOK)
		checkFirst(t, out, readManifest(t, out))

		before := partitionCounts(t, db, out)
		changed := changeSome(t, ws, 15, time.Now().Unix())
		exportRun(t, srv, out, exitOK)
		m := readManifest(t, out)
		checkManifestCounts(t, db, out, m, before)
		if m.Counts.Conversations != int64(len(changed)) {
			t.Errorf("incremental run: counts.conversations %d, %d were changed", m.Counts.Conversations, len(changed))
		}
		var removed int64
		for _, c := range m.Tables["conversations"] {
			if c.Removed != nil {
				removed += c.Removed.Rows
			}
		}
		if removed == 0 {
			t.Errorf("incremental run replaced no rows: %+v", m.Tables["conversations"])
		}
	})
	t.Run("convert", func(t *testing.T) {
		out := t.TempDir()
		convertRun(t, exitOK, "--out", out, dump(t, intercomtest.NewWorkspace(114, 90), "2.16"))
		checkFirst(t, out, readManifestAny(t, out))
	})
	t.Run("demo", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "demo-out")
		var o, e bytes.Buffer
		if code := run(context.Background(), []string{"demo", "--out", out, "--conversations", "80", "--log-format", "json"}, func(string) string { return "" }, &o, &e); code != exitOK {
			t.Fatalf("demo exited %d:\n%s", code, tail(e.String(), 2000))
		}
		checkFirst(t, out, readManifest(t, out))
	})
}
