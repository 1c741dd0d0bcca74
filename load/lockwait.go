package load

import (
	"context"
	"errors"
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
