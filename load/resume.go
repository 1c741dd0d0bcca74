package load

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// resumeDir holds, per unfinished run, the ids each of its checkpoints committed.
const resumeDir = "resume"

// Resume is what a run that committed checkpoints, and has not finished, leaves in the state for the
// run that resumes it.
type Resume struct {
	// RunID is the id of the run's first segment; each checkpoint commits a segment of its own.
	RunID string `json:"run_id"`
	// StartedAt is when the run first started: the bookmark it finally records is this less the
	// overlap, so that nothing updated during a backfill that took several attempts is missed.
	StartedAt time.Time `json:"started_at"`
	// Mode, Since and Until are what the run asks the API for (Until 0: no end).
	Mode  string `json:"mode"`
	Since int64  `json:"since,omitempty"`
	Until int64  `json:"until,omitempty"`
	// Checkpoints is how many segments are committed; Conversations how many conversations they hold.
	Checkpoints   int   `json:"checkpoints"`
	Conversations int64 `json:"conversations"`
}

func (d *Dataset) checkpointIDsPath(runID string, checkpoint int) string {
	return filepath.Join(d.statePath(resumeDir), runID, strconv.Itoa(checkpoint)+".ids")
}

// WriteCheckpointIDs records the ids a checkpoint is about to commit, one a line. It is written before
// the checkpoint's commit and counts only once the state names the checkpoint, so that a run dying in
// between leaves a file nobody reads.
func (d *Dataset) WriteCheckpointIDs(runID string, checkpoint int, ids []string) error {
	path := d.checkpointIDsPath(runID, checkpoint)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, id := range ids {
		w.WriteString(id)
		w.WriteByte('\n')
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recording checkpoint %d of run %s: %w", checkpoint, runID, err)
	}
	return nil
}

// CheckpointIDs returns the ids the committed checkpoints of an unfinished run hold.
func (d *Dataset) CheckpointIDs(r Resume) (map[string]bool, error) {
	ids := map[string]bool{}
	for n := 1; n <= r.Checkpoints; n++ {
		data, err := os.ReadFile(d.checkpointIDsPath(r.RunID, n))
		if err != nil {
			return nil, fmt.Errorf("reading checkpoint %d of run %s: %w (remove %s to start the run over)",
				n, r.RunID, err, d.statePath(stateFile))
		}
		for _, id := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if id != "" {
				ids[id] = true
			}
		}
	}
	return ids, nil
}

// RemoveCheckpointIDs removes the checkpoint records of every run but keep ("" keeps none): those of a
// finished run, of an abandoned one, or written by a run that died before its checkpoint committed.
func (d *Dataset) RemoveCheckpointIDs(keep string) error {
	runs, err := os.ReadDir(d.statePath(resumeDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.Name() != keep {
			if err := os.RemoveAll(filepath.Join(d.statePath(resumeDir), r.Name())); err != nil {
				return err
			}
		}
	}
	if keep == "" {
		os.Remove(d.statePath(resumeDir))
	}
	return nil
}
