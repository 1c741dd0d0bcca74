package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// A folder partitioned by month takes upserts and deletions like a daily one: after an incremental
// run it holds what a fresh full export by month holds, one file per table and month, and a run with
// --partition day on it is refused before it asks the API anything.
func TestMonthlyFolderUpsertsAndDeletes(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(26, 300)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	month := []string{"--partition", "month"}
	exportRun(t, srv, out, exitOK, month...)

	now := time.Now().Unix()
	changeSome(t, ws, 12, now)
	addSome(ws, 5, now)
	victim := ws.Conversations()[40].ID
	ws.Delete(victim, now)
	exportRun(t, srv, out, exitOK, month...)

	db := openDuckDB(t)
	requireSameAsFreshExport(t, db, srv, out, month...)
	if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE conversation_id = '%s'", table(out, "conversation_parts"), victim)); got != "0" {
		t.Errorf("the deleted conversation still has %s parts", got)
	}
	for _, name := range []string{"conversations", "conversation_parts"} {
		folders, _ := filepath.Glob(filepath.Join(out, name, "*"))
		for _, f := range folders {
			if !strings.HasPrefix(filepath.Base(f), "month=") {
				t.Errorf("%s in a monthly folder", f)
			}
			if files, _ := filepath.Glob(filepath.Join(f, "*.parquet")); len(files) != 1 {
				t.Errorf("%s holds %d files, want 1", f, len(files))
			}
		}
	}
	if got := scalar(t, db, "SELECT count(*) FILTER (WHERE strftime(created_date, '%Y-%m') <> month) FROM "+table(out, "conversations")); got != "0" {
		t.Errorf("%s conversations whose created_date is not in their month", got)
	}

	before := srv.Stats().Requests
	_, stderr := exportRun(t, srv, out, exitUsage)
	if !strings.Contains(stderr, "partitioned by month") || !strings.Contains(stderr, "--partition month") {
		t.Errorf("a daily run on a monthly folder: %s", tail(stderr, 1000))
	}
	if after := srv.Stats().Requests; after != before {
		t.Errorf("the refused run made %d API requests", after-before)
	}
	if _, err := os.Stat(filepath.Join(out, "conversations")); err != nil {
		t.Fatal(err)
	}
}
