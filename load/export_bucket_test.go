package load

// AbandonLock stands for the death of the run holding d: a bucket lock's renewals stop and its object
// stays until it expires; a folder's flock goes, as the kernel drops it.
func AbandonLock(d *Dataset) {
	if l, ok := d.lock.(*bucketLock); ok {
		close(l.stop)
		<-l.done
	} else if d.lock != nil {
		d.lock.Unlock()
	}
	d.lock = nil
}

// SetMultipart sets the multipart threshold and part size until the returned function restores them.
func SetMultipart(threshold, part int64) (restore func()) {
	t, p := multipartThreshold, multipartPartSize
	multipartThreshold, multipartPartSize = threshold, part
	return func() { multipartThreshold, multipartPartSize = t, p }
}
