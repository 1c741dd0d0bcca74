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

func runVerify(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("verify", flag.ContinueOnError)
	var storeOpts load.StoreOptions
	storeFlags(fset, &storeOpts)
	rest, err := parseCommand(fset, args, getenv, stdout)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: verify takes one argument, the output folder (see intercom-export verify --help)", errUsage)
	}
	dir := rest[0]
	st, err := load.OpenStore(ctx, dir, storeOpts)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	rep, err := load.VerifyStore(ctx, st)
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
