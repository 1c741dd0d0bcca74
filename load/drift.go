package load

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/parquet/file"
)

// ErrOlderFiles marks a folder whose published files another schema wrote: a version of the tool
// before a column was added, renamed or retyped. An incremental run would publish new partitions
// beside old ones, and a table whose files disagree on their columns fails or loses columns in
// readers that take the schema from one file (DuckDB without union_by_name, BigQuery, Athena).
var ErrOlderFiles = errors.New("the folder holds files of another schema")

// OlderFiles reads one published file of each table of the store (its footer, page checksums and
// schema, as the check before a commit does) and returns an error wrapping ErrOlderFiles when one was
// written with a schema other than this build's, naming the file, what differs and the version that
// wrote it. It takes the oldest partition's file, the one incremental runs are least likely to have
// rewritten; a folder's files are otherwise written together by each run, so one file per table
// tells. nil: the files agree with this build, or there are none. In a bucket, a file is downloaded.
func OlderFiles(ctx context.Context, store Store) error {
	for _, table := range Tables {
		name, err := anyPublishedFile(ctx, store, table)
		if err != nil || name == "" {
			return err
		}
		local, release, err := store.Fetch(ctx, name)
		if err != nil {
			return err
		}
		err = CheckFile(local, table, -1)
		older := errors.Is(err, ErrSchemaMismatch) || errors.Is(err, ErrCorrupt)
		by := ""
		if older {
			by = createdBy(local) // read only for the message: most runs find nothing to say
		}
		release()
		switch {
		case err == nil:
			continue
		case !older:
			return err
		}
		return fmt.Errorf("%w: %s, written by %s: %s", ErrOlderFiles, name, by, firstDifferences(strings.TrimPrefix(err.Error(), local+": "), 3))
	}
	return nil
}

// anyPublishedFile is the data file of the table's first partition in name order (the oldest); ""
// when the table has none.
func anyPublishedFile(ctx context.Context, store Store, table string) (string, error) {
	entries, err := store.List(ctx, table)
	if err != nil {
		return "", err
	}
	first := ""
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name, table+"/")
		partition, file, nested := strings.Cut(rest, "/")
		if !ok || !nested || file != DataFile || hidden(partition) {
			continue
		}
		if first == "" || e.Name < first {
			first = e.Name
		}
	}
	return first, nil
}

// createdBy is the writer a file's footer names, or "an unknown version".
func createdBy(path string) string {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return "an unknown version"
	}
	defer rdr.Close()
	if by := rdr.MetaData().GetCreatedBy(); by != "" {
		return by
	}
	return "an unknown version"
}

// firstDifferences keeps the first n of a check's "; "-separated differences: enough to recognise an
// older schema without a screenful of columns (verify lists them all).
func firstDifferences(msg string, n int) string {
	diffs := strings.Split(msg, "; ")
	if len(diffs) <= n {
		return msg
	}
	return fmt.Sprintf("%s; and %d more differences", strings.Join(diffs[:n], "; "), len(diffs)-n)
}
