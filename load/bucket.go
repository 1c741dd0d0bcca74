package load

import (
	"context"
	"fmt"
)

// openBucketStore opens s3://bucket/prefix; buckets come in the next step of this change.
func openBucketStore(_ context.Context, location, _ string, _ StoreOptions) (Store, error) {
	return nil, fmt.Errorf("%w %q: s3:// is not supported by this build yet; use a folder path", ErrUnknownScheme, location)
}
