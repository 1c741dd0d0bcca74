package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// demoSeed fixes the fake workspace, so every demo run exports the same conversations.
const demoSeed = 1

// demoToken is the fake workspace's token; it is not a secret.
const demoToken = "demo-token"

func runDemo(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	var o exportOptions
	var n int
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.Out, "out", "demo-out", "output folder")
	fs.IntVar(&n, "conversations", 2000, "conversations in the fake workspace")
	commonFlags(fs, &o)
	storeFlags(fs, &o.Store)
	if err := parseFlags(fs, args, nil, stdout); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("%w: --conversations %d: want 0 or more", errUsage, n)
	}
	srv := intercomtest.NewServer(intercomtest.NewWorkspace(demoSeed, n), intercomtest.Options{Token: demoToken})
	defer srv.Close()
	fmt.Fprintf(stdout, "fake Intercom workspace with %d conversations at %s\n", n, srv.URL)

	o.Extract.BaseURL = srv.URL
	o.Extract.Token = demoToken
	if err := export(ctx, o, stdout, stderr); err != nil {
		return err
	}
	abs := o.Out
	if a, err := filepath.Abs(o.Out); err == nil && load.IsFolder(o.Out) {
		abs = a
	}
	fmt.Fprintf(stdout, `
Parquet files are in %[1]s/<table>/<partition>/data.parquet. Try them in DuckDB:

  duckdb -c "SELECT date_trunc('month', created_date) AS month, count(*) AS conversations,
             count(*) FILTER (WHERE state = 'closed') AS closed
             FROM read_parquet('%[1]s/conversations/*/*.parquet', hive_partitioning = true)
             GROUP BY ALL ORDER BY month"
`, abs)
	return nil
}
