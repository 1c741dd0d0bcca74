package schemas

import (
	"fmt"
	"reflect"
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

// PartitionColumn is the Hive partition key: the folder `date=YYYY-MM-DD`, not a column inside files.
var PartitionColumn = Column{Name: "date", Type: "DATE", Source: "partition folder: the UTC day of the conversation's created_at"}

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
		typ := f.Type
		nullable := typ.Kind() == reflect.Pointer
		if nullable {
			typ = typ.Elem()
		}
		t.Columns = append(t.Columns, Column{Name: tag[0], Type: duckDBType(typ), Nullable: nullable, Source: f.Tag.Get("doc")})
	}
	t.Columns = append(t.Columns, PartitionColumn)
	return t
}

func duckDBType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Time]():
		return "TIMESTAMP WITH TIME ZONE"
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
	}
	panic(fmt.Sprintf("schemas: no DuckDB type for %v", t))
}

// Markdown renders the column reference that the README embeds.
func Markdown() string {
	var b strings.Builder
	for _, t := range Tables() {
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
