package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

const testToken = "e2e-secret-token-5f2c"

// exportRun runs `intercom-export export` in-process against srv and fails the test unless it exits with want.
func exportRun(t *testing.T, srv *intercomtest.Server, out string, want int, extra ...string) (stdout, stderr string) {
	t.Helper()
	args := append([]string{"export", "--out", out, "--base-url", srv.URL, "--log-format", "json"}, extra...)
	var o, e bytes.Buffer
	getenv := func(k string) string {
		if k == "INTERCOM_ACCESS_TOKEN" {
			return testToken
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if code := run(ctx, args, getenv, &o, &e); code != want {
		t.Fatalf("export %v exited %d, want %d\nstdout:\n%s\nstderr (tail):\n%s", extra, code, want, o.String(), tail(e.String(), 3000))
	}
	verifyOutput(t, out)
	return o.String(), e.String()
}

// verifyOutput runs `verify`'s full check, Arrow reading every value back, on a folder a test produced.
func verifyOutput(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return
	}
	if _, err := load.VerifyDir(dir); err != nil {
		t.Fatalf("verify %s: %v", dir, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// table is the DuckDB expression reading one exported table the way the README tells analysts to.
func table(dir, name string) string {
	return fmt.Sprintf("read_parquet('%s', hive_partitioning = true)", filepath.Join(dir, name, "*", "*.parquet"))
}

// query returns every row as strings (NULL as "NULL"), in the query's order.
func query(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				row[i] = "NULL"
			case time.Time:
				row[i] = v.UTC().Format(time.RFC3339Nano)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func scalar(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows := query(t, db, q)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: want one value, got %v", q, rows)
	}
	return rows[0][0]
}

// snapshot reads all four tables in a fixed order, restricted to cols (all columns when nil).
func snapshot(t *testing.T, db *sql.DB, dir string, cols map[string]string) map[string][][]string {
	t.Helper()
	order := map[string]string{
		"conversations":        "conversation_id",
		"conversation_parts":   "conversation_id, part_id",
		"conversation_tags":    "conversation_id, tag_id",
		"conversation_ratings": "conversation_id",
	}
	snap := map[string][][]string{}
	for name, by := range order {
		sel := "* EXCLUDE (" + lineageColumns(name) + ")"
		if cols != nil {
			sel = cols[name]
		}
		snap[name] = query(t, db, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", sel, table(dir, name), by))
	}
	return snap
}

// lineageColumns are a table's columns that say which run wrote a row, and so differ between two runs
// that wrote the same data.
func lineageColumns(table string) string {
	switch table {
	case "conversations", "admins", "teams":
		return "run_id, exported_at"
	}
	return "run_id"
}

func TestExportEndToEnd(t *testing.T) {
	ws := intercomtest.NewWorkspace(7, 300)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	stdout, stderr := exportRun(t, srv, out, exitOK)
	if !strings.Contains(stdout, "conversations 300,") {
		t.Errorf("summary does not count 300 conversations:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, testToken) {
		t.Error("the token appears in the output")
	}

	db := openDuckDB(t)
	convs := ws.Conversations()
	wantIDs := make([]string, len(convs))
	wantParts, wantTags, wantRatings := 0, 0, 0
	for i, c := range convs {
		wantIDs[i] = c.ID
		wantParts += min(len(c.Parts), 500)
		wantTags += len(c.Tags)
		if c.Rating != nil && (c.Rating.Rating != nil || c.Rating.Remark != nil) {
			wantRatings++
		}
	}
	sort.Strings(wantIDs)
	var gotIDs []string
	for _, r := range query(t, db, "SELECT conversation_id FROM "+table(out, "conversations")+" ORDER BY conversation_id") {
		gotIDs = append(gotIDs, r[0])
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Fatalf("exported %d conversations, the workspace has %d (first got %v, first want %v)", len(gotIDs), len(wantIDs), gotIDs[:min(3, len(gotIDs))], wantIDs[:3])
	}
	for name, want := range map[string]int{"conversation_parts": wantParts, "conversation_tags": wantTags, "conversation_ratings": wantRatings} {
		if got := scalar(t, db, "SELECT count(*) FROM "+table(out, name)); got != fmt.Sprint(want) {
			t.Errorf("%s: %s rows, want %d", name, got, want)
		}
	}
	if got := scalar(t, db, "SELECT count(*) - count(DISTINCT conversation_id) FROM "+table(out, "conversations")); got != "0" {
		t.Errorf("%s duplicate conversation ids", got)
	}
	if got := scalar(t, db, "SELECT count(*) - count(DISTINCT (conversation_id, part_id)) FROM "+table(out, "conversation_parts")); got != "0" {
		t.Errorf("%s duplicate (conversation_id, part_id)", got)
	}
	// Every timestamp column: nothing after 2100 (sentinels became NULL).
	for name, cols := range map[string][]string{
		"conversations":        {"created_at", "updated_at", "waiting_since", "snoozed_until", "first_contact_reply_at"},
		"conversation_parts":   {"created_at", "updated_at", "notified_at"},
		"conversation_tags":    {"applied_at"},
		"conversation_ratings": {"created_at"},
	} {
		for _, col := range cols {
			if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s >= TIMESTAMPTZ '2100-01-01 00:00:00+00'", table(out, name), col)); got != "0" {
				t.Errorf("%s.%s: %s values after 2100", name, col, got)
			}
		}
	}
	// The public contract's types, as DuckDB sees them.
	wantTypes := map[string]map[string]string{
		"conversations": {"conversation_id": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE", "updated_at": "TIMESTAMP WITH TIME ZONE",
			"waiting_since": "TIMESTAMP WITH TIME ZONE", "snoozed_until": "TIMESTAMP WITH TIME ZONE", "state": "VARCHAR", "open": "BOOLEAN", "read": "BOOLEAN", "date": "DATE"},
		"conversation_parts": {"conversation_id": "VARCHAR", "part_id": "VARCHAR", "part_type": "VARCHAR", "body": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE",
			"author_type": "VARCHAR", "author_id": "VARCHAR", "date": "DATE"},
		"conversation_tags":    {"conversation_id": "VARCHAR", "tag_id": "VARCHAR", "tag_name": "VARCHAR", "date": "DATE"},
		"conversation_ratings": {"conversation_id": "VARCHAR", "rating": "INTEGER", "remark": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE", "date": "DATE"},
	}
	for name, want := range wantTypes {
		got := map[string]string{}
		for _, r := range query(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+table(out, name)+")") {
			got[r[0]] = r[1]
		}
		for col, typ := range want {
			if got[col] != typ {
				t.Errorf("%s.%s is %q, want %s", name, col, got[col], typ)
			}
		}
	}
	// A conversation's rows share its partition, the UTC day of created_at.
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")+" WHERE date <> CAST(CAST(created_at AS TIMESTAMP) AS DATE)"); got != "0" {
		t.Errorf("%s conversations outside the partition of their created_at", got)
	}
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversation_parts")+" p ANTI JOIN "+table(out, "conversations")+" c USING (conversation_id, date)"); got != "0" {
		t.Errorf("%s parts outside their conversation's partition", got)
	}
	// The long conversation: the API withheld its oldest parts, and the export says so.
	long := query(t, db, "SELECT parts_truncated, parts_total_count, parts_exported_count FROM "+table(out, "conversations")+" WHERE conversation_id = ?", ws.LongConversationID())
	if len(long) != 1 || !reflect.DeepEqual(long[0], []string{"true", "650", "500"}) {
		t.Errorf("long conversation: %v, want truncated 650/500", long)
	}
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")+" WHERE parts_truncated"); got != "1" {
		t.Errorf("%s truncated conversations, want only the 650-part one", got)
	}
}

func TestExportUnderFaultsEqualsCleanRun(t *testing.T) {
	ws := intercomtest.NewWorkspace(11, 200)
	clean := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer clean.Close()
	cleanOut := t.TempDir()
	exportRun(t, clean, cleanOut, exitOK)

	faulty := intercomtest.NewServer(ws, intercomtest.Options{
		Token:      testToken,
		RateLimit:  80,
		RateWindow: time.Second,
		// The limiter keeps within the tight limit on its own, so some 429s are forced: waiting them out
		// must lose nothing either.
		Faults: intercomtest.Faults{Seed: 3, ServerErrorRate: 0.10, CutRate: 0.03, TruncateRate: 0.03, RateLimitStormRate: 0.02},
	})
	defer faulty.Close()
	faultyOut := t.TempDir()
	stdout, _ := exportRun(t, faulty, faultyOut, exitOK, "--concurrency", "16", "--request-timeout", "5s")
	st := faulty.Stats()
	if st.Faults == 0 || st.RateLimited == 0 {
		t.Errorf("the faulty server injected %d faults and %d 429s: the test proves nothing", st.Faults, st.RateLimited)
	}
	t.Logf("faulty run: %s; server stats: %d requests, %d faults, %d rate limited", strings.TrimSpace(stdout), st.Requests, st.Faults, st.RateLimited)

	db := openDuckDB(t)
	want, got := snapshot(t, db, cleanOut, nil), snapshot(t, db, faultyOut, nil)
	for name := range want {
		if !reflect.DeepEqual(got[name], want[name]) {
			t.Errorf("%s: the faulty run's %d rows differ from the clean run's %d", name, len(got[name]), len(want[name]))
		}
	}
}

func TestExportAPIVersion1MatchesVersion2(t *testing.T) {
	ws := intercomtest.NewWorkspace(13, 150)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	v2, v1 := t.TempDir(), t.TempDir()
	exportRun(t, srv, v2, exitOK, "--api-version", "2.11")
	exportRun(t, srv, v1, exitOK, "--api-version", "1.4")

	// The columns both API generations carry alike. Left out: team_assignee_id (1.x has one assignee, the
	// admin when there is one), part_type (before 2.6 newer event types arrive as "comment") and the
	// rating's customer_type (1.x says user or lead, 2.x contact), message_type (2.x sends null where 1.x
	// says conversation_message).
	common := map[string]string{
		"conversations": `conversation_id, created_at, updated_at, waiting_since, snoozed_until, state, open, read,
			message_id, message_delivered_as, message_subject, message_body, message_url,
			message_author_type, message_author_id, admin_assignee_id,
			first_contact_reply_at, first_contact_reply_type, first_contact_reply_url,
			parts_total_count, parts_exported_count, parts_truncated, date`,
		"conversation_parts":   `conversation_id, part_id, body, created_at, updated_at, notified_at, assigned_to_id, author_type, author_id, external_id, date`,
		"conversation_tags":    `conversation_id, tag_id, tag_name, applied_at, applied_by_type, applied_by_id, date`,
		"conversation_ratings": `conversation_id, rating, remark, created_at, customer_id, teammate_type, teammate_id, date`,
	}
	db := openDuckDB(t)
	want, got := snapshot(t, db, v2, common), snapshot(t, db, v1, common)
	for name := range common {
		if len(want[name]) == 0 {
			t.Errorf("%s: the 2.x export is empty", name)
		}
		if !reflect.DeepEqual(got[name], want[name]) {
			for i := range min(len(got[name]), len(want[name])) {
				if !reflect.DeepEqual(got[name][i], want[name][i]) {
					t.Errorf("%s: row %d differs\n1.x: %v\n2.x: %v", name, i, got[name][i], want[name][i])
					break
				}
			}
			t.Errorf("%s: 1.x gives %d rows, 2.x %d", name, len(got[name]), len(want[name]))
		}
	}
}

func noLog() zerolog.Logger { return zerolog.Nop() }
