// Package load publishes flattened conversations as date-partitioned Parquet files.
//
// It is the only package that knows about files. A Writer buffers records, sorts them by partition and
// conversation id and spills them as one sequential run file when memory runs over budget (an external
// sort, run.go), and at Commit merges the runs, what is left in memory and every touched partition's
// published files into one new file per table and partition, published atomically:
//
//	<Dir>/<table>/date=YYYY-MM-DD/data.parquet   (or month=YYYY-MM with Config.Partition ByMonth)
//	<Dir>/_intercom_export/staging/<run-id>/    scratch space of a run, removed by Commit and Abort
//	<Dir>/_intercom_export/index                what the folder holds (index.go)
//
// A reader globbing `*/*/*.parquet` never sees a partial file, never two versions of one partition's table,
// and never the tool's own state: temporary files start with a dot and end in `.tmp`, and the state folder
// starts with an underscore.
package load

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/schemas"
)

// Default values of Config fields left at their zero value.
const (
	DefaultMemoryBudget  = 48 << 20
	DefaultRowGroupRows  = 100_000
	DefaultCommitWorkers = 2
	DefaultVersion       = "dev"
)

const (
	// StateDir is the tool's own folder inside Dir. The leading underscore keeps it out of `*/*.parquet`
	// globs and out of Hive partition discovery in Spark and DuckDB, which skip names starting with `_`.
	StateDir = "_intercom_export"
	// DataFile is the name of the single file of each (table, partition).
	DataFile = "data.parquet"
)

// Config configures a Writer. Call SetDefaults, then Validate (NewWriter does both).
type Config struct {
	// Dir is the output folder; it is created when missing.
	Dir string
	// RunID names this run's staging folder and temporary files, so that two runs (or the leftovers
	// of a crashed one) never write to the same name. Default: a UTC timestamp with a random suffix.
	RunID string
	// MemoryBudget is how many bytes of buffered rows (estimated) may be held, a spill in progress
	// included: past half of it the buffer is sorted and spilled to staging as one run file, in the
	// background while the next half fills. Default 48 MiB: the rows are pointer-rich, so the garbage
	// collector's work grows with them. Commit needs more on top, per CommitWorker: four Parquet
	// writers (1-2 MiB of page buffers each), zstd encoders (3.6 MiB each), a few chunks of records
	// and the readers of the published files; and one reader per run (under 200 KiB each, at most
	// maxFanIn runs), whatever the number of partitions.
	MemoryBudget int64
	// RowGroupRows is the maximum number of rows per row group. Default 100,000: DuckDB scans row
	// groups under 5,000 rows several times slower, and a daily partition rarely reaches the limit.
	RowGroupRows int64
	// CommitWorkers is how many partitions Commit merges at once. Default 2; each worker holds one
	// Parquet writer and the readers of one partition.
	CommitWorkers int
	// Partition is the folder layout: schemas.ByDay (the default, `<table>/date=YYYY-MM-DD/`) or
	// schemas.ByMonth (`<table>/month=YYYY-MM/`). Dataset.NewWriter refuses one that differs from the
	// folder's.
	Partition schemas.Partitioning
	// Version and Build go into each file's created_by ("intercom-export version <Version>(build
	// <Build>)", the form Parquet writers use). Default "dev" and "".
	Version, Build string
	// BeforePublish, when set, is called by Commit once every new file is written and synced under its
	// temporary name and before any is renamed into place. An error aborts the Commit: temporary files
	// are removed and the existing data is left untouched. It is where a crash journal records what is
	// about to be published.
	BeforePublish func(pending []File) error
	// Check, when set, is called by Commit on the new files as written locally (File.Local), before
	// they are uploaded; an error aborts the Commit as BeforePublish's does.
	Check func(pending []File) error
	// Logger receives progress at debug level and a summary per Commit at info level. The zero value
	// discards everything.
	Logger zerolog.Logger
}

// SetDefaults fills in zero-valued fields.
func (c *Config) SetDefaults() {
	if c.RunID == "" {
		c.RunID = NewRunID(time.Now())
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.RowGroupRows == 0 {
		c.RowGroupRows = DefaultRowGroupRows
	}
	if c.CommitWorkers == 0 {
		c.CommitWorkers = DefaultCommitWorkers
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Partition == "" {
		c.Partition = schemas.ByDay
	}
}

// NewRunID returns a run id sortable by start time, with a random suffix so that two runs started in the
// same second do not collide.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error since Go 1.24
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Validate reports the first problem with c. It checks that Dir can be created and written to, without
// creating it, so that a wrong --out fails before any API call is spent.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("load: output directory is not set: choose a folder to write the Parquet files to")
	}
	if err := validRunID(c.RunID); err != nil {
		return err
	}
	if c.MemoryBudget <= 0 {
		return fmt.Errorf("load: memory budget %d must be positive", c.MemoryBudget)
	}
	if c.RowGroupRows <= 0 {
		return fmt.Errorf("load: rows per row group %d must be positive", c.RowGroupRows)
	}
	if c.CommitWorkers <= 0 {
		return fmt.Errorf("load: commit workers %d must be positive", c.CommitWorkers)
	}
	if _, err := schemas.ParsePartitioning(string(c.Partition)); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if IsFolder(c.Dir) {
		return checkWritable(c.Dir)
	}
	return nil // a bucket is checked by its Store
}

// validRunID keeps run ids to characters that are safe in a file name on every platform, because the id
// becomes part of temporary file names next to the published data.
func validRunID(id string) error {
	if id == "" || len(id) > 100 {
		return fmt.Errorf("load: run id %q must be 1 to 100 characters", id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("load: run id %q may only contain letters, digits, '-', '_' and '.'", id)
		}
	}
	if id[0] == '.' {
		return fmt.Errorf("load: run id %q must not start with '.'", id)
	}
	return nil
}

// checkWritable finds the deepest existing ancestor of dir (dir itself when it exists) and checks that it
// is a folder that accepts new files.
func checkWritable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("load: output directory %q: %w", dir, err)
	}
	p := abs
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("load: output directory %q cannot be created: %q is a file, not a folder; choose another output directory", dir, p)
			}
			break
		}
		// ENOTDIR: an ancestor is a file; walk up to it to say so.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("load: output directory %q cannot be created: %w; choose another output directory", dir, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("load: output directory %q: no existing parent folder", dir)
		}
		p = parent
	}
	f, err := os.CreateTemp(p, ".intercom-export-probe-*")
	if err != nil {
		what := "is not writable"
		if p != abs {
			what = fmt.Sprintf("cannot be created (%q is not writable)", p)
		}
		return fmt.Errorf("load: output directory %q %s: %w; fix the permissions or choose another output directory", dir, what, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("load: output directory %q: removing probe file: %w", dir, err)
	}
	return nil
}
