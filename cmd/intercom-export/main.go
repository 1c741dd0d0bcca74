// Command intercom-export exports an Intercom workspace's conversations into date-partitioned Parquet.
//
// Exit codes: 0 success; 1 failure (nothing new was published beyond the run's checkpoints); 2 usage or
// configuration error (no request was sent); 3 partial (the run published what it could, but some
// conversations could not be exported: the summary and the log name them); 75 another run holds the
// output folder (EX_TEMPFAIL: try again later, or pass --wait).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/intercom-export/intercom-export/load"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitPartial = 3
	exitLocked  = 75 // EX_TEMPFAIL of sysexits.h: cron alerting can tell an overlap from a failure
)

const usage = `intercom-export exports Intercom conversations into date-partitioned Parquet.

Usage:
  intercom-export export --out DIR [flags]   export the workspace of INTERCOM_ACCESS_TOKEN
  intercom-export demo [--out DIR]           the same pipeline against an embedded fake workspace
  intercom-export convert --out DIR FILE...  the same, from saved GET /conversations/{id} answers (NDJSON or JSON array)
  intercom-export check --out DIR [flags]    try the token, its permissions and the folder before a run
  intercom-export verify DIR                 read every file back with Arrow and check it
  intercom-export schema [--format F]        table definitions: markdown, duckdb, bigquery, snowflake, athena
  intercom-export version                    the version, commit and build date of this binary

Run "intercom-export COMMAND -h" for a command's flags.
`

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		cancel(interrupted{<-signals})
		// A second signal means "now": the first one is already winding the run down.
		<-signals
		fmt.Fprintln(os.Stderr, "intercom-export: second signal, exiting at once")
		os.Exit(exitFailure)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// interrupted is the cause of a run's cancellation by a signal.
type interrupted struct{ signal os.Signal }

func (i interrupted) Error() string {
	name := "a signal"
	switch i.signal {
	case os.Interrupt:
		name = "SIGINT"
	case syscall.SIGTERM:
		name = "SIGTERM"
	}
	return "interrupted by " + name
}

// env reads an environment variable; tests pass their own.
type env func(string) string

// run is the whole program minus the process: tests call it directly.
func run(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "export":
		err = runExport(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], getenv, stdout, stderr)
	case "convert":
		err = runConvert(ctx, args[1:], getenv, stdout, stderr)
	case "check":
		err = runCheck(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		err = runVerify(ctx, args[1:], getenv, stdout, stderr)
	case "schema":
		err = runSchema(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		printVersion(stdout)
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "intercom-export: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if args[0] == "demo" {
		getenv = func(string) string { return "" } // demo reads only its command line
	}
	return exitCode(err, stderr, logFormatOf(args[1:], getenv, stderr))
}

// errUsage marks errors in the command line or configuration, reported before any request is sent.
var errUsage = errors.New("usage")

// errPartial marks a run that published its good data but could not export everything.
var errPartial = errors.New("partial export")

// exitMeaning is the message of the event a failing command ends with in JSON logs.
var exitMeaning = map[int]string{
	exitFailure: "run failed",
	exitUsage:   "usage or configuration error",
	exitPartial: "run partly exported",
	exitLocked:  "another run holds the output folder",
}

func exitCode(err error, stderr io.Writer, format string) int {
	code := exitFailure
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errUsage):
		code = exitUsage
	case errors.Is(err, errPartial):
		code = exitPartial
	case errors.Is(err, load.ErrLocked):
		code = exitLocked
	}
	reportFailure(stderr, format, code, err)
	return code
}
