package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
)

// errHelp: -h was asked for and answered.
var errHelp = flag.ErrHelp

// exportOptions is everything an export run needs, after flags and environment are read.
type exportOptions struct {
	Out       string
	Extract   extract.Config
	LogFormat string
	LogLevel  string
}

// commonFlags registers the flags export and demo share.
func commonFlags(fs *flag.FlagSet, o *exportOptions) {
	fs.StringVar(&o.Extract.APIVersion, "api-version", extract.DefaultAPIVersion, "Intercom-Version to pin: 1.0..1.4, 2.0..2.16 or Preview")
	fs.IntVar(&o.Extract.Concurrency, "concurrency", 32, "conversations retrieved at once")
	fs.IntVar(&o.Extract.MaxAttempts, "max-attempts", 8, "attempts per API request before giving up")
	fs.DurationVar(&o.Extract.MaxRetryTime, "max-retry-time", 10*time.Minute, "time one API request may spend retrying")
	fs.DurationVar(&o.Extract.RequestTimeout, "request-timeout", 60*time.Second, "time limit of one API attempt")
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
	o.Extract.Token = strings.TrimSpace(getenv("INTERCOM_ACCESS_TOKEN"))
	return export(ctx, o, stdout, stderr)
}

// export validates everything, then runs the pipeline and prints the summary.
func export(ctx context.Context, o exportOptions, stdout, stderr io.Writer) error {
	log, err := newLogger(stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return err
	}
	if o.Out == "" {
		return fmt.Errorf("%w: --out is required: the folder to write Parquet into", errUsage)
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
	loadCfg := load.Config{Dir: o.Out, Logger: log}
	loadCfg.SetDefaults()
	if err := loadCfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	writer, err := load.NewWriter(loadCfg)
	if err != nil {
		return err
	}

	started := time.Now()
	ex := &extract.Extractor{Client: client}
	log.Info().Str("out", o.Out).Str("api_version", o.Extract.APIVersion).Int("concurrency", o.Extract.Concurrency).Msg("export started")
	sum, runErr := runPipeline(ctx, log, ex.Run, writer)
	sum.Elapsed = time.Since(started)
	p := ex.Progress()
	sum.NotFound = p.NotFound
	st := client.Stats()
	sum.Calls, sum.Retries, sum.RateLimited = st.Calls, st.Retries, st.RateLimited
	sum.print(stdout)
	logSummary(log, sum, runErr)
	if runErr != nil {
		return runErr
	}
	if sum.Rejected > 0 {
		return fmt.Errorf("%w: %d conversations could not be exported (see the log for their ids and reasons)", errPartial, sum.Rejected)
	}
	return nil
}

func logSummary(log zerolog.Logger, s summary, err error) {
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Int64("conversations", s.Conversations).Int64("parts", s.Parts).Int64("tags", s.Tags).
		Int64("ratings", s.Ratings).Int("files", s.Files).Int64("truncated", s.Truncated).
		Int64("rejected", s.Rejected).Int64("not_found", s.NotFound).Int64("api_calls", s.Calls).
		Int64("retries", s.Retries).Int64("rate_limited", s.RateLimited).Dur("elapsed", s.Elapsed).
		Msg("export finished")
}
