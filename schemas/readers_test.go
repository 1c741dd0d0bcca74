package schemas_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/schemas"
)

// writeFile writes rows the way the loader does (zstd, bounded row groups), with small row groups and
// pages so that runs of NULL and empty lists cross page and row-group boundaries.
func writeFile[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&parquet.Zstd), parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(2048))
	for i := 0; i < len(rows); i += 100 {
		if _, err := w.Write(rows[i:min(i+100, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listRows cycles through NULL, empty and filled lists, and ends on a run of NULL lists: the pattern
// that makes parquet-go write `optional` scalars wrongly (parquet-notes.md, pitfall 2).
func listRows(n int) []schemas.Conversation {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	rows := make([]schemas.Conversation, n)
	for i := range rows {
		c := schemas.Conversation{ConversationID: fmt.Sprint(i), CreatedAt: ts}
		switch {
		case i >= n-250:
		case i%3 == 1:
			c.TeammateIDs, c.Contacts, c.MessageAttachments = []string{}, []schemas.Contact{}, []schemas.Attachment{}
		case i%3 == 2:
			c.TeammateIDs = []string{"4471", fmt.Sprint(i)}
			c.Contacts = []schemas.Contact{{Type: ptr("contact"), ID: ptr(fmt.Sprint("c", i)), ExternalID: ptr("x")}, {ID: ptr("c0")}}
			c.MessageAttachments = []schemas.Attachment{{Type: ptr("upload"), Name: ptr("a.png"), URL: ptr("u"), ContentType: ptr("image/png"),
				Filesize: ptr(int64(i)), Width: ptr(int64(640)), Height: ptr(int64(480))}, {Name: ptr("1.x.pdf"), URL: ptr("")}}
		}
		rows[i] = c
	}
	return rows
}

func TestListColumns(t *testing.T) {
	rows := listRows(3000)
	data := writeFile(t, rows)

	got, err := parquet.Read[schemas.Conversation](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if !reflect.DeepEqual(got[i], rows[i]) {
			t.Fatalf("parquet-go row %d:\n got %s\nwant %s", i, show(got[i]), show(rows[i]))
		}
	}

	// Arrow, an independent reader, must see standard lists with NULL and empty kept apart.
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	sch := tbl.Schema()
	// Arrow names the element field after the repeated group ("list"); only the element type matters.
	for name, want := range map[string]string{
		"teammate_ids":        "utf8",
		"contacts":            "struct<type: utf8, id: utf8, external_id: utf8, name: utf8, email: utf8>",
		"message_attachments": "struct<type: utf8, name: utf8, url: utf8, content_type: utf8, filesize: int64, width: int64, height: int64>",
	} {
		idx := sch.FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("arrow: no column %s", name)
		}
		f := sch.Field(idx[0])
		lt, ok := f.Type.(*arrow.ListType)
		if !ok || !f.Nullable || lt.Elem().String() != want {
			t.Errorf("arrow: %s is %s (nullable %v), want a nullable list of %s", name, f.Type, f.Nullable, want)
		}
		col := tbl.Column(idx[0])
		var null, empty, filled int
		for _, chunk := range col.Data().Chunks() {
			l := chunk.(*array.List)
			for i := range l.Len() {
				switch start, end := l.ValueOffsets(i); {
				case l.IsNull(i):
					null++
				case start == end:
					empty++
				default:
					filled++
				}
			}
		}
		if want := [3]int{250 + 917, 917, 916}; [3]int{null, empty, filled} != want {
			t.Errorf("arrow: %s has %d NULL, %d empty, %d filled lists, want %v", name, null, empty, filled, want)
		}
	}

	// DuckDB, what the README tells analysts to use.
	path := filepath.Join(t.TempDir(), "c.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDuckDB(t)
	var null, empty, filled int
	var name, id string
	var width int64
	q := `SELECT count(*) FILTER (teammate_ids IS NULL), count(*) FILTER (len(teammate_ids) = 0), count(*) FILTER (len(teammate_ids) = 2),
		any_value(message_attachments[1].name) FILTER (conversation_id = '2'), any_value(contacts[1].id) FILTER (conversation_id = '5'),
		any_value(message_attachments[1].width) FILTER (conversation_id = '2') FROM read_parquet(?)`
	if err := db.QueryRow(q, path).Scan(&null, &empty, &filled, &name, &id, &width); err != nil {
		t.Fatal(err)
	}
	if null != 1167 || empty != 917 || filled != 916 || name != "a.png" || id != "c5" || width != 640 {
		t.Errorf("duckdb: %d NULL, %d empty, %d filled; name %q, id %q, width %d", null, empty, filled, name, id, width)
	}
}

// TestDuckDBTypes writes one row of every table and checks that DuckDB reads each column with the type
// the README documents (schemas.Tables, generated into the README).
func TestDuckDBTypes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name+".parquet"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	write(schemas.TableConversations, writeFile(t, listRows(3)))
	write(schemas.TableConversationParts, writeFile(t, []schemas.ConversationPart{{ConversationID: "1", PartID: "2",
		Attachments: []schemas.Attachment{{Name: ptr("a")}}, AttachmentCount: 1}}))
	write(schemas.TableConversationTags, writeFile(t, []schemas.ConversationTag{{ConversationID: "1", TagID: "2", AppliedAt: &ts}}))
	write(schemas.TableConversationRatings, writeFile(t, []schemas.ConversationRating{{ConversationID: "1", Rating: ptr(int32(5))}}))
	write(schemas.TableAdmins, writeFile(t, []schemas.Admin{{AdminID: "1", TeamIDs: []string{"2"}, ExportedAt: &ts}}))
	write(schemas.TableTeams, writeFile(t, []schemas.Team{{TeamID: "2", AdminIDs: []string{"1"}, AssignmentLimit: ptr(int64(3))}}))

	db := openDuckDB(t)
	for _, tbl := range schemas.Tables() {
		rows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", filepath.Join(dir, tbl.Name+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			// DuckDB quotes struct fields named like keywords (type, name); the README does not.
			got = append(got, name+" "+strings.ReplaceAll(typ, `"`, ""))
		}
		rows.Close()
		var want []string
		for _, c := range tbl.Columns {
			if c != schemas.PartitionColumn {
				want = append(want, c.Name+" "+c.Type)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: DuckDB reads\n%s\nthe README says\n%s", tbl.Name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
