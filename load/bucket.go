package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The bucket store: `s3://bucket/prefix` on AWS S3 or any S3-compatible store, through the AWS SDK for
// Go v2 (the reference client: the standard credential chain, SigV4, retries with backoff on 503
// SlowDown, 5xx and cut connections, and the service's own endpoint configuration, AWS_ENDPOINT_URL_S3
// included).
//
// A bucket has no rename and no folders. A run's new files are uploaded under
// `<prefix>/_intercom_export/staging/<run-id>/`, the journal is the commit point, and publishing copies
// each staged object over its final key (server-side: no bytes go through the tool); a PUT or a copy
// over a key is atomic, so a reader sees the old file or the new one. The journal and the staging go
// once the manifest, state and index are written. The lock is an object taken with a conditional write
// (If-None-Match: *), renewed by the live run (If-Match: its ETag) and taken over once expired.

// DefaultLockTTL is how long a bucket lock lasts unless its run renews it (every third of it): a killed
// run blocks the prefix this long.
const DefaultLockTTL = 2 * time.Minute

// Multipart uploads: files from multipartThreshold up go in parts of multipartPartSize, uploaded
// multipartWorkers at a time; a failed upload is aborted, so no parts are left behind.
var (
	multipartThreshold int64 = 32 << 20
	multipartPartSize  int64 = 16 << 20
)

const multipartWorkers = 4

// bucketStore is a prefix of an S3 bucket.
type bucketStore struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ending without a slash
	location string
	opts     StoreOptions
	tempDir  string
}

func openBucketStore(ctx context.Context, location, rest string, opts StoreOptions) (Store, error) {
	bucket, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return nil, fmt.Errorf("%w %q: name the bucket: s3://bucket/prefix", ErrUnknownScheme, location)
	}
	if strings.ContainsAny(rest, "?#") || strings.Contains(prefix, "//") {
		return nil, fmt.Errorf("%w %q: a bucket location is s3://bucket/prefix, without a query or empty path segments", ErrUnknownScheme, location)
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	tempDir := opts.TempDir
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				// A night's run rides out a throttling storm rather than failing: 10 attempts, up to 20 s
				// apart, and no client-side retry quota, which would fail requests after a burst of 503s.
				o.MaxAttempts = 10
				o.MaxBackoff = 20 * time.Second
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if opts.S3Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.S3Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load: %s: reading the AWS configuration: %w", location, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.S3Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.S3Endpoint)
		}
		o.UsePathStyle = opts.S3PathStyle
		// Checksums only where the operation requires one: S3-compatible stores (and proxies) that do
		// not know the newer trailing checksums refuse or mangle them.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	loc := "s3://" + bucket
	if prefix != "" {
		loc += "/" + prefix
	}
	return &bucketStore{client: client, bucket: bucket, prefix: prefix, location: loc, opts: opts, tempDir: tempDir}, nil
}

func (s *bucketStore) Location() string { return s.location }

func (s *bucketStore) key(name string) string {
	if s.prefix == "" {
		return name
	}
	return s.prefix + "/" + name
}

func (s *bucketStore) name(key string) string {
	if s.prefix == "" {
		return key
	}
	return strings.TrimPrefix(key, s.prefix+"/")
}

// wrap names the object in an error and maps a missing object to fs.ErrNotExist.
func (s *bucketStore) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if isNotFound(err) {
		return &fs.PathError{Op: op, Path: s.location + "/" + name, Err: fs.ErrNotExist}
	}
	return &fs.PathError{Op: op, Path: s.location + "/" + name, Err: err}
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// isPreconditionFailed reports a conditional write that lost: 412, or 409 when another conditional
// write on the key was in flight.
func isPreconditionFailed(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() == http.StatusPreconditionFailed || re.HTTPStatusCode() == http.StatusConflict
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict")
}

func (s *bucketStore) Fetch(ctx context.Context, name string) (string, func(), error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if err != nil {
		return "", nil, s.wrap("get", name, err)
	}
	defer out.Body.Close()
	if err := os.MkdirAll(s.tempDir, 0o755); err != nil {
		return "", nil, err
	}
	f, err := os.CreateTemp(s.tempDir, ".intercom-export-fetch-*")
	if err != nil {
		return "", nil, err
	}
	release := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, out.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		release()
		return "", nil, s.wrap("get", name, err)
	}
	return f.Name(), release, nil
}

func (s *bucketStore) ReadFile(ctx context.Context, name string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if err != nil {
		return nil, s.wrap("get", name, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	return data, s.wrap("get", name, err)
}

func (s *bucketStore) WriteFile(ctx context.Context, name string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: aws.String(s.key(name)), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	return s.wrap("put", name, err)
}

// version combines the ETag and the modification time: a copy keeps the ETag of its source.
func version(etag *string, modTime *time.Time) int64 {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(aws.ToString(etag)) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	if modTime != nil {
		h ^= uint64(modTime.Unix())
	}
	return int64(h)
}

func (s *bucketStore) Stat(ctx context.Context, name string) (Entry, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if err != nil {
		return Entry{}, s.wrap("head", name, err)
	}
	return Entry{Name: name, Size: aws.ToInt64(out.ContentLength), Version: version(out.ETag, out.LastModified)}, nil
}

func (s *bucketStore) List(ctx context.Context, prefix string) ([]Entry, error) {
	p := s.key(prefix)
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	var out []Entry
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(p)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			if strings.HasSuffix(aws.ToString(o.Key), "/") {
				continue // a folder marker (some stores list an empty folder so), not an object
			}
			out = append(out, Entry{Name: s.name(aws.ToString(o.Key)), Size: aws.ToInt64(o.Size), Version: version(o.ETag, o.LastModified)})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Tree lists the prefix once into a tree of folders and files (fstest.MapFS: an in-memory fs.FS that
// synthesises the folders of slash-separated names).
func (s *bucketStore) Tree(ctx context.Context) (fs.FS, error) {
	entries, err := s.List(ctx, "")
	if err != nil {
		return nil, err
	}
	tree := fstest.MapFS{}
	for _, e := range entries {
		if e.Name == "" {
			continue // an object named as the prefix itself
		}
		tree[e.Name] = &fstest.MapFile{Mode: 0o644}
	}
	return tree, nil
}

func (s *bucketStore) Remove(ctx context.Context, name string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(name))})
	if isNotFound(err) {
		return nil
	}
	return s.wrap("delete", name, err)
}

func (s *bucketStore) RemoveAll(ctx context.Context, prefix string) error {
	entries, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(entries, 1000) {
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, e := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.key(e.Name))}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return s.wrap("delete", prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("deleting %s/%s: %s: %s (and %d more)", s.location, s.name(aws.ToString(e.Key)), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

func (s *bucketStore) Stage(runID, name string) (string, string) {
	staged := stagingPrefix(runID) + "/" + name
	return staged, filepath.Join(s.Scratch(runID), "files", filepath.FromSlash(name))
}

// Upload puts the local file, in parts from multipartThreshold up, and removes it.
func (s *bucketStore) Upload(ctx context.Context, staged, local string) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= multipartThreshold {
		err = s.uploadParts(ctx, staged, f, fi.Size())
	} else {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: aws.String(s.key(staged)), Body: f, ContentLength: aws.Int64(fi.Size()),
		})
		err = s.wrap("put", staged, err)
	}
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(local)
}

// uploadParts is a multipart upload of f, aborted on failure so that no part is left stored (and billed).
func (s *bucketStore) uploadParts(ctx context.Context, name string, f *os.File, size int64) (err error) {
	key := aws.String(s.key(name))
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: key})
	if err != nil {
		return s.wrap("upload", name, err)
	}
	defer func() {
		if err != nil {
			_, aerr := s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: key, UploadId: created.UploadId})
			if aerr != nil {
				err = fmt.Errorf("%w (and aborting the upload: %v; the next run aborts it)", err, aerr)
			}
		}
	}()
	n := int((size + multipartPartSize - 1) / multipartPartSize)
	parts := make([]types.CompletedPart, n)
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, multipartWorkers)
	var wg sync.WaitGroup
	for i := range n {
		off := int64(i) * multipartPartSize
		length := min(multipartPartSize, size-off)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: &s.bucket, Key: key, UploadId: created.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				Body: io.NewSectionReader(f, off, length), ContentLength: aws.Int64(length),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return s.wrap("upload", name, firstErr)
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: key, UploadId: created.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return s.wrap("upload", name, err)
}

// Publish copies the staged object over name, server-side. Objects over 5 GB would need a multipart
// copy; a partition's file is far below that.
func (s *bucketStore) Publish(ctx context.Context, staged, name string) error {
	src := s.bucket + "/" + s.key(staged)
	_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &s.bucket, Key: aws.String(s.key(name)), CopySource: aws.String(escapePath(src)),
	})
	return s.wrap("copy", staged, err)
}

// escapePath escapes each segment of a copy source (the keys hold '=').
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Sync does nothing: an object is durable once its PUT, copy or DELETE is answered.
func (s *bucketStore) Sync(context.Context, []string) error { return nil }

func (s *bucketStore) Scratch(runID string) string {
	return filepath.Join(s.tempDir, "intercom-export", runID)
}

// CleanStaging deletes the staged objects of dead runs and aborts their incomplete multipart uploads.
func (s *bucketStore) CleanStaging(ctx context.Context) error {
	prefix := stateName(stagingDir)
	if err := s.RemoveAll(ctx, prefix); err != nil {
		return err
	}
	return s.abortUploads(ctx, prefix)
}

func (s *bucketStore) abortUploads(ctx context.Context, prefix string) error {
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.key(prefix) + "/")}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return s.wrap("list uploads", prefix, err)
		}
		for _, u := range out.Uploads {
			if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId}); err != nil && !isNotFound(err) {
				return s.wrap("abort upload", s.name(aws.ToString(u.Key)), err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// IncompleteUploads lists the multipart uploads in progress under the store's prefix, for tests and
// checks; nil for a folder.
func IncompleteUploads(ctx context.Context, st Store) ([]string, error) {
	s, ok := st.(*bucketStore)
	if !ok {
		return nil, nil
	}
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket}
	if s.prefix != "" {
		in.Prefix = aws.String(s.prefix + "/")
	}
	out, err := s.client.ListMultipartUploads(ctx, in)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, s.name(aws.ToString(u.Key)))
	}
	return keys, nil
}

func (s *bucketStore) CheckWritable(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("load: output %s: the bucket cannot be reached: %w; check its name, --s3-endpoint, --s3-region and the AWS credentials", s.location, err)
	}
	return nil
}

// lockHolder is the lock object's content.
type lockHolder struct {
	LockID  string    `json:"lock_id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
}

func (h lockHolder) String() string {
	return fmt.Sprintf("pid %d on %s, since %s, lock expires %s unless renewed", h.PID, h.Host, h.Since.Format(time.RFC3339), h.Expires.Format(time.RFC3339))
}

// bucketLock is a held lock object, renewed every third of its TTL until Unlock.
type bucketLock struct {
	s      *bucketStore
	holder lockHolder
	stop   chan struct{}
	done   chan struct{}

	mu   sync.Mutex
	etag string
	lost error
}

func (s *bucketStore) lockKey() *string { return aws.String(s.key(stateName(lockFile))) }

func (s *bucketStore) putLock(ctx context.Context, h lockHolder, ifNoneMatch, ifMatch string) (string, error) {
	data, _ := json.Marshal(h)
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: s.lockKey(), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}
	if ifNoneMatch != "" {
		in.IfNoneMatch = aws.String(ifNoneMatch)
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// readLock returns the lock object's holder and ETag; ok is false when there is none.
func (s *bucketStore) readLock(ctx context.Context) (h lockHolder, etag string, ok bool, err error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: s.lockKey()})
	if isNotFound(err) {
		return h, "", false, nil
	}
	if err != nil {
		return h, "", false, s.wrap("get", stateName(lockFile), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return h, "", false, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		// Not a lock this tool wrote: treat it as expired, so that it can be taken over.
		h = lockHolder{Host: "unknown", Expires: time.Time{}}
	}
	return h, aws.ToString(out.ETag), true, nil
}

func (s *bucketStore) Lock(ctx context.Context, _ string) (Unlocker, error) {
	host, _ := os.Hostname()
	now := time.Now().UTC()
	h := lockHolder{LockID: NewRunID(now), Host: host, PID: os.Getpid(), Since: now, Expires: now.Add(s.opts.LockTTL)}
	etag, err := s.putLock(ctx, h, "*", "")
	if isPreconditionFailed(err) {
		prev, prevTag, ok, rerr := s.readLock(ctx)
		switch {
		case rerr != nil:
			return nil, rerr
		case ok && time.Now().Before(prev.Expires):
			return nil, fmt.Errorf("%w %s (%s): wait for it to finish, or stop it", ErrLocked, s.location, prev)
		case ok:
			// Expired: its run died. Only one taker wins the conditional overwrite.
			etag, err = s.putLock(ctx, h, "", prevTag)
			if isPreconditionFailed(err) {
				return nil, fmt.Errorf("%w %s (another run took over the expired lock of %s)", ErrLocked, s.location, prev)
			}
		default:
			etag, err = s.putLock(ctx, h, "*", "") // released in between
		}
	}
	if isPreconditionFailed(err) {
		return nil, fmt.Errorf("%w %s (another run took it just now)", ErrLocked, s.location)
	}
	if err != nil {
		return nil, fmt.Errorf("taking the lock %s/%s: %w", s.location, stateName(lockFile), err)
	}
	// A store that ignores If-None-Match would let a second run in: find out with a second create,
	// which must be refused.
	if _, err := s.putLock(ctx, h, "*", ""); !isPreconditionFailed(err) {
		if err == nil && !s.opts.AllowUnsafeLock {
			s.Remove(ctx, stateName(lockFile))
			return nil, fmt.Errorf("load: %s does not support conditional writes (If-None-Match), so its lock cannot keep two runs apart: "+
				"use a store that does (AWS S3, MinIO, R2, versitygw...), or pass --s3-allow-unsafe-lock if only one run ever writes this prefix", s.location)
		}
		if err != nil {
			return nil, fmt.Errorf("checking the lock %s/%s: %w", s.location, stateName(lockFile), err)
		}
	}
	l := &bucketLock{s: s, holder: h, etag: etag, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew()
	return l, nil
}

func (l *bucketLock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.s.opts.LockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		h := l.holder
		h.Expires = time.Now().UTC().Add(l.s.opts.LockTTL)
		ctx, cancel := context.WithTimeout(context.Background(), l.s.opts.LockTTL/3)
		etag, err := l.s.putLock(ctx, h, "", l.etag)
		cancel()
		switch {
		case err == nil:
			l.etag, l.holder = etag, h
		case isPreconditionFailed(err):
			l.lost = fmt.Errorf("load: lost the lock on %s: another run took it over (this run was not renewing it in time)", l.s.location)
		}
		// Another error (the store unreachable for a while): try again at the next tick.
		lost := l.lost != nil
		l.mu.Unlock()
		if lost {
			return
		}
	}
}

// Held reports whether the lock is still this run's.
func (l *bucketLock) Held() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *bucketLock) Unlock() error {
	close(l.stop)
	<-l.done
	if l.Held() != nil {
		return nil // another run's now
	}
	return l.s.Remove(context.Background(), stateName(lockFile))
}

func (s *bucketStore) ProbeLock(ctx context.Context) error {
	h, _, ok, err := s.readLock(ctx)
	if err != nil {
		return err
	}
	if ok && time.Now().Before(h.Expires) {
		return fmt.Errorf("%w %s (%s)", ErrLocked, s.location, h)
	}
	return nil
}
