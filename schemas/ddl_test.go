package schemas_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/schemas"
)

// ddlDatasets are the datasets the golden files are rendered with; BigQuery needs one.
var ddlDatasets = map[string]string{
	"duckdb":    "",
	"bigquery":  "my-project.intercom",
	"snowflake": "ANALYTICS.INTERCOM",
	"athena":    "intercom",
}

func ddlFor(format, dir string, p schemas.Partitioning) (string, error) {
	return schemas.DDLWith(format, schemas.DDLOptions{Dir: dir, Partition: p, Dataset: ddlDatasets[format]})
}

// ddlDirs are the locations the golden files are rendered with, one the engine would take.
var ddlDirs = map[string]string{
	"duckdb":    "/data/intercom",
	"bigquery":  "gs://BUCKET/intercom",
	"snowflake": "@STAGE/intercom",
	"athena":    "s3://BUCKET/intercom",
	"markdown":  "",
}

// The DDL of every format is pinned in testdata/schema/ddl.<format>.golden; -update rewrites them (and
// the README's column reference, whose test shares the flag).
func TestDDLGolden(t *testing.T) {
	for _, p := range schemas.Partitionings {
		for _, format := range schemas.Formats {
			name, suffix := format, ""
			if p != schemas.ByDay {
				name, suffix = format+"/"+string(p), "."+string(p)
			}
			t.Run(name, func(t *testing.T) {
				got, err := ddlFor(format, ddlDirs[format], p)
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("..", "testdata", "schema", "ddl."+format+suffix+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./schemas -update)", err)
				}
				if got != string(want) {
					t.Errorf("DDL for %s differs from %s: run go test ./schemas -update and review the diff", name, golden)
				}
			})
		}
	}
}

// sections splits a DDL into its tables' parts, by the line that opens each.
func sections(t *testing.T, format, ddl string) map[string]string {
	t.Helper()
	marker := "\n-- "
	if format == "markdown" {
		marker = "### "
	}
	out := map[string]string{}
	tables := schemas.Tables()
	for i, tbl := range tables {
		start := strings.Index(ddl, marker+tbl.Name+"\n")
		if start < 0 {
			t.Fatalf("%s: no section for %s", format, tbl.Name)
		}
		end := len(ddl)
		if i+1 < len(tables) {
			end = strings.Index(ddl, marker+tables[i+1].Name+"\n")
		}
		if end < start {
			t.Fatalf("%s: sections out of order", format)
		}
		out[tbl.Name] = ddl[start:end]
	}
	return out
}

func TestDDLNamesEveryColumn(t *testing.T) {
	for _, p := range schemas.Partitionings {
		for _, format := range schemas.Formats {
			ddl, err := ddlFor(format, ddlDirs[format], p)
			if err != nil {
				t.Fatal(err)
			}
			secs := sections(t, format, ddl)
			for _, tbl := range schemas.Tables() {
				cols := tbl.Columns
				if p == schemas.ByMonth && tbl.Partitioned {
					cols = append(cols[:len(cols)-1:len(cols)-1], schemas.MonthPartitionColumn)
					if strings.Contains(secs[tbl.Name], "date=") {
						t.Errorf("%s by month: %s names date= folders", format, tbl.Name)
					}
				}
				for _, c := range cols {
					re := regexp.MustCompile("[`\"\\s(,|]" + regexp.QuoteMeta(c.Name) + "[`\"\\s,:|]")
					if !re.MatchString(secs[tbl.Name]) {
						t.Errorf("%s by %s: %s.%s is missing", format, p, tbl.Name, c.Name)
					}
				}
			}
		}
	}
}

func TestDDLRejectsUnknownFormatsAndEmptyDir(t *testing.T) {
	if _, err := schemas.DDL("oracle", "DIR"); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := schemas.DDL("duckdb", ""); err == nil {
		t.Error("empty dir accepted")
	}
	ddl, err := schemas.DDL("duckdb", "/it's/here/")
	if err != nil || !strings.Contains(ddl, "'/it''s/here/conversations/*/*.parquet'") {
		t.Errorf("quoting or trailing slash: %v\n%s", err, ddl)
	}
}

// Tools split scripts into statements on ";": every one in the DDL ends a statement, at the end of a
// line that is not a comment.
func TestDDLSemicolonsEndStatements(t *testing.T) {
	for _, p := range schemas.Partitionings {
		for _, format := range schemas.Formats {
			if format == "markdown" {
				continue
			}
			ddl, err := ddlFor(format, ddlDirs[format], p)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(ddl, "\n") {
				n := strings.Count(line, ";")
				if n > 1 || n == 1 && (!strings.HasSuffix(line, ";") || strings.HasPrefix(strings.TrimSpace(line), "--")) {
					t.Errorf("%s by %s, line %d: a ; inside a statement or a comment: %s", format, p, i+1, line)
				}
			}
		}
	}
}

// Snowflake transforms in a COPY only from a stage: a bucket's URL gets a stage to create over it, under
// the name the COPYs read, and a local folder is refused.
func TestDDLSnowflakeReadsFromAStage(t *testing.T) {
	for dir, url := range map[string]string{"gs://b/p": "'gcs://b/p/'", "s3://b/p/": "'s3://b/p/'", "azure://acct.blob.core.windows.net/c": "'azure://acct.blob.core.windows.net/c/'"} {
		ddl, err := ddlFor("snowflake", dir, schemas.ByDay)
		if err != nil {
			t.Fatal(err)
		}
		if want := "-- CREATE STAGE IF NOT EXISTS ANALYTICS.INTERCOM.intercom_export URL = " + url + " "; !strings.Contains(ddl, want) {
			t.Errorf("%s: no %q in\n%s", dir, want, ddl)
		}
		if got := strings.Count(ddl, "FROM @ANALYTICS.INTERCOM.intercom_export/"); got != len(schemas.Tables()) {
			t.Errorf("%s: %d COPYs read the stage, want %d", dir, got, len(schemas.Tables()))
		}
		if strings.Contains(ddl, "FROM '") {
			t.Errorf("%s: a COPY reads a URL", dir)
		}
	}
	ddl, err := ddlFor("snowflake", "@STAGE/intercom", schemas.ByDay)
	if err != nil || strings.Contains(ddl, "CREATE STAGE") || !strings.Contains(ddl, "FROM @STAGE/intercom/conversations/)") {
		t.Errorf("a stage --dir: %v\n%s", err, ddl)
	}
	if _, err := ddlFor("snowflake", "/data/intercom", schemas.ByDay); err == nil || !strings.Contains(err.Error(), "@stage/prefix") {
		t.Errorf("a local folder for snowflake: %v", err)
	}
}

func TestDDLDataset(t *testing.T) {
	if _, err := schemas.DDL("bigquery", "gs://b/i"); err == nil || !strings.Contains(err.Error(), "--dataset") {
		t.Errorf("bigquery without a dataset: %v", err)
	}
	for _, bad := range []string{"a;b", "a.b.c", "x y", "1st", "a-b"} {
		if _, err := schemas.DDLWith("duckdb", schemas.DDLOptions{Dir: "d", Dataset: bad}); err == nil {
			t.Errorf("dataset %q accepted for duckdb", bad)
		}
	}
	for format, want := range map[string]string{
		"duckdb":    "USE \"intercom\";",
		"bigquery":  "CREATE OR REPLACE VIEW `my-project.intercom.conversations`",
		"snowflake": "CREATE TABLE IF NOT EXISTS ANALYTICS.INTERCOM.conversations (",
		"athena":    "CREATE EXTERNAL TABLE IF NOT EXISTS `intercom`.`conversations` (",
	} {
		ds := map[string]string{"duckdb": "intercom", "bigquery": "my-project.intercom", "snowflake": "ANALYTICS.INTERCOM", "athena": "intercom"}[format]
		dir := map[string]string{"snowflake": "@d"}[format]
		if dir == "" {
			dir = "d"
		}
		ddl, err := schemas.DDLWith(format, schemas.DDLOptions{Dir: dir, Dataset: ds})
		if err != nil || !strings.Contains(ddl, want) {
			t.Errorf("%s with dataset %s: %v, lacks %q", format, ds, err, want)
		}
	}
}
