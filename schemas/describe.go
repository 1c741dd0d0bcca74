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
	Name string
	Row  reflect.Type
	// Partitioned: the table is split into partition folders by the conversation's creation day (the
	// four conversation tables). The others (admins, teams) are one file, <table>/data.parquet,
	// rewritten whole by every export.
	Partitioned bool
	Columns     []Column // the file's columns, then, when partitioned, the partition column `date`
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

// Tables describes every table, in the order they are documented: the four partitioned conversation
// tables, then admins and teams.
func Tables() []Table {
	return []Table{
		describe(TableConversations, reflect.TypeFor[Conversation](), true),
		describe(TableConversationParts, reflect.TypeFor[ConversationPart](), true),
		describe(TableConversationTags, reflect.TypeFor[ConversationTag](), true),
		describe(TableConversationRatings, reflect.TypeFor[ConversationRating](), true),
		describe(TableAdmins, reflect.TypeFor[Admin](), false),
		describe(TableTeams, reflect.TypeFor[Team](), false),
	}
}

func describe(name string, row reflect.Type, partitioned bool) Table {
	t := Table{Name: name, Row: row, Partitioned: partitioned}
	for i := range row.NumField() {
		f := row.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		nullable := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Slice && slices.Contains(tag[1:], "optional")
		t.Columns = append(t.Columns, Column{Name: tag[0], Type: duckDBType(f.Type), Nullable: nullable, Source: f.Tag.Get("doc")})
	}
	if partitioned {
		t.Columns = append(t.Columns, PartitionColumn)
	}
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
		if p == ByMonth && t.Partitioned {
			t.Columns[len(t.Columns)-1] = MonthPartitionColumn
		}
		fmt.Fprintf(&b, "### %s\n\n", t.Name)
		if !t.Partitioned {
			fmt.Fprintf(&b, "One file, `%s/data.parquet`, rewritten whole by every export (not by convert).\n\n", t.Name)
		}
		fmt.Fprintf(&b, "| column | type | null | source |\n|---|---|---|---|\n")
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
