package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// newLogger builds the run's logger: human-readable on a terminal, JSON lines otherwise (cron, CI, log
// shippers), unless format says which.
func newLogger(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("%w: --log-level %q: use debug, info, warn or error", errUsage, level)
	}
	switch format = resolveLogFormat(format, w); format {
	case "console", "json":
	default:
		return zerolog.Nop(), fmt.Errorf("%w: --log-format %q: use auto, console or json", errUsage, format)
	}
	// Workers log concurrently; a writer that is not an *os.File (a pipe wrapper, a test buffer) needs
	// the serialisation.
	terminal := isTerminal(w)
	w = zerolog.SyncWriter(w)
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: consoleTime, NoColor: !terminal}
	}
	return zerolog.New(w).Level(lvl).Hook(timestamp{}), nil
}

// logTime is RFC 3339 in UTC with milliseconds: events of one second stay in order, and log shippers
// parse it. consoleTime is for people, with the date: a log file read the next day says which day.
const (
	logTime     = "2006-01-02T15:04:05.000Z07:00"
	consoleTime = "2006-01-02 15:04:05.000"
)

// timestamp adds each event's time. It is a hook rather than zerolog's Timestamp, whose format is a
// package-wide variable.
type timestamp struct{}

func (timestamp) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format(logTime))
}

// logFormatOf finds the log format a command line (or INTERCOM_EXPORT_LOG_FORMAT) asks for, so that an error found before the logger
// exists (a usage error) is still written in it.
func logFormatOf(args []string, getenv env, stderr io.Writer) string {
	format := "auto"
	if v := getenv(envName("log-format")); v != "" {
		format = v
	}
	for i, a := range args {
		switch {
		case (a == "--log-format" || a == "-log-format") && i+1 < len(args):
			format = args[i+1]
		case strings.HasPrefix(a, "--log-format=") || strings.HasPrefix(a, "-log-format="):
			format = a[strings.IndexByte(a, '=')+1:]
		}
	}
	return resolveLogFormat(format, stderr)
}

// reportFailure writes the error a command ends with: as an error event when the log is JSON, so
// that a log shipper gets it, else as a line of text.
func reportFailure(stderr io.Writer, format string, code int, err error) {
	if format != "json" {
		fmt.Fprintf(stderr, "intercom-export: %v\n", err)
		return
	}
	log := zerolog.New(zerolog.SyncWriter(stderr)).Hook(timestamp{})
	log.Error().Err(err).Int("exit_code", code).Msg(exitMeaning[code])
}

// resolveLogFormat turns "auto" into console on a terminal and json elsewhere.
func resolveLogFormat(format string, w io.Writer) string {
	if format != "auto" {
		return format
	}
	if isTerminal(w) {
		return "console"
	}
	return "json"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
