package load_test

import (
	"context"
	"testing"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// CommitProgress counts, from zero at each Commit, the partitions written of every partition an Add
// or Delete named, and the files written; by the time the files are checked, all are written.
func TestCommitProgressCountsPartitionsAndFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	commit(t, dir, []schemas.Record{record("gone", day1, 1, nil, false, "")})

	type progress struct{ partitions, total, files int64 }
	var atCheck progress
	var w *load.Writer
	w = newWriter(t, dir, func(c *load.Config) {
		c.BeforePublish = func([]load.File) error {
			atCheck.partitions, atCheck.total, atCheck.files = w.CommitProgress()
			return nil
		}
	})
	defer w.Abort()
	if p, total, f := w.CommitProgress(); p != 0 || total != 0 || f != 0 {
		t.Errorf("before Commit: %d/%d partitions, %d files; want zeros", p, total, f)
	}
	// day2: conversations, parts, tags and ratings; day3: conversations and parts, and empty tags and
	// ratings files; day1: only a delete, which writes no file (the partition becomes empty).
	for _, r := range []schemas.Record{record("a", day2, 2, []string{"t"}, true, ""), record("b", day3, 1, nil, false, "")} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Delete("gone", day1)
	if _, err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := progress{3, 3, 8}
	if atCheck != want {
		t.Errorf("when the files are checked: %d/%d partitions, %d files; want %d/%d, %d", atCheck.partitions, atCheck.total, atCheck.files, want.partitions, want.total, want.files)
	}
}
