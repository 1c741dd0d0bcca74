package load

// SetAfterJournal lets tests die at the commit point: f runs once the journal is durable.
func SetAfterJournal(d *Dataset, f func()) { d.afterJournal = f }
