package transform

import (
	"errors"
	"strconv"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
)

// ErrInvalidConversation is wrapped by every error Conversation returns: all of them are about the input.
var ErrInvalidConversation = errors.New("invalid conversation")

// Timestamps outside (0, sentinelFrom) mean "no time": Intercom writes year-4018 waiting_since values
// and zeros for "not set", and nothing real in a support inbox happens from 2100 on.
const sentinelFrom = 4102444800 // 2100-01-01T00:00:00Z

// Options tunes what Convert keeps. The zero value keeps everything.
type Options struct {
	// OmitSourceJSON leaves source_json NULL, on conversations and parts, for exports where the
	// modelled columns are enough and the JSON (often most of the output's size) is not worth storing.
	OmitSourceJSON bool
}

// Warning is a value Convert could not use as sent: written as NULL (a timestamp or number it could
// not read) or corrected (a part count below the parts present). The conversation is still exported,
// and source_json keeps the value as sent.
type Warning struct {
	Field string // dotted JSON path, list indexes in brackets
	Msg   string
}

func (w Warning) String() string { return w.Field + ": " + w.Msg }

// Result is one conversation's rows and what Convert had to warn about.
type Result struct {
	schemas.Record
	Warnings []Warning
}

// Conversation decodes one conversation (1.x or 2.x shape) and flattens it into rows, keeping its
// source JSON.
func Conversation(raw []byte) (schemas.Record, error) {
	return ConversationWith(raw, Options{})
}

// ConversationWith is Conversation with options; it drops Convert's warnings.
func ConversationWith(raw []byte, opts Options) (schemas.Record, error) {
	res, err := Convert(raw, opts)
	return res.Record, err
}

// Convert decodes one conversation and flattens it into the rows of the four tables. Each table has
// its builder: conversationRow (conversation.go), partRows, tagRows and ratingRow (rows.go); each API
// generation's quirks have a function of their own there.
func Convert(raw []byte, opts Options) (Result, error) {
	var c rawConversation
	sp, fast := decodeFast(raw, &c)
	if !fast {
		// The fast path bails on anything unusual, errors included; encoding/json decides those.
		var err error
		if c, err = decodeReference(raw); err != nil {
			return Result{}, err
		}
		if !opts.OmitSourceJSON {
			sp = findPartSpans(raw)
		}
	}

	convID, bad := requiredID(c.ID)
	if bad != "" {
		return Result{}, &invalidError{field: "id", msg: bad + notAConversation(raw)}
	}
	createdAt, bad := requiredTime(c.CreatedAt)
	if bad != "" {
		return Result{}, &invalidError{id: convID, field: "created_at", msg: bad}
	}

	b := &builder{convID: convID}
	rec := schemas.Record{Date: schemas.DateOf(createdAt)}
	rec.Conversation = conversationRow(&c, b, createdAt)
	var err error
	if rec.Parts, err = partRows(&c, b); err != nil {
		return Result{}, err
	}
	if rec.Tags, err = tagRows(&c, b); err != nil {
		return Result{}, err
	}
	rec.Rating = ratingRow(&c, b)
	if b.err != nil {
		return Result{}, b.err
	}
	rec.SetCreatedDate()
	if !opts.OmitSourceJSON {
		setSourceJSON(raw, &rec, sp)
	}
	return Result{Record: rec, Warnings: b.warnings}, nil
}

// builder collects what the row builders find wrong: warnings for values that cost only themselves,
// and the first error for what rejects the conversation.
type builder struct {
	convID   string
	warnings []Warning
	err      error
}

func (b *builder) warn(p path, msg string) {
	b.warnings = append(b.warnings, Warning{Field: p.String(), Msg: msg})
}

func (b *builder) fail(field, msg string) {
	if b.err == nil {
		b.err = &invalidError{id: b.convID, field: field, msg: msg}
	}
}

// time is v under the sentinel rule; a value that is no time is NULL, with a warning.
func (b *builder) time(v timestamp, p path) *time.Time {
	if v.bad != "" {
		b.warn(p, "want a Unix timestamp or an ISO 8601 time, got "+v.bad+"; written as NULL")
	}
	return v.time()
}

func (b *builder) duration(v duration, p path) *int64 {
	if v.bad != "" {
		b.warn(p, "want a number of seconds, got "+v.bad+"; written as NULL")
	}
	return v.ptr()
}

func (b *builder) integer(v integer, p path) *int64 {
	if v.bad != "" {
		b.warn(p, "want an integer, got "+v.bad+"; written as NULL")
	}
	return v.ptr()
}

// rating is an integer that must fit 32 bits (it is not range-checked otherwise, so an unexpected
// scale is exported rather than dropped).
func (b *builder) rating(v integer, p path) *int32 {
	n := b.integer(v, p)
	if n == nil {
		return nil
	}
	r := int32(*n)
	if int64(r) != *n {
		b.warn(p, "want a rating that fits 32 bits, got "+strconv.FormatInt(*n, 10)+"; written as NULL")
		return nil
	}
	return &r
}

// path names a field for a warning without building the string unless one is needed: head, then
// optionally an index and what follows it, twice (parts' attachments have two).
type path struct {
	head string
	i    int
	mid  string
	j    int
	tail string
}

func field(name string) path { return path{head: name, i: -1, j: -1} }

// elem is element i of the list p names, then rest (".field").
func (p path) elem(i int, rest string) path {
	if p.i < 0 {
		p.i, p.mid = i, rest
	} else {
		p.j, p.tail = i, rest
	}
	return p
}

func (p path) String() string {
	s := p.head
	if p.i >= 0 {
		s += "[" + strconv.Itoa(p.i) + "]" + p.mid
	}
	if p.j >= 0 {
		s += "[" + strconv.Itoa(p.j) + "]" + p.tail
	}
	return s
}

// time applies the sentinel rule: NULL unless the value is a real time before 2100.
func (v timestamp) time() *time.Time {
	if !v.valid || v.sec <= 0 || v.sec >= sentinelFrom {
		return nil
	}
	t := time.Unix(v.sec, 0).UTC()
	return &t
}

// requiredTime is time for created_at, which decides the partition and so must not be NULL.
func requiredTime(v timestamp) (time.Time, string) {
	switch {
	case !v.set:
		return time.Time{}, "missing"
	case v.bad != "":
		return time.Time{}, "want a Unix timestamp or an ISO 8601 time, got " + v.bad
	case !v.valid:
		return time.Time{}, `want a Unix timestamp, got null or ""`
	}
	t := v.time()
	if t == nil {
		return time.Time{}, "want a Unix timestamp between 1970 and 2100, got " + strconv.FormatInt(v.sec, 10)
	}
	return *t, ""
}

// requiredID returns the id, or why it cannot key a row.
func requiredID(v id) (string, string) {
	switch {
	case !v.set:
		return "", "missing"
	case v.s == nil:
		return "", "want an id, got null"
	case *v.s == "":
		return "", `want an id, got ""`
	}
	return *v.s, ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
