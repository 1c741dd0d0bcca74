package load

// SetAfterJournal lets tests die at the commit point: f runs once the journal is durable.
func SetAfterJournal(d *Dataset, f func()) { d.afterJournal = f }

// SyncEachFile makes w sync every file and folder on its own, as where syncfs(2) is missing.
func SyncEachFile(w *Writer) {
	w.noSyncFS = true
	if f, ok := w.store.(*folderStore); ok {
		f.noSyncFS = true
	}
}
