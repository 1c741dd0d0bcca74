package load

import (
	"os"

	"github.com/apache/arrow/go/v15/parquet/file"
)

// PageBodies returns the byte ranges of the file's page bodies (the bytes each page's CRC covers), for
// tests that damage them.
func PageBodies(path string) ([][2]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	rdr, err := file.NewParquetReader(f)
	if err != nil {
		return nil, err
	}
	defer rdr.Close()
	sums, err := checkPages(f, rdr, fi.Size())
	if err != nil {
		return nil, err
	}
	var out [][2]int64
	for _, rg := range sums {
		for _, c := range rg {
			out = append(out, c.bodies...)
		}
	}
	return out, nil
}
