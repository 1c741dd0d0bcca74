package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// waitFor polls until cond holds; the deadline only keeps a broken reporter from hanging the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); { // only catches a hang
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countingSource advances by 10 conversations at each call; the total is known from the third call.
func countingSource() progressSource {
	var calls atomic.Int64
	return func() progressSnapshot {
		n := calls.Add(1)
		total := int64(-1)
		if n >= 3 {
			total = 1000
		}
		return progressSnapshot{Listed: 1000, Done: 10 * n, Total: total, Retries: 2, RateLimited: 1}
	}
}

func TestProgressLineOnTerminal(t *testing.T) {
	var buf syncBuffer
	stop := reportProgress(context.Background(), zerolog.Nop(), &buf, true, 0, countingSource())
	waitFor(t, "a line with the total", func() bool { return strings.Contains(buf.String(), "/1000") })
	stop()
	stop() // a second stop is harmless
	out := buf.String()
	for _, want := range []string{clearLine + "retrieved ", ", listed 1000 so far", "/1000 (", "/s", "ETA ", "retries 2", "429s 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "\n") {
		t.Errorf("the progress line must be redrawn in place, without newlines:\n%q", out)
	}
	if !strings.HasSuffix(out, clearLine) {
		t.Errorf("stop must clear the line; output ends %q", out[max(0, len(out)-40):])
	}
}

func TestProgressEventsInJSONLogs(t *testing.T) {
	var buf syncBuffer
	log := zerolog.New(&buf)
	stop := reportProgress(context.Background(), log, &buf, false, 5*time.Millisecond, countingSource())
	waitFor(t, "progress events with a total", func() bool { return strings.Count(buf.String(), `"total"`) >= 2 })
	stop()
	var sawUnknown, sawKnown bool
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if ev["message"] != "progress" || ev["level"] != "info" || ev["retries"] != 2.0 || ev["rate_limited"] != 1.0 {
			t.Errorf("event %v", ev)
		}
		if _, ok := ev["rate_per_s"]; !ok {
			t.Errorf("event without rate: %v", ev)
		}
		_, hasETA := ev["eta_s"]
		if ev["total"] == nil {
			sawUnknown = true
			if hasETA {
				t.Errorf("an ETA without a total: %v", ev)
			}
		} else {
			sawKnown = true
			if ev["total"] != 1000.0 || !hasETA {
				t.Errorf("event %v, want total 1000 and an ETA", ev)
			}
		}
	}
	if !sawUnknown || !sawKnown {
		t.Errorf("want events before and after the total is known:\n%s", buf.String())
	}
}

func TestProgressStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf syncBuffer
	stop := reportProgress(ctx, zerolog.New(&buf), &buf, false, time.Millisecond, countingSource())
	cancel()
	stop() // returns although the context ended first
}

func TestStatusLineKeepsLogLinesAbove(t *testing.T) {
	var buf bytes.Buffer
	sl := newStatusLine(&buf)
	sl.Write([]byte("before\n"))
	sl.set("retrieved 5/10")
	sl.Write([]byte("a log line\n"))
	sl.set("")
	want := "before\n" + clearLine + "retrieved 5/10" + clearLine + "a log line\n" + "retrieved 5/10" + clearLine
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestFormatProgress(t *testing.T) {
	for _, tc := range []struct {
		s    progressSnapshot
		rate float64
		want string
	}{
		{progressSnapshot{Listed: 300, Done: 40, Total: -1, Retries: 1}, 12.5,
			"retrieved 40, listed 300 so far · 12.5/s · retries 1 · 429s 0"},
		{progressSnapshot{Listed: 300, Done: 100, Total: 300, RateLimited: 3}, 20,
			"retrieved 100/300 (33%) · 20.0/s · ETA 10s · retries 0 · 429s 3"},
		{progressSnapshot{Done: 0, Total: 0}, 0, "retrieved 0/0 · 0.0/s · retries 0 · 429s 0"},
	} {
		if got := formatProgress(tc.s, tc.rate); got != tc.want {
			t.Errorf("formatProgress(%+v, %v)\n got %q\nwant %q", tc.s, tc.rate, got, tc.want)
		}
	}
}

func TestRateMeterSlidesOverTheWindow(t *testing.T) {
	var r rateMeter
	t0 := time.Unix(0, 0)
	r.add(t0, 0)
	r.add(t0.Add(time.Second), 100) // a fast start
	for i := 2; i <= 30; i++ {
		r.add(t0.Add(time.Duration(i)*time.Second), 100+int64(i-1)*10) // then 10 a second
	}
	if got := r.rate(); got != 10 {
		t.Errorf("rate %v, want 10: the fast start is older than the window", got)
	}
}

// During the commit, the progress says how many partitions of how many are written, and how many files.
func TestCommitProgressLineAndEvents(t *testing.T) {
	var calls atomic.Int64
	src := func() progressSnapshot {
		n := calls.Add(1)
		return progressSnapshot{Committing: true, Done: min(n, 730), Total: 730, Files: 3 * min(n, 730)}
	}
	var line syncBuffer
	stop := reportProgress(context.Background(), zerolog.Nop(), &line, true, 0, src)
	waitFor(t, "a commit progress line", func() bool { return strings.Contains(line.String(), " partitions of 730") })
	stop()
	if out := line.String(); !strings.Contains(out, "writing files: ") || !strings.Contains(out, " files") || strings.Contains(out, "retrieved") {
		t.Errorf("commit progress line: %q", out)
	}

	var logs syncBuffer
	stop = reportProgress(context.Background(), zerolog.New(&logs), &logs, false, 5*time.Millisecond, src)
	waitFor(t, "commit progress events", func() bool { return strings.Count(logs.String(), `"eta_s"`) >= 1 })
	stop()
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if ev["message"] != "commit progress" || ev["partitions_total"] != 730.0 || ev["files_written"] == nil || ev["partitions_written"] == nil {
			t.Errorf("event %v", ev)
		}
	}
}
