package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// lockPoll is how often OpenDatasetWaiting tries the lock again.
const lockPoll = 200 * time.Millisecond

// OpenDatasetWaiting is OpenDataset, waiting up to wait for another run to release the folder. The
// error after the wait, as without one, wraps ErrLocked.
func OpenDatasetWaiting(ctx context.Context, dir string, log zerolog.Logger, wait time.Duration) (*Dataset, error) {
	deadline := time.Now().Add(wait)
	logged := false
	for {
		d, err := OpenDataset(dir, log)
		if !errors.Is(err, ErrLocked) || !time.Now().Before(deadline) {
			return d, err
		}
		if !logged {
			log.Info().Str("out", dir).Int64("wait_ms", wait.Milliseconds()).Err(err).Msg("waiting for the run that holds the folder")
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
func ProbeLock(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, StateDir, lockFile), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening the lock file: %w", err)
	}
	defer f.Close()
	held, err := tryLock(f)
	if err != nil {
		return fmt.Errorf("locking %s: %w", dir, err)
	}
	if !held {
		holder, _ := os.ReadFile(f.Name())
		return fmt.Errorf("%w %s (%s)", ErrLocked, dir, strings.TrimSpace(string(holder)))
	}
	return nil
}
