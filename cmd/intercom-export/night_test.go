package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

func TestRunGoesOnWithoutTheDeletionsEndpoint(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusForbidden} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			ws := intercomtest.NewWorkspace(61, 40)
			srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, DeletedStatus: status})
			defer srv.Close()
			out := t.TempDir()
			exportRun(t, srv, out, exitOK)
			now := time.Now().Unix()
			changed := changeSome(t, ws, 4, now)
			victim := ws.Conversations()[33].ID
			if slices.Contains(changed, victim) {
				t.Fatal("pick another victim")
			}
			ws.Delete(victim, now)

			_, stderr := exportRun(t, srv, out, exitOK)
			if !strings.Contains(stderr, "deletions are not listed by this workspace's API; a --full run removes deleted conversations") {
				t.Errorf("no warning naming what is lost and what covers it:\n%s", tail(stderr, 2000))
			}
			m := readManifest(t, out)
			if m.Deletions != "unavailable" || len(m.Warnings) != 1 || m.Status != "success" {
				t.Errorf("manifest: deletions %q, warnings %q, status %q; want unavailable, one warning, success", m.Deletions, m.Warnings, m.Status)
			}
			db := openDuckDB(t)
			// Everything but the deletion arrived: the changes, and the deleted conversation still there.
			if got := scalar(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE conversation_id = '%s'", table(out, "conversations"), victim)); got != "1" {
				t.Errorf("the deleted conversation: %s rows, want 1 (nothing lists its deletion)", got)
			}
			if got := scalar(t, db, "SELECT count(*) FROM "+table(out, "conversations")); got != fmt.Sprint(ws.Len()+1) {
				t.Errorf("%s conversations, want the workspace's %d and the deleted one", got, ws.Len())
			}

			exportRun(t, srv, out, exitOK, "--full")
			if m := readManifest(t, out); m.Deletions != "snapshot" || len(m.Deleted) != 1 || m.Deleted[0].ConversationID != victim {
				t.Errorf("the --full run: deletions %q, deleted %+v; want snapshot and %s", m.Deletions, m.Deleted, victim)
			}
			requireSameAsFreshExport(t, db, srv, out)
		})
	}
}

func TestFailingDeletionsEndpointIsAskedAgainFromTheSamePoint(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(62, 40)
	failing := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, DeletedStatus: http.StatusBadGateway})
	defer failing.Close()
	out := t.TempDir()
	exportRun(t, failing, out, exitOK)
	first := readState(t, out)
	victim := ws.Conversations()[5].ID
	ws.Delete(victim, time.Now().Unix())
	_, stderr := exportRun(t, failing, out, exitOK, "--max-attempts", "2")
	if m := readManifest(t, out); m.Deletions != "failed" || !strings.Contains(stderr, "deletions could not be listed") {
		t.Fatalf("deletions %q, want failed, with a warning:\n%s", m.Deletions, tail(stderr, 2000))
	}
	st := readState(t, out)
	if st.DeletionsSince == nil || *st.DeletionsSince != first.Bookmark {
		t.Fatalf("deletions_since %v, want the failed run's start %d", st.DeletionsSince, first.Bookmark)
	}

	good := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer good.Close()
	exportRun(t, good, out, exitOK)
	if m := readManifest(t, out); m.Deletions != "listed" || len(m.Deleted) != 1 || m.Deleted[0].ConversationID != victim {
		t.Errorf("the next run: deletions %q, deleted %+v; want listed and %s", m.Deletions, m.Deleted, victim)
	}
	if st := readState(t, out); st.DeletionsSince != nil {
		t.Errorf("deletions_since %d stays after a successful listing", *st.DeletionsSince)
	}
}

func TestBadTokenOnTheDeletionsEndpointStopsTheRun(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(63, 20)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, DeletedStatus: http.StatusUnauthorized})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK) // a full run does not ask for deletions
	changeSome(t, ws, 2, time.Now().Unix())
	if _, stderr := exportRun(t, srv, out, exitFailure); !strings.Contains(stderr, "INTERCOM_ACCESS_TOKEN") {
		t.Errorf("a 401 does not name the token:\n%s", tail(stderr, 2000))
	}
}

func readState(t *testing.T, dir string) load.State {
	t.Helper()
	ds, err := load.OpenDataset(dir, noLog())
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	st, ok, err := ds.State()
	if err != nil || !ok {
		t.Fatalf("state: %v, %v", ok, err)
	}
	return st
}

func TestSinceAndUntilForms(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 UTC, or "" for refused
		why  string // in the refusal
	}{
		{"2025-03-14T09:00:00Z", "2025-03-14T09:00:00Z", ""},
		{"2025-03-14T09:00:00+02:00", "2025-03-14T07:00:00Z", ""},
		{"2025-03-14T09:00:00.250Z", "2025-03-14T09:00:00Z", ""},
		{"2025-03-14T09:00:00", "2025-03-14T09:00:00Z", ""},
		{"2025-03-14T09:00", "2025-03-14T09:00:00Z", ""},
		{"2025-03-14 09:00:00", "2025-03-14T09:00:00Z", ""},
		{"2025-03-14", "2025-03-14T00:00:00Z", ""},
		{"1741942800", "2025-03-14T09:00:00Z", ""},
		{"20250314", "", "for the date write 2025-03-14"},
		{"1741942800000", "", "looks like milliseconds; in seconds it is 1741942800"},
		{"0", "", "before 2011"},
		{"2010-12-31", "", "before 2011"},
		{"2027-01-01", "", "in the future"},
		{"yesterday", "", "not a time"},
		{"-5", "", "before 2011"},
	} {
		got, err := parseInstant("--since", tc.in, now)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: accepted as %s, want refused", tc.in, instantString(got))
		case tc.want == "" && (!strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), "RFC 3339")):
			t.Errorf("%q: %v, want it to say %q and the forms taken", tc.in, err, tc.why)
		case tc.want != "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.want != "" && instantString(got) != tc.want:
			t.Errorf("%q: %s, want %s", tc.in, instantString(got), tc.want)
		}
	}
	for _, tc := range []struct {
		o    exportOptions
		want string
	}{
		{exportOptions{Since: "2025-03-14", Until: "2025-03-14"}, "is not after --since"},
		{exportOptions{Since: "2025-03-14", Until: "2025-01-01"}, "is not after --since"},
		{exportOptions{Full: true, Since: "2025-03-14"}, "--full exports everything"},
		{exportOptions{Full: true, Until: "2025-03-14"}, "--full exports everything"},
		{exportOptions{Until: "20250314"}, "--until"},
	} {
		if _, err := parseWindow(tc.o, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", tc.o, err, tc.want)
		}
	}
}

func TestBoundedRunExportsItsWindowAndLeavesTheBookmark(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(64, 60)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	var times []int64
	for _, c := range ws.Conversations() {
		times = append(times, c.UpdatedAt)
	}
	slices.Sort(times)
	since, until := times[15], times[40]
	want := 0
	for _, u := range times {
		if u >= since && u < until {
			want++
		}
	}
	out := t.TempDir()
	exportRun(t, srv, out, exitOK) // a committed bookmark to keep
	bookmark := readState(t, out).Bookmark

	chunk := t.TempDir()
	_, stderr := exportRun(t, srv, chunk, exitOK, "--since", fmt.Sprint(since), "--until", fmt.Sprint(until))
	if !strings.Contains(stderr, `"since":"`+instantString(since)+`"`) || !strings.Contains(stderr, `"until":"`+instantString(until)+`"`) {
		t.Errorf("the start event does not give the resolved window:\n%s", tail(stderr, 2000))
	}
	db := openDuckDB(t)
	if got := scalar(t, db, "SELECT count(*) FROM "+table(chunk, "conversations")); got != fmt.Sprint(want) {
		t.Errorf("%s conversations in the chunk, want %d", got, want)
	}
	if st := readState(t, chunk); !st.NoBookmark {
		t.Errorf("a bounded run on a new folder recorded bookmark %d", st.Bookmark)
	}
	srv.ResetStats()
	exportRun(t, srv, chunk, exitOK) // no bookmark yet: a full run
	if got := srv.Stats().ListRequests; got == 0 {
		t.Errorf("the run after a bounded one did not list everything (no bookmark was recorded)")
	}

	exportRun(t, srv, out, exitOK, "--since", fmt.Sprint(since), "--until", fmt.Sprint(until))
	if st := readState(t, out); st.Bookmark != bookmark || st.NoBookmark {
		t.Errorf("a bounded run moved the bookmark from %d to %d", bookmark, st.Bookmark)
	}
}

func TestUnresolvableHostFailsFast(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, _, stderr := cli(t, testToken, "export", "--out", out, "--base-url", "https://no-such-host.invalid", "--log-format", "json")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"no-such-host.invalid", "no such host", "after 3 attempts", "--base-url"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, tail(stderr, 2000))
		}
	}
}
