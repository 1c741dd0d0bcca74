package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// folderState reads the state a run left, without taking the lock (the run may still hold it).
func folderState(t *testing.T, dir string) (load.State, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, load.StateDir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return load.State{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var st load.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state.json: %v", err) // written by rename: never half a file
	}
	return st, true
}

func checkpointsIn(st load.State) int {
	if st.Resume == nil {
		return 0
	}
	return st.Resume.Checkpoints
}

// committedIDs returns the conversation ids dir holds, read with DuckDB.
func committedIDs(t *testing.T, dir string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	if files, _ := filepath.Glob(filepath.Join(dir, "conversations", "*", "*.parquet")); len(files) == 0 {
		return ids
	}
	for _, row := range query(t, openDuckDB(t), "SELECT conversation_id FROM "+table(dir, "conversations")) {
		ids[row[0]] = true
	}
	return ids
}

// stagingRuns lists the run folders in staging: one segment's at most, if staging is to stay within
// one checkpoint's rows.
func stagingRuns(dir string) []string {
	entries, _ := os.ReadDir(filepath.Join(dir, load.StateDir, "staging"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestInterruptedBackfillResumesFromItsLastCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			const n, every = 300, 60
			ws := intercomtest.NewWorkspace(71, n)
			srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: time.Millisecond})
			defer srv.Close()
			out := t.TempDir()
			rng := rand.New(rand.NewPCG(uint64(sig), 3))
			args := []string{"--checkpoint-every", fmt.Sprint(every), "--concurrency", "4"}

			interrupted := 0
			for attempt := 0; interrupted < 2 && attempt < 5; attempt++ {
				before := committedIDs(t, out)
				st, _ := folderState(t, out)
				seen := checkpointsIn(st)
				srv.ResetStats()
				cmd, output := startExport(t, srv, out, args...)
				exited := make(chan error, 1)
				go func() { exited <- cmd.Wait() }()
				var err error
				finished := false
			watch:
				for {
					select {
					case err = <-exited:
						finished = true
						break watch
					default:
					}
					if runs := stagingRuns(out); len(runs) > 1 {
						t.Errorf("staging holds %d segments: %v", len(runs), runs)
					}
					if st, _ := folderState(t, out); checkpointsIn(st) > seen {
						break // a checkpoint of this attempt is committed: interrupt it somewhere after
					}
					time.Sleep(2 * time.Millisecond)
				}
				if !finished {
					time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
					cmd.Process.Signal(sig)
					err = <-exited
				}
				var ee *exec.ExitError
				switch {
				case err == nil:
					t.Logf("attempt %d finished before its interruption", attempt)
				case !errors.As(err, &ee):
					t.Fatal(err)
				case sig == syscall.SIGKILL && ee.ExitCode() == -1:
					interrupted++
				case sig == syscall.SIGINT && ee.ExitCode() == exitFailure:
					interrupted++
					for _, want := range []string{"interrupted by SIGINT", "conversations committed at the last checkpoint", "rerun to resume"} {
						if !strings.Contains(output.String(), want) {
							t.Errorf("the interrupted run does not say %q:\n%s", want, tail(output.String(), 1500))
						}
					}
				default:
					t.Fatalf("attempt %d failed on its own: %v\n%s", attempt, err, tail(output.String(), 3000))
				}
				checkReadable(t, out, fmt.Sprintf("after attempt %d", attempt))
				// Nothing changed in the workspace: what the checkpoints committed is not retrieved again.
				again := 0
				for id := range srv.Stats().Retrieved {
					if before[id] {
						again++
					}
				}
				t.Logf("attempt %d: held %d before, retrieved %d, finished %v", attempt, len(before), len(srv.Stats().Retrieved), finished)
				if again > 0 {
					t.Errorf("attempt %d retrieved %d conversations the folder already held from earlier checkpoints", attempt, again)
				}
				if finished {
					break
				}
			}
			if interrupted == 0 {
				t.Fatal("no attempt was interrupted after a checkpoint: the test proves nothing")
			}
			if st, _ := folderState(t, out); st.Resume != nil {
				cmd, output := startExport(t, srv, out, args...)
				if err := cmd.Wait(); err != nil {
					t.Fatalf("the last attempt failed: %v\n%s", err, tail(output.String(), 3000))
				}
			}
			st, _ := folderState(t, out)
			if st.Resume != nil || st.NoBookmark {
				t.Errorf("the finished backfill left state %+v", st)
			}
			if entries, _ := os.ReadDir(filepath.Join(out, load.StateDir, "resume")); len(entries) != 0 {
				t.Errorf("checkpoint records left after the run finished: %v", entries)
			}
			requireSameAsFreshExport(t, openDuckDB(t), srv, out)
		})
	}
}
