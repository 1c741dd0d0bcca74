package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

func convertRun(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var o, e bytes.Buffer
	if code := run(context.Background(), append([]string{"convert", "--log-format", "json"}, args...), func(string) string { return "" }, &o, &e); code != want {
		t.Fatalf("convert %v exited %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, o.String(), tail(e.String(), 3000))
	}
	for i, a := range args {
		if a == "--out" && i+1 < len(args) {
			verifyOutput(t, args[i+1])
		}
	}
	return o.String(), e.String()
}

// dump writes the workspace as saved API answers, NDJSON.
func dump(t *testing.T, ws *intercomtest.Workspace, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conversations.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ws.Dump(f, version); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConvertEqualsExport(t *testing.T) {
	ws := intercomtest.NewWorkspace(41, 150)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	exported := t.TempDir()
	exportRun(t, srv, exported, exitOK, "--api-version", "2.11")

	ndjson := dump(t, ws, "2.11")
	// The same answers as one JSON array.
	array := filepath.Join(t.TempDir(), "conversations.json")
	var elems []json.RawMessage
	f, _ := os.Open(ndjson)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		elems = append(elems, json.RawMessage(append([]byte(nil), sc.Bytes()...)))
	}
	f.Close()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the answers' bytes, so source_json compares equal
	enc.SetIndent("", " ")
	if err := enc.Encode(elems); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(array, buf.Bytes(), 0o644)

	db := openDuckDB(t)
	want := snapshot(t, db, exported, nil)
	for name, input := range map[string]string{"ndjson": ndjson, "array": array} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			stdout, _ := convertRun(t, exitOK, "--out", out, input)
			if !strings.Contains(stdout, "conversations 150,") {
				t.Errorf("summary: %s", stdout)
			}
			got := snapshot(t, db, out, nil)
			for table := range want {
				if !reflect.DeepEqual(got[table], want[table]) {
					t.Errorf("%s: convert gives %d rows that differ from export's %d", table, len(got[table]), len(want[table]))
				}
			}
			if m := readManifestAny(t, out); m.Command != "convert" || m.Status != "success" {
				t.Errorf("manifest %+v", m)
			}
		})
	}
}

func TestConvertSetsBadLinesAsideAndKeepsTheRest(t *testing.T) {
	ws := intercomtest.NewWorkspace(42, 40)
	good := dump(t, ws, "2.16")
	lines, _ := os.ReadFile(good)
	all := strings.Split(strings.TrimSpace(string(lines)), "\n")
	bad := append([]string{}, all[:10]...)
	bad = append(bad, `{"type":"conversation","id":"x1","created_at":"yesterday"}`, `this is not json`, `{"type":"conversation","created_at":1700000000}`)
	bad = append(bad, all[10:]...)
	input := filepath.Join(t.TempDir(), "mixed.ndjson")
	os.WriteFile(input, []byte(strings.Join(bad, "\n")+"\n"), 0o644)

	out := t.TempDir()
	_, stderr := convertRun(t, exitPartial, "--out", out, input)
	if !strings.Contains(stderr, "3 conversations could not be converted") {
		t.Errorf("stderr does not count the bad lines:\n%s", tail(stderr, 2000))
	}
	db := openDuckDB(t)
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")); got != "40" {
		t.Errorf("%s conversations converted, want the 40 good ones", got)
	}
	rejects, _ := filepath.Glob(filepath.Join(out, "_intercom_export", "rejects", "*.ndjson"))
	if len(rejects) != 1 {
		t.Fatalf("rejects files: %v", rejects)
	}
	data, _ := os.ReadFile(rejects[0])
	for _, want := range []string{input + ":11", "created_at", input + ":12", input + ":13", `"conversation_id":"x1"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rejects file lacks %q:\n%s", want, data)
		}
	}
}

func TestConvertUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"x.ndjson"}, "--out is required"},
		{[]string{"--out", t.TempDir()}, "no input"},
		{[]string{"--out", t.TempDir(), "/no/such/file.ndjson"}, `cannot read input "/no/such/file.ndjson"`},
	} {
		_, stderr := convertRun(t, exitUsage, tc.args...)
		if !strings.Contains(failureEvent(t, stderr, exitUsage), tc.want) {
			t.Errorf("convert %v: stderr %q lacks %q", tc.args, stderr, tc.want)
		}
	}
}

func TestConvertReadsWhatPeopleSave(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSpace(func() string {
		b, _ := os.ReadFile(dump(t, intercomtest.NewWorkspace(43, 9), "2.16"))
		return string(b)
	}()), "\n")
	raw := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		raw[i] = json.RawMessage(l)
	}
	encode := func(v any, indent string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf) // not json.Marshal, which would escape the bodies' HTML
		enc.SetEscapeHTML(false)
		enc.SetIndent("", indent)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	list := func(items []json.RawMessage) map[string]any {
		return map[string]any{"type": "conversation.list", "conversations": items, "total_count": len(items),
			"pages": map[string]any{"type": "pages", "page": 1, "per_page": 150, "total_pages": 1}}
	}
	pretty := func(v any) string { return encode(v, "  ") }
	write := func(name, content string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inputs := []string{
		write("one.json", "\n\n"+pretty(raw[0])),          // one saved answer, pretty-printed
		write("two.json", pretty(raw[1])+pretty(raw[2])),  // two of them, one after the other
		write("search.json", pretty(list(raw[3:6]))),      // a saved search body
		write("lists.ndjson", encode(list(raw[6:9]), "")), // a list body as an NDJSON line
	}
	want := t.TempDir()
	convertRun(t, exitOK, "--out", want, write("all.ndjson", strings.Join(lines, "\n")))
	got := t.TempDir()
	stdout, logs := convertRun(t, exitOK, append([]string{"--out", got}, inputs...)...)
	if !strings.Contains(stdout, "conversations 9,") || !strings.Contains(stdout, "read 9 conversations from 4 input files: rejected 0") ||
		strings.Contains(stdout, "API calls") || strings.Contains(stdout, "listed") {
		t.Errorf("summary does not speak of what convert does:\n%s", stdout)
	}
	if !strings.Contains(logs, `"input_files":4`) || !strings.Contains(logs, `"message":"convert finished"`) || strings.Contains(logs, "export finished") {
		t.Errorf("last event is not convert's:\n%s", tail(logs, 800))
	}
	db := openDuckDB(t)
	w, g := snapshot(t, db, want, nil), snapshot(t, db, got, nil)
	for tbl := range w {
		if !reflect.DeepEqual(g[tbl], w[tbl]) {
			t.Errorf("%s: %d rows, want the NDJSON conversion's %d", tbl, len(g[tbl]), len(w[tbl]))
			for i := range min(len(g[tbl]), len(w[tbl])) {
				for j := range g[tbl][i] {
					if g[tbl][i][j] != w[tbl][i][j] {
						t.Errorf("row %d column %d:\n got %.400s\nwant %.400s", i, j, g[tbl][i][j], w[tbl][i][j])
					}
				}
			}
		}
	}

	// Other shapes get a message that says what is expected.
	out := t.TempDir()
	_, stderr := convertRun(t, exitFailure, "--out", out, write("notes.txt", "conversation 1: closed\n"))
	if !strings.Contains(stderr, "notes.txt:1") || !strings.Contains(stderr, "want NDJSON") {
		t.Errorf("stderr does not say what was expected:\n%s", tail(stderr, 1000))
	}
}

func TestConvertBadValuesAndSourceJSON(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSpace(func() string {
		b, _ := os.ReadFile(dump(t, intercomtest.NewWorkspace(44, 6), "2.16"))
		return string(b)
	}()), "\n")
	// One conversation's statistics time is an unreadable string: it costs that value alone.
	bad := regexp.MustCompile(`"first_admin_reply_at":(null|\d+)`).ReplaceAllString(lines[0], `"first_admin_reply_at":"soon-ish"`)
	if bad == lines[0] {
		t.Fatal("no statistics object to spoil")
	}
	input := filepath.Join(t.TempDir(), "in.ndjson")
	os.WriteFile(input, []byte(strings.Join(append([]string{bad}, lines[1:]...), "\n")+"\n"), 0o644)

	db := openDuckDB(t)
	out := t.TempDir()
	stdout, stderr := convertRun(t, exitOK, "--out", out, input)
	if !strings.Contains(stdout, "warnings 1") || !strings.Contains(stderr, `"field":"statistics.first_admin_reply_at"`) {
		t.Errorf("the bad value is not counted and named:\n%s\n%s", stdout, tail(stderr, 1500))
	}
	if m := readManifestAny(t, out); m.Counts.Warnings != 1 || m.Counts.Conversations != 6 {
		t.Errorf("manifest counts %+v: want warnings 1, conversations 6", m.Counts)
	}
	// Nothing is stored twice: a part's JSON is in its row, not in the conversation's.
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")+" WHERE source_json LIKE '%\"part_type\"%'"); got != "0" {
		t.Errorf("%s conversations' source_json still holds parts", got)
	}
	if got := scalar(t, db, "SELECT count(*) FILTER (WHERE source_json IS NULL OR (source_json->>'$.id') <> part_id) FROM "+table(out, "conversation_parts")); got != "0" {
		t.Errorf("%s parts without their own source_json", got)
	}
	if got := scalar(t, db, "SELECT source_json->>'$.statistics.first_admin_reply_at' FROM "+table(out, "conversations")+" WHERE first_admin_reply_at IS NULL AND source_json LIKE '%soon-ish%'"); got != "soon-ish" {
		t.Errorf("source_json lost the bad value: %q", got)
	}

	off := t.TempDir()
	convertRun(t, exitOK, "--out", off, "--source-json=false", input)
	for _, tbl := range []string{"conversations", "conversation_parts"} {
		if got := scalar(t, db, "SELECT count(source_json) FROM "+table(off, tbl)); got != "0" {
			t.Errorf("--source-json=false kept %s source_json values in %s", got, tbl)
		}
	}
}

// convertRunEnv is convertRun with environment variables.
func convertRunEnv(t *testing.T, vars map[string]string, args ...string) (stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	getenv := func(k string) string { return vars[k] }
	if code := run(context.Background(), append([]string{"convert", "--log-format", "json"}, args...), getenv, &o, &e); code != exitOK {
		t.Fatalf("convert %v exited %d\nstdout:\n%s\nstderr:\n%s", args, code, o.String(), tail(e.String(), 3000))
	}
	return e.String()
}

// The loader sorts what it receives: the same conversations in random order, in creation order and
// in the API's (updated_at) order give the same tables and the same files, under both layouts, with
// a memory budget small enough that every input is spilled in many runs.
func TestConvertIsOrderIndependent(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(43, 120)
	data, err := os.ReadFile(dump(t, ws, "2.16"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	field := func(line, name string) int64 {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		return int64(v[name].(float64))
	}
	orders := map[string][]string{}
	random := slices.Clone(lines)
	rand.New(rand.NewPCG(4, 3)).Shuffle(len(random), func(i, j int) { random[i], random[j] = random[j], random[i] })
	orders["random"] = random
	for _, by := range []string{"created_at", "updated_at"} {
		sorted := slices.Clone(lines)
		slices.SortStableFunc(sorted, func(a, b string) int { return cmp.Compare(field(a, by), field(b, by)) })
		orders[by] = sorted
	}
	inputs := map[string]string{}
	for name, ls := range orders {
		inputs[name] = filepath.Join(t.TempDir(), name+".ndjson")
		if err := os.WriteFile(inputs[name], []byte(strings.Join(ls, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := openDuckDB(t)
	for _, partition := range []string{"day", "month"} {
		t.Run(partition, func(t *testing.T) {
			var want map[string][][]string
			var wantFiles map[string]string
			for _, name := range []string{"created_at", "random", "updated_at"} {
				out := t.TempDir()
				log := convertRunEnv(t, map[string]string{"INTERCOM_EXPORT_MEMORY_BUDGET": "80000"},
					"--out", out, "--partition", partition, "--log-level", "debug", inputs[name])
				if spills := strings.Count(log, "spilling buffered rows"); spills < 40 {
					t.Errorf("%s order: %d spills, want enough to merge runs before the commit (over 32)", name, spills)
				}
				verifyOutput(t, out)
				got := snapshot(t, db, out, nil)
				files := dataFiles(t, db, out)
				if want == nil {
					want, wantFiles = got, files
					if len(got["conversations"]) != 120 {
						t.Fatalf("%d conversations converted, want 120", len(got["conversations"]))
					}
					continue
				}
				for table := range want {
					if !reflect.DeepEqual(got[table], want[table]) {
						t.Errorf("%s order: %s differs from the created_at order's (%d rows against %d)", name, table, len(got[table]), len(want[table]))
					}
				}
				if !maps.Equal(files, wantFiles) {
					t.Errorf("%s order: the Parquet files differ from the created_at order's (%d against %d)", name, len(files), len(wantFiles))
				}
			}
		})
	}
}

// dataFiles maps each published Parquet file (relative path) to its content.
// dataFiles returns each data file's rows in file order, without the lineage columns (which name the
// run): two runs that wrote the same files, row for row, give the same map.
func dataFiles(t *testing.T, db *sql.DB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"conversations", "conversation_parts", "conversation_tags", "conversation_ratings"} {
		paths, _ := filepath.Glob(filepath.Join(dir, table, "*", "*.parquet"))
		for _, p := range paths {
			rows := query(t, db, fmt.Sprintf("SELECT * EXCLUDE (file_row_number, %s) FROM read_parquet('%s', file_row_number = true) ORDER BY file_row_number",
				lineageColumns(table), p))
			rel, _ := filepath.Rel(dir, p)
			out[rel] = fmt.Sprint(rows)
		}
	}
	return out
}

// The DuckDB DDL of `schema` reads a folder of either layout: every view counts the table's rows, and
// created_date filters the same rows as the partition column.
func TestSchemaDDLReadsBothLayouts(t *testing.T) {
	t.Parallel()
	input := dump(t, intercomtest.NewWorkspace(44, 80), "2.16")
	db := openDuckDB(t)
	for _, partition := range []string{"day", "month"} {
		t.Run(partition, func(t *testing.T) {
			out := t.TempDir()
			convertRun(t, exitOK, "--out", out, "--partition", partition, input)
			var ddl, e bytes.Buffer
			if code := run(context.Background(), []string{"schema", "--format", "duckdb", "--partition", partition, "--dir", out},
				func(string) string { return "" }, &ddl, &e); code != exitOK {
				t.Fatalf("schema exited %d: %s", code, e.String())
			}
			for _, stmt := range strings.Split(ddl.String(), ";\n") {
				if strings.TrimSpace(stripComments(stmt)) != "" {
					if _, err := db.Exec(stmt); err != nil {
						t.Fatalf("%v\n%s", err, stmt)
					}
				}
			}
			for _, name := range []string{"conversations", "conversation_parts", "conversation_tags", "conversation_ratings"} {
				if got, want := scalar(t, db, "SELECT count(*) FROM "+name), scalar(t, db, "SELECT count(*) FROM "+table(out, name)); got != want || got == "0" {
					t.Errorf("view %s counts %s rows, the files hold %s", name, got, want)
				}
			}
			key := "strftime(created_date, '%Y-%m') = month"
			if partition == "day" {
				key = "created_date = date"
			}
			if got := scalar(t, db, "SELECT count(*) FILTER (WHERE NOT ("+key+")) FROM conversation_parts"); got != "0" {
				t.Errorf("%s parts whose created_date disagrees with their partition", got)
			}
		})
	}
}
