package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/transform"
)

// errHelp: -h was asked for and answered.
var errHelp = flag.ErrHelp

// defaultOverlap is how far before the previous run's start an incremental run looks again. It covers
// clock differences between this machine and Intercom, and search results that lag behind updates;
// conversations found again but unchanged are not retrieved, so the overlap costs search pages only.
const defaultOverlap = 30 * time.Minute

// exportOptions is everything an export run needs, after flags and environment are read.
type exportOptions struct {
	Out        string
	Extract    extract.Config
	Full       bool
	Since      string
	Overlap    time.Duration
	SourceJSON bool
	LogFormat  string
	LogLevel   string
}

// commonFlags registers the flags export and demo share.
func commonFlags(fs *flag.FlagSet, o *exportOptions) {
	fs.StringVar(&o.Extract.APIVersion, "api-version", extract.DefaultAPIVersion, "Intercom-Version to pin: 1.0..1.4, 2.0..2.16 or Preview")
	fs.IntVar(&o.Extract.Concurrency, "concurrency", 32, "at least this many conversations retrieved at once; more (up to 256) when the API's latency needs it to reach the rate limit")
	fs.IntVar(&o.Extract.MaxAttempts, "max-attempts", 8, "attempts per API request before giving up")
	fs.DurationVar(&o.Extract.MaxRetryTime, "max-retry-time", 10*time.Minute, "time one API request may spend retrying")
	fs.DurationVar(&o.Extract.RequestTimeout, "request-timeout", 60*time.Second, "time limit of one API attempt")
	fs.BoolVar(&o.Full, "full", false, "ignore the bookmark: retrieve every conversation, and remove those Intercom no longer lists")
	fs.StringVar(&o.Since, "since", "", "export conversations updated at or after this time (RFC 3339, YYYY-MM-DD or Unix seconds), overriding the bookmark")
	fs.DurationVar(&o.Overlap, "overlap", defaultOverlap, "how far before the previous run's start an incremental run looks again")
	fs.BoolVar(&o.SourceJSON, "source-json", true, "keep each conversation's JSON in conversations.source_json")
	fs.StringVar(&o.LogFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console or json")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// parseFlags parses args; a bad flag or a stray argument is a usage error.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v (see %s -h)", errUsage, err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (see %s -h)", errUsage, fs.Arg(0), fs.Name())
	}
	return nil
}

func runExport(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	var o exportOptions
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.StringVar(&o.Out, "out", "", "output folder (required)")
	fs.StringVar(&o.Extract.Region, "region", "us", "data hosting region: us, eu or au")
	fs.StringVar(&o.Extract.BaseURL, "base-url", "", "API base URL, overriding --region (https, or http on localhost)")
	commonFlags(fs, &o)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	// The token comes from the environment only: a flag value would show in `ps` and shell history.
	o.Extract.Token = extract.Secret(strings.TrimSpace(getenv("INTERCOM_ACCESS_TOKEN")))
	return export(ctx, o, stdout, stderr)
}

// parseSince reads --since: RFC 3339, a date (midnight UTC) or Unix seconds.
func parseSince(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("%w: --since %q: use RFC 3339 (2025-03-14T09:00:00Z), a date (2025-03-14) or Unix seconds", errUsage, s)
}

// runPlan is what a run asks the API for.
type runPlan struct {
	mode     string // full, incremental or since
	since    int64  // for incremental and since
	bookmark *int64 // the bookmark used, for the manifest
}

func plan(o exportOptions, st load.State, haveState bool) (runPlan, error) {
	switch {
	case o.Full && o.Since != "":
		return runPlan{}, fmt.Errorf("%w: --full and --since exclude each other", errUsage)
	case o.Since != "":
		since, err := parseSince(o.Since)
		return runPlan{mode: "since", since: since, bookmark: &since}, err
	case o.Full || !haveState:
		return runPlan{mode: "full"}, nil
	}
	b := st.Bookmark
	return runPlan{mode: "incremental", since: b, bookmark: &b}, nil
}

// checkFlagValues refuses values SetDefaults would otherwise quietly replace by defaults.
func checkFlagValues(o exportOptions) error {
	for _, c := range []struct {
		ok   bool
		flag string
		val  any
		want string
	}{
		{o.Extract.Concurrency >= 1, "--concurrency", o.Extract.Concurrency, "1 or more"},
		{o.Extract.MaxAttempts >= 1, "--max-attempts", o.Extract.MaxAttempts, "1 or more"},
		{o.Extract.RequestTimeout > 0, "--request-timeout", o.Extract.RequestTimeout, "a positive duration such as 60s"},
		{o.Extract.MaxRetryTime > 0, "--max-retry-time", o.Extract.MaxRetryTime, "a positive duration such as 10m"},
		{o.Overlap >= 0, "--overlap", o.Overlap, "0 or more, such as 30m"},
	} {
		if !c.ok {
			return fmt.Errorf("%w: %s %v: want %s", errUsage, c.flag, c.val, c.want)
		}
	}
	return nil
}

// export validates everything, then runs the pipeline, commits and prints the summary.
func export(ctx context.Context, o exportOptions, stdout, stderr io.Writer) error {
	// On a terminal a live progress line sits under the log, which then writes above it.
	format := resolveLogFormat(o.LogFormat, stderr)
	terminal := format == "console" && isTerminal(stderr)
	var logOut io.Writer = stderr
	if terminal {
		logOut = newStatusLine(stderr)
	}
	log, err := newLogger(logOut, format, o.LogLevel)
	if err != nil {
		return err
	}
	if o.Out == "" {
		return fmt.Errorf("%w: --out is required: the folder to write Parquet into", errUsage)
	}
	if err := checkFlagValues(o); err != nil {
		return err
	}
	o.Extract.Logger = log
	o.Extract.SetDefaults()
	if err := o.Extract.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	client, err := extract.NewClient(o.Extract)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	loadCfg := load.Config{Dir: o.Out, Logger: log, Version: version}
	loadCfg.SetDefaults()
	if err := loadCfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if o.Since != "" {
		if _, err := parseSince(o.Since); err != nil {
			return err
		}
	}

	run, err := openRun(o.Out, loadCfg, log)
	if err != nil {
		return err
	}
	defer run.close()
	ds, held, writer, rej := run.ds, run.held, run.writer, run.rej
	runID := writer.RunID()
	st, haveState, err := ds.State()
	if err != nil {
		return err
	}
	p, err := plan(o, st, haveState)
	if err != nil {
		return err
	}

	// The bookmark is where this run started, not where it ended nor the newest updated_at seen:
	// conversations updated while the run goes on are then found again by the next run.
	started := time.Now()
	log.Info().Str("run_id", runID).Str("out", o.Out).Str("mode", p.mode).Str("api_version", o.Extract.APIVersion).
		Int("held", len(held)).Msg("export started")

	var mu sync.Mutex
	listed := map[string]bool{}
	var failures []load.Failure
	holdBack := int64(-1) // the oldest updated_at of a conversation this run could not export
	fail := func(id string, updatedAt int64, reason string) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, load.Failure{ConversationID: id, Reason: reason})
		if holdBack < 0 || updatedAt < holdBack {
			holdBack = updatedAt
		}
	}
	var gone []string
	ex := &extract.Extractor{
		Client: client,
		List: func(ctx context.Context, emit func(extract.Ref) error) error {
			record := func(r extract.Ref) error {
				mu.Lock()
				listed[r.ID] = true
				mu.Unlock()
				return emit(r)
			}
			if p.mode == "full" {
				return client.List(ctx, record)
			}
			return client.ChangedSince(ctx, p.since, record)
		},
		Failed: func(r extract.Ref, err error) { fail(r.ID, r.UpdatedAt, err.Error()) },
		Gone: func(r extract.Ref) {
			mu.Lock()
			gone = append(gone, r.ID)
			mu.Unlock()
		},
	}
	if p.mode != "full" {
		// Unchanged since the folder got it: no retrieval. A full run retrieves everything, since a
		// part can change without moving the conversation's updated_at.
		ex.Skip = func(r extract.Ref) bool {
			h, ok := held[r.ID]
			return ok && r.UpdatedAt != 0 && h.UpdatedAt == r.UpdatedAt
		}
	}

	stopProgress := reportProgress(ctx, log, logOut, terminal, 0, func() progressSnapshot {
		p, cs := ex.Progress(), client.Stats()
		total := int64(-1)
		if p.ListingDone {
			total = p.Listed - p.Skipped
		}
		return progressSnapshot{Listed: p.Listed, Done: p.Retrieved + p.NotFound + p.Failed, Total: total,
			Retries: cs.Retries, RateLimited: cs.RateLimited}
	})
	counts, runErr := runStages(ctx, log, ex.Run, transform.Options{OmitSourceJSON: !o.SourceJSON}, rej, run.add)
	stopProgress()
	run.logRefused()
	rejectsPath, rejErr := rej.close()
	if runErr == nil {
		runErr = rejErr
	}

	var deleted []load.DeletedConversation
	deleteHeld := func(id string) {
		if h, ok := held[id]; ok {
			writer.Delete(id, h.Date)
			deleted = append(deleted, load.DeletedConversation{ConversationID: id, Date: h.Date.String()})
			delete(held, id)
		}
	}
	if runErr == nil {
		for _, id := range gone {
			deleteHeld(id)
		}
		switch {
		case p.mode == "full":
			// A full run makes the folder an exact snapshot: what Intercom no longer lists goes.
			for id := range held {
				if !listed[id] {
					deleteHeld(id)
				}
			}
		case client.SupportsDeletions():
			runErr = client.DeletedSince(ctx, p.since, func(d extract.Deletion) error {
				deleteHeld(d.ID)
				return nil
			})
		}
	}
	for _, r := range rej.items {
		fail(r.ConversationID, r.UpdatedAt, r.Reason)
	}

	prog := ex.Progress()
	cs := client.Stats()
	sum := summary{
		Listed: prog.Listed, Skipped: prog.Skipped, Retrieved: prog.Retrieved, NotFound: prog.NotFound,
		Truncated: counts.Truncated, Warnings: counts.Warnings, Rejected: int64(len(rej.items)), Failed: prog.Failed, Deleted: len(deleted),
	}
	run.count(&sum, nil)
	if errors.Is(runErr, extract.ErrAuth) {
		runErr = fmt.Errorf("%w (check INTERCOM_ACCESS_TOKEN: a token that is invalid, revoked or expired needs replacing; a plan restriction needs the workspace's admin)", runErr)
	}
	if runErr != nil {
		sum.Calls, sum.Retries, sum.RateLimited = cs.Calls, cs.Retries, cs.RateLimited
		sum.Elapsed = time.Since(started)
		sum.print(stdout)
		logSummary(log, sum, runErr)
		return fmt.Errorf("%w; %s is unchanged (its last committed state)", runErr, o.Out)
	}

	next := started.Add(-o.Overlap).Unix()
	if holdBack >= 0 && holdBack < next {
		next = holdBack // the next run must find the conversations this one could not export
	}
	status := "success"
	if len(failures) > 0 {
		status = "partial"
	}
	m := &load.Manifest{
		RunID: runID, Command: "export", Status: status, StartedAt: started.UTC(), APIVersion: o.Extract.APIVersion,
		Mode: p.mode, BookmarkUsed: p.bookmark, BookmarkNew: next, Deleted: deleted, Failures: failures,
		Counts: load.ManifestCounts{Listed: prog.Listed, Retrieved: prog.Retrieved, Skipped: prog.Skipped,
			Truncated: counts.Truncated, Warnings: counts.Warnings, NotFound: prog.NotFound, APICalls: cs.Calls},
	}
	run.count(&sum, &m.Counts)
	if m.Deleted == nil {
		m.Deleted = []load.DeletedConversation{}
	}
	if m.Failures == nil {
		m.Failures = []load.Failure{}
	}
	res, err := ds.Commit(ctx, writer, m, &load.State{Bookmark: next, APIVersion: o.Extract.APIVersion})
	cs = client.Stats()
	sum.Calls, sum.Retries, sum.RateLimited = cs.Calls, cs.Retries, cs.RateLimited
	sum.Conversations, sum.Parts, sum.Tags, sum.Ratings = res.Conversations, res.Parts, res.Tags, res.Ratings
	sum.Files = len(res.Files)
	sum.Elapsed = time.Since(started)
	sum.print(stdout)
	if err != nil {
		err = fmt.Errorf("publishing files: %w; %s is unchanged (its last committed state)", err, o.Out)
	}
	logSummary(log, sum, err)
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		where := "the run manifest in " + o.Out + "/" + load.StateDir + "/runs/" + runID + ".json"
		if rejectsPath != "" {
			where += " and " + rejectsPath
		}
		return fmt.Errorf("%w: %d conversations could not be exported; their ids and reasons are in %s", errPartial, len(failures), where)
	}
	return nil
}

func logSummary(log zerolog.Logger, s summary, err error) {
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Int64("listed", s.Listed).Int64("skipped", s.Skipped).Int64("retrieved", s.Retrieved).
		Int64("conversations", s.Conversations).Int64("parts", s.Parts).Int64("tags", s.Tags).
		Int64("ratings", s.Ratings).Int("files", s.Files).Int("deleted", s.Deleted).Int64("truncated", s.Truncated).
		Int64("rejected", s.Rejected).Int64("superseded", s.Superseded).Int64("stale", s.Stale).Int64("warnings", s.Warnings).Int64("failed", s.Failed).Int64("not_found", s.NotFound).Int64("api_calls", s.Calls).
		Int64("retries", s.Retries).Int64("rate_limited", s.RateLimited).Dur("elapsed", s.Elapsed).
		Msg("export finished")
}
