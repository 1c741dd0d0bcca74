package schemas

import (
	"fmt"
	"time"
)

// Date is a UTC calendar day, counted in days since 1970-01-01. It names a partition folder (`date=YYYY-MM-DD`).
type Date int32

const secondsPerDay = 24 * 60 * 60

// DateOf returns the UTC day of t; days before 1970 are floored, not truncated towards zero.
func DateOf(t time.Time) Date {
	s := t.Unix()
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return Date(d)
}

// Time returns midnight UTC of the day.
func (d Date) Time() time.Time { return time.Unix(int64(d)*secondsPerDay, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// PartitionDir is the Hive partition folder name of the day, `date=YYYY-MM-DD`.
func (d Date) PartitionDir() string { return "date=" + d.String() }

// ParsePartitionDir reads a folder name written by PartitionDir.
func ParsePartitionDir(name string) (Date, error) {
	const prefix = "date="
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return 0, fmt.Errorf("partition folder %q does not start with %q", name, prefix)
	}
	t, err := time.Parse(time.DateOnly, name[len(prefix):])
	if err != nil {
		return 0, fmt.Errorf("partition folder %q: %w", name, err)
	}
	return DateOf(t), nil
}
