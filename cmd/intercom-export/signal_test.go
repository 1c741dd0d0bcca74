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
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if took := time.Since(sent); took > 10*time.Second {
		t.Errorf("the run took %v to stop", took)
	}
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
