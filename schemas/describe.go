package schemas

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Column describes one column of an exported table, as readers see it.
type Column struct {
	Name     string
	Type     string // the DuckDB type readers get
	Nullable bool
	Source   string // where the value comes from in the API's JSON
}

// Table describes one exported table.
type Table struct {
	Name    string
	Row     reflect.Type
	Columns []Column // the file's columns, then the partition column `date`
}

// PartitionColumn is the Hive partition key of a folder partitioned by day: the folder `date=YYYY-MM-DD`,
// not a column inside files.
var PartitionColumn = Column{Name: "date", Type: "DATE", Source: "partition folder: the UTC day of the conversation's created_at"}

// MonthPartitionColumn is the partition key of a folder partitioned by month (`month=YYYY-MM`).
var MonthPartitionColumn = Column{Name: "month", Type: "VARCHAR", Source: "partition folder (with --partition month): the UTC month of the conversation's created_at, YYYY-MM"}

// PartitionColumnOf is the partition column of a layout.
func PartitionColumnOf(p Partitioning) Column {
	if p == ByMonth {
		return MonthPartitionColumn
	}
	return PartitionColumn
}

// Tables describes the four tables, in the order they are documented.
func Tables() []Table {
	return []Table{
		describe(TableConversations, reflect.TypeFor[Conversation]()),
		describe(TableConversationParts, reflect.TypeFor[ConversationPart]()),
		describe(TableConversationTags, reflect.TypeFor[ConversationTag]()),
		describe(TableConversationRatings, reflect.TypeFor[ConversationRating]()),
	}
}

func describe(name string, row reflect.Type) Table {
	t := Table{Name: name, Row: row}
	for i := range row.NumField() {
		f := row.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		nullable := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice && slices.Contains(tag[1:], "optional")
		t.Columns = append(t.Columns, Column{Name: tag[0], Type: duckDBType(f.Type), Nullable: nullable, Source: f.Tag.Get("doc")})
	}
	t.Columns = append(t.Columns, PartitionColumn)
	return t
}

// duckDBType spells t the way DuckDB's DESCRIBE does, less the quotes it puts around field names that
// are keywords (type, name), which readers need not type.
func duckDBType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return "TIMESTAMP WITH TIME ZONE"
	case reflect.TypeFor[Date]():
		return "DATE"
	}
	switch t.Kind() {
	case reflect.String:
		return "VARCHAR"
	case reflect.Bool:
		return "BOOLEAN"
	case reflect.Int32:
		return "INTEGER"
	case reflect.Int64:
		return "BIGINT"
	case reflect.Slice:
		return duckDBType(t.Elem()) + "[]"
	case reflect.Struct:
		fields := make([]string, t.NumField())
		for i := range fields {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			fields[i] = name + " " + duckDBType(f.Type)
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")"
	}
	panic(fmt.Sprintf("schemas: no DuckDB type for %v", t))
}

// Markdown renders the column reference that the README embeds.
func Markdown() string { return markdown(ByDay) }

func markdown(p Partitioning) string {
	var b strings.Builder
	for _, t := range Tables() {
		if p == ByMonth {
			t.Columns[len(t.Columns)-1] = MonthPartitionColumn
		}
		fmt.Fprintf(&b, "### %s\n\n| column | type | null | source |\n|---|---|---|---|\n", t.Name)
		for _, c := range t.Columns {
			null := ""
			if c.Nullable {
				null = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.Type, null, strings.ReplaceAll(c.Source, "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}
