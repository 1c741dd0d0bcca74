package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// Every row carries the run that wrote it (conversations also the time); an incremental run changes
// them on the rows of the conversations it rewrote and on no other.
func TestLineageChangesOnlyOnRewrittenRows(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(143, 30)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	first := readManifest(t, out).RunID
	db := openDuckDB(t)
	tables := []string{"conversations", "conversation_parts", "conversation_tags", "conversation_ratings"}
	for _, tbl := range tables {
		if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FILTER (run_id IS DISTINCT FROM '%s') FROM %s", first, table(out, tbl))); got != "0" {
			t.Errorf("%s: %s rows without the first run's id", tbl, got)
		}
	}
	stamps := func() map[string]string {
		m := map[string]string{}
		for _, r := range query(t, db, "SELECT conversation_id, run_id, exported_at FROM "+table(out, "conversations")) {
			m[r[0]] = r[1] + " " + r[2]
		}
		return m
	}
	before := stamps()

	changed := changeSome(t, ws, 3, time.Now().Unix())
	exportRun(t, srv, out, exitOK)
	second := readManifest(t, out).RunID
	after := stamps()
	isChanged := map[string]bool{}
	for _, id := range changed {
		isChanged[id] = true
	}
	for id, stamp := range after {
		switch {
		case isChanged[id] && (!strings.HasPrefix(stamp, second+" ") || !later(t, stamp, before[id])):
			t.Errorf("rewritten %s: %s, was %s; want run %s, later", id, stamp, before[id], second)
		case !isChanged[id] && stamp != before[id]:
			t.Errorf("untouched %s: %s, was %s", id, stamp, before[id])
		}
	}
	list := "'" + strings.Join(changed, "','") + "'"
	for _, tbl := range tables {
		q := fmt.Sprintf(`SELECT count(*) FILTER (conversation_id IN (%[1]s) AND run_id IS DISTINCT FROM '%[2]s')
			+ count(*) FILTER (conversation_id NOT IN (%[1]s) AND run_id IS DISTINCT FROM '%[3]s') FROM %[4]s`, list, second, first, table(out, tbl))
		if got := scalar(t, db, q); got != "0" {
			t.Errorf("%s: %s rows with the wrong run id", tbl, got)
		}
	}
}

// later reports whether the exported_at of stamp ("run_id exported_at") is after that of was.
func later(t *testing.T, stamp, was string) bool {
	t.Helper()
	parse := func(s string) time.Time {
		f := strings.Fields(s)
		at, err := time.Parse(time.RFC3339Nano, f[len(f)-1])
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	return parse(stamp).After(parse(was))
}
