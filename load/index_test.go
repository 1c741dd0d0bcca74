package load_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// openLogged opens a Dataset whose log the test reads.
func openLogged(t *testing.T, dir string) (*load.Dataset, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	d, err := load.OpenDataset(dir, zerolog.New(&log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, &log
}

func heldOf(recs ...schemas.Record) map[string]load.Held {
	out := map[string]load.Held{}
	for _, r := range recs {
		out[r.ID()] = load.Held{UpdatedAt: r.Conversation.UpdatedAt.Unix(), Date: r.Date}
	}
	return out
}

func mustIndex(t *testing.T, d *load.Dataset) map[string]load.Held {
	t.Helper()
	held, err := d.Index()
	if err != nil {
		t.Fatal(err)
	}
	return held
}

const rebuiltMsg = "rebuilt the folder's index"

// The index is written with the data and read back on open without reading the data; when it is
// missing or does not match the conversations files it is rebuilt from them, and verify tells when it
// disagrees.
func TestIndexFollowsTheData(t *testing.T) {
	dir := t.TempDir()
	a, b, c := record("a", day1, 1, nil, false, ""), record("b", day2, 2, []string{"x"}, true, ""), record("c", day2, 0, nil, false, "")
	d, _ := openLogged(t, dir)
	if held := mustIndex(t, d); len(held) != 0 {
		t.Fatalf("an empty folder holds %v", held)
	}
	if _, err := commitRun(t, d, 1, []schemas.Record{a, b, c}, nil); err != nil {
		t.Fatal(err)
	}
	b2 := record("b", day3, 1, nil, false, "v2") // moved to another day
	if _, err := commitRun(t, d, 2, []schemas.Record{b2}, map[string]schemas.Date{"b": day2, "c": day2}); err != nil {
		t.Fatal(err)
	}
	want := heldOf(a, b2)
	if got := mustIndex(t, d); !maps.Equal(got, want) {
		t.Errorf("index after two commits %v, want %v", got, want)
	}
	d.Close()

	d, log := openLogged(t, dir)
	if got := mustIndex(t, d); !maps.Equal(got, want) {
		t.Errorf("index read on open %v, want %v", got, want)
	}
	if strings.Contains(log.String(), rebuiltMsg) {
		t.Errorf("a consistent index was rebuilt: %s", log)
	}
	if rep, err := load.VerifyDir(dir); err != nil {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	d.Close()
	index := filepath.Join(dir, load.StateDir, "index")
	saved, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		damage func(t *testing.T)
		want   map[string]load.Held
	}{
		{"missing", func(t *testing.T) { os.Remove(index) }, want},
		{"corrupt", func(t *testing.T) { os.WriteFile(index, saved[:len(saved)-3], 0o644) }, want},
		{"a partition removed behind its back", func(t *testing.T) {
			os.RemoveAll(filepath.Join(dir, schemas.TableConversations, partDir(day3)))
		}, heldOf(a)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t)
			d, log := openLogged(t, dir)
			if got := mustIndex(t, d); !maps.Equal(got, tc.want) {
				t.Errorf("index %v, want %v", got, tc.want)
			}
			if !strings.Contains(log.String(), rebuiltMsg) {
				t.Errorf("not rebuilt: %s", log)
			}
			// The next commit writes the rebuilt index.
			if _, err := commitRun(t, d, 3, nil, nil); err != nil {
				t.Fatal(err)
			}
			d.Close()
			d, log = openLogged(t, dir)
			if got := mustIndex(t, d); !maps.Equal(got, tc.want) || strings.Contains(log.String(), rebuiltMsg) {
				t.Errorf("after a commit: index %v (want %v), log %s", got, tc.want, log)
			}
			d.Close()
		})
	}

	// An index that lists what the files no longer hold: verify reads the data and says so.
	os.WriteFile(index, saved, 0o644)
	rep, err := load.VerifyDir(dir)
	if err == nil || !strings.Contains(rep.Err().Error(), "index") {
		t.Errorf("verify of a stale index: %v", err)
	}
}

// A folder keeps the layout of its first run: a run with the other one is refused, saying how to
// re-lay it out, before anything is written.
func TestAnotherPartitioningIsRefused(t *testing.T) {
	dir := t.TempDir()
	d := openDataset(t, dir)
	if _, err := commitRun(t, d, 1, []schemas.Record{record("a", day1, 1, nil, false, "")}, nil); err != nil {
		t.Fatal(err)
	}
	other := schemas.ByMonth
	if partitioning == schemas.ByMonth {
		other = schemas.ByDay
	}
	_, err := d.NewWriter(load.Config{Partition: other})
	if !errors.Is(err, load.ErrLayout) || !strings.Contains(err.Error(), "partitioned by "+string(partitioning)) || !strings.Contains(err.Error(), "new folder") {
		t.Fatalf("NewWriter by %s on a folder by %s: %v", other, partitioning, err)
	}
	d.Close()
	// The same with the index gone: the folder names tell.
	os.Remove(filepath.Join(dir, load.StateDir, "index"))
	d = openDataset(t, dir)
	if _, err := d.NewWriter(load.Config{Partition: other}); err == nil {
		t.Fatalf("NewWriter by %s on a folder by %s without an index succeeded", other, partitioning)
	}
}
