package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

func verifyCmd(t *testing.T, args ...string) (err error, stdout string) {
	t.Helper()
	var o, e bytes.Buffer
	err = runVerify(context.Background(), args, func(string) string { return "" }, &o, &e)
	return err, o.String()
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// firstPartition returns a partition folder name that holds all four tables' files.
func firstPartition(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, schemas.TableConversationRatings))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ok := true
		for _, tbl := range load.Tables {
			if _, err := os.Stat(filepath.Join(dir, tbl, e.Name(), load.DataFile)); err != nil {
				ok = false
			}
		}
		if ok {
			return e.Name()
		}
	}
	t.Fatal("no partition with all four tables")
	return ""
}

func TestVerifyCommand(t *testing.T) {
	ws := intercomtest.NewWorkspace(5, 120)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)

	err, stdout := verifyCmd(t, out)
	if err != nil || !strings.Contains(stdout, "; 0 problems") {
		t.Fatalf("verify of a fresh export: %v\n%s", err, stdout)
	}

	bad := t.TempDir()
	copyTree(t, out, bad)
	part := firstPartition(t, bad)
	// Truncated.
	truncated := filepath.Join(schemas.TableConversationParts, part, load.DataFile)
	b, err := os.ReadFile(filepath.Join(bad, truncated))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, truncated), b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	// Damaged at the start, where the first column chunk's first page is.
	damaged := filepath.Join(schemas.TableConversations, part, load.DataFile)
	b, err = os.ReadFile(filepath.Join(bad, damaged))
	if err != nil {
		t.Fatal(err)
	}
	for i := 8; i < 40; i++ {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(filepath.Join(bad, damaged), b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another table's file.
	wrong := filepath.Join(schemas.TableConversationTags, part, load.DataFile)
	b, err = os.ReadFile(filepath.Join(bad, filepath.Join(schemas.TableConversationRatings, part, load.DataFile)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, wrong), b, 0o644); err != nil {
		t.Fatal(err)
	}

	err, stdout = verifyCmd(t, bad)
	if err == nil || exitCode(err, io.Discard, "console") != exitFailure {
		t.Fatalf("verify of a damaged copy: %v", err)
	}
	for _, f := range []string{truncated, damaged, wrong} {
		if !strings.Contains(stdout, "BAD "+filepath.ToSlash(f)+": ") {
			t.Errorf("the report does not name %s:\n%s", f, stdout)
		}
	}
	if !strings.Contains(stdout, "; 3 problems") {
		t.Errorf("want 3 problems:\n%s", stdout)
	}
}

func TestVerifyCommandUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"a", "b"}, {"--nope", "a"}, {filepath.Join(t.TempDir(), "missing")}} {
		err, _ := verifyCmd(t, args...)
		if !errors.Is(err, errUsage) || exitCode(err, io.Discard, "console") != exitUsage {
			t.Errorf("verify %q: %v, want a usage error", args, err)
		}
	}
	if err, _ := verifyCmd(t, "-h"); exitCode(err, io.Discard, "console") != exitOK {
		t.Errorf("verify -h: %v", err)
	}
}

func schemaCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var o bytes.Buffer
	err := runSchema(context.Background(), args, func(string) string { return "" }, &o, io.Discard)
	return o.String(), err
}

func TestSchemaCommand(t *testing.T) {
	got, err := schemaCmd(t)
	if err != nil || got != schemas.Markdown() {
		t.Errorf("schema without flags is not the markdown reference: %v", err)
	}
	for _, format := range schemas.Formats {
		want, err := schemas.DDLWith(format, schemas.DDLOptions{Dir: "gs://b/p", Dataset: "ds"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := schemaCmd(t, "--format", format, "--dir", "gs://b/p", "--dataset", "ds"); err != nil || got != want {
			t.Errorf("--format %s: %v", format, err)
		}
	}
	for _, args := range [][]string{{"--format", "oracle"}, {"--dir", "", "--format", "duckdb"}, {"extra"},
		{"--format", "bigquery", "--dir", "gs://b/p"}, {"--format", "duckdb", "--dataset", "a;b"}} {
		if _, err := schemaCmd(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("schema %q: %v, want a usage error", args, err)
		}
	}
}

// The DuckDB views `schema` prints run as printed over a real export, and give the documented types.
func TestSchemaDuckDBViewsRunOnAnExport(t *testing.T) {
	ws := intercomtest.NewWorkspace(9, 80)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	ddl, err := schemaCmd(t, "--format", "duckdb", "--dir", out)
	if err != nil {
		t.Fatal(err)
	}
	db := openDuckDB(t)
	if _, err := db.Exec(ddl); err != nil {
		t.Fatalf("%v\n%s", err, ddl)
	}
	rep, err := load.VerifyDir(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, f := range rep.Files {
		rows[f.Table] += f.Rows
	}
	for _, tbl := range schemas.Tables() {
		if got := scalar(t, db, "SELECT count(*) FROM "+tbl.Name); got != itoa(rows[tbl.Name]) {
			t.Errorf("%s: the view has %s rows, the files %d", tbl.Name, got, rows[tbl.Name])
		}
		desc := query(t, db, "SELECT column_name, column_type FROM (DESCRIBE "+tbl.Name+")")
		if len(desc) != len(tbl.Columns) {
			t.Fatalf("%s: the view has %d columns, the reference %d", tbl.Name, len(desc), len(tbl.Columns))
		}
		for i, c := range tbl.Columns {
			// DuckDB quotes struct field names that are keywords; the reference does not.
			if got := strings.ReplaceAll(desc[i][1], `"`, ""); desc[i][0] != c.Name || got != c.Type {
				t.Errorf("%s column %d: DuckDB says %s %s, the reference %s %s", tbl.Name, i, desc[i][0], desc[i][1], c.Name, c.Type)
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
