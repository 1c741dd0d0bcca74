package main

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

func TestSIGTERMStopsTheRunAndLeavesTheFolderConsistent(t *testing.T) {
	ws := intercomtest.NewWorkspace(51, 200)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: 20 * time.Millisecond})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK) // a committed state to keep
	changeSome(t, ws, 20, time.Now().Unix())
	before := fileStamps(t, out)

	cmd, output := startExport(t, srv, out, "--full", "--concurrency", "2")
	for srv.Stats().RetrieveRequests < 230 { // well into the run
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := waitOrKill(t, cmd)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
		t.Fatalf("exit: %v, want code %d\n%s", err, exitFailure, output)
	}
	if !strings.Contains(output.String(), "is unchanged") {
		t.Errorf("the run does not say the folder is unchanged:\n%s", tail(output.String(), 2000))
	}
	checkReadable(t, out, "after SIGTERM")
	if after := fileStamps(t, out); !reflect.DeepEqual(after, before) {
		t.Errorf("the stopped run changed the published files")
	}
	exportRun(t, srv, out, exitOK)
	requireSameAsFreshExport(t, openDuckDB(t), srv, out)
}

// waitOrKill waits for a process told to stop; one still running after a generous guard, which only a
// hang reaches, is killed and the test fails.
func waitOrKill(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatal("the run did not stop")
		return nil
	}
}
