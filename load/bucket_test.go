package load_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/load/s3test"
	"github.com/intercom-export/intercom-export/schemas"
)

// openBucket opens s3://bucket/prefix on srv through endpoint, with the credentials in the environment
// as the standard AWS chain reads them.
func openBucket(t *testing.T, srv *s3test.Server, endpoint, url string, ttl time.Duration) load.Store {
	t.Helper()
	srv.SetEnv(t, endpoint)
	st, err := load.OpenStore(context.Background(), url, load.StoreOptions{S3PathStyle: true, LockTTL: ttl, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CheckWritable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func openStore(t *testing.T, st load.Store, log *bytes.Buffer) *load.Dataset {
	t.Helper()
	l := zerolog.Nop()
	if log != nil {
		l = zerolog.New(log)
	}
	d, err := load.Open(context.Background(), st, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// bucketRuns are three runs: a first one, one that rewrites, adds and deletes, one that empties a
// partition.
var bucketRuns = []struct {
	recs    []schemas.Record
	deletes map[string]schemas.Date
}{
	{recs: []schemas.Record{record("1", day1, 2, []string{"a"}, true, ""), record("2", day2, 1, nil, false, ""), record("4", day2, 3, []string{"c"}, false, "")}},
	{recs: []schemas.Record{record("1", day1, 4, nil, false, "v2"), record("3", day3, 1, []string{"b"}, false, "")}, deletes: map[string]schemas.Date{"2": day2}},
	{recs: []schemas.Record{record("5", day1, 1, nil, true, "")}, deletes: map[string]schemas.Date{"4": day2}},
}

// A bucket written run after run holds exactly what a folder written by the same runs holds, with no
// staging, journal or multipart upload left, and verify reads it as it reads the folder.
func TestBucketHoldsWhatAFolderHolds(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "exports")
	st := openBucket(t, srv, srv.Endpoint, "s3://exports/intercom/prod", 0)
	dir := t.TempDir()
	folder, bucket := openDataset(t, dir), openStore(t, st, nil)
	for i, r := range bucketRuns {
		if _, err := commitRun(t, folder, int64(i+1), r.recs, r.deletes); err != nil {
			t.Fatal(err)
		}
		if _, err := commitRun(t, bucket, int64(i+1), r.recs, r.deletes); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := mustIndex(t, bucket), mustIndex(t, folder); !reflect.DeepEqual(got, want) {
		t.Errorf("bucket index %v, folder index %v", got, want)
	}
	bucket.Close()

	keys := srv.Keys(t, "exports", "")
	var data []string
	for _, k := range keys {
		switch {
		case !strings.HasPrefix(k, "intercom/prod/"):
			t.Errorf("object %s outside the prefix", k)
		case strings.Contains(k, "/staging/") || strings.HasSuffix(k, "journal.json") || strings.HasSuffix(k, ".tmp") || strings.HasSuffix(k, "/lock"):
			t.Errorf("leftover object %s", k)
		case !strings.Contains(k, load.StateDir):
			data = append(data, strings.TrimPrefix(k, "intercom/prod/"))
		}
	}
	var want []string
	for _, f := range files(t, dir) {
		if !strings.HasPrefix(f, load.StateDir) {
			want = append(want, f)
		}
	}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("bucket data objects\n %v\nfolder files\n %v", data, want)
	}
	if up, err := load.IncompleteUploads(context.Background(), st); err != nil || len(up) > 0 {
		t.Errorf("incomplete multipart uploads %v, %v", up, err)
	}

	local := t.TempDir()
	srv.Download(t, "exports", "intercom/prod", local)
	for _, day := range []schemas.Date{day1, day2, day3} {
		if got, want := readState(t, local, day), readState(t, dir, day); !reflect.DeepEqual(got, want) {
			t.Errorf("%s in the bucket differs from the folder:\n got %+v\nwant %+v", day, got, want)
		}
	}
	if st, ok, err := load.ReadState(local); !ok || err != nil || st.Bookmark != 3 {
		t.Errorf("state in the bucket: %+v %v %v", st, ok, err)
	}
	rep, err := load.VerifyStore(context.Background(), st)
	if err != nil || len(rep.Files) != len(want) {
		t.Errorf("verify s3://: %v, %d files (want %d): %v", err, len(rep.Files), len(want), rep.Problems)
	}
}

// Large files go up in parts; none is left behind.
func TestBucketMultipartUpload(t *testing.T) {
	defer load.SetMultipart(5<<20, 5<<20)()
	srv := s3test.Start(t)
	srv.Bucket(t, "big")
	st := openBucket(t, srv, srv.Endpoint, "s3://big", 0)
	d := openStore(t, st, nil)
	r := record("1", day1, 1, nil, false, "")
	noise := make([]byte, 9<<20) // incompressible: the file is as large
	rand.Read(noise)
	r.Parts[0].Body = ptr(fmt.Sprintf("%x", noise)[:9<<20])
	if _, err := commitRun(t, d, 1, []schemas.Record{r}, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	local := t.TempDir()
	srv.Download(t, "big", "", local)
	if got := readState(t, local, day1); len(got.Parts) != 1 || *got.Parts[0].Body != *r.Parts[0].Body {
		t.Errorf("the large part did not come back whole")
	}
	if up, err := load.IncompleteUploads(context.Background(), st); err != nil || len(up) > 0 {
		t.Errorf("incomplete multipart uploads %v, %v", up, err)
	}
}

// dyingStore stands for a process killed in the middle of a commit: after its budget of writes to the
// bucket, every write fails, as if nothing were left to send it.
type dyingStore struct {
	load.Store
	writes atomic.Int64 // left before death
}

var errDead = errors.New("killed")

func (s *dyingStore) live() error {
	if s.writes.Add(-1) < 0 {
		return errDead
	}
	return nil
}

func (s *dyingStore) Upload(ctx context.Context, staged, local string) error {
	if err := s.live(); err != nil {
		return err
	}
	return s.Store.Upload(ctx, staged, local)
}

func (s *dyingStore) Publish(ctx context.Context, staged, name string) error {
	if err := s.live(); err != nil {
		return err
	}
	return s.Store.Publish(ctx, staged, name)
}

func (s *dyingStore) WriteFile(ctx context.Context, name string, data []byte) error {
	if err := s.live(); err != nil {
		return err
	}
	return s.Store.WriteFile(ctx, name, data)
}

func (s *dyingStore) Remove(ctx context.Context, name string) error {
	if err := s.live(); err != nil {
		return err
	}
	return s.Store.Remove(ctx, name)
}

func (s *dyingStore) RemoveAll(ctx context.Context, prefix string) error {
	if err := s.live(); err != nil {
		return err
	}
	return s.Store.RemoveAll(ctx, prefix)
}

// A run that dies at any point of its commit to a bucket, uploading, at the journal, publishing or
// recording, leaves every partition whole (its old file or its new one), and the next run leaves the
// bucket exactly as a run that never died, with no staging left.
func TestBucketRunKilledAtAnyPointOfItsCommit(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "crash")
	old, want := t.TempDir(), t.TempDir()
	commitRun(t, openDataset(t, old), 1, bucketRuns[0].recs, bucketRuns[0].deletes)
	ref := openDataset(t, want)
	for i, r := range bucketRuns[:2] {
		commitRun(t, ref, int64(i+1), r.recs, r.deletes)
	}
	// Writes of the second run's commit: uploads, the journal, copies, manifest, state, index,
	// removals; every budget below that kills it somewhere on the way.
	for budget := int64(0); budget < 40; budget += 5 {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			url := fmt.Sprintf("s3://crash/b%d", budget)
			st := openBucket(t, srv, srv.Endpoint, url, time.Hour)
			d := openStore(t, st, nil)
			if _, err := commitRun(t, d, 1, bucketRuns[0].recs, bucketRuns[0].deletes); err != nil {
				t.Fatal(err)
			}
			d.Close()
			dying := &dyingStore{Store: st}
			dying.writes.Store(budget)
			d, err := load.Open(context.Background(), dying, zerolog.Nop())
			if err == nil {
				_, err = commitRun(t, d, 2, bucketRuns[1].recs, bucketRuns[1].deletes)
				// Dead: its lock stays until it expires (tested below); this test removes it at once.
				load.AbandonLock(d)
			}
			died := errors.Is(err, errDead)
			if err != nil && !died {
				t.Fatal(err)
			}
			mid := t.TempDir()
			srv.Download(t, "crash", fmt.Sprintf("b%d", budget), mid)
			// Publishing copies each file over its final key, several at a time: a reader between two
			// copies may see a partition's new conversations file beside its old parts file, so what
			// must hold is per file (per table), as it is for a folder's renames; the roll-forward
			// below completes the partition.
			for _, day := range []schemas.Date{day1, day2, day3} {
				got, newer, older := readState(t, mid, day), readState(t, want, day), readState(t, old, day)
				for _, tbl := range []struct {
					name              string
					got, newer, older any
				}{
					{"conversations", got.Conversations, newer.Conversations, older.Conversations},
					{"parts", got.Parts, newer.Parts, older.Parts},
					{"tags", got.Tags, newer.Tags, older.Tags},
					{"ratings", got.Ratings, newer.Ratings, older.Ratings},
				} {
					if !reflect.DeepEqual(tbl.got, tbl.newer) && !reflect.DeepEqual(tbl.got, tbl.older) {
						t.Errorf("%s %s after the death is neither the old file nor the new one: %+v", day, tbl.name, tbl.got)
					}
				}
			}
			srv.RemoveKey(t, "crash", fmt.Sprintf("b%d/%s/lock", budget, load.StateDir))
			again := openStore(t, st, nil)
			if died {
				if _, err := commitRun(t, again, 2, bucketRuns[1].recs, bucketRuns[1].deletes); err != nil {
					t.Fatal(err)
				}
			}
			again.Close()
			after := t.TempDir()
			srv.Download(t, "crash", fmt.Sprintf("b%d", budget), after)
			for _, day := range []schemas.Date{day1, day2, day3} {
				if got, want := readState(t, after, day), readState(t, want, day); !reflect.DeepEqual(got, want) {
					t.Errorf("%s after the next run:\n got %+v\nwant %+v", day, got, want)
				}
			}
			for _, k := range srv.Keys(t, "crash", fmt.Sprintf("b%d/", budget)) {
				if strings.Contains(k, "/staging/") || strings.HasSuffix(k, "journal.json") {
					t.Errorf("leftover %s", k)
				}
			}
			if up, _ := load.IncompleteUploads(context.Background(), st); len(up) > 0 {
				t.Errorf("incomplete uploads %v", up)
			}
		})
	}
}

// A second run is refused while the first holds the prefix's lock, renewed past its TTL; once the first
// is dead (its renewals stop, its lock object stays) the lock expires and the next run takes it over.
func TestBucketLockKeepsASecondRunOutUntilItExpires(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "locks")
	const ttl = 1500 * time.Millisecond
	st := openBucket(t, srv, srv.Endpoint, "s3://locks/p", ttl)
	first := openStore(t, st, nil)
	_, err := load.Open(context.Background(), st, zerolog.Nop())
	if !errors.Is(err, load.ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second open: %v, want ErrLocked naming the holder", err)
	}
	if err := st.ProbeLock(context.Background()); !errors.Is(err, load.ErrLocked) {
		t.Errorf("probe while held: %v", err)
	}
	// Renewed: still held after twice its TTL.
	deadline := time.Now().Add(2 * ttl)
	for time.Now().Before(deadline) {
		if _, err := load.Open(context.Background(), st, zerolog.Nop()); !errors.Is(err, load.ErrLocked) {
			t.Fatalf("open while the first run renews its lock: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	load.AbandonLock(first)
	if _, err := load.Open(context.Background(), st, zerolog.Nop()); !errors.Is(err, load.ErrLocked) {
		t.Fatalf("open right after the holder died: %v, want ErrLocked until the lock expires", err)
	}
	var second *load.Dataset
	hang := time.Now().Add(time.Minute) // a guard against a hang, not a timing assertion
	for second == nil {
		d, err := load.Open(context.Background(), st, zerolog.Nop())
		switch {
		case err == nil:
			second = d
		case !errors.Is(err, load.ErrLocked) || time.Now().After(hang):
			t.Fatalf("taking over an expired lock: %v", err)
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
	if _, err := commitRun(t, second, 1, bucketRuns[0].recs, nil); err != nil {
		t.Fatal(err)
	}
	second.Close()
	if err := st.ProbeLock(context.Background()); err != nil {
		t.Errorf("probe after release: %v", err)
	}
}

// Throttling (503 SlowDown) and cut connections on every few requests: the run still ends exact.
func TestBucketRidesOutSlowDownAndResets(t *testing.T) {
	srv := s3test.Start(t)
	srv.Bucket(t, "flaky")
	faults := srv.Proxy(t, 4)
	st := openBucket(t, srv, faults.URL, "s3://flaky/x", 0)
	d := openStore(t, st, nil)
	dir := t.TempDir()
	folder := openDataset(t, dir)
	for i, r := range bucketRuns {
		if _, err := commitRun(t, d, int64(i+1), r.recs, r.deletes); err != nil {
			t.Fatalf("run %d through the faults: %v", i, err)
		}
		commitRun(t, folder, int64(i+1), r.recs, r.deletes)
	}
	d.Close()
	if faults.SlowDowns.Load() == 0 || faults.Resets.Load() == 0 {
		t.Fatalf("no fault injected: %d slow downs, %d resets", faults.SlowDowns.Load(), faults.Resets.Load())
	}
	local := t.TempDir()
	srv.Download(t, "flaky", "x", local)
	for _, day := range []schemas.Date{day1, day2, day3} {
		if got, want := readState(t, local, day), readState(t, dir, day); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", day, got, want)
		}
	}
	t.Logf("%d slow downs, %d resets", faults.SlowDowns.Load(), faults.Resets.Load())
}

func TestOpenStoreRefusesUnknownSchemes(t *testing.T) {
	for _, loc := range []string{"gs://bucket/x", "azblob://c/x", "ftp://host/x", "s3://", "file://relative"} {
		_, err := load.OpenStore(context.Background(), loc, load.StoreOptions{})
		if !errors.Is(err, load.ErrUnknownScheme) {
			t.Errorf("%s: %v, want ErrUnknownScheme", loc, err)
			continue
		}
		if strings.HasPrefix(loc, "gs") && !strings.Contains(err.Error(), "s3://bucket/prefix") {
			t.Errorf("%s: %v does not list the schemes known", loc, err)
		}
	}
	for _, loc := range []string{"out", "/tmp/x", "file:///tmp/x", "C:/data", "./s3-like:name"} {
		st, err := load.OpenStore(context.Background(), loc, load.StoreOptions{})
		if err != nil || !load.IsFolder(st.Location()) {
			t.Errorf("%s: %v, want a folder", loc, err)
		}
	}
}
