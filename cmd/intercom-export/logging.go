package main

import (
	"fmt"
	"io"
	"os"
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
	w = zerolog.SyncWriter(w)
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
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
