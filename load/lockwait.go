package load

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// lockPoll is how often OpenWaiting tries the lock again.
const lockPoll = 200 * time.Millisecond

// OpenDatasetWaiting is OpenWaiting on a local folder.
func OpenDatasetWaiting(ctx context.Context, dir string, log zerolog.Logger, wait time.Duration) (*Dataset, error) {
	return OpenWaiting(ctx, NewFolderStore(dir), log, wait)
}

// OpenWaiting is Open, waiting up to wait for another run to release the store. The error after the
// wait, as without one, wraps ErrLocked.
func OpenWaiting(ctx context.Context, st Store, log zerolog.Logger, wait time.Duration) (*Dataset, error) {
	deadline := time.Now().Add(wait)
	logged := false
	for {
		d, err := Open(ctx, st, log)
		if !errors.Is(err, ErrLocked) || !time.Now().Before(deadline) {
			return d, err
		}
		if !logged {
			log.Info().Str("out", st.Location()).Int64("wait_ms", wait.Milliseconds()).Err(err).Msg("waiting for the run that holds the folder")
			logged = true
		}
		t := time.NewTimer(min(lockPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// ProbeLock reports whether a run could take dir's lock now, without taking it, creating anything or
// completing a dead run's commit: nil when the folder is free (or does not exist yet), an error wrapping
// ErrLocked while another run holds it.
func ProbeLock(dir string) error { return NewFolderStore(dir).ProbeLock(context.Background()) }
