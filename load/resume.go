package load

import (
	"context"
	"fmt"
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

func checkpointIDsName(runID string, checkpoint int) string {
	return stateName(resumeDir + "/" + runID + "/" + strconv.Itoa(checkpoint) + ".ids")
}

// WriteCheckpointIDs records the ids a checkpoint is about to commit, one a line. It is written before
// the checkpoint's commit and counts only once the state names the checkpoint, so that a run dying in
// between leaves a file nobody reads.
func (d *Dataset) WriteCheckpointIDs(runID string, checkpoint int, ids []string) error {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id)
		b.WriteByte('\n')
	}
	if err := d.store.WriteFile(context.Background(), checkpointIDsName(runID, checkpoint), []byte(b.String())); err != nil {
		return fmt.Errorf("recording checkpoint %d of run %s: %w", checkpoint, runID, err)
	}
	return nil
}

// CheckpointIDs returns the ids the committed checkpoints of an unfinished run hold.
func (d *Dataset) CheckpointIDs(r Resume) (map[string]bool, error) {
	ids := map[string]bool{}
	for n := 1; n <= r.Checkpoints; n++ {
		data, err := d.store.ReadFile(context.Background(), checkpointIDsName(r.RunID, n))
		if err != nil {
			return nil, fmt.Errorf("reading checkpoint %d of run %s: %w (remove %s/%s to start the run over)",
				n, r.RunID, err, d.Dir(), stateName(stateFile))
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
	ctx := context.Background()
	entries, err := d.store.List(ctx, stateName(resumeDir))
	if err != nil {
		return err
	}
	runs := map[string]bool{}
	for _, e := range entries {
		rest := strings.TrimPrefix(e.Name, stateName(resumeDir)+"/")
		if run, _, ok := strings.Cut(rest, "/"); ok && run != keep {
			runs[run] = true
		}
	}
	for run := range runs {
		if err := d.store.RemoveAll(ctx, stateName(resumeDir+"/"+run)); err != nil {
			return err
		}
	}
	return nil
}
