package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(91, 10)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	check := func(token, out string, extra ...string) (int, string, string) {
		return cli(t, token, append([]string{"check", "--out", out, "--base-url", srv.URL, "--log-format", "json"}, extra...)...)
	}

	out := t.TempDir()
	code, stdout, stderr := check(testToken, out)
	for _, want := range []string{`acts as Ada Lovelace <ada@example.com>`, `"Fake Workspace"`, "read conversations: yes",
		"list deleted conversations: yes", "not held by another run", "a run would  retrieve every conversation (full run)"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("good token: exit %d, stdout lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("check wrote into the folder: %v", entries)
	}
	if srv.Stats().RetrieveRequests != 0 {
		t.Errorf("check retrieved conversations")
	}

	exportRun(t, srv, out, exitOK)
	if _, stdout, _ := check(testToken, out); !strings.Contains(stdout, "updated since the bookmark") {
		t.Errorf("after a run, check does not say the next is incremental:\n%s", stdout)
	}
	if code, stdout, _ := check(testToken, out, "--since", "2024-01-01", "--until", "2025-01-01"); code != exitOK ||
		!strings.Contains(stdout, "since 2024-01-01T00:00:00Z and before 2025-01-01T00:00:00Z (the bookmark stays)") {
		t.Errorf("check with a window: exit %d:\n%s", code, stdout)
	}

	if code, _, stderr := check("wrong-token", out); code != exitFailure || !strings.Contains(failureEvent(t, stderr, exitFailure), "INTERCOM_ACCESS_TOKEN") {
		t.Errorf("bad token: exit %d:\n%s", code, stderr)
	}

	noDeletions := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, DeletedStatus: http.StatusForbidden, AdminsStatus: http.StatusForbidden})
	defer noDeletions.Close()
	code, stdout, _ = cli(t, testToken, "check", "--out", out, "--base-url", noDeletions.URL)
	if code != exitOK || !strings.Contains(stdout, "list deleted conversations: no") || !strings.Contains(stdout, "--full run removes") ||
		!strings.Contains(stdout, "list admins: no") || !strings.Contains(stdout, "list teams: yes") {
		t.Errorf("missing permission for deletions: exit %d:\n%s", code, stdout)
	}

	held, err := load.OpenDataset(out, noLog())
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := check(testToken, out); code != exitLocked {
		t.Errorf("held folder: exit %d, want %d:\n%s", code, exitLocked, stderr)
	}
	held.Close()

	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	if code, _, stderr := check(testToken, filepath.Join(file, "out")); code != exitUsage {
		t.Errorf("unwritable folder: exit %d, want %d:\n%s", code, exitUsage, stderr)
	}
}
