package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/schemas"
)

// The commit protocol, written once against a Store (store.go): a local folder or a bucket prefix.
//
// A run writes every new file to a local file, checks it, and uploads it under its staged name: in a
// folder a hidden temporary name next to the file it replaces (the upload is nothing, the file is
// already there), in a bucket a key under `_intercom_export/staging/<run-id>/` (Writer.Commit, phase
// 1). Then, before anything is published, it writes a journal, `_intercom_export/journal.json`, holding
// the list of files to publish and remove, the run's manifest and the state (bookmark) to record. Then
// it publishes the files (a rename in a folder, a server-side copy in a bucket), writes the manifest,
// the state and the index, and deletes the journal and the staging. The journal's presence is the
// commit point:
//
//   - a run that dies before the journal is complete leaves only staged files, which the next run
//     deletes: the dataset is at its last committed state;
//   - a run that dies after leaves a journal, which the next run rolls forward before doing anything else:
//     it finishes publishing (each file atomically: readers see a partition's old file or its new one,
//     never a partial one, never both) and records the manifest, state and index.
//
// The lock keeps two runs out of one dataset: a flock on `_intercom_export/lock` in a folder (the kernel
// drops it when the process dies), a lock object with an expiry that the live run renews in a bucket.

const (
	lockFile    = "lock"
	journalFile = "journal.json"
	stateFile   = "state.json"
	runsDir     = "runs"
	stagingDir  = "staging"
)

// ErrLocked is returned by OpenDataset while another run holds the folder.
var ErrLocked = errors.New("another intercom-export run is using the output folder")

// State is what a committed run leaves for the next one.
type State struct {
	// Bookmark (Unix seconds): the next incremental run asks for conversations updated at or after it.
	Bookmark   int64     `json:"bookmark"`
	RunID      string    `json:"run_id"`
	APIVersion string    `json:"api_version,omitempty"`
	CommitedAt time.Time `json:"committed_at"`
	// NoBookmark: no run has recorded a bookmark yet (only checkpoints of a first run, or runs bounded
	// by --until, were committed), so the next run without flags is a full one.
	NoBookmark bool `json:"no_bookmark,omitempty"`
	// DeletionsSince, when set, is where the next run lists deleted conversations from instead of the
	// bookmark: a run whose listing of deletions failed keeps it at its own starting point.
	DeletionsSince *int64 `json:"deletions_since,omitempty"`
	// Resume, when set, describes a run that committed checkpoints and did not finish.
	Resume *Resume `json:"resume,omitempty"`
}

// Dataset is an output folder or bucket prefix held by one run.
type Dataset struct {
	store Store
	lock  Unlocker
	log   zerolog.Logger

	// pending is the run Commit is publishing; the BeforePublish hook journals it.
	pending *journal
	// verify, when set, checks every new file before the journal commits the run.
	verify func(pending []File) error
	// afterJournal is a test seam: it runs once the journal is durable, before any rename.
	afterJournal func()
	// index is what the folder holds, read on first use and replaced by each Commit.
	index *folderIndex
	// writer is the Writer Commit is publishing.
	writer *Writer
}

// OpenDataset opens a local folder with Open.
func OpenDataset(dir string, log zerolog.Logger) (*Dataset, error) {
	return Open(context.Background(), NewFolderStore(dir), log)
}

// Open takes the store's lock, creating the folder when needed, and brings it to its last committed
// state: it rolls forward a journal left by a run that died while publishing, and removes the staged
// files of runs that died before.
func Open(ctx context.Context, st Store, log zerolog.Logger) (*Dataset, error) {
	lock, err := st.Lock(ctx, "")
	if err != nil {
		return nil, err
	}
	d := &Dataset{store: st, lock: lock, log: log}
	if err := d.recover(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Dir is the output folder or URL.
func (d *Dataset) Dir() string { return d.store.Location() }

// Store is where the dataset lives.
func (d *Dataset) Store() Store { return d.store }

// Close releases the lock.
func (d *Dataset) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Unlock()
	d.lock = nil
	return err
}

func stateName(name string) string { return StateDir + "/" + name }

// State returns the last committed state; ok is false before the first committed run.
func (d *Dataset) State() (st State, ok bool, err error) {
	return ReadStoreState(context.Background(), d.store)
}

// ReadState reads the last committed state of a local folder without taking its lock; ok is false
// before the first committed run.
func ReadState(dir string) (st State, ok bool, err error) {
	return ReadStoreState(context.Background(), NewFolderStore(dir))
}

// ReadStoreState reads the last committed state of a store without taking its lock; ok is false before
// the first committed run.
func ReadStoreState(ctx context.Context, s Store) (st State, ok bool, err error) {
	data, err := s.ReadFile(ctx, stateName(stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, false, fmt.Errorf("%s/%s is corrupt (%w): remove it to make the next run a full one", s.Location(), stateName(stateFile), err)
	}
	return st, true, nil
}

// SetVerify installs a check of every new file (at File.Local, before it is uploaded), run before the
// journal commits the run; an error aborts the commit and leaves the folder as it was. It applies to
// Writers made after it.
func (d *Dataset) SetVerify(verify func(pending []File) error) { d.verify = verify }

// NewWriter returns a Writer on the folder whose Commit goes through the journal and writes the
// folder's index. Use Dataset.Commit, not Writer.Commit. A cfg.Partition other than the folder's layout
// is refused: a folder holds one layout.
func (d *Dataset) NewWriter(cfg Config) (*Writer, error) {
	cfg.Dir = d.store.Location()
	cfg.BeforePublish = d.beforePublish
	cfg.Check = d.verify
	cfg.SetDefaults()
	ix, err := d.folderIndex()
	if err != nil {
		return nil, err
	}
	if ix.partition != "" && ix.partition != cfg.Partition {
		return nil, fmt.Errorf("%w: %s is partitioned by %s, not by %s: run with --partition %s, or re-lay it out by exporting "+
			"(or converting the conversations' source_json) into a new folder with --partition %s",
			ErrLayout, d.Dir(), ix.partition, cfg.Partition, ix.partition, cfg.Partition)
	}
	w, err := newWriter(cfg, d.store)
	if err != nil {
		return nil, err
	}
	w.index = ix
	return w, nil
}

// ErrLayout is returned by Dataset.NewWriter for a partitioning other than the folder's.
var ErrLayout = errors.New("load: the folder has another partitioning")

// journal is the commit record: what to publish and remove, and what to record once done.
type journal struct {
	RunID string `json:"run_id"`
	Files []File `json:"files"`
	// Index is the staged object of the folder's next index.
	Index    string    `json:"index,omitempty"`
	Manifest *Manifest `json:"manifest"`
	State    *State    `json:"state"` // nil: the run leaves the state as it was
	// Staging is the run's staging prefix, removed once the run is recorded.
	Staging string `json:"staging,omitempty"`
}

// Commit publishes w's files and records the run's manifest and, unless next is nil, the new state,
// through the journal.
func (d *Dataset) Commit(ctx context.Context, w *Writer, m *Manifest, next *State) (Result, error) {
	if next != nil {
		next.RunID = w.RunID()
	}
	d.pending = &journal{RunID: w.RunID(), Manifest: m, State: next, Staging: stagingPrefix(w.RunID())}
	d.writer = w
	defer func() { d.pending, d.writer = nil, nil }()
	res, err := w.Commit(ctx)
	if err != nil {
		return res, err
	}
	if w.nextIndex != nil {
		d.index = w.nextIndex
	}
	// Past the commit point: the rest is not interruptible.
	if err := d.finish(context.WithoutCancel(ctx), d.pending, w.nextIndex); err != nil {
		return res, err
	}
	return res, nil
}

// stagingPrefix is where a run's staged objects live in a bucket (a folder stages next to the data).
func stagingPrefix(runID string) string { return stateName(stagingDir + "/" + runID) }

// beforePublish runs between the two phases of Writer.Commit: every new file is durable under its
// staged name. Writing the journal is the commit point.
func (d *Dataset) beforePublish(files []File) error {
	if d.pending == nil {
		return errors.New("use Dataset.Commit to publish a Dataset's Writer")
	}
	if err := d.lock.Held(); err != nil {
		return err
	}
	d.pending.Files = files
	if d.writer != nil {
		d.pending.Index = d.writer.indexStaged
	}
	d.pending.Manifest.addFiles(files)
	data, err := marshalJSON(d.pending)
	if err == nil {
		err = d.store.WriteFile(context.Background(), stateName(journalFile), data)
	}
	if err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	if d.afterJournal != nil {
		d.afterJournal()
	}
	return nil
}

func marshalJSON(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}

// finish records a published run, its index (ix, or the staged one the journal names), then deletes
// its journal and staging.
func (d *Dataset) finish(ctx context.Context, j *journal, ix *folderIndex) error {
	now := time.Now().UTC()
	if j.Manifest != nil {
		j.Manifest.FinishedAt = now
		data, err := marshalJSON(j.Manifest)
		if err == nil {
			err = d.store.WriteFile(ctx, stateName(runsDir+"/"+j.RunID+".json"), data)
		}
		if err != nil {
			return fmt.Errorf("writing the run manifest: %w", err)
		}
	}
	if j.State != nil {
		j.State.CommitedAt = now
		data, err := marshalJSON(j.State)
		if err == nil {
			err = d.store.WriteFile(ctx, stateName(stateFile), data)
		}
		if err != nil {
			return fmt.Errorf("writing the state: %w", err)
		}
	}
	if j.Index != "" {
		if err := d.publishIndex(ctx, j, ix); err != nil {
			return fmt.Errorf("publishing the index: %w", err)
		}
	}
	if err := d.store.Remove(ctx, stateName(journalFile)); err != nil {
		return err
	}
	if err := d.store.Sync(ctx, []string{stateName(journalFile)}); err != nil {
		return err
	}
	if j.Staging != "" {
		if err := d.store.RemoveAll(ctx, j.Staging); err != nil {
			// The data is published; leftover staging only costs space, and the next run removes it.
			d.log.Warn().Err(err).Msg("load: staging not removed")
		}
	}
	return nil
}

// publishIndex writes the folder's index with the versions its conversations files got once
// published, and removes the staged one.
func (d *Dataset) publishIndex(ctx context.Context, j *journal, ix *folderIndex) error {
	if ix == nil {
		data, err := d.store.ReadFile(ctx, j.Index)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // published before the crash
		}
		if err != nil {
			return err
		}
		if ix, err = decodeIndex(data); err != nil {
			return err
		}
	}
	if err := ix.settle(ctx, d.store, j.Files); err != nil {
		return err
	}
	if err := d.store.WriteFile(ctx, indexName, ix.encode()); err != nil {
		return err
	}
	return d.store.Remove(ctx, j.Index)
}

// recover rolls a journal forward, then removes what dead runs left unpublished.
func (d *Dataset) recover(ctx context.Context) error {
	data, err := d.store.ReadFile(ctx, stateName(journalFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading the journal: %w", err)
	default:
		var j journal
		if err := json.Unmarshal(data, &j); err != nil {
			// A journal is written whole (a rename, or one PUT), so a corrupt one was never a commit.
			return fmt.Errorf("the journal %s/%s is corrupt (%w): move it away and run again", d.Dir(), stateName(journalFile), err)
		}
		if err := d.rollForward(ctx, &j); err != nil {
			return fmt.Errorf("completing run %s, which died while publishing: %w", j.RunID, err)
		}
		d.log.Warn().Str("run_id", j.RunID).Int("files", len(j.Files)).Msg("completed the publishing of a run that died half way")
	}
	return d.store.CleanStaging(ctx)
}

func (d *Dataset) rollForward(ctx context.Context, j *journal) error {
	names := make([]string, 0, len(j.Files))
	for _, f := range j.Files {
		names = append(names, f.Path)
		if f.Removed {
			if err := d.store.Remove(ctx, f.Path); err != nil {
				return err
			}
			continue
		}
		err := d.store.Publish(ctx, f.TempPath, f.Path)
		// A missing staged file was published before the crash: staging goes only once all are.
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := d.store.Sync(ctx, names); err != nil {
		return err
	}
	return d.finish(ctx, j, nil)
}

// Held is what the folder holds of one conversation.
type Held struct {
	UpdatedAt int64 // Unix seconds; 0 when unknown
	Date      schemas.Date
}

// Index returns which conversations the folder holds, with their updated_at and creation day, from the
// folder's index (see index.go): one small file, checked against a listing of the conversations table,
// and rebuilt from the data when missing or inconsistent.
func (d *Dataset) Index() (map[string]Held, error) {
	ix, err := d.folderIndex()
	if err != nil {
		return nil, err
	}
	return ix.heldMap(), nil
}

func (d *Dataset) folderIndex() (*folderIndex, error) {
	if d.index != nil {
		return d.index, nil
	}
	ix, rebuilt, err := readIndex(context.Background(), d.store)
	if err != nil {
		return nil, err
	}
	if rebuilt != "" {
		d.log.Info().Str("reason", rebuilt).Int("partitions", len(ix.parts)).
			Msg("rebuilt the folder's index from the conversations files; the next commit writes it")
	}
	d.index = ix
	return ix, nil
}

// Partitioning returns the folder's layout: as its index records it, else as its partition folders
// show; "" for a folder that holds nothing yet.
func (d *Dataset) Partitioning() (schemas.Partitioning, error) {
	ix, err := d.folderIndex()
	if err != nil {
		return "", err
	}
	return ix.partition, nil
}
