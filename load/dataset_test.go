package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

func openDataset(t *testing.T, dir string) *load.Dataset {
	t.Helper()
	d, err := load.OpenDataset(dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// commitRun publishes recs (and deletes) through a Dataset, as a run does.
func commitRun(t *testing.T, d *load.Dataset, bookmark int64, recs []schemas.Record, deletes map[string]schemas.Date) (load.Result, error) {
	t.Helper()
	w, err := d.NewWriter(load.Config{Partition: partitioning})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		mustAdd(t, w, r)
	}
	for id, date := range deletes {
		w.Delete(id, date)
	}
	m := &load.Manifest{Command: "test", Status: "success", BookmarkNew: bookmark}
	return d.Commit(context.Background(), w, m, &load.State{Bookmark: bookmark})
}

func TestLockKeepsASecondRunOut(t *testing.T) {
	dir := t.TempDir()
	first := openDataset(t, dir)
	_, err := load.OpenDataset(dir, zerolog.Nop())
	if !errors.Is(err, load.ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second open: %v, want ErrLocked naming the holder's pid", err)
	}
	first.Close()
	openDataset(t, dir).Close()
}

func TestCommitRecordsStateAndManifest(t *testing.T) {
	dir := t.TempDir()
	d := openDataset(t, dir)
	if _, ok, err := d.State(); ok || err != nil {
		t.Fatalf("fresh folder has state %v, %v", ok, err)
	}
	if _, err := commitRun(t, d, 1000, []schemas.Record{record("1", day1, 2, []string{"a"}, true, ""), record("2", day2, 1, nil, false, "")}, nil); err != nil {
		t.Fatal(err)
	}
	st, ok, err := d.State()
	if !ok || err != nil || st.Bookmark != 1000 || st.RunID == "" {
		t.Fatalf("state %+v, %v, %v", st, ok, err)
	}
	var m load.Manifest
	data, err := os.ReadFile(filepath.Join(dir, load.StateDir, "runs", st.RunID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	convs := m.Tables[schemas.TableConversations]
	if len(convs) != 2 || convs[0].Date != partitioning.Value(partitioning.Key(day1)) || convs[0].Added == nil || convs[0].Added.Rows != 1 || convs[0].Removed != nil {
		t.Errorf("manifest conversations: %+v", convs)
	}
	if _, err := os.Stat(filepath.Join(dir, load.StateDir, "journal.json")); !os.IsNotExist(err) {
		t.Errorf("journal left behind: %v", err)
	}

	// A second run replacing one conversation and deleting the other.
	if _, err := commitRun(t, d, 2000, []schemas.Record{record("1", day1, 3, nil, false, "v2")}, map[string]schemas.Date{"2": day2}); err != nil {
		t.Fatal(err)
	}
	st, _, _ = d.State()
	data, _ = os.ReadFile(filepath.Join(dir, load.StateDir, "runs", st.RunID+".json"))
	m = load.Manifest{}
	json.Unmarshal(data, &m)
	parts := m.Tables[schemas.TableConversationParts]
	if len(parts) != 2 || parts[0].Removed.Rows != 2 || parts[0].Added.Rows != 3 || parts[1].Added != nil || parts[1].Removed.Rows != 1 {
		t.Errorf("manifest parts after replace+delete: %+v", parts)
	}
	held, err := d.Index()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]load.Held{"1": {UpdatedAt: day1.Time().Add(3*60*60*1e9 + 60*1e9).Unix(), Date: day1}}
	if !reflect.DeepEqual(held, want) {
		t.Errorf("index %+v, want %+v", held, want)
	}
}

// dieAtCommitPoint stands for a process killed right after its journal became durable.
type dieAtCommitPoint struct{}

func TestJournalIsRolledForwardAfterACrash(t *testing.T) {
	base := []schemas.Record{record("1", day1, 2, []string{"a"}, true, ""), record("2", day2, 1, nil, false, "")}
	next := []schemas.Record{record("1", day1, 4, nil, false, "v2"), record("3", day3, 1, []string{"b"}, false, "")}

	// The reference: the same two runs without a crash.
	want := t.TempDir()
	ref := openDataset(t, want)
	commitRun(t, ref, 1, base, nil)
	commitRun(t, ref, 2, next, map[string]schemas.Date{"2": day2})

	dir := t.TempDir()
	d := openDataset(t, dir)
	commitRun(t, d, 1, base, nil)
	load.SetAfterJournal(d, func() { panic(dieAtCommitPoint{}) })
	func() {
		defer func() {
			if r := recover(); r != (dieAtCommitPoint{}) {
				t.Fatalf("recovered %v", r)
			}
		}()
		commitRun(t, d, 2, next, map[string]schemas.Date{"2": day2})
	}()
	d.Close()

	// The next run finds the journal and completes the dead run's publishing.
	again, log := openLogged(t, dir)
	st, _, _ := again.State()
	if st.Bookmark != 2 {
		t.Errorf("bookmark %d after roll-forward, want 2", st.Bookmark)
	}
	for _, day := range []schemas.Date{day1, day2, day3} {
		if got, want := readState(t, dir, day), readState(t, want, day); !reflect.DeepEqual(got, want) {
			t.Errorf("%s after roll-forward differs from a clean run:\n got %+v\nwant %+v", day, got, want)
		}
	}
	// The index was published with the files: read, not rebuilt.
	if got, want := mustIndex(t, again), mustIndex(t, ref); !reflect.DeepEqual(got, want) {
		t.Errorf("index after roll-forward %v, want %v", got, want)
	}
	if strings.Contains(log.String(), rebuiltMsg) {
		t.Errorf("the index was rebuilt after the roll-forward: %s", log)
	}
	if rep, err := load.VerifyDir(dir); err != nil {
		t.Errorf("verify after roll-forward: %v %v", err, rep.Problems)
	}
	checkClean(t, dir)
}

func TestDeadRunsLeftoversAreRemoved(t *testing.T) {
	dir := t.TempDir()
	d := openDataset(t, dir)
	commitRun(t, d, 1, []schemas.Record{record("1", day1, 1, nil, false, "")}, nil)
	before := snapshot(t, dir)
	d.SetVerify(func([]load.File) error { return errors.New("refused") })
	if _, err := commitRun(t, d, 2, []schemas.Record{record("1", day1, 5, nil, false, "x")}, nil); err == nil {
		t.Fatal("a refused verify did not fail the commit")
	}
	d.Close()
	// What a killed run leaves before its commit point: temporary files and staging.
	tmp := filepath.Join(dir, schemas.TableConversations, partDir(day1), ".data.parquet.deadrun.tmp")
	os.WriteFile(tmp, []byte("half a file"), 0o644)
	os.MkdirAll(filepath.Join(dir, load.StateDir, "staging", "deadrun"), 0o755)

	openDataset(t, dir)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file of a dead run survives: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, load.StateDir, "staging", "deadrun")); !os.IsNotExist(err) {
		t.Errorf("staging of a dead run survives: %v", err)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
		t.Error("the published files changed")
	}
}

// A partition the index does not hold is not read before it is written: the second commit of one
// Dataset (a run's next checkpoint segment) must see the partition the first created, or it would write
// it afresh without the first one's rows.
func TestASecondCommitKeepsThePartitionTheFirstCreated(t *testing.T) {
	dir := t.TempDir()
	d := openDataset(t, dir)
	first := []schemas.Record{record("1", day1, 2, []string{"a"}, true, ""), record("2", day2, 1, nil, false, "")}
	if _, err := commitRun(t, d, 1000, first, nil); err != nil {
		t.Fatal(err)
	}
	second := []schemas.Record{record("3", day1, 1, []string{"b"}, false, ""), record("4", day3, 1, nil, true, "")}
	if _, err := commitRun(t, d, 2000, second, nil); err != nil {
		t.Fatal(err)
	}
	checkState(t, dir, day1, expect(first[0], second[0]))
	checkState(t, dir, day2, expect(first[1]))
	checkState(t, dir, day3, expect(second[1]))
}
