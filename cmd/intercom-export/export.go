package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
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
	Out             string
	Extract         extract.Config
	Full            bool
	Since, Until    string
	Overlap         time.Duration
	SourceJSON      bool
	Partition       string
	CheckpointEvery string
	Wait            time.Duration
	LogFormat       string
	LogLevel        string
	Store           load.StoreOptions
}

// commonFlags registers the flags export and demo share.
func commonFlags(fs *flag.FlagSet, o *exportOptions) {
	fs.StringVar(&o.Extract.APIVersion, "api-version", extract.DefaultAPIVersion, "Intercom-Version to pin: 1.0..1.4, 2.0..2.16 or Preview")
	fs.BoolVar(&o.Extract.AnyAPIVersion, "allow-unknown-api-version", false, "send an --api-version this build does not know (newer than 2.16) instead of refusing it")
	fs.IntVar(&o.Extract.Concurrency, "concurrency", 32, "at least this many conversations retrieved at once; more (up to 256) when the API's latency needs it to reach the rate limit")
	fs.IntVar(&o.Extract.MaxAttempts, "max-attempts", 8, "attempts per API request before giving up")
	fs.DurationVar(&o.Extract.MaxRetryTime, "max-retry-time", 10*time.Minute, "time one API request may spend retrying")
	fs.DurationVar(&o.Extract.RequestTimeout, "request-timeout", 60*time.Second, "time limit of one API attempt")
	fs.BoolVar(&o.Full, "full", false, "ignore the bookmark: retrieve every conversation, and remove those Intercom no longer lists")
	fs.StringVar(&o.Since, "since", "", "export conversations updated at or after this time (RFC 3339, UTC without a zone; YYYY-MM-DD; or Unix seconds), overriding the bookmark")
	fs.StringVar(&o.Until, "until", "", "export only conversations updated before this time (same forms as --since); a bounded run leaves the nightly bookmark alone, so a backfill can be cut into chunks")
	fs.DurationVar(&o.Overlap, "overlap", defaultOverlap, "how far before the previous run's start an incremental run looks again")
	fs.BoolVar(&o.SourceJSON, "source-json", true, "keep each conversation's JSON in conversations.source_json")
	fs.StringVar(&o.CheckpointEvery, "checkpoint-every", defaultCheckpointEvery, "commit what the run has so far at this interval (a duration) or every N conversations (a number), so that an interrupted run resumes; 0 commits only at the end")
	fs.DurationVar(&o.Wait, "wait", 0, "wait up to this long for another run holding the folder to finish, instead of exiting at once with code 75")
	partitionFlag(fs, &o.Partition)
	fs.StringVar(&o.LogFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console or json")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func runExport(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	o, err := exportCommandLine("export", args, getenv, stdout)
	if err != nil {
		return err
	}
	return export(ctx, o, stdout, stderr)
}

// exportFlags defines the flags of export (and check) on o.
func exportFlags(name string, o *exportOptions) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.Out, "out", "", "output folder, or s3://bucket/prefix (required)")
	fs.StringVar(&o.Extract.Region, "region", "us", "data hosting region: us, eu or au")
	storeFlags(fs, &o.Store)
	fs.StringVar(&o.Extract.BaseURL, "base-url", "", "API base URL, overriding --region (https, or http on localhost)")
	fs.String(configFlag, "", configFlagUsage)
	commonFlags(fs, o)
	return fs
}

// exportCommandLine reads the flags and environment of export, and of check, which takes the same.
func exportCommandLine(name string, args []string, getenv env, stdout io.Writer) (exportOptions, error) {
	var o exportOptions
	fs := exportFlags(name, &o)
	if err := parseFlags(fs, args, getenv, stdout); err != nil {
		return o, err
	}
	// The token comes from the environment only: a flag value would show in `ps` and shell history.
	token, err := accessToken(getenv)
	o.Extract.Token = extract.Secret(token)
	return o, err
}

// window is what --since and --until say, resolved; nil where not given.
type window struct {
	since, until *int64
}

func parseWindow(o exportOptions, now time.Time) (window, error) {
	var w window
	if o.Full && (o.Since != "" || o.Until != "") {
		return w, fmt.Errorf("%w: --full exports everything: it takes neither --since nor --until", errUsage)
	}
	for _, f := range []struct {
		name, value string
		to          **int64
	}{{"--since", o.Since, &w.since}, {"--until", o.Until, &w.until}} {
		if f.value == "" {
			continue
		}
		t, err := parseInstant(f.name, f.value, now)
		if err != nil {
			return w, err
		}
		*f.to = &t
	}
	if w.since != nil && w.until != nil && *w.until <= *w.since {
		return w, fmt.Errorf("%w: --until %s is not after --since %s", errUsage, instantString(*w.until), instantString(*w.since))
	}
	return w, nil
}

// runPlan is what a run asks the API for.
type runPlan struct {
	mode     string // full, incremental or since
	window   extract.Window
	bookmark *int64 // the bookmark used, for the manifest
	// started is when the run started, or the run it resumes: the next bookmark is this less the
	// overlap.
	started time.Time
	resume  *load.Resume // the unfinished run this one resumes; nil for a new run
}

// bounded reports whether --until ends the run's window: such a run leaves the bookmark alone.
func (p runPlan) bounded() bool { return p.window.Until != 0 }

// plan resumes the folder's unfinished run, if it has one and the flags do not ask for another, or
// plans a new run.
func plan(o exportOptions, w window, st load.State, haveState bool, now time.Time, log zerolog.Logger) runPlan {
	p := newPlan(o, w, st, haveState, now)
	r := st.Resume
	if !haveState || r == nil {
		return p
	}
	explicit := o.Full || o.Since != "" || o.Until != ""
	if explicit && (r.Mode != p.mode || r.Since != p.window.Since || r.Until != p.window.Until) {
		log.Warn().Str("interrupted_run", r.RunID).Str("interrupted_mode", r.Mode).Int64("committed", r.Conversations).
			Msg("not resuming the interrupted run: --full, --since or --until ask for another one; this run starts anew (the bookmark is where it was)")
		return p
	}
	p = runPlan{mode: r.Mode, window: extract.Window{Since: r.Since, Until: r.Until}, started: r.StartedAt, resume: r}
	if r.Mode != "full" {
		p.bookmark = &r.Since
	}
	return p
}

func newPlan(o exportOptions, w window, st load.State, haveState bool, now time.Time) runPlan {
	switch {
	case w.since != nil || w.until != nil:
		p := runPlan{mode: "since", started: now}
		if w.since != nil {
			p.window.Since = *w.since
		}
		if w.until != nil {
			p.window.Until = *w.until
		}
		p.bookmark = &p.window.Since
		return p
	case o.Full || !haveState || st.NoBookmark:
		return runPlan{mode: "full", started: now}
	}
	b := st.Bookmark
	return runPlan{mode: "incremental", window: extract.Window{Since: b}, bookmark: &b, started: now}
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
		{o.Wait >= 0, "--wait", o.Wait, "0 or more, such as 10m"},
	} {
		if !c.ok {
			return fmt.Errorf("%w: %s %v: want %s", errUsage, c.flag, c.val, c.want)
		}
	}
	return nil
}

// prepared is an export's configuration, checked before the folder is touched or a request sent.
type prepared struct {
	log      zerolog.Logger
	logOut   io.Writer
	terminal bool
	window   window
	every    checkpointPolicy
	client   *extract.Client
	loadCfg  load.Config
	store    load.Store
}

// prepare validates everything an export (or its check) needs, sending no request.
func prepare(o *exportOptions, stderr io.Writer) (prepared, error) {
	var p prepared
	// On a terminal a live progress line sits under the log, which then writes above it.
	format := resolveLogFormat(o.LogFormat, stderr)
	p.terminal = format == "console" && isTerminal(stderr)
	p.logOut = stderr
	if p.terminal {
		p.logOut = newStatusLine(stderr)
	}
	var err error
	if p.log, err = newLogger(p.logOut, format, o.LogLevel); err != nil {
		return p, err
	}
	if o.Out == "" {
		return p, fmt.Errorf("%w: --out is required: the folder to write Parquet into", errUsage)
	}
	if err := checkFlagValues(*o); err != nil {
		return p, err
	}
	if p.window, err = parseWindow(*o, time.Now()); err != nil {
		return p, err
	}
	if p.every, err = parseCheckpointEvery(o.CheckpointEvery); err != nil {
		return p, err
	}
	o.Extract.Logger = p.log
	o.Extract.SetDefaults()
	if err := o.Extract.Validate(); err != nil {
		return p, fmt.Errorf("%w: %w", errUsage, err)
	}
	if p.client, err = extract.NewClient(o.Extract); err != nil {
		return p, fmt.Errorf("%w: %w", errUsage, err)
	}
	p.loadCfg = load.Config{Dir: o.Out, Logger: p.log, Version: releaseNumber, Build: buildDetails, Partition: schemas.Partitioning(o.Partition)}
	p.loadCfg.SetDefaults()
	if err := p.loadCfg.Validate(); err != nil {
		return p, fmt.Errorf("%w: %w", errUsage, err)
	}
	if p.store, err = openStore(context.Background(), o.Out, o.Store); err != nil {
		return p, err
	}
	return p, nil
}

// export validates everything, then runs the pipeline, commits and prints the summary.
func export(ctx context.Context, o exportOptions, stdout, stderr io.Writer) error {
	began := time.Now() // elapsed covers the whole run, opening the folder (and waiting for it) included
	p, err := prepare(&o, stderr)
	if err != nil {
		return err
	}
	log, loadCfg, w, every, client := p.log, p.loadCfg, p.window, p.every, p.client
	logOut, terminal := p.logOut, p.terminal

	run, err := openRunWaiting(ctx, p.store, loadCfg, log, o.Wait)
	if errors.Is(err, load.ErrLocked) {
		return fmt.Errorf("%w; --wait 30m (say) waits for it", err)
	}
	if err != nil {
		return err
	}
	defer run.close()
	if err := olderFiles(ctx, p.store, o.Full, log); err != nil {
		return err
	}
	st, haveState, err := run.ds.State()
	if err != nil {
		return err
	}
	j := &exportJob{
		o: o, log: log, logOut: logOut, terminal: terminal, client: client, run: run, loadCfg: loadCfg,
		plan: plan(o, w, st, haveState, began, log), prev: st, havePrev: haveState, began: began,
		listed: map[string]bool{}, holdBack: -1,
	}
	if err := j.ck.init(run.ds, run.writer.RunID(), j.plan, every, st.Resume); err != nil {
		return err
	}
	return j.execute(ctx, stdout)
}

// exportJob is one export run: what it asks for, what it found, and its checkpoints.
type exportJob struct {
	o        exportOptions
	log      zerolog.Logger
	logOut   io.Writer
	terminal bool
	client   *extract.Client
	run      *folderRun
	loadCfg  load.Config
	plan     runPlan
	prev     load.State // the folder's state: its bookmark stays until the run finishes
	havePrev bool
	began    time.Time // when this process started the run, before it opened the folder

	mu       sync.Mutex
	listed   map[string]bool
	failures []load.Failure
	holdBack int64    // the oldest updated_at of a conversation this run could not export; -1: none
	gone     []string // deleted between listing and retrieval, not yet removed
	deleted  []load.DeletedConversation

	ck checkpoints
}

func (j *exportJob) fail(id string, updatedAt int64, reason string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failures = append(j.failures, load.Failure{ConversationID: id, Reason: reason})
	if j.holdBack < 0 || updatedAt < j.holdBack {
		j.holdBack = updatedAt
	}
}

func (j *exportJob) extractor() *extract.Extractor {
	p := j.plan
	ex := &extract.Extractor{
		Client: j.client,
		List: func(ctx context.Context, emit func(extract.Ref) error) error {
			record := func(r extract.Ref) error {
				j.mu.Lock()
				j.listed[r.ID] = true
				j.mu.Unlock()
				return emit(r)
			}
			if p.mode == "full" {
				return j.client.List(ctx, record)
			}
			return j.client.ChangedIn(ctx, p.window, record)
		},
		Failed: func(r extract.Ref, err error) { j.fail(r.ID, r.UpdatedAt, err.Error()) },
		Gone: func(r extract.Ref) {
			j.mu.Lock()
			j.gone = append(j.gone, r.ID)
			j.mu.Unlock()
		},
	}
	// Unchanged since the folder got it: no retrieval. A full run retrieves everything, since a part
	// can change without moving the conversation's updated_at, except what the checkpoints of the run
	// it resumes committed.
	ex.Skip = func(r extract.Ref) bool {
		h, ok := j.run.lookup(r.ID)
		unchanged := ok && r.UpdatedAt != 0 && h.UpdatedAt == r.UpdatedAt
		if p.mode == "full" {
			return unchanged && j.ck.resumed[r.ID]
		}
		return unchanged
	}
	return ex
}

// deleteHeld removes a conversation the folder holds from it, in the segment being written.
// A conversation this run added is deleted from the partition it was added to as well, which differs
// from the held one when its created_at moved, and is deleted even when the folder did not hold it yet.
func (j *exportJob) deleteHeld(id string) {
	h, held := j.run.lookup(id)
	a, added := j.run.added[id]
	if !held && !added {
		return
	}
	if held {
		j.run.writer.Delete(id, h.Date)
	}
	if added && (!held || a.Date != h.Date) {
		j.run.writer.Delete(id, a.Date)
		h.Date = a.Date
	}
	j.deleted = append(j.deleted, load.DeletedConversation{ConversationID: id, Date: h.Date.String()})
	j.run.forget(id)
	delete(j.run.added, id)
}

// removeGone removes the conversations found deleted while the run retrieved them.
func (j *exportJob) removeGone() {
	j.mu.Lock()
	gone := j.gone
	j.gone = nil
	j.mu.Unlock()
	for _, id := range gone {
		j.deleteHeld(id)
	}
}

// execute runs the pipeline, checkpointing as it goes, then handles deletions and commits the rest.
func (j *exportJob) execute(ctx context.Context, stdout io.Writer) error {
	o, p, log, run := j.o, j.plan, j.log, j.run
	start := log.Info().Str("run_id", run.writer.RunID()).Str("out", o.Out).Str("mode", p.mode).
		Str("api_version", o.Extract.APIVersion).Int("held", run.heldCount())
	if p.mode != "full" {
		start.Str("since", instantString(p.window.Since))
	}
	if p.bounded() {
		start.Str("until", instantString(p.window.Until))
	}
	if r := p.resume; r != nil {
		start.Str("resumes", r.RunID).Time("first_started", r.StartedAt).Int("checkpoints", r.Checkpoints).
			Int64("committed", r.Conversations)
	}
	start.Str("checkpoint_every", j.ck.policy.String()).Msg("export started")

	ex := j.extractor()
	stopProgress := reportProgress(ctx, log, j.logOut, j.terminal, 0, func() progressSnapshot {
		p, cs := ex.Progress(), j.client.Stats()
		total := int64(-1)
		if p.ListingDone {
			total = p.Listed - p.Skipped
		}
		return progressSnapshot{Listed: p.Listed, Done: p.Retrieved + p.NotFound + p.Failed, Total: total,
			Retries: cs.Retries, RateLimited: cs.RateLimited}
	})
	sink := func(rec schemas.Record) error {
		if err := run.add(rec); err != nil {
			return err
		}
		return j.ck.added(ctx, j, rec.ID(), ex)
	}
	counts, runErr := runStages(ctx, log, ex.Run, transform.Options{OmitSourceJSON: !o.SourceJSON}, run.rej, sink)
	stopProgress()
	run.logRefused()
	rejectsPath, rejErr := run.rej.close()
	if runErr == nil {
		runErr = rejErr
	}
	deletions := ""
	var warnings []string
	var admins, teams string
	if runErr == nil {
		j.removeGone()
		deletions, warnings, runErr = j.deletions(ctx)
	}
	if runErr == nil {
		var sideWarnings []string
		admins, teams, sideWarnings, runErr = j.sideTables(ctx)
		warnings = append(warnings, sideWarnings...)
	}
	if runErr == nil {
		runErr = load.CompleteWholeTables(run.writer)
	}
	for _, r := range run.rej.items {
		j.fail(r.ConversationID, r.UpdatedAt, r.Reason)
	}

	prog := ex.Progress()
	sum := summary{
		Command: "export", Listed: prog.Listed, Skipped: prog.Skipped, Retrieved: prog.Retrieved, NotFound: prog.NotFound,
		Truncated: counts.Truncated, Warnings: counts.Warnings, Rejected: int64(len(run.rej.items)), Failed: prog.Failed,
	}
	run.count(&sum, nil)
	if runErr != nil {
		j.finishSummary(&sum, load.Result{}, stdout)
		err := j.failed(ctx, runErr)
		sum.log(log, err)
		return err
	}

	m := j.manifest(ex, counts)
	m.Deletions, m.Warnings, m.Admins, m.Teams = deletions, warnings, admins, teams
	next := j.finalState(deletions)
	m.BookmarkNew = next.Bookmark
	stopProgress = reportProgress(ctx, log, j.logOut, j.terminal, 0, commitProgress(run.writer))
	res, err := j.run.ds.Commit(ctx, run.writer, m, next)
	stopProgress()
	if err == nil {
		err = run.ds.RemoveCheckpointIDs("")
	}
	j.finishSummary(&sum, res, stdout)
	if err != nil {
		err = j.failed(ctx, fmt.Errorf("publishing files: %w", err))
	}
	sum.log(log, err)
	if err != nil {
		return err
	}
	if len(j.failures) > 0 {
		where := "the run manifest in " + location(run.ds.Store(), load.StateDir+"/runs/"+m.RunID+".json")
		if rejectsPath != "" {
			where += " and " + rejectsPath
		}
		return fmt.Errorf("%w: %d conversations could not be exported; their ids and reasons are in %s", errPartial, len(j.failures), where)
	}
	return nil
}

// finishSummary adds the commits' figures and the client's to sum, and prints it.
func (j *exportJob) finishSummary(sum *summary, last load.Result, stdout io.Writer) {
	cs := j.client.Stats()
	sum.Calls, sum.Retries, sum.RateLimited = cs.Calls, cs.Retries, cs.RateLimited
	total := j.ck.results
	total.add(last)
	sum.Conversations, sum.Parts, sum.Tags, sum.Ratings = total.Conversations, total.Parts, total.Tags, total.Ratings
	sum.Files, sum.Deleted = total.Files, total.Deleted+len(j.deleted)
	sum.Elapsed = time.Since(j.began) // this attempt's, when it resumes another
	sum.print(stdout)
}

// failed says what a failed run leaves: the folder as it was, or the checkpoints to resume from.
func (j *exportJob) failed(ctx context.Context, runErr error) error {
	runErr = tokenAdvice(runErr)
	var sig interrupted
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &sig) {
		runErr = sig
	}
	if j.ck.done == 0 {
		if sig.signal != nil {
			return fmt.Errorf("%w before the first checkpoint; %s is unchanged (its last committed state); rerun to start again", runErr, j.o.Out)
		}
		return fmt.Errorf("%w; %s is unchanged (its last committed state)", runErr, j.o.Out)
	}
	return fmt.Errorf("%w; %d conversations committed at the last checkpoint (%d) stay in %s: rerun to resume",
		runErr, j.ck.committed, j.ck.done, j.o.Out)
}

// deletions removes the conversations Intercom deleted. A full run makes the folder an exact snapshot;
// other runs ask the optional deletions endpoint, whose failure costs the deletions only, with a warning.
func (j *exportJob) deletions(ctx context.Context) (status string, warnings []string, err error) {
	if j.plan.mode == "full" {
		for _, id := range j.run.heldIDs() {
			j.mu.Lock()
			listed := j.listed[id]
			j.mu.Unlock()
			if !listed {
				j.deleteHeld(id)
			}
		}
		return "snapshot", nil, nil
	}
	err = j.client.DeletedSince(ctx, j.deletionsSince(), func(d extract.Deletion) error {
		j.deleteHeld(d.ID)
		return nil
	})
	var why string
	switch {
	case err == nil:
		return "listed", nil, nil
	case ctx.Err() != nil, errors.Is(err, extract.ErrAuth) && !errors.Is(err, extract.ErrUnavailable):
		return "", nil, err // a 401 is the token's: the run stops
	case errors.Is(err, extract.ErrUnavailable):
		status, why = "unavailable", "deletions are not listed by this workspace's API; a --full run removes deleted conversations"
	default:
		status, why = "failed", "deletions could not be listed; the next run asks again from the same point, and a --full run removes deleted conversations"
	}
	j.log.Warn().Err(err).Str("deletions", status).Msg(why)
	return status, []string{why + " (" + err.Error() + ")"}, nil
}

// deletionsSince is where deletions are asked for from: the run's start, or earlier when a previous
// run could not list them.
func (j *exportJob) deletionsSince() int64 {
	since := j.plan.window.Since
	if d := j.prev.DeletionsSince; d != nil && *d < since {
		since = *d
	}
	return since
}

func (j *exportJob) manifest(ex *extract.Extractor, counts stageCounts) *load.Manifest {
	prog, cs, run := ex.Progress(), j.client.Stats(), j.run
	status := "success"
	if len(j.failures) > 0 {
		status = "partial"
	}
	m := &load.Manifest{
		RunID: j.run.writer.RunID(), Command: "export", ToolVersion: version, Status: status, Segment: j.ck.segment(),
		StartedAt: j.plan.started.UTC(), APIVersion: j.o.Extract.APIVersion, Mode: j.plan.mode,
		BookmarkUsed: j.plan.bookmark, BookmarkNew: j.prev.Bookmark, Deleted: j.deleted, Failures: j.failures,
		Counts: load.ManifestCounts{Listed: prog.Listed, Retrieved: prog.Retrieved, Skipped: prog.Skipped,
			Truncated: counts.Truncated, Warnings: counts.Warnings, NotFound: prog.NotFound, APICalls: cs.Calls},
	}
	run.count(&summary{}, &m.Counts)
	if j.plan.bounded() {
		m.Until = &j.plan.window.Until
	}
	if m.Deleted == nil {
		m.Deleted = []load.DeletedConversation{}
	}
	if m.Failures == nil {
		m.Failures = []load.Failure{}
	}
	return m
}

// finalState is the state a finished run records. The bookmark is where the run (or the first attempt
// of a resumed one) started, not where it ended nor the newest updated_at seen: conversations updated
// while it went on are found again by the next run. A run bounded by --until leaves it alone.
func (j *exportJob) finalState(deletions string) *load.State {
	st := &load.State{Bookmark: j.prev.Bookmark, NoBookmark: !j.havePrev || j.prev.NoBookmark,
		APIVersion: j.o.Extract.APIVersion}
	if deletions == "failed" {
		since := j.deletionsSince()
		st.DeletionsSince = &since
	}
	if j.plan.bounded() {
		if deletions != "failed" {
			st.DeletionsSince = j.prev.DeletionsSince
		}
		return st
	}
	next := j.plan.started.Add(-j.o.Overlap).Unix()
	if j.holdBack >= 0 && j.holdBack < next {
		next = j.holdBack // the next run must find the conversations this one could not export
	}
	st.Bookmark, st.NoBookmark = next, false
	return st
}
