package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// runAsMainEnv makes the test binary act as intercom-export itself, so that tests can run the real
// program in a process of its own and kill it.
const runAsMainEnv = "INTERCOM_EXPORT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startExport starts `intercom-export export` in its own process against srv.
func startExport(t *testing.T, srv *intercomtest.Server, out string, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	args := append([]string{"export", "--out", out, "--base-url", srv.URL, "--log-format", "json"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1", "INTERCOM_ACCESS_TOKEN="+testToken)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &output
}

// checkReadable fails unless every table of dir reads in DuckDB without duplicate rows.
// killAfter sends run i SIGKILL after d and waits for it: it counts 1 killed unless the run finished
// first, and 1 rolled forward when the run's log says it completed a dead run's publishing. A run that
// failed on its own fails the test.
func killAfter(t *testing.T, i int, cmd *exec.Cmd, output *bytes.Buffer, d time.Duration) (killed, rolledForward int) {
	t.Helper()
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	if err := cmd.Wait(); err == nil {
		t.Logf("run %d finished before its kill", i)
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("run %d failed on its own: %v\n%s", i, err, output)
	} else {
		killed = 1
	}
	if bytes.Contains(output.Bytes(), []byte("completed the publishing of a run that died half way")) {
		rolledForward = 1
	}
	return killed, rolledForward
}

func checkReadable(t *testing.T, dir, when string) {
	t.Helper()
	db := openDuckDB(t)
	for name, key := range map[string]string{
		"conversations":      "conversation_id",
		"conversation_parts": "conversation_id, part_id",
		"conversation_tags":  "conversation_id, tag_id",
	} {
		if files, _ := filepath.Glob(filepath.Join(dir, name, "*", "*.parquet")); len(files) == 0 {
			continue // killed before this table was first published
		}
		if got := scalar(t, db, fmt.Sprintf("SELECT count(*) - count(DISTINCT (%s)) FROM %s", key, table(dir, name))); got != "0" {
			t.Fatalf("%s: %s duplicate rows in %s", when, got, name)
		}
	}
}

func TestKilledRunsLeaveAReadableFolderAndTheNextRunCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for about a minute")
	}
	ws := intercomtest.NewWorkspace(31, 250)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: 2 * time.Millisecond})
	defer srv.Close()
	out := t.TempDir()

	// How long a whole run and an incremental one take, so that kills land anywhere in one,
	// publishing included. (An incremental run reads the folder's index, not its files: it is over in
	// a fraction of a full run's time.)
	timed := func(dir string, args ...string) time.Duration {
		start := time.Now()
		cmd, output := startExport(t, srv, dir, append([]string{"--concurrency", "8"}, args...)...)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("a complete run failed: %v\n%s", err, output)
		}
		return time.Since(start)
	}
	probe := t.TempDir()
	whole := timed(probe)
	changeSome(t, ws, 3, time.Now().Unix())
	incremental := timed(probe)

	rng := rand.New(rand.NewPCG(7, 7))
	kills, rolledForward := 0, 0
	for i := range 16 {
		args := []string{"--concurrency", "8"}
		if i%2 == 0 {
			args = append(args, "--full") // a whole run's work, publishing every partition, to die in
		} else {
			changeSome(t, ws, 3, time.Now().Unix())
		}
		cmd, output := startExport(t, srv, out, args...)
		// Half the kills aim at the end of a run, where it publishes.
		at := rng.Int64N(int64(incremental) * 11 / 10)
		if i%2 == 0 {
			at = int64(whole)*6/10 + rng.Int64N(int64(whole)*5/10)
		}
		killed, rolled := killAfter(t, i, cmd, output, time.Duration(at))
		kills += killed
		rolledForward += rolled
		checkReadable(t, out, fmt.Sprintf("after kill %d", i))
	}
	t.Logf("%d runs killed, %d journals of killed runs rolled forward by the next", kills, rolledForward)
	if kills < 8 {
		t.Errorf("only %d of 16 runs were killed: the test proves little", kills)
	}
	cmd, output := startExport(t, srv, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the run after the kills failed: %v\n%s", err, output)
	}
	requireSameAsFreshExport(t, openDuckDB(t), srv, out)
}
