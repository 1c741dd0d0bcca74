package transform

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// The types below decode the scalar values the API sends in more than one JSON type. Each reports a
// bad value as a *json.UnmarshalTypeError, because encoding/json prefixes only that error type with
// the path of the field being decoded; Value holds the offending literal and Type the lenient type, which
// want describes.

// id is an identifier sent as a JSON string or integer. Integers keep their exact digits: ids beyond
// 2^53 are common enough in the wild that a float64 or even int64 round trip is unsafe.
type id struct {
	s   *string // nil when null or absent
	set bool    // the key was present, even as null
}

func (v *id) UnmarshalJSON(b []byte) error {
	v.set = true
	v.s = nil
	switch b[0] {
	case 'n':
		return nil
	case '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		v.s = &s
		return nil
	}
	if !isInteger(b) {
		return typeError[id](b)
	}
	s := string(b)
	v.s = &s
	return nil
}

// timestamp is Unix seconds sent as a JSON number (possibly a float), a numeric string, an ISO 8601
// string, or null. The empty string counts as null: it carries no time and some serializers emit it
// for a missing one. Any other scalar is a bad value, kept in bad (as a literal, for the warning) rather
// than failing the decoding: a bad secondary value costs that value, not the conversation. Objects and
// arrays are structural damage and fail.
type timestamp struct {
	sec   int64
	valid bool   // a time was sent
	set   bool   // the key was present, even as null
	bad   string // the literal of a value that is no time; empty when none
}

func (v *timestamp) UnmarshalJSON(b []byte) error {
	*v = timestamp{set: true}
	num := b
	switch b[0] {
	case 'n':
		return nil
	case '{', '[':
		return typeError[timestamp](b)
	case '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		if t, ok := parseISO8601(s); ok {
			v.sec, v.valid = t, true
			return nil
		}
		num = []byte(s)
	}
	sec, ok := parseSeconds(num)
	if !ok {
		v.bad = literal(b)
		return nil
	}
	v.sec, v.valid = sec, true
	return nil
}

// iso8601Layouts are the ISO 8601 spellings accepted in timestamp fields: RFC 3339 with or without
// fractions, and the same without a zone (read as UTC), or with a date alone.
var iso8601Layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700", "2006-01-02"}

// parseISO8601 reads s as an ISO 8601 time, in Unix seconds. Only strings that start like a date
// (four digits and a dash) are tried, so numeric strings stay on the fast path.
func parseISO8601(s string) (int64, bool) {
	if len(s) < 10 || s[4] != '-' || !isInteger([]byte(s[:4])) {
		return 0, false
	}
	for _, layout := range iso8601Layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// duration is a number of seconds, sent like a timestamp (number, fraction truncated, numeric string,
// null or ""), but kept as sent: no sentinel applies to a duration. A bad scalar is kept in bad.
type duration struct {
	sec   int64
	valid bool
	bad   string
}

func (v *duration) UnmarshalJSON(b []byte) error {
	*v = duration{}
	if b[0] == '{' || b[0] == '[' {
		return typeError[duration](b)
	}
	num := b
	if b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		num = []byte(s)
	} else if b[0] == 'n' {
		return nil
	}
	sec, ok := parseSeconds(num)
	if !ok {
		v.bad = literal(b)
		return nil
	}
	v.sec, v.valid = sec, true
	return nil
}

func (v duration) ptr() *int64 {
	if !v.valid {
		return nil
	}
	n := v.sec
	return &n
}

// integer is a count or a rating sent as a JSON integer, a numeric string, or null. A bad scalar (a
// fraction, a word, an overflow) is kept in bad.
type integer struct {
	n     int64
	valid bool
	bad   string
}

func (v *integer) UnmarshalJSON(b []byte) error {
	*v = integer{}
	num := b
	switch b[0] {
	case 'n':
		return nil
	case '{', '[':
		return typeError[integer](b)
	case '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		num = []byte(s)
	}
	n, ok, overflow := parseInt(num)
	if !ok || overflow {
		v.bad = literal(b)
		return nil
	}
	v.n, v.valid = n, true
	return nil
}

func (v integer) ptr() *int64 {
	if !v.valid {
		return nil
	}
	n := v.n
	return &n
}

// boolean is a JSON true, false or null. It exists only to name the offending value in errors
// (`"open": "yes"`), which the standard *bool decoding reports merely as "string".
type boolean struct {
	b *bool
}

func (v *boolean) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		v.b = nil
	case "true", "false":
		// A fresh pointer per value rather than shared package variables: rows must not alias memory
		// a consumer could write through.
		t := b[0] == 't'
		v.b = &t
	default:
		return typeError[boolean](b)
	}
	return nil
}

// unquote decodes a JSON string literal. The fast path covers the common literal without escapes; the
// rest goes through encoding/json so escapes and invalid UTF-8 are handled exactly as for *string fields.
func unquote(b []byte) (string, error) {
	inner := b[1 : len(b)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", err
	}
	return s, nil
}

// isInteger reports whether b is an optionally negative run of decimal digits.
func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether b is a decimal number in JSON's grammar, leading zeros allowed. It guards
// strconv.ParseFloat, which would also accept "Inf", "NaN", hex floats and underscores.
func isDecimal(b []byte) bool {
	end, ok := numberEnd(b, 0, true)
	return ok && end == len(b)
}

// parseInt parses an integer without allocating; overflow is reported separately so timestamps can
// clamp where counts must fail.
func parseInt(b []byte) (n int64, ok, overflow bool) {
	if !isInteger(b) {
		return 0, false, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			overflow = true
			break
		}
		u = u*10 + d
	}
	switch {
	case neg && (overflow || u > 1<<63):
		return math.MinInt64, true, true
	case neg:
		return -int64(u), true, false
	case overflow || u > math.MaxInt64:
		return math.MaxInt64, true, true
	}
	return int64(u), true, false
}

// parseSeconds parses Unix seconds, truncating fractions towards zero. Out-of-range values clamp to
// the int64 limits, where the sentinel rule turns them into NULL.
func parseSeconds(b []byte) (int64, bool) {
	if n, ok, _ := parseInt(b); ok {
		return n, true
	}
	if !isDecimal(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !isRangeError(err) {
		return 0, false
	}
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// typeError reports the literal b as unfit for the lenient type T.
func typeError[T any](b []byte) error {
	return &json.UnmarshalTypeError{Value: literal(b), Type: reflect.TypeFor[T]()}
}

// literal renders a JSON value for an error message: scalars as sent (shortened), containers by kind,
// so a multi-megabyte object never ends up in a log line.
func literal(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	const max = 40
	if len(b) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return string(b[:cut]) + "..."
	}
	return string(b)
}

// want describes what a field of type t accepts, for error messages.
func want(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[id]():
		return "an id (string or integer)"
	case reflect.TypeFor[timestamp]():
		return "a Unix timestamp or an ISO 8601 time"
	case reflect.TypeFor[integer]():
		return "an integer"
	case reflect.TypeFor[duration]():
		return "a number of seconds"
	case reflect.TypeFor[boolean]():
		return "true, false or null"
	case reflect.TypeFor[tagList]():
		return "a tag list (object or array)"
	case reflect.TypeFor[contactList]():
		return "a contact list (object or array)"
	case reflect.TypeFor[teammateList]():
		return "a teammate list (object or array)"
	case reflect.TypeFor[assignedTo]():
		return "an object, an id or null"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true, false or null"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
