package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
)

// runCheck tries, before a night's run, everything the run would need, with the same flags as export:
// the token and its workspace (GET /me), the pinned version, the permissions (listing conversations;
// listing deletions, which is optional), the output folder and its lock; then it says what a run would
// do. It writes nothing. Exit codes are export's: 1 when the run would fail, 2 for a configuration
// error, 75 when another run holds the folder.
func runCheck(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	o, err := exportCommandLine("check", args, getenv, stdout)
	if err != nil {
		return err
	}
	p, err := prepare(&o, stderr)
	if err != nil {
		return err
	}
	c := p.client
	me, err := c.Me(ctx)
	if err != nil {
		return tokenAdvice(err)
	}
	fmt.Fprintf(stdout, "token        acts as %s <%s> (admin %s) in workspace %q (%s, region %s)\n",
		me.Name, me.Email, me.ID, me.App.Name, me.App.ID, me.App.Region)
	fmt.Fprintf(stdout, "api version  %s accepted\n", o.Extract.APIVersion)
	if err := c.CanListConversations(ctx); err != nil {
		return fmt.Errorf("listing conversations: %w (the app needs the \"Read conversations\" permission)", tokenAdvice(err))
	}
	fmt.Fprintln(stdout, "permissions  read conversations: yes")
	switch err := c.CanListDeletions(ctx); {
	case err == nil:
		fmt.Fprintln(stdout, "             list deleted conversations: yes")
	case errors.Is(err, extract.ErrUnavailable):
		fmt.Fprintf(stdout, "             list deleted conversations: no (%v); runs go on without it, and a --full run removes deleted conversations\n", err)
	default:
		return fmt.Errorf("listing deleted conversations: %w", tokenAdvice(err))
	}
	for _, side := range []struct {
		name string
		list func(context.Context) ([]byte, error)
	}{{"admins", c.Admins}, {"teams", c.Teams}} {
		switch _, err := side.list(ctx); {
		case err == nil:
			fmt.Fprintf(stdout, "             list %s: yes\n", side.name)
		case errors.Is(err, extract.ErrUnavailable):
			fmt.Fprintf(stdout, "             list %s: no (%v); runs go on without refreshing the %s table\n", side.name, err, side.name)
		default:
			return fmt.Errorf("listing %s: %w", side.name, tokenAdvice(err))
		}
	}
	if err := p.store.ProbeLock(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "output       %s: writable, not held by another run\n", o.Out)
	st, haveState, err := load.ReadStoreState(ctx, p.store)
	if err != nil {
		return err
	}
	if err := olderFiles(ctx, p.store, o.Full, p.log); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "a run would  %s\n", describePlan(plan(o, p.window, st, haveState, time.Now(), p.log)))
	return nil
}

// tokenAdvice adds what to do about a refused token.
func tokenAdvice(err error) error {
	if errors.Is(err, extract.ErrAuth) && !errors.Is(err, extract.ErrUnavailable) {
		return fmt.Errorf("%w (check INTERCOM_ACCESS_TOKEN: a token that is invalid, revoked or expired needs replacing; a plan restriction needs the workspace's admin)", err)
	}
	return err
}

// describePlan says in words what a run with this plan asks for.
func describePlan(p runPlan) string {
	var s string
	switch p.mode {
	case "full":
		s = "retrieve every conversation (full run)"
	case "incremental":
		s = "retrieve conversations updated since the bookmark, " + instantString(p.window.Since)
	default:
		s = "retrieve conversations updated since " + instantString(p.window.Since)
	}
	if p.bounded() {
		s += " and before " + instantString(p.window.Until) + " (the bookmark stays)"
	}
	if r := p.resume; r != nil {
		s += fmt.Sprintf(", resuming run %s (%d checkpoints, %d conversations committed)", r.RunID, r.Checkpoints, r.Conversations)
	}
	return s
}

// olderFiles refuses a folder that holds files of another schema (an older version of the tool wrote
// them), unless the run is --full, which rewrites every partition and is only warned: a table whose
// files disagree on their columns breaks readers that take the schema from one file.
func olderFiles(ctx context.Context, store load.Store, full bool, log zerolog.Logger) error {
	switch err := load.OlderFiles(ctx, store); {
	case err == nil || !errors.Is(err, load.ErrOlderFiles):
		return err
	case full:
		log.Warn().Err(err).Msg("this --full run rewrites every partition in this version's schema")
		return nil
	default:
		return fmt.Errorf("%w: %w; a run without --full would publish new files beside them, and readers would see two schemas in one table: run once with --full (it retrieves every conversation and rewrites every partition in this version's schema), or export into a new folder", errUsage, err)
	}
}
