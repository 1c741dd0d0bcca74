package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// changeSome applies the changes the issue names to k conversations of ws, at time at: a new part, a
// tag removed, the state changed, a rating added. It returns their ids.
func changeSome(t *testing.T, ws *intercomtest.Workspace, k int, at int64) []string {
	t.Helper()
	var ids []string
	for i, c := range ws.Conversations() {
		if len(ids) == k {
			break
		}
		if i%7 == 0 && len(c.Parts) < intercomtest.PartsCap {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) != k {
		t.Fatalf("found %d conversations to change, want %d", len(ids), k)
	}
	change(ws, ids, at)
	return ids
}

// newPartSeq keeps added part ids unique when two changes land in the same second.
var newPartSeq atomic.Int64

// change changes each conversation in one of four ways, in turn.
func change(ws *intercomtest.Workspace, ids []string, at int64) {
	for n, id := range ids {
		ws.Update(id, at, func(c *intercomtest.Conversation) {
			switch n % 4 {
			case 0:
				c.Parts = append(c.Parts, intercomtest.Part{ID: fmt.Sprintf("%s-new-%d-%d", c.ID, at, newPartSeq.Add(1)), PartType: "comment",
					Body: "<p>a new reply</p>", CreatedAt: at, UpdatedAt: at, NotifiedAt: at,
					Author: intercomtest.Author{Type: "admin", ID: "814860", Name: "Ada", Email: "ada@example.com"}})
			case 1:
				if len(c.Tags) > 0 {
					c.Tags = c.Tags[1:]
				} else {
					c.Tags = []intercomtest.Tag{{ID: "77", Name: "vip", AppliedAt: at, AppliedBy: intercomtest.Author{Type: "admin", ID: "814860"}}}
				}
			case 2:
				if c.State == "closed" {
					c.State, c.Open = "open", true
				} else {
					c.State, c.Open = "closed", false
				}
			case 3:
				five := 5
				c.Rating = &intercomtest.Rating{Rating: &five, CreatedAt: at,
					Customer: intercomtest.Author{Type: "contact", ID: "c-1"}, Teammate: intercomtest.Author{Type: "admin", ID: "814860"}}
			}
		})
	}
}

// addSome adds m new conversations, copies of existing ones under new ids, created at at.
func addSome(ws *intercomtest.Workspace, m int, at int64) []string {
	convs := ws.Conversations()
	var ids []string
	for i := range m {
		c := convs[len(convs)-1-i]
		c.ID = ws.NewID()
		c.CreatedAt, c.UpdatedAt = at, at
		ws.Add(c)
		ids = append(ids, c.ID)
	}
	return ids
}

// requireSameAsFreshExport compares dir with a fresh full export of the workspace srv serves.
func requireSameAsFreshExport(t *testing.T, db *sql.DB, srv *intercomtest.Server, dir string, args ...string) {
	t.Helper()
	fresh := t.TempDir()
	exportRun(t, srv, fresh, exitOK, args...)
	want, got := snapshot(t, db, fresh, nil), snapshot(t, db, dir, nil)
	for name := range want {
		if !reflect.DeepEqual(got[name], want[name]) {
			t.Errorf("%s: %d rows differ from a fresh full export's %d", name, len(got[name]), len(want[name]))
			for i := range min(len(got[name]), len(want[name])) {
				if !reflect.DeepEqual(got[name][i], want[name][i]) {
					t.Errorf("first difference at row %d:\n got %.300v\nwant %.300v", i, got[name][i], want[name][i])
					break
				}
			}
		}
	}
}

// readManifest reads the manifest of the run that set the folder's state.
func readManifest(t *testing.T, dir string) load.Manifest {
	t.Helper()
	var st load.State
	data, err := os.ReadFile(filepath.Join(dir, load.StateDir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(data, &st)
	return readManifestFile(t, filepath.Join(dir, load.StateDir, "runs", st.RunID+".json"))
}

// readManifestAny reads the only run manifest of a folder.
func readManifestAny(t *testing.T, dir string) load.Manifest {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(dir, load.StateDir, "runs", "*.json"))
	if len(runs) != 1 {
		t.Fatalf("want one run manifest, found %v", runs)
	}
	return readManifestFile(t, runs[0])
}

func readManifestFile(t *testing.T, path string) load.Manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m load.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIncrementalRunEqualsFreshFullExport(t *testing.T) {
	ws := intercomtest.NewWorkspace(21, 300)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	if m := readManifest(t, out); m.Mode != "full" || m.BookmarkUsed != nil {
		t.Errorf("first run: mode %q, bookmark used %v; want a full run", m.Mode, m.BookmarkUsed)
	}

	now := time.Now().Unix()
	changed := changeSome(t, ws, 12, now)
	added := addSome(ws, 5, now)
	srv.ResetStats()
	stdout, _ := exportRun(t, srv, out, exitOK)
	st := srv.Stats()
	for _, id := range append(changed, added...) {
		if st.Retrieved[id] != 1 {
			t.Errorf("conversation %s was retrieved %d times, want 1", id, st.Retrieved[id])
		}
	}
	if st.RetrieveRequests > int64(len(changed)+len(added))+2 {
		t.Errorf("the incremental run retrieved %d conversations, want about %d", st.RetrieveRequests, len(changed)+len(added))
	}
	m := readManifest(t, out)
	if m.Mode != "incremental" || m.BookmarkUsed == nil || m.Status != "success" {
		t.Errorf("second run manifest: %+v", m)
	}
	t.Logf("incremental run: %s", strings.TrimSpace(stdout))

	db := openDuckDB(t)
	requireSameAsFreshExport(t, db, srv, out)
	if got := scalar(t, db, "SELECT max(c) FROM (SELECT count(*) AS c FROM glob('"+out+"/*/date=*/*') GROUP BY regexp_extract(file, '(.*)/', 1))"); got != "1" {
		t.Errorf("a partition holds %s files, want 1", got)
	}
}

func TestRunWithNothingChangedRetrievesNothing(t *testing.T) {
	ws := intercomtest.NewWorkspace(22, 150)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	before := fileStamps(t, out)
	srv.ResetStats()
	exportRun(t, srv, out, exitOK)
	if st := srv.Stats(); st.RetrieveRequests != 0 || st.ListRequests != 0 {
		t.Errorf("an idle incremental run retrieved %d and listed %d pages; want only searches", st.RetrieveRequests, st.ListRequests)
	}
	if after := fileStamps(t, out); !reflect.DeepEqual(after, before) {
		t.Error("an idle incremental run rewrote files")
	}
}

// fileStamps maps every Parquet file to its size and modification time.
func fileStamps(t *testing.T, dir string) map[string]string {
	t.Helper()
	stamps := map[string]string{}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.parquet"))
	for _, f := range matches {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		stamps[f] = fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
	}
	return stamps
}

func TestChangesDuringARunAppearInTheNext(t *testing.T) {
	ws := intercomtest.NewWorkspace(23, 200)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: 5 * time.Millisecond})
	defer srv.Close()
	out := t.TempDir()
	// While the first run retrieves, conversations it has already retrieved change.
	done := make(chan []string)
	go func() {
		for srv.Stats().RetrieveRequests < 100 {
			time.Sleep(time.Millisecond)
		}
		var ids []string
		for id := range srv.Stats().Retrieved {
			if id != ws.LongConversationID() && len(ids) < 8 {
				ids = append(ids, id)
			}
		}
		change(ws, ids, time.Now().Unix())
		done <- ids
	}()
	exportRun(t, srv, out, exitOK, "--concurrency", "4")
	changed := <-done
	srv.ResetStats()
	exportRun(t, srv, out, exitOK)
	for _, id := range changed {
		if srv.Stats().Retrieved[id] == 0 {
			t.Errorf("conversation %s changed during the first run and was not retrieved by the second", id)
		}
	}
	requireSameAsFreshExport(t, openDuckDB(t), srv, out)
}

func TestDeletedConversationsDisappear(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		args    []string
	}{
		{"incremental with GET /conversations/deleted", "2.16", nil},
		{"full run on a version without it", "2.11", []string{"--full"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := intercomtest.NewWorkspace(24, 120)
			srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
			defer srv.Close()
			out := t.TempDir()
			version := []string{"--api-version", tc.version}
			exportRun(t, srv, out, exitOK, version...)
			victim := ws.Conversations()[40].ID
			ws.Delete(victim, time.Now().Unix())
			exportRun(t, srv, out, exitOK, append(version, tc.args...)...)

			db := openDuckDB(t)
			for _, name := range []string{"conversations", "conversation_parts", "conversation_tags", "conversation_ratings"} {
				if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE conversation_id = '%s'", table(out, name), victim)); got != "0" {
					t.Errorf("%s still holds %s rows of the deleted conversation", name, got)
				}
			}
			m := readManifest(t, out)
			if len(m.Deleted) != 1 || m.Deleted[0].ConversationID != victim {
				t.Errorf("manifest lists deleted %+v, want %s", m.Deleted, victim)
			}
			requireSameAsFreshExport(t, db, srv, out, version...)
		})
	}
}

// A conversation the folder did not hold, created after the last run, retrieved by this one and then
// deleted while it runs is removed from the partition this run added it to: the deletions listing at
// the end of the run names it, and the run must not publish it.
func TestConversationDeletedAfterThisRunAddedItIsNotPublished(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(26, 40)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: 5 * time.Millisecond})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)

	now := time.Now().Unix()
	born := ws.Conversations()[3]
	born.ID, born.CreatedAt, born.UpdatedAt = ws.NewID(), now-120, now-60 // listed before the others
	for i := range born.Parts {
		born.Parts[i].ID = fmt.Sprintf("%s-%d", born.ID, i)
	}
	ws.Add(born)
	changeSome(t, ws, 5, now) // retrieved after it, which leaves the run time to see the deletion
	srv.ResetStats()
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		for srv.Stats().Retrieved[born.ID] == 0 {
			time.Sleep(time.Millisecond)
		}
		ws.Delete(born.ID, time.Now().Unix())
	}()
	exportRun(t, srv, out, exitOK, "--concurrency", "1")
	<-deleted

	db := openDuckDB(t)
	for _, name := range []string{"conversations", "conversation_parts", "conversation_tags", "conversation_ratings"} {
		if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE conversation_id = '%s'", table(out, name), born.ID)); got != "0" {
			t.Errorf("%s holds %s rows of %s, deleted after the run retrieved it", name, got, born.ID)
		}
	}
	requireSameAsFreshExport(t, db, srv, out)
}

func TestSecondRunOnTheSameFolderIsRefused(t *testing.T) {
	ws := intercomtest.NewWorkspace(25, 10)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	held, err := load.OpenDataset(out, noLog())
	if err != nil {
		t.Fatal(err)
	}
	_, stderr := exportRun(t, srv, out, exitLocked)
	if !strings.Contains(stderr, "another intercom-export run is using the output folder") || !strings.Contains(stderr, "--wait") {
		t.Errorf("stderr does not say why, nor how to wait:\n%s", stderr)
	}
	_, stderr = exportRun(t, srv, out, exitLocked, "--wait", "300ms")
	if !strings.Contains(stderr, "waiting for the run that holds the folder") {
		t.Errorf("the run with --wait does not say it waits:\n%s", stderr)
	}
	if srv.Stats().Requests != 0 {
		t.Errorf("the refused runs sent %d requests", srv.Stats().Requests)
	}

	// With --wait, the run starts once the holder lets go.
	var e syncBuffer
	done := make(chan int)
	began := time.Now()
	go func() {
		done <- run(context.Background(), []string{"export", "--out", out, "--base-url", srv.URL, "--log-format", "json", "--wait", "5m"},
			mapEnv(map[string]string{"INTERCOM_ACCESS_TOKEN": testToken}), io.Discard, &e)
	}()
	waitFor(t, "the run to wait for the lock", func() bool { return strings.Contains(e.String(), "waiting for the run that holds the folder") })
	time.Sleep(500 * time.Millisecond) // the wait the summary must count: it measures the whole run
	held.Close()
	waited := time.Since(began)
	if code := <-done; code != exitOK {
		t.Fatalf("the waiting run exited %d:\n%s", code, tail(e.String(), 2000))
	}
	var finished struct {
		ElapsedMS int64 `json:"elapsed_ms"`
	}
	for _, line := range strings.Split(e.String(), "\n") {
		if strings.Contains(line, `"export finished"`) {
			json.Unmarshal([]byte(line), &finished)
		}
	}
	if finished.ElapsedMS < waited.Milliseconds() {
		t.Errorf("elapsed_ms %d leaves out the %d ms the run waited for the folder", finished.ElapsedMS, waited.Milliseconds())
	}
	if got := srv.Stats().RetrieveRequests; got != 10 {
		t.Errorf("the waiting run retrieved %d conversations, want 10", got)
	}
}
