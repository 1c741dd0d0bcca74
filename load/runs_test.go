package load_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// Whether the rows stay in memory or go through one run file each, the files hold the same rows and
// the result counts them the same, also with one fsync per file as where syncfs is missing.
func TestRunsGiveTheSameFiles(t *testing.T) {
	var recs []schemas.Record
	byDay := map[schemas.Date][]schemas.Record{}
	for i := range 12 {
		d := day1 + schemas.Date(i%6)
		r := record(fmt.Sprintf("c%02d", i), d, i%4, []string{"t" + fmt.Sprint(i%3)}, i%2 == 0, "")
		recs = append(recs, r)
		byDay[d] = append(byDay[d], r)
	}
	for _, tc := range []struct {
		budget   int64
		syncEach bool
	}{{1 << 30, false}, {1, false}, {1, true}} {
		t.Run(fmt.Sprint(tc.budget, tc.syncEach), func(t *testing.T) {
			dir := t.TempDir()
			// With a budget of 1 each record is a run of its own; the second pass gives half the
			// days a second run.
			w := newWriter(t, dir, func(c *load.Config) { c.MemoryBudget = tc.budget })
			defer w.Abort()
			if tc.syncEach {
				load.SyncEachFile(w)
			}
			for _, r := range recs[:6] {
				mustAdd(t, w, r)
			}
			for _, r := range recs[6:9] {
				mustAdd(t, w, r)
			}
			res, err := w.Commit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Conversations != 9 {
				t.Errorf("committed %d conversations, want 9", res.Conversations)
			}
			checkClean(t, dir)
			for d, rs := range byDay {
				var want []schemas.Record
				for _, r := range rs {
					if r.ID() < "c09" {
						want = append(want, r)
					}
				}
				checkState(t, dir, d, expect(want...))
			}
			if rep, err := load.VerifyDir(dir); err != nil {
				t.Fatalf("%v: %v", err, rep.Problems)
			}
		})
	}
}

// A failed Commit leaves the runs in place: the retry publishes the same files.
func TestCommitRetryKeepsRuns(t *testing.T) {
	dir := t.TempDir()
	fail := true
	w := newWriter(t, dir, func(c *load.Config) {
		c.MemoryBudget = 1
		c.BeforePublish = func([]load.File) error {
			if fail {
				fail = false
				return fmt.Errorf("injected failure")
			}
			return nil
		}
	})
	defer w.Abort()
	var recs []schemas.Record
	for i := range 4 {
		r := record(fmt.Sprintf("c%d", i), day1+schemas.Date(i), 2, []string{"x"}, true, "")
		recs = append(recs, r)
		mustAdd(t, w, r)
	}
	if _, err := w.Commit(context.Background()); err == nil {
		t.Fatal("the injected failure did not fail the Commit")
	}
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	checkClean(t, dir)
	for _, r := range recs {
		checkState(t, dir, r.Date, expect(r))
	}
}
