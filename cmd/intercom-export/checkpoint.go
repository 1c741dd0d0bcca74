package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
)

// Checkpoints. A long run commits what it has every --checkpoint-every, through the same commit
// protocol as its end, so that readers see a growing dataset that is consistent at every moment and
// staging never holds more than one checkpoint's rows. Each checkpoint records in the state how far the
// run got (load.Resume) and, in `_intercom_export/resume/<run>/<n>.ids`, which conversations it
// committed. A rerun after a kill, a signal or a fatal error resumes: it lists again (cheap: 150
// conversations a page) and retrieves only what the checkpoints do not hold unchanged, and its bookmark
// is still the first attempt's start less the overlap. The bookmark in the state moves only when the run
// finishes, so abandoning a resume (other flags) loses nothing.

const defaultCheckpointEvery = "5m"

// checkpointSlowdown: a checkpoint is due no sooner than this many times the last one's commit took, so
// that rewriting partitions (each checkpoint rewrites those it touches) never takes more than about a
// fifth of a long backfill, however large the folder grows.
const checkpointSlowdown = 4

// checkpointPolicy is when a run commits before its end: at an interval, or every so many
// conversations; neither: only at the end.
type checkpointPolicy struct {
	interval      time.Duration
	conversations int
}

func (p checkpointPolicy) String() string {
	switch {
	case p.interval > 0:
		return p.interval.String()
	case p.conversations > 0:
		return strconv.Itoa(p.conversations) + " conversations"
	}
	return "never"
}

// parseCheckpointEvery reads --checkpoint-every: a duration (5m), a number of conversations, or 0.
func parseCheckpointEvery(s string) (checkpointPolicy, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return checkpointPolicy{conversations: n}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return checkpointPolicy{interval: d}, nil
	}
	return checkpointPolicy{}, fmt.Errorf("%w: --checkpoint-every %q: want a duration such as 5m, a number of conversations such as 50000, or 0 to commit only at the end", errUsage, s)
}

// checkpoints is where a run stands with its checkpoints.
type checkpoints struct {
	policy    checkpointPolicy
	baseID    string // this process's run id; its later segments are <baseID>-0002, ...
	runID     string // the id of the run's first segment, of the first attempt when resuming
	done      int    // checkpoints committed, by this process and the attempts it resumes
	committed int64  // conversations those checkpoints hold
	// resumed: the ids the checkpoints of the resumed run committed (full runs only), which need no
	// retrieval when unchanged.
	resumed    map[string]bool
	segmentIDs map[string]bool // added since the last commit
	segments   int             // segments this process committed
	results    commitTotals    // what they published
	due        time.Time
}

// commitTotals adds up the results of a run's commits.
type commitTotals struct {
	Conversations, Parts, Tags, Ratings int64
	Files, Deleted                      int
}

func (t *commitTotals) add(r load.Result) {
	t.Conversations += r.Conversations
	t.Parts += r.Parts
	t.Tags += r.Tags
	t.Ratings += r.Ratings
	t.Files += len(r.Files)
}

// init sets the checkpoints up for a run. inState is the unfinished run the state names, resumed or
// not: its records stay until this run's own first commit replaces the state.
func (ck *checkpoints) init(ds *load.Dataset, baseID string, p runPlan, policy checkpointPolicy, inState *load.Resume) error {
	now := time.Now()
	*ck = checkpoints{policy: policy, baseID: baseID, runID: baseID,
		segmentIDs: map[string]bool{}, due: now.Add(policy.interval)}
	r := p.resume
	if r == nil {
		keep := ""
		if inState != nil {
			keep = inState.RunID
		}
		return ds.RemoveCheckpointIDs(keep) // of runs that died before their first checkpoint
	}
	ck.runID, ck.done, ck.committed = r.RunID, r.Checkpoints, r.Conversations
	if err := ds.RemoveCheckpointIDs(r.RunID); err != nil {
		return err
	}
	if p.mode == "full" {
		ids, err := ds.CheckpointIDs(*r)
		if err != nil {
			return err
		}
		ck.resumed = ids
	}
	return nil
}

// segment numbers the next commit within the run: 0 while the run has committed no checkpoint.
func (ck *checkpoints) segment() int {
	if ck.done == 0 {
		return 0
	}
	return ck.done + 1
}

func (ck *checkpoints) isDue() bool {
	switch {
	case ck.policy.interval > 0:
		return !time.Now().Before(ck.due)
	case ck.policy.conversations > 0:
		return len(ck.segmentIDs) >= ck.policy.conversations
	}
	return false
}

// added notes a conversation handed to the writer, and commits a checkpoint when one is due.
func (ck *checkpoints) added(ctx context.Context, j *exportJob, id string, ex *extract.Extractor) error {
	ck.segmentIDs[id] = true
	if !ck.isDue() {
		return nil
	}
	return j.checkpoint(ctx, ex)
}

// checkpoint commits what the run has so far and starts the next segment.
func (j *exportJob) checkpoint(ctx context.Context, ex *extract.Extractor) error {
	ck := &j.ck
	start := time.Now()
	j.removeGone()
	n := ck.done + 1
	ids := make([]string, 0, len(ck.segmentIDs))
	for id := range ck.segmentIDs {
		ids = append(ids, id)
	}
	if err := j.run.ds.WriteCheckpointIDs(ck.runID, n, ids); err != nil {
		return err
	}
	m := j.manifest(ex, stageCounts{})
	m.Status, m.Segment = "checkpoint", n
	m.Failures = []load.Failure{} // listed once, in the run's last manifest
	st := &load.State{Bookmark: j.prev.Bookmark, NoBookmark: !j.havePrev || j.prev.NoBookmark,
		DeletionsSince: j.prev.DeletionsSince, APIVersion: j.o.Extract.APIVersion,
		Resume: &load.Resume{RunID: ck.runID, StartedAt: j.plan.started, Mode: j.plan.mode,
			Since: j.plan.window.Since, Until: j.plan.window.Until, Checkpoints: n,
			Conversations: ck.committed + int64(len(ids))}}
	res, err := j.run.ds.Commit(ctx, j.run.writer, m, st)
	if err != nil {
		return fmt.Errorf("committing checkpoint %d: %w", n, err)
	}
	ck.done, ck.committed = n, st.Resume.Conversations
	ck.results.add(res)
	ck.results.Deleted += len(j.deleted)
	j.deleted = nil
	ck.segmentIDs = map[string]bool{}
	ck.segments++
	if err := j.run.newWriter(j.loadCfg, fmt.Sprintf("%s-%04d", ck.baseID, ck.segments+1)); err != nil {
		return err
	}
	took := time.Since(start)
	ck.due = time.Now().Add(max(ck.policy.interval, checkpointSlowdown*took))
	j.log.Info().Int("checkpoint", n).Int("conversations", len(ids)).Int64("committed", ck.committed).
		Int("files", len(res.Files)).Int64("took_ms", took.Milliseconds()).Msg("checkpoint committed")
	return nil
}
