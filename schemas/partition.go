package schemas

import (
	"fmt"
	"strings"
	"time"
)

// Partitioning is how the output folder splits each table into Hive partitions: by the UTC day of the
// conversation's creation (`date=YYYY-MM-DD`, the default) or by its month (`month=YYYY-MM`). Either
// way every row also carries that day as the `created_date` DATE column, so that queries filter and join
// on the same column under both layouts.
type Partitioning string

const (
	ByDay   Partitioning = "day"
	ByMonth Partitioning = "month"
)

// Partitionings lists the accepted values, the default first.
var Partitionings = []Partitioning{ByDay, ByMonth}

// ParsePartitioning reads a --partition value.
func ParsePartitioning(s string) (Partitioning, error) {
	switch p := Partitioning(s); p {
	case ByDay, ByMonth:
		return p, nil
	}
	return "", fmt.Errorf("partitioning %q: want day or month", s)
}

// Column is the Hive partition column the folder names carry: `date` (a DATE) or `month` (YYYY-MM, a
// string).
func (p Partitioning) Column() string {
	if p == ByMonth {
		return "month"
	}
	return "date"
}

// Key is the partition a day belongs to, named by its first day.
func (p Partitioning) Key(d Date) Date {
	if p != ByMonth {
		return d
	}
	t := d.Time()
	return DateOf(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC))
}

// Dir is the folder name of the partition whose key is key.
func (p Partitioning) Dir(key Date) string {
	if p == ByMonth {
		return "month=" + key.Time().Format("2006-01")
	}
	return key.PartitionDir()
}

// Value is the partition column's value in Dir, as the manifest records it.
func (p Partitioning) Value(key Date) string {
	_, v, _ := strings.Cut(p.Dir(key), "=")
	return v
}

// ParseDir reads a folder name written by Dir; the name must be exactly what Dir writes.
func (p Partitioning) ParseDir(name string) (Date, error) {
	if p != ByMonth {
		d, err := ParsePartitionDir(name)
		if err == nil && d.PartitionDir() != name {
			err = fmt.Errorf("partition folder %q is not date=YYYY-MM-DD", name)
		}
		return d, err
	}
	v, ok := strings.CutPrefix(name, "month=")
	if !ok {
		return 0, fmt.Errorf("partition folder %q does not start with %q", name, "month=")
	}
	t, err := time.Parse("2006-01", v)
	if err != nil || t.Format("2006-01") != v {
		return 0, fmt.Errorf("partition folder %q is not month=YYYY-MM", name)
	}
	return DateOf(t), nil
}

// SetCreatedDate sets every row's created_date to the record's day (Record.Date), the value the
// partition folder is named after.
func (r *Record) SetCreatedDate() {
	r.Conversation.CreatedDate = r.Date
	for i := range r.Parts {
		r.Parts[i].CreatedDate = r.Date
	}
	for i := range r.Tags {
		r.Tags[i].CreatedDate = r.Date
	}
	if r.Rating != nil {
		r.Rating.CreatedDate = r.Date
	}
}

// SetLineage stamps every row with the run that writes it and, on the conversation, the time: the
// lineage columns warehouses load "what changed since run X" by. All rows share runID's string.
func (r *Record) SetLineage(runID string, at time.Time) {
	id := &runID
	at = at.UTC()
	r.Conversation.RunID, r.Conversation.ExportedAt = id, &at
	for i := range r.Parts {
		r.Parts[i].RunID = id
	}
	for i := range r.Tags {
		r.Tags[i].RunID = id
	}
	if r.Rating != nil {
		r.Rating.RunID = id
	}
}
