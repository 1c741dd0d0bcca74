package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/schemas"
)

// The commit protocol of an output folder.
//
// A run writes every new file under a hidden temporary name next to the file it replaces (Writer.Commit,
// phase 1). Then, before anything is renamed, it writes a journal, `_intercom_export/journal.json`,
// holding the list of renames and removals, the run's manifest and the state (bookmark) to record, and
// syncs it. Then it renames the files into place, writes the manifest and the state, and deletes the
// journal. The journal's presence is the commit point:
//
//   - a run that dies before the journal is complete leaves only temporary files and staging, which the
//     next run deletes: the folder is at its last committed state;
//   - a run that dies after leaves a journal, which the next run rolls forward before doing anything else:
//     it finishes the renames (each one atomic: readers see a partition's old file or its new one, never
//     a partial one, never both) and records the manifest and state.
//
// The lock (flock on `_intercom_export/lock`) keeps two runs out of one folder; the kernel drops it when
// the process dies, so a killed run never blocks the next.

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

// Dataset is an output folder held by one run.
type Dataset struct {
	dir  string
	lock *os.File
	log  zerolog.Logger

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

// OpenDataset takes the folder's lock, creating the folder when needed, and brings it to its last
// committed state: it rolls forward a journal left by a run that died while publishing, and removes the
// temporary files and staging of runs that died before.
func OpenDataset(dir string, log zerolog.Logger) (*Dataset, error) {
	state := filepath.Join(dir, StateDir)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", state, err)
	}
	f, err := os.OpenFile(filepath.Join(state, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	switch held, err := tryLock(f); {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	case !held:
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return nil, fmt.Errorf("%w %s (%s): wait for it to finish, or stop it", ErrLocked, dir, strings.TrimSpace(string(holder)))
	}
	// Who holds the lock, for the message a second run prints.
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d, since %s", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	d := &Dataset{dir: dir, lock: f, log: log}
	if err := d.recover(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Dir is the output folder.
func (d *Dataset) Dir() string { return d.dir }

// Close releases the lock.
func (d *Dataset) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

func (d *Dataset) statePath(name string) string { return filepath.Join(d.dir, StateDir, name) }

// State returns the last committed state; ok is false before the first committed run.
func (d *Dataset) State() (st State, ok bool, err error) { return ReadState(d.dir) }

// ReadState reads the last committed state of dir without taking its lock; ok is false before the
// first committed run.
func ReadState(dir string) (st State, ok bool, err error) {
	path := filepath.Join(dir, StateDir, stateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, false, fmt.Errorf("%s is corrupt (%w): remove it to make the next run a full one", path, err)
	}
	return st, true, nil
}

// SetVerify installs a check of every new file, run before the journal commits the run; an error
// aborts the commit and leaves the folder as it was.
func (d *Dataset) SetVerify(verify func(pending []File) error) { d.verify = verify }

// NewWriter returns a Writer on the folder whose Commit goes through the journal and writes the
// folder's index. Use Dataset.Commit, not Writer.Commit. A cfg.Partition other than the folder's layout
// is refused: a folder holds one layout.
func (d *Dataset) NewWriter(cfg Config) (*Writer, error) {
	cfg.Dir = d.dir
	cfg.BeforePublish = d.beforePublish
	cfg.SetDefaults()
	ix, err := d.folderIndex()
	if err != nil {
		return nil, err
	}
	if ix.partition != "" && ix.partition != cfg.Partition {
		return nil, fmt.Errorf("%w: %s is partitioned by %s, not by %s: run with --partition %s, or re-lay it out by exporting "+
			"(or converting the conversations' source_json) into a new folder with --partition %s",
			ErrLayout, d.dir, ix.partition, cfg.Partition, ix.partition, cfg.Partition)
	}
	w, err := NewWriter(cfg)
	if err != nil {
		return nil, err
	}
	w.index = ix
	return w, nil
}

// ErrLayout is returned by Dataset.NewWriter for a partitioning other than the folder's.
var ErrLayout = errors.New("load: the folder has another partitioning")

// journal is the commit record: what to rename and remove, and what to record once done.
type journal struct {
	RunID string `json:"run_id"`
	Files []File `json:"files"`
	// Index is the temporary file of the folder's next index, relative to Dir.
	Index    string    `json:"index,omitempty"`
	Manifest *Manifest `json:"manifest"`
	State    *State    `json:"state"` // nil: the run leaves the state as it was
}

// Commit publishes w's files and records the run's manifest and, unless next is nil, the new state,
// through the journal.
func (d *Dataset) Commit(ctx context.Context, w *Writer, m *Manifest, next *State) (Result, error) {
	if next != nil {
		next.RunID = w.RunID()
	}
	d.pending = &journal{RunID: w.RunID(), Manifest: m, State: next}
	d.writer = w
	defer func() { d.pending, d.writer = nil, nil }()
	res, err := w.Commit(ctx)
	if err != nil {
		return res, err
	}
	if w.nextIndex != nil {
		d.index = w.nextIndex
	}
	if err := d.finish(d.pending); err != nil {
		return res, err
	}
	return res, nil
}

// beforePublish runs between the two phases of Writer.Commit: every new file is durable under its
// temporary name. Writing the journal is the commit point.
func (d *Dataset) beforePublish(files []File) error {
	if d.pending == nil {
		return errors.New("use Dataset.Commit to publish a Dataset's Writer")
	}
	if d.verify != nil {
		if err := d.verify(files); err != nil {
			return err
		}
	}
	d.pending.Files = files
	if d.writer != nil {
		d.pending.Index = d.writer.indexTempRel()
	}
	d.pending.Manifest.addFiles(files)
	if err := writeFileAtomic(d.statePath(journalFile), d.pending); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	if d.afterJournal != nil {
		d.afterJournal()
	}
	return nil
}

// finish records a published run and deletes its journal.
func (d *Dataset) finish(j *journal) error {
	now := time.Now().UTC()
	if j.Manifest != nil {
		j.Manifest.FinishedAt = now
		if err := os.MkdirAll(d.statePath(runsDir), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(d.statePath(runsDir), j.RunID+".json"), j.Manifest); err != nil {
			return fmt.Errorf("writing the run manifest: %w", err)
		}
	}
	if j.State != nil {
		j.State.CommitedAt = now
		if err := writeFileAtomic(d.statePath(stateFile), j.State); err != nil {
			return fmt.Errorf("writing the state: %w", err)
		}
	}
	if err := os.Remove(d.statePath(journalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(d.statePath(""))
}

// recover rolls a journal forward, then removes what dead runs left unpublished.
func (d *Dataset) recover() error {
	data, err := os.ReadFile(d.statePath(journalFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading the journal: %w", err)
	default:
		var j journal
		if err := json.Unmarshal(data, &j); err != nil {
			// writeFileAtomic renames a complete journal into place, so a corrupt one was never a commit.
			return fmt.Errorf("the journal %s is corrupt (%w): move it away and run again", d.statePath(journalFile), err)
		}
		if err := d.rollForward(&j); err != nil {
			return fmt.Errorf("completing run %s, which died while publishing: %w", j.RunID, err)
		}
		d.log.Warn().Str("run_id", j.RunID).Int("files", len(j.Files)).Msg("completed the publishing of a run that died half way")
	}
	return d.removeLeftovers()
}

func (d *Dataset) rollForward(j *journal) error {
	dirs := map[string]bool{}
	for _, f := range j.Files {
		final := filepath.Join(d.dir, f.Path)
		if f.Removed {
			if err := os.Remove(final); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			os.Remove(filepath.Dir(final)) // an emptied partition folder goes too
			dirs[filepath.Dir(filepath.Dir(final))] = true
			continue
		}
		err := os.Rename(filepath.Join(d.dir, f.TempPath), final)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// A missing temporary file was renamed before the crash.
		dirs[filepath.Dir(final)] = true
	}
	if j.Index != "" {
		err := os.Rename(filepath.Join(d.dir, j.Index), d.statePath(indexFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs[d.statePath("")] = true
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return d.finish(j)
}

// removeLeftovers deletes temporary files and staging folders: with the lock held and no journal,
// nothing unpublished belongs to a live run.
func (d *Dataset) removeLeftovers() error {
	// A Writer makes its staging folder before it writes any temporary file and removes it once none
	// is left, so without a staging folder there is nothing to look for in the partition folders: on
	// 730 days, reading every one of them was most of the time of opening a folder.
	runs, err := os.ReadDir(d.statePath(stagingDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.RemoveAll(d.statePath(stagingDir)); err != nil {
		return err
	}
	states, err := os.ReadDir(d.statePath(""))
	if err != nil {
		return err
	}
	for _, e := range states {
		if strings.HasPrefix(e.Name(), "."+indexFile+".") && strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.Remove(d.statePath(e.Name())); err != nil {
				return err
			}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	for _, table := range Tables {
		parts, err := os.ReadDir(filepath.Join(d.dir, table))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, p := range parts {
			if !p.IsDir() {
				continue
			}
			partDir := filepath.Join(d.dir, table, p.Name())
			files, err := os.ReadDir(partDir)
			if err != nil {
				return err
			}
			for _, f := range files {
				if isTempName(f.Name()) {
					if err := os.Remove(filepath.Join(partDir, f.Name())); err != nil {
						return err
					}
					d.log.Debug().Str("file", filepath.Join(table, p.Name(), f.Name())).Msg("removed a dead run's temporary file")
				}
			}
			if len(files) > 0 {
				os.Remove(partDir) // only succeeds if the temporary file was all it held
			}
		}
	}
	return nil
}

func isTempName(name string) bool {
	return strings.HasPrefix(name, "."+DataFile+".") && strings.HasSuffix(name, ".tmp")
}

// writeFileAtomic writes v as JSON to path through a synced temporary file and a rename.
func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
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
	ix, rebuilt, err := readIndex(d.dir)
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
