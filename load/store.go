package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Store is where a dataset lives: a local folder (folderStore) or a bucket prefix (bucketStore). The
// commit protocol (dataset.go, commit.go), the index, the state and verify are written once against it.
//
// Names are slash-separated and relative to the store's root (`conversations/date=2025-03-14/data.parquet`,
// `_intercom_export/state.json`). A missing object is reported with an error wrapping fs.ErrNotExist.
//
// New data files are written to local files first and checked there; Upload puts them under their
// staged name, Publish makes each one visible under its final name (a rename in a folder, a copy in a
// bucket: atomic per object either way, a reader sees the old file or the new one).
type Store interface {
	// Location is the folder or URL the store was opened from, for messages; it never holds a
	// credential.
	Location() string

	// Fetch returns a local path holding name's content, and a function that releases it: the file
	// itself in a folder, a temporary download from a bucket.
	Fetch(ctx context.Context, name string) (local string, release func(), err error)
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// WriteFile replaces name with data as a whole, durably: a reader sees the old content or the new.
	WriteFile(ctx context.Context, name string, data []byte) error
	// Stat describes one object.
	Stat(ctx context.Context, name string) (Entry, error)
	// List returns every object under the folder prefix (recursively), by name; a missing prefix has
	// none. Hidden names (a leading dot) are included.
	List(ctx context.Context, prefix string) ([]Entry, error)
	// Tree is the store's objects as a tree of folders and files, listed once: for verify.
	Tree(ctx context.Context) (fs.FS, error)
	// Remove deletes name; a missing one is not an error. In a folder, the folder that held it goes
	// too when it is left empty (an empty partition folder would read as an empty partition).
	Remove(ctx context.Context, name string) error
	// RemoveAll deletes every object under the folder prefix.
	RemoveAll(ctx context.Context, prefix string) error

	// Stage returns where a run's new file for name goes: its staged name in the store, and the local
	// path it is written at first.
	Stage(runID, name string) (staged, local string)
	// Upload puts the local file written for staged (see Stage) under the staged name.
	Upload(ctx context.Context, staged, local string) error
	// Publish makes name hold what staged holds.
	Publish(ctx context.Context, staged, name string) error
	// Sync makes what was written, renamed or removed so far durable (the objects named, or all).
	Sync(ctx context.Context, names []string) error
	// Scratch is a local folder for a run's temporary files (the external sort's runs).
	Scratch(runID string) string
	// CleanStaging removes what runs that died before their commit point left: staged objects and
	// temporary files. It runs with the lock held and no journal.
	CleanStaging(ctx context.Context) error

	// Lock takes the store's lock for one run: an error wrapping ErrLocked while another run holds
	// it. The lock is released by its Unlock, or by the holder's death.
	Lock(ctx context.Context, runID string) (Unlocker, error)
	// ProbeLock reports whether Lock would succeed now, without taking the lock or creating anything.
	ProbeLock(ctx context.Context) error
	// CheckWritable reports, without creating anything, whether the store can be written to.
	CheckWritable(ctx context.Context) error
}

// Unlocker releases a lock taken with Store.Lock.
type Unlocker interface {
	Unlock() error
	// Held reports an error once the lock is no longer this run's (a bucket lock taken over after
	// this run failed to renew it in time).
	Held() error
}

// Entry is one object of a Store.
type Entry struct {
	Name string
	Size int64
	// Version changes whenever the object is rewritten: the modification time in a folder, the ETag
	// and modification time in a bucket. The index compares it with what it recorded.
	Version int64
}

// ErrUnknownScheme is returned by OpenStore for a location it cannot open.
var ErrUnknownScheme = errors.New("load: unknown output location")

// Schemes lists the location forms OpenStore knows.
const Schemes = "a folder path, file:///path, s3://bucket/prefix"

// StoreOptions configures the stores OpenStore opens. Credentials never come from here: a bucket
// uses the standard AWS chain (environment, shared config and profile, web identity, instance or
// container metadata).
type StoreOptions struct {
	// S3Endpoint overrides the S3 endpoint (an S3-compatible store: MinIO, R2, Ceph, GCS); default
	// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS.
	S3Endpoint string
	// S3Region is the bucket's region; default from the AWS configuration, else us-east-1.
	S3Region string
	// S3PathStyle addresses buckets as endpoint/bucket instead of bucket.endpoint.
	S3PathStyle bool
	// AllowUnsafeLock accepts a store without conditional writes, whose lock cannot keep two runs out.
	AllowUnsafeLock bool
	// LockTTL is how long a bucket lock lasts without renewal; default DefaultLockTTL.
	LockTTL time.Duration
	// TempDir holds local temporary files of a bucket run; default os.TempDir().
	TempDir string
}

// IsFolder reports whether location names a local folder (a plain path or a file:// URL).
func IsFolder(location string) bool {
	scheme, _, ok := strings.Cut(location, "://")
	return !ok || scheme == "file" || !validScheme(scheme)
}

func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// OpenStore opens a location: a folder path or file:// URL as a folder, s3://bucket/prefix as a bucket.
// Any other scheme is refused with the list of those known.
func OpenStore(ctx context.Context, location string, opts StoreOptions) (Store, error) {
	scheme, rest, ok := strings.Cut(location, "://")
	switch {
	case !ok || !validScheme(scheme):
		return NewFolderStore(location), nil
	case scheme == "file":
		if rest == "" || rest[0] != '/' {
			return nil, fmt.Errorf("%w %q: a file URL is file:///absolute/path", ErrUnknownScheme, location)
		}
		return NewFolderStore(filepath.FromSlash(rest)), nil
	case scheme == "s3":
		return openBucketStore(ctx, location, rest, opts)
	default:
		return nil, fmt.Errorf("%w %q: the scheme %s:// is not one this tool writes to; use %s", ErrUnknownScheme, location, scheme, Schemes)
	}
}

// folderStore is a local folder. New files are written under hidden temporary names next to the files
// they replace, so that publishing is a rename within a folder; durability comes from one syncfs(2)
// (or an fsync of each file and folder where syncfs is missing).
type folderStore struct {
	root     string
	noSyncFS bool
}

// NewFolderStore returns the store of a local folder, which need not exist yet.
func NewFolderStore(dir string) Store { return &folderStore{root: dir} }

func (s *folderStore) Location() string { return s.root }

func (s *folderStore) abs(name string) string { return filepath.Join(s.root, filepath.FromSlash(name)) }

func (s *folderStore) Fetch(_ context.Context, name string) (string, func(), error) {
	p := s.abs(name)
	if _, err := os.Stat(p); err != nil {
		return "", nil, err
	}
	return p, func() {}, nil
}

func (s *folderStore) ReadFile(_ context.Context, name string) ([]byte, error) {
	return os.ReadFile(s.abs(name))
}

func (s *folderStore) WriteFile(_ context.Context, name string, data []byte) error {
	p := s.abs(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeBytesAtomic(p, data)
}

func (s *folderStore) Stat(_ context.Context, name string) (Entry, error) {
	fi, err := os.Stat(s.abs(name))
	if err != nil {
		return Entry{}, err
	}
	return Entry{Name: name, Size: fi.Size(), Version: fi.ModTime().UnixNano()}, nil
}

func (s *folderStore) List(_ context.Context, prefix string) ([]Entry, error) {
	var out []Entry
	root := s.abs(prefix)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while listing
			}
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		out = append(out, Entry{Name: filepath.ToSlash(rel), Size: fi.Size(), Version: fi.ModTime().UnixNano()})
		return nil
	})
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

func (s *folderStore) Tree(context.Context) (fs.FS, error) { return os.DirFS(s.root), nil }

func (s *folderStore) Remove(_ context.Context, name string) error {
	p := s.abs(name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Fails, as it should, when something else (a user's file, another run's temp) lives there.
	if dir := filepath.Dir(p); filepath.Clean(dir) != filepath.Clean(s.root) {
		os.Remove(dir)
	}
	return nil
}

func (s *folderStore) RemoveAll(_ context.Context, prefix string) error {
	err := os.RemoveAll(s.abs(prefix))
	// Leave the shared parents when other runs use them; Remove fails on a non-empty folder.
	if parent := path.Dir(prefix); parent != "." && parent != StateDir {
		os.Remove(s.abs(parent))
	}
	return err
}

// tempName is the name a new file is written under next to the file it replaces. The leading dot and
// the suffix keep it out of `*.parquet` globs; the run id keeps runs apart.
func tempName(base, runID string) string { return "." + base + "." + runID + ".tmp" }

func isTempName(name string) bool {
	return strings.HasPrefix(name, "."+DataFile+".") && strings.HasSuffix(name, ".tmp")
}

func (s *folderStore) Stage(runID, name string) (string, string) {
	dir, base := path.Split(name)
	staged := dir + tempName(base, runID)
	return staged, s.abs(staged)
}

func (s *folderStore) Upload(_ context.Context, staged, local string) error {
	if want := s.abs(staged); local != want {
		if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
			return err
		}
		return os.Rename(local, want)
	}
	return nil
}

func (s *folderStore) Publish(_ context.Context, staged, name string) error {
	return os.Rename(s.abs(staged), s.abs(name))
}

func (s *folderStore) Sync(_ context.Context, names []string) error {
	if !s.noSyncFS && syncFSAvailable {
		err := syncFS(s.root)
		if !errors.Is(err, errSyncFSUnsupported) {
			return err
		}
		s.noSyncFS = true
	}
	// Each file, its folder (its entry) and the folder above (a partition folder made or removed).
	dirs := map[string]bool{}
	for _, n := range names {
		p := s.abs(n)
		if err := syncFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dirs[filepath.Dir(p)] = true
		dirs[filepath.Dir(filepath.Dir(p))] = true
	}
	sorted := slices.Collect(func(yield func(string) bool) {
		for d := range dirs {
			if !yield(d) {
				return
			}
		}
	})
	// Deepest first, so that a folder's own entry is synced after its content.
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, d := range sorted {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *folderStore) Scratch(runID string) string {
	return filepath.Join(s.root, StateDir, stagingDir, runID)
}

// CleanStaging deletes the staging folders and hidden temporary files of dead runs. A Writer makes its
// staging folder before it writes any temporary file and removes it once none is left, so without a
// staging folder there is nothing to look for in the partition folders: on 730 days, reading every one
// of them was most of the time of opening a folder.
func (s *folderStore) CleanStaging(ctx context.Context) error {
	staging := s.abs(StateDir + "/" + stagingDir)
	runs, err := os.ReadDir(staging)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.RemoveAll(staging); err != nil {
		return err
	}
	states, err := os.ReadDir(s.abs(StateDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range states {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") {
			if err := os.Remove(s.abs(StateDir + "/" + n)); err != nil {
				return err
			}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	tops, err := os.ReadDir(s.root)
	if err != nil {
		return err
	}
	for _, top := range tops {
		if !top.IsDir() || top.Name() == StateDir || strings.HasPrefix(top.Name(), ".") {
			continue
		}
		// A table's folder: its data files are one or two levels down (partitioned or not).
		if err := s.removeTemps(filepath.Join(s.root, top.Name()), 2); err != nil {
			return err
		}
	}
	return nil
}

func (s *folderStore) removeTemps(dir string, depth int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	removed := false
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth > 1:
			if err := s.removeTemps(p, depth-1); err != nil {
				return err
			}
		case !e.IsDir() && isTempName(e.Name()):
			if err := os.Remove(p); err != nil {
				return err
			}
			removed = true
		}
	}
	if removed {
		os.Remove(dir) // only succeeds if the temporary file was all it held
	}
	return nil
}

// folderLock is the flock on `_intercom_export/lock`; the kernel drops it when the process dies, so a
// killed run never blocks the next.
type folderLock struct{ f *os.File }

func (l *folderLock) Unlock() error { return l.f.Close() }

func (l *folderLock) Held() error { return nil }

func (s *folderStore) Lock(_ context.Context, runID string) (Unlocker, error) {
	state := s.abs(StateDir)
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
		return nil, fmt.Errorf("locking %s: %w", s.root, err)
	case !held:
		holder, _ := os.ReadFile(f.Name())
		f.Close()
		return nil, fmt.Errorf("%w %s (%s): wait for it to finish, or stop it", ErrLocked, s.root, strings.TrimSpace(string(holder)))
	}
	// Who holds the lock, for the message a second run prints.
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d, since %s", os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	return &folderLock{f: f}, nil
}

func (s *folderStore) ProbeLock(context.Context) error {
	f, err := os.OpenFile(s.abs(StateDir+"/"+lockFile), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening the lock file: %w", err)
	}
	defer f.Close()
	held, err := tryLock(f)
	if err != nil {
		return fmt.Errorf("locking %s: %w", s.root, err)
	}
	if !held {
		holder, _ := os.ReadFile(f.Name())
		return fmt.Errorf("%w %s (%s)", ErrLocked, s.root, strings.TrimSpace(string(holder)))
	}
	return nil
}

func (s *folderStore) CheckWritable(context.Context) error { return checkWritable(s.root) }

// writeBytesAtomic writes data to path through a synced temporary file and a rename.
func writeBytesAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
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
