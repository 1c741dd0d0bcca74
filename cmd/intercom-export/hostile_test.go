package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// syncBuffer takes writes from many goroutines (workers' log events, the progress reporter) while a
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command in-process with token as INTERCOM_ACCESS_TOKEN (unset when "").
func cli(t *testing.T, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e syncBuffer
	getenv := func(k string) string {
		if k == "INTERCOM_ACCESS_TOKEN" {
			return token
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = run(ctx, args, getenv, &o, &e)
	return code, o.String(), e.String()
}

// files returns every file under dir with its content, by path relative to dir.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// exportDebug is exportRun for runs that log concurrently (debug level).
func exportDebug(t *testing.T, srv *intercomtest.Server, out string, want int, extra ...string) (stdout, stderr string) {
	t.Helper()
	args := append([]string{"export", "--out", out, "--base-url", srv.URL, "--log-format", "json", "--log-level", "debug"}, extra...)
	code, stdout, stderr := cli(t, testToken, args...)
	if code != want {
		t.Fatalf("export %v exited %d, want %d\nstdout:\n%s\nstderr (tail):\n%s", extra, code, want, stdout, tail(stderr, 3000))
	}
	return stdout, stderr
}

func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for name := range files(t, dir) {
		if strings.HasSuffix(name, ".parquet") {
			out = append(out, name)
		}
	}
	return out
}

func TestConfigErrorsFailBeforeAnyRequest(t *testing.T) {
	srv := intercomtest.NewServer(intercomtest.NewWorkspace(3, 5), intercomtest.Options{Token: testToken})
	defer srv.Close()
	aFile := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(aFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		args  []string // after export --out OUT
		want  []string // substrings of stderr: the problem and the fix
	}{
		{name: "missing token", args: []string{"--base-url", srv.URL},
			want: []string{"no access token", "set INTERCOM_ACCESS_TOKEN"}},
		{name: "token as a flag", token: testToken, args: []string{"--base-url", srv.URL, "--token", "x"},
			want: []string{"unknown flag --token"}},
		{name: "unknown region", token: testToken, args: []string{"--region", "mars"},
			want: []string{`unknown region "mars"`, "use us, eu or au"}},
		{name: "http on a remote host", token: testToken, args: []string{"--base-url", "http://api.example.com"},
			want: []string{"plain http would send the token unencrypted", "use https"}},
		{name: "relative base URL", token: testToken, args: []string{"--base-url", "api.intercom.io"},
			want: []string{"want an absolute http(s) URL"}},
		{name: "out under a file", token: testToken, args: []string{"--base-url", srv.URL, "--out", filepath.Join(aFile, "sub")},
			want: []string{"is a file, not a folder", "choose another output directory"}},
		{name: "out missing", token: testToken, args: []string{"--base-url", srv.URL, "--out", ""},
			want: []string{"--out is required"}},
		{name: "concurrency negative", token: testToken, args: []string{"--base-url", srv.URL, "--concurrency", "-1"},
			want: []string{"--concurrency -1", "want 1 or more"}},
		{name: "concurrency too high", token: testToken, args: []string{"--base-url", srv.URL, "--concurrency", "100000"},
			want: []string{"concurrency 100000", "want 1 to 512"}},
		{name: "concurrency 0", token: testToken, args: []string{"--base-url", srv.URL, "--concurrency", "0"},
			want: []string{"--concurrency 0", "want 1 or more"}},
		{name: "concurrency not a number", token: testToken, args: []string{"--base-url", srv.URL, "--concurrency", "many"},
			want: []string{`invalid value "many" for flag --concurrency`, "see intercom-export export --help"}},
		{name: "max attempts 0", token: testToken, args: []string{"--base-url", srv.URL, "--max-attempts", "0"},
			want: []string{"--max-attempts 0", "want 1 or more"}},
		{name: "max attempts negative", token: testToken, args: []string{"--base-url", srv.URL, "--max-attempts", "-3"},
			want: []string{"--max-attempts -3", "want 1 or more"}},
		{name: "request timeout 0", token: testToken, args: []string{"--base-url", srv.URL, "--request-timeout", "0"},
			want: []string{"--request-timeout", "positive"}},
		{name: "max retry time 0", token: testToken, args: []string{"--base-url", srv.URL, "--max-retry-time", "0"},
			want: []string{"--max-retry-time", "positive"}},
		{name: "request timeout negative", token: testToken, args: []string{"--base-url", srv.URL, "--request-timeout", "-1s"},
			want: []string{"--request-timeout -1s", "positive duration"}},
		{name: "retry time not a duration", token: testToken, args: []string{"--base-url", srv.URL, "--max-retry-time", "forever"},
			want: []string{`invalid value "forever" for flag --max-retry-time`}},
		{name: "api version 9.9", token: testToken, args: []string{"--base-url", srv.URL, "--api-version", "9.9"},
			want: []string{`API version "9.9"`, "Intercom has versions 1.x and 2.x"}},
		{name: "api version word", token: testToken, args: []string{"--base-url", srv.URL, "--api-version", "latest"},
			want: []string{`API version "latest"`, "want a version such as"}},
		{name: "unknown flag", token: testToken, args: []string{"--base-url", srv.URL, "--bogus"},
			want: []string{"unknown flag --bogus", "see intercom-export export --help"}},
		{name: "stray argument", token: testToken, args: []string{"--base-url", srv.URL, "extra"},
			want: []string{`unexpected argument "extra"`}},
		{name: "log level", token: testToken, args: []string{"--base-url", srv.URL, "--log-level", "loud"},
			want: []string{`--log-level "loud"`, "use debug, info, warn or error"}},
		{name: "log format", token: testToken, args: []string{"--base-url", srv.URL, "--log-format", "xml"},
			want: []string{`--log-format "xml"`, "use auto, console or json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"export", "--out", out, "--log-format", "json"}, tc.args...)
			code, stdout, stderr := cli(t, tc.token, args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, stdout, tail(stderr, 2000))
			}
			msg := stderr // an unknown --log-format leaves plain text
			if logFormatOf(args[1:], func(string) string { return "" }, io.Discard) == "json" {
				msg = failureEvent(t, stderr, exitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the error event lacks %q:\n%s", w, tail(stderr, 2000))
				}
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests sent before the configuration error was reported", n)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the output folder was created (%v) although the configuration is invalid", err)
			}
			if strings.Contains(stdout+stderr, testToken) {
				t.Error("the token appears in the output")
			}
		})
	}
}

func TestAuthErrorsStopAtTheFirstRequest(t *testing.T) {
	ws := intercomtest.NewWorkspace(5, 40)
	for _, tc := range []struct {
		name string
		opts intercomtest.Options
		want []string
	}{
		{"invalid token", intercomtest.Options{Token: "another-token"}, []string{"HTTP 401 unauthorized", "Access Token Invalid"}},
		{"revoked token", intercomtest.Options{Token: testToken, AuthError: "token_revoked"}, []string{"HTTP 401 token_revoked", "The access token has been revoked"}},
		{"expired token", intercomtest.Options{Token: testToken, AuthError: "token_expired"}, []string{"HTTP 401 token_expired", "The access token has expired"}},
		{"plan", intercomtest.Options{Token: testToken, AuthError: "api_plan_restricted"}, []string{"HTTP 403 api_plan_restricted", "Active subscription needed."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := intercomtest.NewServer(ws, tc.opts)
			defer srv.Close()
			out := t.TempDir()
			_, stderr := exportRun(t, srv, out, exitFailure)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks the API's %q:\n%s", w, tail(stderr, 2000))
				}
			}
			if st := srv.Stats(); st.Requests != 1 || st.AuthErrors != 1 {
				t.Errorf("%d requests (%d refused): want the run to stop at the first", st.Requests, st.AuthErrors)
			}
			if p := parquetFiles(t, out); len(p) != 0 {
				t.Errorf("files written after an auth error: %v", p)
			}
		})
	}

	t.Run("revoked during the run", func(t *testing.T) {
		srv := intercomtest.NewServer(intercomtest.NewWorkspace(5, 1000), intercomtest.Options{
			Token: testToken, AuthError: "token_revoked", AuthErrorAfter: 30,
		})
		defer srv.Close()
		out := t.TempDir()
		_, stderr := exportRun(t, srv, out, exitFailure, "--concurrency", "4")
		if !strings.Contains(stderr, "token_revoked") {
			t.Errorf("stderr lacks the API's error:\n%s", tail(stderr, 2000))
		}
		// Requests already in flight are refused too, and the retrieval pool grows past --concurrency
		// with the API's latency, up to 256 (under the race detector it reaches about 120 here); a run
		// that went on would collect about 970 refusals.
		if st := srv.Stats(); st.AuthErrors > 256+4 {
			t.Errorf("%d requests refused: the run did not stop at the first", st.AuthErrors)
		}
		if p := parquetFiles(t, out); len(p) != 0 {
			t.Errorf("files published by a run that failed: %v", p)
		}
	})
}

func TestTokenAppearsNowhere(t *testing.T) {
	ws := intercomtest.NewWorkspace(19, 120)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Faults: intercomtest.Faults{
		Seed: 5, ServerErrorRate: 0.08, CutRate: 0.03, TruncateRate: 0.03, InvalidJSONRate: 0.03,
		RateLimitStormRate: 0.03, StormWithoutHeaders: true, RejectCursorRate: 1,
	}})
	defer srv.Close()
	out := t.TempDir()
	var logs strings.Builder
	// A first run, a second one into the same folder (state, manifests), and one the API refuses.
	for _, want := range []int{exitOK, exitOK} {
		stdout, stderr := exportDebug(t, srv, out, want, "--concurrency", "8")
		logs.WriteString(stdout + stderr)
	}
	revoked := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, AuthError: "token_revoked"})
	defer revoked.Close()
	stdout, stderr := exportDebug(t, revoked, out, exitFailure)
	logs.WriteString(stdout + stderr)

	if n := strings.Count(logs.String(), `"message":"request"`); int64(n) < srv.Stats().Requests/2 {
		t.Fatalf("%d request events in the debug log for %d requests: the test would not see a leak", n, srv.Stats().Requests)
	}
	if srv.Stats().Faults == 0 {
		t.Fatal("no faults injected: error paths were not exercised")
	}
	for _, secret := range []string{testToken, "Bearer", "Authorization"} {
		if i := strings.Index(logs.String(), secret); i >= 0 {
			t.Errorf("stdout or stderr contains %q: ...%s...", secret, logs.String()[max(0, i-200):i])
		}
	}
	for name, b := range files(t, out) {
		if bytes.Contains(b, []byte(testToken)) {
			t.Errorf("%s contains the token", name)
		}
	}
	if len(parquetFiles(t, out)) == 0 {
		t.Error("no Parquet written: the search for the token looked at nothing")
	}
}

func TestExportUnderEveryFaultEqualsCleanRun(t *testing.T) {
	ws := intercomtest.NewWorkspace(23, 200)
	clean := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer clean.Close()
	cleanOut := t.TempDir()
	cleanStart := time.Now()
	exportRun(t, clean, cleanOut, exitOK)
	t.Logf("clean run in %v", time.Since(cleanStart).Round(time.Millisecond))

	faulty := intercomtest.NewServer(ws, intercomtest.Options{
		Token: testToken,
		Faults: intercomtest.Faults{
			Seed:            29,
			ServerErrorRate: 0.05, CutRate: 0.03, TruncateRate: 0.03,
			RateLimitStormRate: 0.03, StormWithoutHeaders: true,
			SlowRate: 0.02, SlowDelay: 30 * time.Second,
			InvalidJSONRate: 0.03,
			// Every cursor is refused twice: the client allows three refusals before it gives up.
			RejectCursorRate: 1, RejectCursorTimes: 2,
			Bursts: intercomtest.Burst{Every: 60, Length: 4},
		},
	})
	defer faulty.Close()
	faultyOut := t.TempDir()
	start := time.Now()
	stdout, _ := exportRun(t, faulty, faultyOut, exitOK, "--concurrency", "16", "--request-timeout", "1s")
	st := faulty.Stats()
	t.Logf("faulty run in %v: %s; server: %d requests, faults %+v", time.Since(start).Round(time.Millisecond),
		strings.TrimSpace(stdout), st.Requests, st.FaultCounts)
	fc := st.FaultCounts
	for kind, n := range map[string]int64{"5xx": fc.ServerErrors, "burst": fc.Bursts, "cut": fc.Cuts, "truncation": fc.Truncations,
		"storm": fc.Storms, "slow": fc.Slow, "invalid JSON": fc.InvalidJSON, "refused cursor": fc.RejectedCursors} {
		if n == 0 {
			t.Errorf("no %s fault was injected: the test proves less than it says", kind)
		}
	}

	db := openDuckDB(t)
	want, got := snapshot(t, db, cleanOut, nil), snapshot(t, db, faultyOut, nil)
	for name := range want {
		if len(want[name]) == 0 {
			t.Errorf("%s: the clean run exported nothing", name)
		}
		if !reflect.DeepEqual(got[name], want[name]) {
			t.Errorf("%s: the faulty run's %d rows differ from the clean run's %d", name, len(got[name]), len(want[name]))
		}
	}
}

func TestUnreachableAPIFailsAndKeepsTheFolder(t *testing.T) {
	ws := intercomtest.NewWorkspace(31, 60)
	good := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer good.Close()
	out := t.TempDir()
	exportRun(t, good, out, exitOK)
	before := files(t, out)
	delete(before, filepath.Join("_intercom_export", "lock"))
	if len(parquetFiles(t, out)) == 0 {
		t.Fatal("the good run wrote no Parquet")
	}

	down := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Faults: intercomtest.Faults{
		Bursts: intercomtest.Burst{Length: 1}, // every request: 503
	}})
	defer down.Close()
	// Each run must end on its own limit, named in the message: an unbounded one would run into the
	// test's own deadline and fail with another message.
	for _, tc := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{"attempts run out", []string{"--max-attempts", "3"},
			[]string{"retries exhausted after 3 attempts", "HTTP 503 service_unavailable", "--max-attempts 3"}},
		{"retry time runs out", []string{"--max-attempts", "100000", "--max-retry-time", "2s", "--request-timeout", "1s"},
			[]string{"retries exhausted", "HTTP 503 service_unavailable", "--max-retry-time 2s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			down.ResetStats()
			_, stderr := exportRun(t, down, out, exitFailure, tc.flags...)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, tail(stderr, 2000))
				}
			}
			if down.Stats().Requests < 2 {
				t.Errorf("%d requests: the run did not retry", down.Stats().Requests)
			}
			after := files(t, out)
			// The lock file names the process that holds the folder: every run rewrites it, whatever its fate.
			delete(after, filepath.Join("_intercom_export", "lock"))
			if !reflect.DeepEqual(names(after), names(before)) {
				t.Fatalf("files changed:\nbefore %v\nafter  %v", names(before), names(after))
			}
			for name, b := range before {
				if !bytes.Equal(after[name], b) {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func names(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// failureEvent returns the error of the event a command ended with in JSON logs, failing the test
// unless stderr ends with exactly one such event with its exit code, and nothing but JSON before it.
func failureEvent(t *testing.T, stderr string, code int) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("a line of the JSON log is not JSON: %q", l)
		}
	}
	var ev struct {
		Level    string `json:"level"`
		Error    string `json:"error"`
		ExitCode int    `json:"exit_code"`
		Time     string `json:"time"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &ev)
	if ev.Level != "error" || ev.ExitCode != code || ev.Error == "" {
		t.Fatalf("the last event is not the failure with exit code %d:\n%s", code, tail(stderr, 2000))
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", ev.Time); err != nil {
		t.Errorf("event time %q is not RFC 3339 with milliseconds", ev.Time)
	}
	return ev.Error
}
