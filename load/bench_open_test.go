package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// BenchmarkOpenDataset opens a folder of 10,000 conversations over 730 daily partitions and reads what
// it holds, as every run starts: from the index, and (rescan) from the conversations files, as it must
// when the index is missing.
func BenchmarkOpenDataset(b *testing.B) {
	dir := b.TempDir()
	d, err := load.OpenDataset(dir, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	w, err := d.NewWriter(load.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		if err := w.Add(record(fmt.Sprintf("%d", 1_000_000+i), day1+schemas.Date(i%730), 1, nil, false, "")); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := d.Commit(context.Background(), w, &load.Manifest{}, nil); err != nil {
		b.Fatal(err)
	}
	d.Close()
	index := filepath.Join(dir, load.StateDir, "index")
	saved, err := os.ReadFile(index)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		damaged bool
	}{{"index", false}, {"rescan", true}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				if tc.damaged {
					os.Remove(index)
				} else {
					os.WriteFile(index, saved, 0o644)
				}
				b.StartTimer()
				d, err := load.OpenDataset(dir, zerolog.Nop())
				if err != nil {
					b.Fatal(err)
				}
				held, err := d.Index()
				if err != nil || len(held) != 10_000 {
					b.Fatalf("%d held, %v", len(held), err)
				}
				d.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
		})
	}
	os.WriteFile(index, saved, 0o644)
}
