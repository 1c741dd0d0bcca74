package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// The conversion benchmarks run `intercom-export convert` (built from this package) and the DuckDB peer
// (bench/duckdb-peer.sql: the same flattening into the same four date-partitioned tables, 2 threads, run
// by this test binary through duckdb-go) on the same NDJSON dump made by the fake workspace, each in a
// process of its own, so that the peak RSS and CPU time reported are the process's (getrusage). See
// bench/README.md.

// benchDuckDBEnv makes the test binary run one SQL script in DuckDB and exit: the peer's own process.
const benchDuckDBEnv = "INTERCOM_EXPORT_BENCH_DUCKDB_SQL"

func init() {
	script := os.Getenv(benchDuckDBEnv)
	if script == "" {
		return
	}
	if err := runSQLFile(script); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runSQLFile(path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	// One statement at a time, so that an error names it.
	for _, stmt := range strings.Split(string(text), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := db.Exec(stmt); err != nil {
			return fmt.Errorf("duckdb: %w\n%s", err, stmt)
		}
	}
	return nil
}

func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

const benchSeed = 20240601

// benchDump writes the NDJSON dump of a fake workspace of n conversations (API 2.16) into dir.
func benchDump(b *testing.B, dir string, n int) (path string, size int64) {
	b.Helper()
	path = filepath.Join(dir, "dump-"+strconv.Itoa(n)+".ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := intercomtest.NewWorkspace(benchSeed, n).Dump(f, "2.16"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, fi.Size()
}

// benchOutputBase is where both tools write their output: the benchmark's temporary folder, or a folder
// made inside $INTERCOM_EXPORT_BENCH_OUT (/dev/shm, say, to take the disk's file-creation costs out of the
// comparison; both create 2,920 folders by day, DuckDB 2,916 files and intercom-export 2,920: every
// partition holds a file for each table, empty when it has no ratings).
func benchOutputBase(b *testing.B, tmp string) string {
	b.Helper()
	parent := os.Getenv("INTERCOM_EXPORT_BENCH_OUT")
	if parent == "" {
		return tmp
	}
	dir, err := os.MkdirTemp(parent, "intercom-export-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	b.Logf("output under %s", dir)
	return dir
}

// byUpdatedAt writes the dump's lines ordered by updated_at (stable: ties keep the dump's order) next to
// it, and returns the new file's path.
func byUpdatedAt(b *testing.B, dump string) string {
	b.Helper()
	return reorder(b, dump, "-by-updated-at", func(lines []dumpLine) {
		slices.SortStableFunc(lines, func(x, y dumpLine) int { return cmp.Compare(x.updatedAt, y.updatedAt) })
	})
}

// dumpLine is where a line of a dump is, and its updated_at.
type dumpLine struct {
	updatedAt, offset int64
	size              int
}

// reorder writes the dump's lines in the order order puts them in, next to it with suffix. It holds
// one line at a time: the peak RSS a benchmark reports for a child process includes this process's
// own peak (see runChild).
func reorder(b *testing.B, dump, suffix string, order func([]dumpLine)) string {
	b.Helper()
	in, err := os.Open(dump)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var lines []dumpLine
	r := bufio.NewReaderSize(in, 1<<20)
	for offset := int64(0); ; {
		text, err := r.ReadBytes('\n')
		if len(text) > 0 {
			var c struct {
				UpdatedAt int64 `json:"updated_at"`
			}
			if err := json.Unmarshal(text, &c); err != nil {
				b.Fatal(err)
			}
			lines = append(lines, dumpLine{c.UpdatedAt, offset, len(text)})
			offset += int64(len(text))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	order(lines)
	path := strings.TrimSuffix(dump, ".ndjson") + suffix + ".ndjson"
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var buf []byte
	for _, l := range lines {
		buf = slices.Grow(buf[:0], l.size)[:l.size]
		if _, err := in.ReadAt(buf, l.offset); err != nil {
			b.Fatal(err)
		}
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// childRun is what one process did.
type childRun struct {
	elapsed time.Duration
	cpu     time.Duration // user and system
	maxRSS  int64         // bytes
	output  string
}

// runChild runs a program (intercom-export, or the test binary as the DuckDB peer with extraEnv) and
// measures it. On Linux a child's ru_maxrss also counts the peak RSS of this process at the time of the
// fork (os/exec starts children with vfork semantics, and exec records the shared memory's high-water
// mark), so what the benchmark holds before it starts a child bounds the figures from below: it keeps
// dumps on disk rather than in memory.
func runChild(b *testing.B, program string, args []string, extraEnv ...string) childRun {
	b.Helper()
	cmd := exec.Command(program, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%v: %v\n%s", args, err, out.String())
	}
	run := childRun{elapsed: elapsed, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), output: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return run
}

// tableStats sums the Parquet files of one table: how many, their bytes, their rows (from the footers),
// and the compressed bytes of each top-level column's chunks.
type tableStats struct {
	files       int
	bytes, rows int64
	columns     map[string]int64
}

// sharedBytes is the compressed bytes of the columns both tables have, by name: the two tools' files
// hold different column sets (intercom-export's are a superset, plus source_json), so their sizes
// compare only over the columns they share.
func sharedBytes(a, b map[string]tableStats) (ours, theirs int64) {
	for table, sa := range a {
		sb := b[table]
		for col, n := range sa.columns {
			if m, ok := sb.columns[col]; ok {
				ours += n
				theirs += m
			}
		}
	}
	return ours, theirs
}

func outputStats(b *testing.B, dir string) map[string]tableStats {
	b.Helper()
	stats := map[string]tableStats{}
	for _, table := range load.Tables {
		var st tableStats
		err := filepath.WalkDir(filepath.Join(dir, table), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") || strings.HasPrefix(d.Name(), ".") {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			st.files++
			st.bytes += fi.Size()
			st.rows += pf.NumRows()
			if st.columns == nil {
				st.columns = map[string]int64{}
			}
			for _, rg := range pf.Metadata().RowGroups {
				for _, c := range rg.Columns {
					st.columns[c.MetaData.PathInSchema[0]] += c.MetaData.TotalCompressedSize
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		stats[table] = st
	}
	return stats
}

func totals(stats map[string]tableStats) (st tableStats) {
	for _, s := range stats {
		st.files += s.files
		st.bytes += s.bytes
		st.rows += s.rows
	}
	return st
}

// peerScript writes the DuckDB peer's SQL with DUMP and OUT replaced; by month, it partitions by a
// month key (strftime(date, '%Y-%m')) and keeps date in the files, as intercom-export keeps created_date.
func peerScript(b *testing.B, dir, dump, out, partition string) string {
	b.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "bench", "duckdb-peer.sql"))
	if err != nil {
		b.Fatal(err)
	}
	sqlQuote := func(s string) string { return strings.ReplaceAll(s, "'", "''") }
	s := strings.ReplaceAll(string(text), "'DUMP'", "'"+sqlQuote(dump)+"'")
	s = strings.ReplaceAll(s, "'OUT/", "'"+sqlQuote(out)+"/")
	if partition == "month" {
		if s, err = monthlyPeer(s); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(dir, "peer.sql")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// monthlyPeer rewrites the peer's SQL to partition by month: every edit must apply as many times as
// expected, so that a change to the SQL fails here rather than measuring something else.
func monthlyPeer(s string) (string, error) {
	// The day is whatever expression the peer computes it with (it has changed before): the month is
	// that expression's month.
	dayLine := regexp.MustCompile(`(?m)^SELECT \*, (.+) AS date$`)
	if got := len(dayLine.FindAllString(s, -1)); got != 1 {
		return "", fmt.Errorf("duckdb-peer.sql: %d lines compute the day as %q, want 1", got, dayLine)
	}
	s = dayLine.ReplaceAllString(s, "SELECT *, $1 AS date, strftime($1, '%Y-%m') AS month")
	for _, e := range []struct {
		old, new string
		n        int
	}{
		{", date\n  FROM raw)", ", date, month\n  FROM raw)", 1},
		{"p.redacted, date\n", "p.redacted, date, month\n", 1},
		{"applied_by_id, date\n", "applied_by_id, date, month\n", 1},
		{"conversation_id, date, unnest(", "conversation_id, date, month, unnest(", 2},
		{"teammate_id, date FROM raw", "teammate_id, date, month FROM raw", 1},
		{"PARTITION_BY (date)", "PARTITION_BY (month)", 4},
	} {
		if got := strings.Count(s, e.old); got != e.n {
			return "", fmt.Errorf("duckdb-peer.sql: %q appears %d times, want %d", e.old, got, e.n)
		}
		s = strings.ReplaceAll(s, e.old, e.new)
	}
	return s, nil
}

const mb = 1e6

// BenchmarkConvert converts a 10,000-conversation dump with `intercom-export convert` and with the DuckDB
// peer, each iteration into fresh folders, and reports both and their ratio.
func BenchmarkConvert(b *testing.B) {
	benchConvert(b, 10_000, true)
}

// BenchmarkConvertLarge is the same with 100,000 conversations (862 MB of NDJSON), for peak RSS; it takes
// minutes, so it only runs when INTERCOM_EXPORT_BENCH_LARGE=1.
func BenchmarkConvertLarge(b *testing.B) {
	if os.Getenv("INTERCOM_EXPORT_BENCH_LARGE") != "1" {
		b.Skip("set INTERCOM_EXPORT_BENCH_LARGE=1 to run it (minutes, 1.3 GB of disk)")
	}
	benchConvert(b, 100_000, os.Getenv("INTERCOM_EXPORT_BENCH_PEER") == "1")
}

// buildProgram builds intercom-export itself for the benchmark: the test binary could act as the program,
// but it also links the DuckDB library, whose static initialisers add tens of megabytes to its RSS.
func buildProgram(b *testing.B, dir string) string {
	b.Helper()
	bin := filepath.Join(dir, "intercom-export")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// benchCase is one conversion of the matrix: the dump's order, the layout, where the output goes.
type benchCase struct {
	order, partition, out string
	sourceJSON            bool
}

func (c benchCase) name() string {
	n := c.order + "/" + c.partition + "/" + c.out
	if !c.sourceJSON {
		n += "/no_source_json"
	}
	return n
}

// benchCases is the matrix of BenchmarkConvert: random (shuffled), creation and updated_at order (the
// API's, and so a dump's made from it), by day and by month, on the disk and on tmpfs (/dev/shm, when
// there is one), with source_json; and without it, in random order on tmpfs, to compare output sizes
// with the peer, which has no such column. INTERCOM_EXPORT_BENCH_ONLY, a substring of the case names
// ("random/month", "tmpfs"), narrows it.
func benchCases() []benchCase {
	outs := []string{"disk"}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		outs = append(outs, "tmpfs")
	}
	var cases []benchCase
	for _, order := range []string{"random", "created", "updated"} {
		for _, partition := range []string{"day", "month"} {
			for _, out := range outs {
				cases = append(cases, benchCase{order, partition, out, true})
			}
		}
	}
	for _, partition := range []string{"day", "month"} {
		cases = append(cases, benchCase{"random", partition, outs[len(outs)-1], false})
	}
	only := os.Getenv("INTERCOM_EXPORT_BENCH_ONLY")
	return slices.DeleteFunc(cases, func(c benchCase) bool { return only != "" && !strings.Contains(c.name(), only) })
}

func benchConvert(b *testing.B, n int, peer bool) {
	tmp := b.TempDir()
	dump, dumpSize := benchDump(b, tmp, n)
	dumps := map[string]string{"created": dump, "updated": byUpdatedAt(b, dump), "random": shuffled(b, dump)}
	program := buildProgram(b, tmp)
	outBase := map[string]string{"disk": tmp}
	if os.Getenv("INTERCOM_EXPORT_BENCH_OUT") != "" {
		outBase["disk"] = benchOutputBase(b, tmp) // the old knob: all "disk" output goes there
	}
	if dir, err := os.MkdirTemp("/dev/shm", "intercom-export-bench-"); err == nil {
		b.Cleanup(func() { os.RemoveAll(dir) })
		outBase["tmpfs"] = dir
	}
	for _, c := range benchCases() {
		b.Run(c.name(), func(b *testing.B) {
			var ours, theirs childRun
			var ourStats, theirStats map[string]tableStats
			for i := range b.N {
				out := filepath.Join(outBase[c.out], "out-"+strconv.Itoa(i))
				args := []string{"convert", "--out", out, "--log-format", "json", "--log-level", "warn", "--partition", c.partition}
				if !c.sourceJSON {
					args = append(args, "--source-json=false")
				}
				run := runChild(b, program, append(args, dumps[c.order]))
				ours.elapsed += run.elapsed
				ours.cpu += run.cpu
				ours.maxRSS = max(ours.maxRSS, run.maxRSS)
				if i == b.N-1 {
					ourStats = outputStats(b, out)
				}
				os.RemoveAll(out)
				if !peer {
					continue
				}
				peerOut := filepath.Join(outBase[c.out], "peer-"+strconv.Itoa(i))
				if err := os.MkdirAll(peerOut, 0o755); err != nil {
					b.Fatal(err)
				}
				run = runChild(b, os.Args[0], []string{"-test.run=^$"}, benchDuckDBEnv+"="+peerScript(b, tmp, dumps[c.order], peerOut, c.partition))
				theirs.elapsed += run.elapsed
				theirs.cpu += run.cpu
				theirs.maxRSS = max(theirs.maxRSS, run.maxRSS)
				if i == b.N-1 {
					theirStats = outputStats(b, peerOut)
				}
				os.RemoveAll(peerOut)
			}
			per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
			ourT := totals(ourStats)
			b.ReportMetric(float64(n)/per(ours.elapsed), "conversations/s")
			b.ReportMetric(float64(dumpSize)/mb/per(ours.elapsed), "MB/s")
			b.ReportMetric(per(ours.elapsed), "wall_s")
			b.ReportMetric(per(ours.cpu), "cpu_s")
			b.ReportMetric(float64(ours.maxRSS)/(1<<20), "peak_RSS_MiB")
			b.ReportMetric(float64(ourT.bytes)/mb, "out_MB")
			b.ReportMetric(float64(ourT.bytes)/float64(max(ourT.rows, 1)), "bytes/row")
			b.ReportMetric(float64(ourT.files), "files")
			logStats := func(who string, stats map[string]tableStats) {
				for _, table := range load.Tables {
					s := stats[table]
					b.Logf("%-8s %-22s %5d files %10d rows %12d bytes %8.1f bytes/row", who, table, s.files, s.rows, s.bytes,
						float64(s.bytes)/float64(max(s.rows, 1)))
				}
			}
			b.Logf("dump: %d conversations, %.1f MB, %s order", n, float64(dumpSize)/mb, c.order)
			logStats("ours", ourStats)
			if !peer {
				return
			}
			theirT := totals(theirStats)
			b.ReportMetric(per(theirs.elapsed), "duckdb_wall_s")
			b.ReportMetric(per(theirs.cpu), "duckdb_cpu_s")
			b.ReportMetric(float64(theirs.maxRSS)/(1<<20), "duckdb_peak_RSS_MiB")
			b.ReportMetric(float64(theirT.bytes)/mb, "duckdb_out_MB")
			b.ReportMetric(float64(theirT.bytes)/float64(max(theirT.rows, 1)), "duckdb_bytes/row")
			b.ReportMetric(float64(theirT.files), "duckdb_files")
			b.ReportMetric(theirs.elapsed.Seconds()/ours.elapsed.Seconds(), "duckdb/convert_time")
			so, st := sharedBytes(ourStats, theirStats)
			b.ReportMetric(float64(so)/mb, "shared_cols_MB")
			b.ReportMetric(float64(st)/mb, "duckdb_shared_cols_MB")
			logStats("duckdb", theirStats)
		})
	}
}

// shuffled writes the dump's lines in a random (fixed) order next to it: no order at all, the worst
// case for a loader whose cost depends on it. Like byUpdatedAt it holds one line at a time.
func shuffled(b *testing.B, dump string) string {
	b.Helper()
	return reorder(b, dump, "-shuffled", func(lines []dumpLine) {
		rng := rand.New(rand.NewPCG(benchSeed, 2))
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	})
}

// BenchmarkConvertInProcess runs convert inside the test binary, for -cpuprofile and -memprofile, on the
// dump in INTERCOM_EXPORT_BENCH_ORDER (created, updated or random) by INTERCOM_EXPORT_BENCH_PARTITION:
//
//	INTERCOM_EXPORT_BENCH_ORDER=random go test ./cmd/intercom-export -run '^$' -bench ConvertInProcess -benchtime 1x -cpuprofile cpu.out
func BenchmarkConvertInProcess(b *testing.B) {
	tmp := b.TempDir()
	dump, dumpSize := benchDump(b, tmp, 10_000)
	switch os.Getenv("INTERCOM_EXPORT_BENCH_ORDER") { // the orders of BenchmarkConvert; default created
	case "updated":
		dump = byUpdatedAt(b, dump)
	case "random":
		dump = shuffled(b, dump)
	}
	partition := cmp.Or(os.Getenv("INTERCOM_EXPORT_BENCH_PARTITION"), "day")
	b.ResetTimer()
	for i := range b.N {
		out := filepath.Join(tmp, "out-"+strconv.Itoa(i))
		var stdout, stderr bytes.Buffer
		args := []string{"convert", "--out", out, "--log-format", "json", "--log-level", "warn", "--partition", partition, dump}
		if code := run(context.Background(), args, os.Getenv, &stdout, &stderr); code != 0 {
			b.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
		b.StopTimer()
		os.RemoveAll(out)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*10_000/b.Elapsed().Seconds(), "conversations/s")
	b.ReportMetric(float64(b.N)*float64(dumpSize)/mb/b.Elapsed().Seconds(), "MB/s")
}

// The benchmark's peer is ../shared/docs/duckdb-peer.sql, copied with a header, and its monthly variant
// is a rewrite of it: both break silently in `make bench` alone unless a test reads them. The rewrite
// broke once already, when the peer started computing the day with timezone().
func TestBenchmarkPeerIsTheSharedOneAndRewritesByMonth(t *testing.T) {
	t.Parallel()
	copied, err := os.ReadFile(filepath.Join("..", "..", "bench", "duckdb-peer.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monthlyPeer(string(copied)); err != nil {
		t.Errorf("the monthly peer: %v", err)
	}
	shared, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "docs", "duckdb-peer.sql"))
	if err != nil {
		t.Skipf("no shared peer beside the repository to compare with: %v", err)
	}
	if !strings.HasSuffix(string(copied), string(shared)) {
		t.Error("bench/duckdb-peer.sql is not ../shared/docs/duckdb-peer.sql under its header: copy it again")
	}
}
