package load_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// Every column chunk names its column: parquet-go's GenericWriter.Reset cleared the paths of the
// writers the loader reused, so that all but a run's first files said path_in_schema "" (readers
// that look columns up by path find none). CheckFile checks it too.
func TestWriterReuseKeepsColumnPaths(t *testing.T) {
	dir := t.TempDir()
	var recs []schemas.Record
	for i := range 30 {
		recs = append(recs, record(fmt.Sprint(i), day1+schemas.Date(i%10), 2, []string{"a"}, true, ""))
	}
	commit(t, dir, recs)
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*", load.DataFile))
	if len(paths) < 4 {
		t.Fatalf("%d files, want one per table and partition", len(paths))
	}
	for _, p := range paths {
		f := openParquet(t, p)
		leaves := f.Schema().Columns()
		for _, rg := range f.Metadata().RowGroups {
			for j, c := range rg.Columns {
				if got, want := fmt.Sprint(c.MetaData.PathInSchema), fmt.Sprint(leaves[j]); got != want {
					t.Fatalf("%s: column %d has path_in_schema %s, want %s", p, j, got, want)
				}
			}
		}
		table := filepath.Base(filepath.Dir(filepath.Dir(p)))
		if err := load.CheckFile(p, table, -1); err != nil {
			t.Errorf("CheckFile: %v", err)
		}
	}
}
