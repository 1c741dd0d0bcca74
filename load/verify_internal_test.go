package load

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
)

type probeItem struct {
	Kind *string `parquet:"kind,dict"`
	ID   string  `parquet:"id"`
	Size *int64  `parquet:"size"`
}

// probeRow has every shape the row types use or may come to use.
type probeRow struct {
	ID       string      `parquet:"id"`
	At       time.Time   `parquet:"at,timestamp(microsecond)"`
	MaybeAt  *time.Time  `parquet:"maybe_at,timestamp(microsecond)"`
	State    *string     `parquet:"state,dict"`
	Flag     bool        `parquet:"flag"`
	MaybeOK  *bool       `parquet:"maybe_ok"`
	Small    *int32      `parquet:"small"`
	Big      int64       `parquet:"big"`
	IDs      []string    `parquet:"ids,list"`
	MaybeIDs []string    `parquet:"maybe_ids,list,optional"`
	Items    []probeItem `parquet:"items,list,optional"`
	Repeated []string    `parquet:"repeated"`
	One      probeItem   `parquet:"one"`
	MaybeOne *probeItem  `parquet:"maybe_one"`
	Ptrs     []*string   `parquet:"ptrs,list"`
}

// The expected schema is derived without parquet-go; this pins that the derivation agrees with what
// parquet-go writes and Arrow reads, for every shape, including lists of strings and of structs.
func TestArrowMappingMatchesWhatParquetGoWrites(t *testing.T) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[probeRow](&buf, parquet.Compression(&parquet.Zstd))
	s := "x"
	now := time.Now()
	rows := []probeRow{
		{ID: "1", At: now, MaybeAt: &now, State: &s, IDs: []string{"a", "b"}, MaybeIDs: []string{}, Items: []probeItem{{ID: "i", Kind: &s}}, MaybeOne: &probeItem{ID: "p"}, Ptrs: []*string{&s, nil}},
		{ID: "2"},
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rdr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	fields, err := structFields(reflect.TypeFor[probeRow]())
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema(fields, nil)
	if err := compareSchemas("probe", want, got); err != nil {
		t.Errorf("%v\nexpected:\n%s\nArrow read:\n%s", err, FormatSchema(want), FormatSchema(got))
	}
	t.Logf("Arrow reads:\n%s", FormatSchema(got))
}

func TestArrowMappingRejectsWhatItDoesNotUnderstand(t *testing.T) {
	for name, typ := range map[string]reflect.Type{
		"untagged time": reflect.TypeFor[struct {
			T time.Time `parquet:"t"`
		}](),
		"date tag on a time.Time": reflect.TypeFor[struct { // pitfall 1: parquet-go writes garbage
			D time.Time `parquet:"d,date"`
		}](),
		"map": reflect.TypeFor[struct {
			M map[string]string `parquet:"m"`
		}](),
		"uint8": reflect.TypeFor[struct {
			U uint8 `parquet:"u"`
		}](),
	} {
		if _, err := structFields(typ); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCompareSchemasNamesTheColumn(t *testing.T) {
	str, i64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64
	want := arrow.NewSchema([]arrow.Field{{Name: "a", Type: str}, {Name: "b", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOf(str)}}, nil)
	for _, tc := range []struct {
		name   string
		fields []arrow.Field
		want   string // "" when equal
	}{
		{"equal", []arrow.Field{{Name: "a", Type: str}, {Name: "b", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOf(str)}}, ""},
		{"list element name and nullability", []arrow.Field{{Name: "a", Type: str}, {Name: "b", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "list", Type: str})}}, ""},
		{"type", []arrow.Field{{Name: "a", Type: str}, {Name: "b", Type: i64, Nullable: true}, {Name: "l", Type: arrow.ListOf(str)}}, "column b: expected utf8, found int64"},
		{"nullability", []arrow.Field{{Name: "a", Type: str, Nullable: true}, {Name: "b", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOf(str)}}, "column a: expected utf8 not null, found utf8"},
		{"element type", []arrow.Field{{Name: "a", Type: str}, {Name: "b", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOf(i64)}}, "column l: expected list<item: utf8> not null, found list<item: int64> not null"},
		{"renamed", []arrow.Field{{Name: "a", Type: str}, {Name: "c", Type: str, Nullable: true}, {Name: "l", Type: arrow.ListOf(str)}}, "column b (utf8) is missing; unexpected column c utf8"},
		{"order", []arrow.Field{{Name: "b", Type: str, Nullable: true}, {Name: "a", Type: str}, {Name: "l", Type: arrow.ListOf(str)}}, "columns out of order: expected a, b, l, found b, a, l"},
	} {
		err := compareSchemas("t", want, arrow.NewSchema(tc.fields, nil))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
