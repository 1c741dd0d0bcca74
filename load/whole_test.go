package load_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
)

// A whole table is one file replaced by the commit; the wrong table or row type is refused, and a
// folder that lacks one gets it empty.
func TestReplaceTable(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, dir)
	if err := load.ReplaceTable(w, schemas.TableConversations, []schemas.Admin{}); err == nil {
		t.Error("a partitioned table accepted as a whole one")
	}
	if err := load.ReplaceTable(w, schemas.TableAdmins, []schemas.Team{}); err == nil {
		t.Error("teams rows accepted for admins")
	}
	name := "Ada"
	if err := load.ReplaceTable(w, schemas.TableAdmins, []schemas.Admin{{AdminID: "1", Name: &name}, {AdminID: "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := load.CompleteWholeTables(w); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 {
		t.Errorf("committed %+v, want admins and an empty teams", res.Files)
	}
	admins, err := load.ReadFile[schemas.Admin](filepath.Join(dir, "admins", "data.parquet"))
	if err != nil || len(admins) != 2 || *admins[0].Name != "Ada" {
		t.Errorf("admins %+v, %v", admins, err)
	}
	teams, err := load.ReadFile[schemas.Team](filepath.Join(dir, "teams", "data.parquet"))
	if err != nil || len(teams) != 0 {
		t.Errorf("teams %+v, %v", teams, err)
	}
	for _, tbl := range load.WholeTables {
		if err := load.VerifyFile(filepath.Join(dir, tbl, "data.parquet"), tbl, -1); err != nil {
			t.Error(err)
		}
	}

	// The next commit replaces admins in place and leaves teams, which it does not name, alone.
	w = newWriter(t, dir)
	if err := load.ReplaceTable(w, schemas.TableAdmins, []schemas.Admin{{AdminID: "3"}}); err != nil {
		t.Fatal(err)
	}
	if err := load.CompleteWholeTables(w); err != nil {
		t.Fatal(err)
	}
	res, err = w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || !res.Files[0].Existed || res.Files[0].PreviousRows() != 2 || res.Files[0].Rows != 1 {
		t.Errorf("second commit %+v", res.Files)
	}
}
