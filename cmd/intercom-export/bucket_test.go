package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/load/s3test"
)

// Runs with changes, additions and deletions exported to a bucket on a real S3 server give the same
// tables as the same runs exported to a folder, and exactly the workspace; verify reads the bucket; the
// credentials appear in no output, log or manifest.
func TestExportToABucketEqualsExportToAFolder(t *testing.T) {
	s3 := s3test.Start(t)
	s3.Bucket(t, "warehouse")
	s3.SetEnv(t, s3.Endpoint)
	ws := intercomtest.NewWorkspace(33, 120)
	api := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer api.Close()
	const bucket = "s3://warehouse/intercom/prod"
	dir := t.TempDir()
	var output strings.Builder
	var last int64
	for run := range 3 {
		if run > 0 {
			// Each run's changes get a later updated_at than the last run's: two runs can finish within
			// one second, and a conversation changed twice in the same second looks unchanged to the
			// listing (updated_at is all Intercom gives; see README, What it does with the API).
			now := max(time.Now().Unix(), last+1)
			last = now
			changeSome(t, ws, 6, now)
			addSome(ws, 3, now)
			for _, c := range ws.Conversations()[run*10 : run*10+2] {
				ws.Delete(c.ID, now)
			}
		}
		stdout, stderr := exportRun(t, api, bucket, exitOK, "--s3-path-style", "--partition", "month")
		output.WriteString(stdout + stderr)
		exportRun(t, api, dir, exitOK, "--partition", "month")
	}
	local := t.TempDir()
	s3.Download(t, "warehouse", "intercom/prod", local)
	db := openDuckDB(t)
	if got, want := snapshot(t, db, local, nil), snapshot(t, db, dir, nil); !reflect.DeepEqual(got, want) {
		for name := range want {
			if !reflect.DeepEqual(got[name], want[name]) {
				t.Errorf("%s: %d rows in the bucket, %d in the folder, or the rows differ", name, len(got[name]), len(want[name]))
			}
		}
	}
	requireSameAsFreshExport(t, db, api, local, "--partition", "month")
	for _, k := range s3.Keys(t, "warehouse", "") {
		if strings.Contains(k, "/staging/") || strings.HasSuffix(k, "journal.json") || strings.HasSuffix(k, ".tmp") || strings.HasSuffix(k, "/lock") {
			t.Errorf("leftover object %s", k)
		}
	}

	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if code := run(ctx, []string{"verify", "--s3-path-style", bucket}, os.Getenv, &o, &e); code != exitOK || !strings.Contains(o.String(), "; 0 problems") {
		t.Errorf("verify %s exited %d:\n%s%s", bucket, code, o.String(), e.String())
	}
	output.WriteString(o.String() + e.String())

	// The credentials were in the environment only, and go nowhere.
	manifests, _ := filepath.Glob(filepath.Join(local, "_intercom_export", "runs", "*.json"))
	if len(manifests) != 3 {
		t.Errorf("%d manifests in the bucket, want 3", len(manifests))
	}
	everything := output.String()
	for _, m := range manifests {
		data, _ := os.ReadFile(m)
		everything += string(data)
	}
	for _, secret := range []string{s3test.AccessKey, s3test.SecretKey} {
		if strings.Contains(everything, secret) {
			t.Errorf("a credential (%s...) appears in the output, the logs or a manifest", secret[:6])
		}
	}
}

// A location the tool does not know is refused before any request, with the list of those it knows;
// so is a bucket it cannot reach, without naming the credentials.
func TestOutRefusesUnknownSchemesAndUnreachableBuckets(t *testing.T) {
	s3 := s3test.Start(t)
	s3.SetEnv(t, s3.Endpoint)
	ws := intercomtest.NewWorkspace(1, 5)
	api := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer api.Close()
	_, stderr := exportRun(t, api, "gs://bucket/x", exitUsage)
	if !strings.Contains(stderr, "s3://bucket/prefix") {
		t.Errorf("an unknown scheme's refusal does not list the schemes known:\n%s", tail(stderr, 2000))
	}
	_, stderr = exportRun(t, api, "s3://no-such-bucket/x", exitUsage, "--s3-path-style")
	if !strings.Contains(stderr, "no-such-bucket") || strings.Contains(stderr, s3test.SecretKey) || strings.Contains(stderr, s3test.AccessKey) {
		t.Errorf("an unreachable bucket's refusal:\n%s", tail(stderr, 2000))
	}
	if st := api.Stats(); st.RetrieveRequests > 0 {
		t.Errorf("%d retrievals before the refusal", st.RetrieveRequests)
	}
	if _, err := os.Stat("gs:"); err == nil {
		t.Error("a folder named gs: was created")
	}
}

// Runs to a bucket killed with SIGKILL at random points, publishing included: after each, the bucket
// reads without a duplicate row; the next run takes the dead run's lock over once it expires, and the
// last leaves the bucket exact, with no staging object or unfinished multipart upload.
func TestKilledRunsToABucketLeaveItReadableAndTheNextRunCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	s3 := s3test.Start(t)
	s3.Bucket(t, "nightly")
	s3.SetEnv(t, s3.Endpoint)
	ws := intercomtest.NewWorkspace(37, 150)
	api := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, Latency: 2 * time.Millisecond})
	defer api.Close()
	const bucket = "s3://nightly/intercom"
	flags := []string{"--concurrency", "8", "--s3-path-style", "--s3-lock-ttl", "1s", "--wait", "1m"}

	start := time.Now()
	cmd, output := startExport(t, api, "s3://nightly/probe", flags...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("a complete run failed: %v\n%s", err, output)
	}
	whole := time.Since(start)

	rng := rand.New(rand.NewPCG(13, 13))
	kills, rolledForward := 0, 0
	for i := range 6 {
		args := flags
		if i%2 == 0 {
			args = append(slices.Clone(flags), "--full")
		} else {
			changeSome(t, ws, 3, time.Now().Unix())
		}
		cmd, output := startExport(t, api, bucket, args...)
		// A full run dies anywhere, publishing included; an incremental one is over sooner.
		at := int64(whole)/10 + rng.Int64N(int64(whole)*7/10)
		if i%2 == 1 {
			at = rng.Int64N(int64(whole) * 4 / 10)
		}
		killed, rolled := killAfter(t, i, cmd, output, time.Duration(at))
		kills += killed
		rolledForward += rolled
		local := t.TempDir()
		s3.Download(t, "nightly", "intercom", local)
		checkReadable(t, local, fmt.Sprintf("after kill %d", i))
	}
	t.Logf("%d of 6 runs killed, %d journals of killed runs rolled forward by the next", kills, rolledForward)
	if kills < 3 {
		t.Errorf("only %d of 6 runs were killed: the test proves little", kills)
	}
	cmd, output = startExport(t, api, bucket, flags...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the run after the kills failed: %v\n%s", err, output)
	}
	for _, k := range s3.Keys(t, "nightly", "intercom/") {
		if strings.Contains(k, "/staging/") || strings.HasSuffix(k, "journal.json") || strings.HasSuffix(k, "/lock") {
			t.Errorf("leftover object %s", k)
		}
	}
	st, err := load.OpenStore(context.Background(), bucket, load.StoreOptions{S3PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if up, err := load.IncompleteUploads(context.Background(), st); err != nil || len(up) > 0 {
		t.Errorf("unfinished multipart uploads %v, %v", up, err)
	}
	local := t.TempDir()
	s3.Download(t, "nightly", "intercom", local)
	requireSameAsFreshExport(t, openDuckDB(t), api, local)
}
