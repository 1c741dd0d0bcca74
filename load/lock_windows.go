//go:build windows

package load

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on f without waiting; held is false when another process has it.
// Windows locks byte ranges, and a locked range cannot be read by others: the lock covers one byte far
// past the end, so that the holder's description at the start stays readable. Windows releases it when
// the process dies.
func tryLock(f *os.File) (held bool, err error) {
	at := &windows.Overlapped{OffsetHigh: 0x7fffffff}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, at)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}
