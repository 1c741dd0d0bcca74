package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/intercom-export/intercom-export/schemas"
)

func runSchema(_ context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("schema", flag.ContinueOnError)
	format := fset.String("format", "markdown", "what to print: "+strings.Join(schemas.Formats, ", "))
	dir := fset.String("dir", "DIR", "the output folder as the engine names it: a path (duckdb), gs://bucket/prefix (bigquery), @stage/prefix or a bucket URL (snowflake), s3://bucket/prefix (athena)")
	dataset := fset.String("dataset", "", "where the tables go: a DuckDB schema, a BigQuery dataset (dataset or project.dataset; required for bigquery), a Snowflake schema (schema or database.schema), an Athena database; empty: the current one")
	var partition string
	partitionFlag(fset, &partition)
	if err := parseFlags(fset, args, getenv, stdout); err != nil {
		return err
	}
	p, err := schemas.ParsePartitioning(partition)
	if err != nil {
		return fmt.Errorf("%w: --partition: %w", errUsage, err)
	}
	if !slices.Contains(schemas.Formats, *format) {
		return fmt.Errorf("%w: --format %q: want one of %s", errUsage, *format, strings.Join(schemas.Formats, ", "))
	}
	ddl, err := schemas.DDLWith(*format, schemas.DDLOptions{Dir: *dir, Partition: p, Dataset: *dataset})
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	_, err = io.WriteString(stdout, ddl)
	return err
}
