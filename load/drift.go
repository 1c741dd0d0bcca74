package load

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/parquet/file"
)

// ErrOlderFiles marks a folder whose published files another schema wrote: a version of the tool
// before a column was added, renamed or retyped. An incremental run would publish new partitions
// beside old ones, and a table whose files disagree on their columns fails or loses columns in
// readers that take the schema from one file (DuckDB without union_by_name, BigQuery, Athena).
var ErrOlderFiles = errors.New("the folder holds files of another schema")

// OlderFiles reads one published file of each table of the folder dir (its footer, page checksums and schema, as the
// check before a commit does) and returns an error wrapping ErrOlderFiles when one was written with a
// schema other than this build's, naming the file, what differs and the version that wrote it. A
// folder's files are written together by each run, so one file per table tells. nil: the files agree
// with this build, or there are none.
func OlderFiles(dir string) error {
	for _, table := range Tables {
		path, err := anyPublishedFile(filepath.Join(dir, table))
		if err != nil || path == "" {
			return err
		}
		err = CheckFile(path, table, -1)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrSchemaMismatch) && !errors.Is(err, ErrCorrupt) {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		return fmt.Errorf("%w: %s, written by %s: %s", ErrOlderFiles, rel, createdBy(path), firstDifferences(strings.TrimPrefix(err.Error(), path+": "), 3))
	}
	return nil
}

// anyPublishedFile is the data file of the table's first partition (in name order) that has one; ""
// when none has.
func anyPublishedFile(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() && !hidden(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(root, name, DataFile)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", nil
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
