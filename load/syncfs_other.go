//go:build !linux

package load

// syncFS is Linux's syncfs(2); elsewhere every file and folder is synced on its own.
func syncFS(string) error { return errSyncFSUnsupported }

const syncFSAvailable = false
