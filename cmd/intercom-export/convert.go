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
	"strconv"
	"time"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

// runConvert is the transform and load half alone: it reads conversations as GET /conversations/{id}
// returns them, from files of saved answers, into the same layout with the same replace semantics as
// export. The bookmark is left alone: nothing was asked of the API.
func runConvert(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	started := time.Now() // elapsed covers the whole run, opening the folder included
	var out, logFormat, logLevel, partition string
	var sourceJSON bool
	var storeOpts load.StoreOptions
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.StringVar(&out, "out", "", "output folder, or s3://bucket/prefix (required)")
	storeFlags(fs, &storeOpts)
	fs.BoolVar(&sourceJSON, "source-json", true, "keep each conversation's JSON in conversations.source_json")
	partitionFlag(fs, &partition)
	fs.StringVar(&logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	inputs, err := parseCommand(fs, args, getenv, stdout)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, logFormat, logLevel)
	if err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("%w: --out is required: the folder to write Parquet into", errUsage)
	}
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
	loadCfg := load.Config{Dir: out, Logger: log, Version: releaseNumber, Build: buildDetails, Partition: schemas.Partitioning(partition)}
	// Bytes of buffered rows before a spill; a knob for tests and for machines short of memory.
	if v := getenv("INTERCOM_EXPORT_MEMORY_BUDGET"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%w: INTERCOM_EXPORT_MEMORY_BUDGET=%q: want a positive number of bytes", errUsage, v)
		}
		loadCfg.MemoryBudget = n
	}
	loadCfg.SetDefaults()
	if err := loadCfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	st, err := openStore(ctx, out, storeOpts)
	if err != nil {
		return err
	}
	run, err := openRun(st, loadCfg, log)
	if err != nil {
		return err
	}
	defer run.close()
	if err := load.OlderFiles(ctx, st); errors.Is(err, load.ErrOlderFiles) {
		return fmt.Errorf("%w: %w; converting into it would put two schemas in one table: convert into a new folder, or rewrite this one first with export --full", errUsage, err)
	} else if err != nil {
		return err
	}
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
	counts, runErr := runStages(ctx, log, src, transform.Options{OmitSourceJSON: !sourceJSON}, run.rej, run.add)
	run.logRefused()
	rejectsPath, rejErr := run.rej.close()
	if runErr == nil {
		runErr = rejErr
	}
	sum := summary{Command: "convert", InputFiles: len(inputs), Retrieved: read, Truncated: counts.Truncated, Warnings: counts.Warnings, Rejected: int64(len(run.rej.items))}
	run.count(&sum, nil)
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
	m := &load.Manifest{RunID: run.writer.RunID(), Command: "convert", ToolVersion: version, Status: status, StartedAt: started.UTC(),
		Deleted: []load.DeletedConversation{}, Failures: failures,
		Counts: load.ManifestCounts{Retrieved: read, Truncated: counts.Truncated, Warnings: counts.Warnings}}
	run.count(&sum, &m.Counts)
	if err := load.CompleteWholeTables(run.writer); err != nil {
		return err
	}
	stopProgress := reportProgress(ctx, log, stderr, false, 0, commitProgress(run.writer))
	res, err := run.ds.Commit(ctx, run.writer, m, nil)
	stopProgress()
	if err != nil {
		return fmt.Errorf("publishing files: %w; %s is unchanged (its last committed state)", err, out)
	}
	sum.Conversations, sum.Parts, sum.Tags, sum.Ratings, sum.Files = res.Conversations, res.Parts, res.Tags, res.Ratings, len(res.Files)
	sum.Elapsed = time.Since(started)
	sum.print(stdout)
	sum.log(log, nil)
	if len(failures) > 0 {
		return fmt.Errorf("%w: %d conversations could not be converted; they are in %s with their file, line and reason", errPartial, len(failures), rejectsPath)
	}
	return nil
}

// maxLine bounds one NDJSON line: a conversation of 500 long parts is a few MiB.
const maxLine = 256 << 20

// wantInput says what convert reads, for messages about inputs it cannot.
const wantInput = "want NDJSON (one conversation a line), a JSON array of conversations, one conversation " +
	"(pretty-printed or not), or a saved list or search body ({\"type\":\"conversation.list\",\"conversations\":[...]})"

// readConversationsFrom sends every conversation of one input to out, each with where it came from
// (file and line, array index, list position), and returns how many it read. The shape is sniffed from
// the first line, which is kept and read again from memory, so the input is read once (stdin works):
//
//   - a first byte [ is a JSON array;
//   - a first line that is a whole JSON value, or that is not the start of one, makes the input
//     NDJSON: a line that is not JSON still goes on, the transform stage rejects it with its line, and
//     the lines around it arrive;
//   - a first line that starts a value it does not finish is one document over many lines (a saved
//     answer, pretty-printed): a conversation, or several one after the other.
//
// Any value that is a list or search body is replaced by the conversations of its conversations array.
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
	var n int64
	send := func(origin string, raw []byte) error {
		for _, c := range expandList(origin, raw) {
			select {
			case out <- c:
				n++
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	first, skipped, err := firstByte(br)
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", label, err)
	}
	switch first {
	case '[':
		err = readArray(br, label, send)
	case '{':
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return 0, fmt.Errorf("reading %s: %w", label, rerr)
		}
		if startsDocument(line) {
			err = readDocuments(io.MultiReader(bytes.NewReader(line), br), label, send)
		} else {
			err = readLines(br, line, rerr == io.EOF, label, 1+skipped, send)
		}
	default:
		return 0, fmt.Errorf("%s:%d: starts with %q: %s", label, 1+skipped, first, wantInput)
	}
	return n, err
}

// startsDocument reports whether line opens a JSON value that goes on past it.
func startsDocument(line []byte) bool {
	var v json.RawMessage
	err := json.NewDecoder(bytes.NewReader(line)).Decode(&v)
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// readArray sends the elements of a JSON array. An array cannot be resynchronised after a syntax
// error, so one ends the input.
func readArray(r io.Reader, label string, send func(string, []byte) error) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s: element %d: %w (%s)", label, i, err, wantInput)
		}
		if err := send(fmt.Sprintf("%s[%d]", label, i), raw); err != nil {
			return err
		}
	}
	return nil
}

// readDocuments sends the JSON values of a multi-line input, one after the other.
func readDocuments(r io.Reader, label string, send func(string, []byte) error) error {
	dec := json.NewDecoder(r)
	for i := 0; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: value %d (a JSON value over several lines): %w (%s)", label, i+1, err, wantInput)
		}
		origin := label
		if i > 0 || dec.More() {
			origin = fmt.Sprintf("%s#%d", label, i+1)
		}
		if err := send(origin, raw); err != nil {
			return err
		}
	}
}

// readLines sends NDJSON lines, first (the line already read, numbered line) included.
func readLines(br *bufio.Reader, first []byte, atEOF bool, label string, line int, send func(string, []byte) error) error {
	b, err := first, error(nil)
	if atEOF {
		err = io.EOF
	}
	for ; ; line++ {
		if len(b) > maxLine {
			return fmt.Errorf("%s:%d: a line of more than %d MiB", label, line, maxLine>>20)
		}
		if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 {
			if err := send(fmt.Sprintf("%s:%d", label, line), trimmed); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", label, err)
		}
		b, err = br.ReadBytes('\n')
	}
}

// listKey marks a value that may be a list or search body; conversations never have the key.
var listKey = []byte(`"conversations"`)

// expandList returns the conversations of a list or search body ({"type":"conversation.list",
// "conversations":[...]}), or raw itself. The cheap test comes first: most values are conversations.
func expandList(origin string, raw []byte) []extract.Conversation {
	one := []extract.Conversation{{Origin: origin, JSON: raw}}
	if !bytes.Contains(raw, listKey) {
		return one
	}
	var body struct {
		Type          *string           `json:"type"`
		ID            json.RawMessage   `json:"id"`
		Conversations []json.RawMessage `json:"conversations"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Conversations == nil || (body.ID != nil && deref(body.Type) != "conversation.list") {
		return one
	}
	out := make([]extract.Conversation, len(body.Conversations))
	for i, c := range body.Conversations {
		out[i] = extract.Conversation{Origin: fmt.Sprintf("%s: conversations[%d]", origin, i), JSON: c}
	}
	return out
}

// firstByte peeks at the first byte that is not white space, and counts the lines it skipped.
func firstByte(br *bufio.Reader) (byte, int, error) {
	lines := 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, lines, err
		}
		switch b {
		case '\n':
			lines++
		case ' ', '\t', '\r':
		default:
			return b, lines, br.UnreadByte()
		}
	}
}
