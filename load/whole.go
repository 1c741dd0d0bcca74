package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/schemas"
)

// WholeTables are the tables that are one file each, <table>/data.parquet, rewritten whole by the run
// that lists them (admins and teams: small, and without a creation day to partition by). Their files go
// through the same commit as the partitions: written under a temporary name in phase 1, named in the
// journal, renamed in phase 2.
var WholeTables = []string{schemas.TableAdmins, schemas.TableTeams}

// wholeTable is the new content of one of WholeTables, written by Commit.
type wholeTable struct {
	table string
	rows  int
	// write writes the rows to path, making its folder when needed.
	write func(w *Writer, path string) (size int64, created []string, err error)
}

// ReplaceTable makes rows the whole content of table, one of WholeTables, at the next Commit; the
// previous file is replaced in the same commit as the partitions. An empty rows writes a file without
// rows (a workspace without teams has an empty teams table, not a missing one). T must be the table's
// row type. A later call for the same table replaces the earlier one.
func ReplaceTable[T any](w *Writer, table string, rows []T) error {
	if err := w.usable(); err != nil {
		return err
	}
	if !slices.Contains(WholeTables, table) {
		return fmt.Errorf("load: %s is not one of the whole tables %v", table, WholeTables)
	}
	for _, t := range schemas.Tables() {
		if t.Name == table && t.Row != reflect.TypeFor[T]() {
			return fmt.Errorf("load: rows of %v for table %s, whose rows are %v", reflect.TypeFor[T](), table, t.Row)
		}
	}
	rows = slices.Clone(rows)
	wt := wholeTable{table: table, rows: len(rows), write: func(w *Writer, path string) (int64, []string, error) {
		out := &outFile[T]{path: path, opts: w.writerOptions(zstdCodec), sync: !w.bulkSync()}
		for i := range rows {
			if err := out.write(&rows[i]); err != nil {
				out.discard()
				return 0, out.created, err
			}
		}
		size, err := out.finish(true)
		if err != nil {
			out.discard()
		}
		return size, out.created, err
	}}
	w.whole = slices.DeleteFunc(w.whole, func(x wholeTable) bool { return x.table == table })
	w.whole = append(w.whole, wt)
	return nil
}

// writeWhole writes the whole tables' new files at their staged names' local paths.
func (w *Writer) writeWhole(ctx context.Context) ([]pending, error) {
	var out []pending
	for _, wt := range w.whole {
		rel := path.Join(wt.table, DataFile)
		f := File{Table: wt.table, Path: rel, Rows: int64(wt.rows), Added: int64(wt.rows)}
		switch local, release, err := w.store.Fetch(ctx, rel); {
		case err == nil:
			n, err := fileRows(local)
			release()
			if err != nil {
				return out, fmt.Errorf("reading the published %s: %w", rel, err)
			}
			f.Existed, f.ReplacedRows = true, n
		case !errors.Is(err, fs.ErrNotExist):
			return out, fmt.Errorf("reading the published %s: %w", rel, err)
		}
		var local string
		f.TempPath, local = w.store.Stage(w.cfg.RunID, rel)
		f.Local = local
		size, created, err := wt.write(w, local)
		if err != nil {
			return out, fmt.Errorf("writing %s: %w", f.TempPath, err)
		}
		f.Bytes = size
		out = append(out, pending{File: f, temp: local, created: created})
	}
	return out, nil
}

// fileRows is the row count a Parquet file's footer records.
func fileRows(path string) (n int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	defer recoverParquet(&err, "opening "+path)
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return 0, err
	}
	return pf.NumRows(), nil
}

// CompleteWholeTables gives each of WholeTables that the folder does not have yet, and that this
// commit does not replace, a file without rows, so that every folder has all six tables and readers
// (the DDL's views, the metric views) never meet a missing file: a folder made by convert, or by an
// export that could not list admins or teams. An export that lists them later replaces the empty file.
func CompleteWholeTables(w *Writer) error {
	for _, table := range WholeTables {
		if slices.ContainsFunc(w.whole, func(x wholeTable) bool { return x.table == table }) {
			continue
		}
		if _, err := w.store.Stat(context.Background(), path.Join(table, DataFile)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var err error
		switch table {
		case schemas.TableAdmins:
			err = ReplaceTable(w, table, []schemas.Admin{})
		case schemas.TableTeams:
			err = ReplaceTable(w, table, []schemas.Team{})
		}
		if err != nil {
			return err
		}
	}
	return nil
}
