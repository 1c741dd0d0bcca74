package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/transform"
)

// runConvert is the transform and load half alone: it reads conversations as GET /conversations/{id}
// returns them, from files of saved answers, into the same layout with the same replace semantics as
// export. The bookmark is left alone: nothing was asked of the API.
func runConvert(ctx context.Context, args []string, _ env, stdout, stderr io.Writer) error {
	var out, logFormat, logLevel string
	var sourceJSON bool
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.StringVar(&out, "out", "", "output folder (required)")
	fs.BoolVar(&sourceJSON, "source-json", true, "keep each conversation's JSON in conversations.source_json")
	fs.StringVar(&logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: intercom-export convert --out DIR FILE... (NDJSON, one conversation a line, or a JSON array; - is stdin)")
		fs.PrintDefaults()
	}
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v (see convert -h)", errUsage, err)
	}
	log, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("%w: --out is required: the folder to write Parquet into", errUsage)
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		return fmt.Errorf("%w: no input: name files of saved GET /conversations/{id} answers, or - for stdin", errUsage)
	}
	for _, name := range inputs {
		if name == "-" {
			continue
		}
		if fi, err := os.Stat(name); err != nil || fi.IsDir() {
			return fmt.Errorf("%w: cannot read input %q: want a file of conversations (NDJSON or a JSON array)", errUsage, name)
		}
	}
	loadCfg := load.Config{Dir: out, Logger: log, Version: version}
	loadCfg.SetDefaults()
	if err := loadCfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	run, err := openRun(out, loadCfg, log)
	if err != nil {
		return err
	}
	defer run.close()
	started := time.Now()
	var read int64
	src := func(ctx context.Context, ch chan<- extract.Conversation) error {
		for _, name := range inputs {
			n, err := readConversationsFrom(ctx, name, ch)
			read += n
			if err != nil {
				return err
			}
		}
		return nil
	}
	truncated, runErr := runStages(ctx, log, src, transform.Options{OmitSourceJSON: !sourceJSON}, run.rej, run.add)
	rejectsPath, rejErr := run.rej.close()
	if runErr == nil {
		runErr = rejErr
	}
	sum := summary{Retrieved: read, Truncated: truncated, Rejected: int64(len(run.rej.items))}
	if runErr != nil {
		sum.Elapsed = time.Since(started)
		sum.print(stdout)
		return fmt.Errorf("%w; %s is unchanged (its last committed state)", runErr, out)
	}

	failures := []load.Failure{}
	for _, r := range run.rej.items {
		failures = append(failures, load.Failure{ConversationID: r.ConversationID, Reason: r.Source + ": " + r.Reason})
	}
	status := "success"
	if len(failures) > 0 {
		status = "partial"
	}
	m := &load.Manifest{RunID: run.writer.RunID(), Command: "convert", Status: status, StartedAt: started.UTC(),
		Deleted: []load.DeletedConversation{}, Failures: failures,
		Counts: load.ManifestCounts{Retrieved: read, Truncated: truncated}}
	res, err := run.ds.Commit(ctx, run.writer, m, nil)
	if err != nil {
		return fmt.Errorf("publishing files: %w; %s is unchanged (its last committed state)", err, out)
	}
	sum.Conversations, sum.Parts, sum.Tags, sum.Ratings, sum.Files = res.Conversations, res.Parts, res.Tags, res.Ratings, len(res.Files)
	sum.Elapsed = time.Since(started)
	sum.print(stdout)
	logSummary(log, sum, nil)
	if len(failures) > 0 {
		return fmt.Errorf("%w: %d conversations could not be converted; they are in %s with their file, line and reason", errPartial, len(failures), rejectsPath)
	}
	return nil
}

// maxLine bounds one NDJSON line: a conversation of 500 long parts is a few MiB.
const maxLine = 256 << 20

// readConversationsFrom sends every conversation of one input to out, each with its file and line (or
// array index), and returns how many it read. A line that is not JSON still goes on: the transform
// stage rejects it with its position, and the lines around it arrive.
func readConversationsFrom(ctx context.Context, name string, out chan<- extract.Conversation) (int64, error) {
	var r io.Reader = os.Stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r, label = f, name
	}
	br := bufio.NewReaderSize(r, 1<<20)
	send := func(c extract.Conversation) error {
		select {
		case out <- c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	first, err := firstByte(br)
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", label, err)
	}
	var n int64
	if first == '[' {
		// A JSON array cannot be resynchronised after a syntax error, so one ends the input.
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return 0, fmt.Errorf("%s: %w", label, err)
		}
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return n, fmt.Errorf("%s: element %d: %w", label, i, err)
			}
			if err := send(extract.Conversation{Origin: fmt.Sprintf("%s[%d]", label, i), JSON: raw}); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > maxLine {
			return n, fmt.Errorf("%s:%d: a line of more than %d MiB", label, line, maxLine>>20)
		}
		if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 {
			if err := send(extract.Conversation{Origin: fmt.Sprintf("%s:%d", label, line), JSON: trimmed}); err != nil {
				return n, err
			}
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("reading %s: %w", label, err)
		}
	}
}

// firstByte peeks at the first byte that is not white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, br.UnreadByte()
		}
	}
}
