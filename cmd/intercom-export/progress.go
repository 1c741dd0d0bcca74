package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/load"
)

// progressSnapshot is how far a run has got.
type progressSnapshot struct {
	Listed      int64 // conversations found so far
	Done        int64 // conversations dealt with: retrieved, gone or failed; in the commit, partitions written
	Total       int64 // conversations to deal with, -1 while the listing goes on; in the commit, partitions to write
	Retries     int64
	RateLimited int64 // 429 answers
	// Committing: the run is writing its files (Done and Total count partitions, Files the files).
	Committing bool
	Files      int64
}

// commitProgress reads a commit's progress from its Writer.
func commitProgress(w *load.Writer) progressSource {
	return func() progressSnapshot {
		done, total, files := w.CommitProgress()
		return progressSnapshot{Committing: true, Done: done, Total: total, Files: files}
	}
}

// progressSource reads the run's counters; it is called from the reporter's goroutine.
type progressSource func() progressSnapshot

const (
	// redrawEvery: often enough to look alive, rarely enough not to flicker or cost anything.
	redrawEvery = 250 * time.Millisecond
	// defaultProgressEvery: a log line every few seconds shows a run is alive without flooding the log.
	defaultProgressEvery = 5 * time.Second
	// rateWindow: the rate is measured over the last few seconds, so that the ETA follows a run that
	// slows down (rate limit, retries) rather than averaging over its whole life.
	rateWindow = 10 * time.Second
)

// reportProgress shows a run's progress until stop is called (or ctx ends): on a terminal, one line on w
// redrawn in place about every 250 ms and cleared at stop; otherwise an info event "progress" on log
// every `every` (5 s when 0). stop waits for the reporter to finish and may be called more than once.
//
// On a terminal, pass as w the *statusLine the logger also writes to, so that log lines are printed
// above the progress line instead of being mixed into it.
func reportProgress(ctx context.Context, log zerolog.Logger, w io.Writer, terminal bool, every time.Duration, src progressSource) (stop func()) {
	if every <= 0 {
		every = defaultProgressEvery
	}
	var line *statusLine
	if terminal {
		every = redrawEvery
		if sl, ok := w.(*statusLine); ok {
			line = sl
		} else {
			line = newStatusLine(w)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := rateMeter{}
		r.add(time.Now(), src().Done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s := src()
				r.add(now, s.Done)
				rate := r.rate()
				if line != nil {
					line.set(formatProgress(s, rate))
				} else {
					logProgress(log, s, rate)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			if line != nil {
				line.set("")
			}
		})
	}
}

// eta is the time left at rate, or -1 when it cannot be told.
func eta(s progressSnapshot, rate float64) time.Duration {
	if s.Total < 0 || rate <= 0 {
		return -1
	}
	left := max(s.Total-s.Done, 0)
	return time.Duration(float64(left) / rate * float64(time.Second))
}

// formatProgress is the terminal's progress line.
func formatProgress(s progressSnapshot, rate float64) string {
	var b strings.Builder
	if s.Committing {
		fmt.Fprintf(&b, "writing files: %d partitions of %d", s.Done, s.Total)
		if s.Total > 0 {
			fmt.Fprintf(&b, " (%d%%)", s.Done*100/s.Total)
		}
		fmt.Fprintf(&b, ", %d files", s.Files)
		if d := eta(s, rate); d >= 0 {
			fmt.Fprintf(&b, " · ETA %s", d.Round(time.Second))
		}
		return b.String()
	}
	if s.Total >= 0 {
		fmt.Fprintf(&b, "retrieved %d/%d", s.Done, s.Total)
		if s.Total > 0 {
			fmt.Fprintf(&b, " (%d%%)", s.Done*100/s.Total)
		}
	} else {
		fmt.Fprintf(&b, "retrieved %d, listed %d so far", s.Done, s.Listed)
	}
	fmt.Fprintf(&b, " · %.1f/s", rate)
	if d := eta(s, rate); d >= 0 {
		fmt.Fprintf(&b, " · ETA %s", d.Round(time.Second))
	}
	fmt.Fprintf(&b, " · retries %d · 429s %d", s.Retries, s.RateLimited)
	return b.String()
}

// logProgress is the progress event of JSON logs. total and eta_s are left out until known.
func logProgress(log zerolog.Logger, s progressSnapshot, rate float64) {
	if s.Committing {
		ev := log.Info().Int64("partitions_written", s.Done).Int64("partitions_total", s.Total).Int64("files_written", s.Files)
		if d := eta(s, rate); d >= 0 {
			ev = ev.Int64("eta_s", int64(d.Round(time.Second)/time.Second))
		}
		ev.Msg("commit progress")
		return
	}
	ev := log.Info().Int64("listed", s.Listed).Int64("done", s.Done)
	if s.Total >= 0 {
		ev = ev.Int64("total", s.Total)
	}
	ev = ev.Float64("rate_per_s", float64(int64(rate*10))/10)
	if d := eta(s, rate); d >= 0 {
		ev = ev.Int64("eta_s", int64(d.Round(time.Second)/time.Second))
	}
	ev.Int64("retries", s.Retries).Int64("rate_limited", s.RateLimited).Msg("progress")
}

// rateMeter measures a counter's rate over the last rateWindow.
type rateMeter struct {
	samples []rateSample
}

type rateSample struct {
	at time.Time
	n  int64
}

func (r *rateMeter) add(at time.Time, n int64) {
	r.samples = append(r.samples, rateSample{at, n})
	// Keep one sample at or before the window's start, so the window is always covered.
	drop := 0
	for drop+1 < len(r.samples) && at.Sub(r.samples[drop+1].at) >= rateWindow {
		drop++
	}
	r.samples = r.samples[drop:]
}

// rate is the counter's increase per second over the window; 0 until two samples are apart.
func (r *rateMeter) rate() float64 {
	if len(r.samples) < 2 {
		return 0
	}
	first, last := r.samples[0], r.samples[len(r.samples)-1]
	secs := last.at.Sub(first.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(last.n-first.n) / secs
}

// statusLine shares a terminal between log lines and a status line kept below them: a log line first
// clears the status line, then is written, then the status line is drawn again.
type statusLine struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[2K"

func newStatusLine(w io.Writer) *statusLine { return &statusLine{w: w} }

// Write writes log output above the status line.
func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line == "" {
		return s.w.Write(p)
	}
	io.WriteString(s.w, clearLine)
	n, err := s.w.Write(p)
	io.WriteString(s.w, s.line)
	return n, err
}

// set replaces the status line; "" erases it.
func (s *statusLine) set(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if line == "" && s.line == "" {
		return
	}
	s.line = line
	io.WriteString(s.w, clearLine+line)
}
