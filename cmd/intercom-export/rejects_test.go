package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

func TestCorruptConversationsAreSetAsideAndTriedAgain(t *testing.T) {
	ws := intercomtest.NewWorkspace(61, 60)
	convs := ws.Conversations()
	bad1, bad2 := convs[10], convs[20]
	corrupt := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Corrupt: map[string]string{
		bad1.ID: fmt.Sprintf(`{"type":"conversation","id":%q,"created_at":"yesterday"}`, bad1.ID),
		bad2.ID: fmt.Sprintf(`{"type":"conversation","id":%q,"created_at":1700000000,"open":"yes"}`, bad2.ID),
	}})
	defer corrupt.Close()
	out := t.TempDir()
	_, stderr := exportRun(t, corrupt, out, exitPartial)
	if !strings.Contains(stderr, "2 conversations could not be exported") {
		t.Errorf("stderr does not count them:\n%s", tail(stderr, 2000))
	}

	db := openDuckDB(t)
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")); got != "58" {
		t.Errorf("%s conversations exported, want the 58 good ones", got)
	}
	rejects, _ := filepath.Glob(filepath.Join(out, "_intercom_export", "rejects", "*.ndjson"))
	if len(rejects) != 1 {
		t.Fatalf("rejects files: %v", rejects)
	}
	data, _ := os.ReadFile(rejects[0])
	for _, want := range []string{`"conversation_id":"` + bad1.ID + `"`, "created_at: want a Unix timestamp", `"conversation_id":"` + bad2.ID + `"`, "open"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rejects file lacks %q:\n%s", want, data)
		}
	}
	m := readManifest(t, out)
	if m.Status != "partial" || len(m.Failures) != 2 {
		t.Errorf("manifest status %q, failures %+v", m.Status, m.Failures)
	}
	if m.BookmarkNew > min(bad1.UpdatedAt, bad2.UpdatedAt) {
		t.Errorf("the bookmark %d passes the failed conversations (updated at %d and %d)", m.BookmarkNew, bad1.UpdatedAt, bad2.UpdatedAt)
	}

	// Once Intercom answers properly, the next run picks them up without a --full.
	fixed := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer fixed.Close()
	exportRun(t, fixed, out, exitOK)
	if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")); got != "60" {
		t.Errorf("%s conversations after the fix, want 60", got)
	}
	if st := fixed.Stats(); st.RetrieveRequests > 4 {
		t.Errorf("the run after the fix retrieved %d conversations; want about the 2 it missed", st.RetrieveRequests)
	}
}
