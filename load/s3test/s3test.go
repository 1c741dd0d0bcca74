// Package s3test runs a real S3-compatible server for tests: the Versity S3 gateway (versitygw), pinned
// in tools/s3server, serving a temporary folder on loopback. The gateway is built from the Go module
// proxy on first use and cached under the user cache folder, keyed by the tools module's go.sum, so a
// fresh machine needs nothing but Go.
package s3test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Credentials of the test server: recognisable, so that a test can check that they appear in no log,
// manifest or message.
const (
	AccessKey = "AKIATESTACCESSKEY0042"
	SecretKey = "test-secret-key-9f3c-never-logged"
	Region    = "us-east-1"
)

// Server is a running gateway.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:PORT.
	Endpoint string
	// Root is the folder it serves: each bucket is a folder in it.
	Root   string
	client *s3.Client
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// moduleRoot finds the project's root: the folder holding tools/s3server.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "s3server", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("s3test: tools/s3server not found above the working folder")
		}
		dir = parent
	}
}

// build returns the gateway's binary, building it once per cache key.
func build() (string, error) {
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		tools := filepath.Join(root, "tools", "s3server")
		sum, err := os.ReadFile(filepath.Join(tools, "go.sum"))
		if err != nil {
			buildErr = err
			return
		}
		h := sha256.Sum256(sum)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "intercom-export")
		binary = filepath.Join(dir, "versitygw-"+hex.EncodeToString(h[:8]))
		if _, err := os.Stat(binary); err == nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		// Built under a name of its own, then renamed: test packages running at once may build it too.
		tmp := fmt.Sprintf("%s.%d.tmp", binary, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, "github.com/versity/versitygw/cmd/versitygw")
		cmd.Dir = tools
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			buildErr = fmt.Errorf("s3test: building versitygw in %s: %w\n%s", tools, err, out)
			return
		}
		buildErr = os.Rename(tmp, binary)
	})
	return binary, buildErr
}

// Start builds (once) and starts a gateway over a temporary folder, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	data, meta := filepath.Join(root, "data"), filepath.Join(root, "meta")
	for _, d := range []string{data, meta} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for range 5 { // a port taken between probing and listening: try another
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region, "--port", addr, "--quiet",
			"posix", "--sidecar", meta, data)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if lastErr = waitListening(addr, exited); lastErr != nil {
			cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%w\n%s", lastErr, out.String())
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		s := &Server{Endpoint: "http://" + addr, Root: data}
		s.client = s.Client(s.Endpoint)
		return s
	}
	t.Fatalf("s3test: versitygw did not start: %v", lastErr)
	return nil
}

// waitListening waits for the gateway to accept connections, or to exit; a minute is a hang.
func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("versitygw did not listen within a minute")
}

// Client returns an S3 client of the server through endpoint (the server's, or a proxy's).
func (s *Server) Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Env is the environment a process needs to reach the server through endpoint with the standard AWS
// chain.
func (s *Server) Env(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL_S3=" + endpoint, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// SetEnv sets Env for the rest of the test (which must then not be parallel).
func (s *Server) SetEnv(t testing.TB, endpoint string) {
	for _, kv := range s.Env(endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Bucket creates a bucket.
func (s *Server) Bucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

// Keys lists the keys under prefix in a bucket.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			// The posix backend lists a folder left empty as a key ending in a slash.
			if k := aws.ToString(o.Key); !strings.HasSuffix(k, "/") {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// Download copies every object under prefix into dir, keeping their names relative to prefix.
func (s *Server) Download(t testing.TB, bucket, prefix, dir string) {
	t.Helper()
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	for _, key := range s.Keys(t, bucket, prefix) {
		out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		var gone *types.NoSuchKey
		if errors.As(err, &gone) {
			// Deleted since the listing: the server may still be answering a killed client's requests.
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(key, prefix), "/")
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Faults is a proxy in front of the server that answers some requests with 503 SlowDown and cuts some
// connections, as a throttled or flaky store does.
type Faults struct {
	// URL is the proxy's endpoint.
	URL string
	// Every is how often a fault is injected: every Every-th request (0: none).
	Every atomic.Int64
	// SlowDowns and Resets count what was injected.
	SlowDowns, Resets atomic.Int64
	requests          atomic.Int64
}

// Proxy starts a fault-injecting proxy in front of the server, stopped when the test ends.
func (s *Server) Proxy(t testing.TB, every int64) *Faults {
	target, _ := url.Parse(s.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	f := &Faults{}
	f.Every.Store(every)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		if e := f.Every.Load(); e > 0 && n%e == 0 {
			if (n/e)%2 == 0 {
				f.Resets.Add(1)
				// Read the request (the SDK is still sending it), then cut the connection.
				io.Copy(io.Discard, r.Body)
				if hj, ok := w.(http.Hijacker); ok {
					if c, _, err := hj.Hijack(); err == nil {
						if tc, ok := c.(*net.TCPConn); ok {
							tc.SetLinger(0) // a reset, not a clean close
						}
						c.Close()
						return
					}
				}
			}
			f.SlowDowns.Add(1)
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	f.URL = "http://" + l.Addr().String()
	return f
}

// RemoveKey deletes one object.
func (s *Server) RemoveKey(t testing.TB, bucket, key string) {
	t.Helper()
	if _, err := s.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
}
