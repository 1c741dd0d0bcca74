package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/schemas"
)

// oldConversation is a conversations row as a version before most columns existed wrote it.
type oldConversation struct {
	ConversationID string `parquet:"conversation_id"`
	State          string `parquet:"state"`
}

// writeOldFile replaces the folder's first conversations partition file with one of an older schema.
func writeOldFile(t *testing.T, out string) string {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(out, schemas.TableConversations, "*", "data.parquet"))
	slices.Sort(parts)
	if len(parts) == 0 {
		t.Fatal("no conversations file")
	}
	f, err := os.Create(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[oldConversation](f, parquet.CreatedBy("intercom-export", "v0.9.0", ""))
	if _, err := w.Write([]oldConversation{{"1", "open"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return parts[0]
}

// A folder an older version wrote is not mixed with this version's files: runs without --full, check
// and convert refuse it and say what to do; a --full run rewrites it, after which it verifies.
func TestFolderOfAnOlderSchemaIsRewrittenNotMixed(t *testing.T) {
	t.Parallel()
	srv := intercomtest.NewServer(intercomtest.NewWorkspace(27, 30), intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	old := writeOldFile(t, out)
	before, _ := os.ReadFile(old)

	for name, args := range map[string][]string{
		"export":  {"export", "--out", out, "--base-url", srv.URL},
		"check":   {"check", "--out", out, "--base-url", srv.URL},
		"convert": {"convert", "--out", out, dump(t, intercomtest.NewWorkspace(28, 3), "2.16")},
	} {
		code, _, stderr := cli(t, testToken, args...)
		for _, want := range []string{"written by intercom-export version v0.9.0", "column created_date (date32 not null) is missing", "more differences", "new folder"} {
			if code != exitUsage || !strings.Contains(stderr, want) {
				t.Errorf("%s on the older folder: exit %d, want %d and a message with %q:\n%s", name, code, exitUsage, want, tail(stderr, 1500))
			}
		}
		if name != "convert" && !strings.Contains(stderr, "--full") {
			t.Errorf("%s: the message does not say --full rewrites the folder:\n%s", name, stderr)
		}
	}
	if after, _ := os.ReadFile(old); string(after) != string(before) {
		t.Errorf("a refused run changed %s", old)
	}

	_, stderr := exportRun(t, srv, out, exitOK, "--full") // exportRun verifies the whole folder
	if !strings.Contains(stderr, "rewrites every partition") {
		t.Errorf("the --full run does not warn that it rewrites the older files:\n%s", tail(stderr, 1500))
	}
	exportRun(t, srv, out, exitOK) // and the nightly command works again
}
