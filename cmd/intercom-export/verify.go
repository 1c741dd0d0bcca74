package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"

	"github.com/intercom-export/intercom-export/load"
)

const verifyUsage = `Usage: intercom-export verify DIR

Reads every Parquet file of an output folder back with Apache Arrow, a reader independent of the one
that wrote them, and checks each against its table's schema: column names, order, types and
nullability; page checksums; and row counts. It lists every bad file, and anything in the folder that
is not the tool's (a stray file, an unknown folder), and exits 1 when there is any.
`

func runVerify(ctx context.Context, args []string, _ env, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("verify", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), verifyUsage) }
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v (see verify -h)", errUsage, err)
	}
	if fset.NArg() != 1 {
		return fmt.Errorf("%w: verify takes one argument, the output folder (see verify -h)", errUsage)
	}
	dir := fset.Arg(0)
	rep, err := load.VerifyDirContext(ctx, dir)
	if err != nil && !errors.Is(err, load.ErrVerify) {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "BAD %s: %v\n", p.Path, p.Err)
	}
	fmt.Fprintf(stdout, "verified %s: %d files, %d rows; %d problems\n", dir, len(rep.Files), rep.Rows(), len(rep.Problems))
	if !rep.OK() {
		return fmt.Errorf("verify %s: %d problems (listed above)", dir, len(rep.Problems))
	}
	return nil
}
