package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intercom-export/intercom-export/schemas"
)

// ErrInvalidConversation is wrapped by every error Conversation returns: all of them are about the input.
var ErrInvalidConversation = errors.New("invalid conversation")

// Timestamps outside (0, sentinelFrom) mean "no time": Intercom writes year-4018 waiting_since values
// and zeros for "not set", and nothing real in a support inbox happens from 2100 on.
const sentinelFrom = 4102444800 // 2100-01-01T00:00:00Z

// rawConversation holds both API generations; for each meaning, one field per generation.
type rawConversation struct {
	ID           id        `json:"id"`
	CreatedAt    timestamp `json:"created_at"`
	UpdatedAt    timestamp `json:"updated_at"`
	WaitingSince timestamp `json:"waiting_since"`
	SnoozedUntil timestamp `json:"snoozed_until"`
	State        *string   `json:"state"`
	Open         boolean   `json:"open"`
	Read         boolean   `json:"read"`
	Title        *string   `json:"title"`
	Priority     *string   `json:"priority"`

	Source              *rawMessage `json:"source"`               // 2.x
	ConversationMessage *rawMessage `json:"conversation_message"` // 1.x

	AdminAssigneeID id        `json:"admin_assignee_id"` // 2.x
	TeamAssigneeID  id        `json:"team_assignee_id"`  // 2.x
	Assignee        *rawActor `json:"assignee"`          // 1.x

	FirstContactReply  *rawReply `json:"first_contact_reply"`  // 2.x
	CustomerFirstReply *rawReply `json:"customer_first_reply"` // 1.x

	Statistics         *rawStatistics  `json:"statistics"`
	CustomAttributes   json.RawMessage `json:"custom_attributes"`
	ConversationRating *rawRating      `json:"conversation_rating"`
	Tags               tagList         `json:"tags"`
	ConversationParts  *rawPartList    `json:"conversation_parts"`
}

type rawMessage struct {
	Type        *string  `json:"type"`
	ID          id       `json:"id"`
	DeliveredAs *string  `json:"delivered_as"`
	Subject     *string  `json:"subject"`
	Body        *string  `json:"body"`
	URL         *string  `json:"url"`
	Author      rawActor `json:"author"`
	Redacted    boolean  `json:"redacted"`
}

// rawActor is any {type, id, ...} reference: an author, assignee, rating customer or teammate.
type rawActor struct {
	Type  *string `json:"type"`
	ID    id      `json:"id"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

type rawReply struct {
	CreatedAt timestamp `json:"created_at"`
	Type      *string   `json:"type"`
	URL       *string   `json:"url"`
}

type rawStatistics struct {
	CountConversationParts integer `json:"count_conversation_parts"`
}

type rawRating struct {
	Rating    integer   `json:"rating"`
	Remark    *string   `json:"remark"`
	CreatedAt timestamp `json:"created_at"`
	Contact   *rawActor `json:"contact"`  // 2.x
	Customer  *rawActor `json:"customer"` // 1.x
	Teammate  rawActor  `json:"teammate"`
}

type rawPartList struct {
	Parts      []rawPart `json:"conversation_parts"`
	TotalCount integer   `json:"total_count"`
}

type rawPart struct {
	ID         id         `json:"id"`
	PartType   *string    `json:"part_type"`
	Body       *string    `json:"body"`
	CreatedAt  timestamp  `json:"created_at"`
	UpdatedAt  timestamp  `json:"updated_at"`
	NotifiedAt timestamp  `json:"notified_at"`
	AssignedTo assignedTo `json:"assigned_to"`
	Author     rawActor   `json:"author"`
	ExternalID id         `json:"external_id"`
	Redacted   boolean    `json:"redacted"`
}

type rawTag struct {
	ID        id        `json:"id"`
	Name      *string   `json:"name"`
	AppliedAt timestamp `json:"applied_at"`
	AppliedBy rawActor  `json:"applied_by"`
}

// tagList is `{"type":"tag.list","tags":[...]}`, or the bare array some responses carry.
type tagList struct {
	tags   []rawTag
	object bool // the list came wrapped, so its elements live at tags.tags
}

func (l *tagList) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case 'n':
		l.tags, l.object = nil, false
		return nil
	case '[':
		l.object = false
		return json.Unmarshal(b, &l.tags)
	case '{':
		var obj struct {
			Tags []rawTag `json:"tags"`
		}
		err := json.Unmarshal(b, &obj)
		l.tags, l.object = obj.Tags, true
		return err
	}
	return typeError[tagList](b)
}

// assignedTo is a part's assignment target: `{type, id}` in 2.x, a plain id in 1.x, null when the
// part changed no assignment.
type assignedTo struct {
	rawActor
}

func (a *assignedTo) UnmarshalJSON(b []byte) error {
	a.rawActor = rawActor{}
	switch b[0] {
	case 'n':
		return nil
	case '{':
		return json.Unmarshal(b, &a.rawActor)
	case '"':
		return a.ID.UnmarshalJSON(b)
	}
	if !isInteger(b) {
		return typeError[assignedTo](b)
	}
	return a.ID.UnmarshalJSON(b)
}

// Conversation decodes one conversation (1.x or 2.x shape) and flattens it into rows.
func Conversation(raw []byte) (schemas.Record, error) {
	var c rawConversation
	if err := json.Unmarshal(raw, &c); err != nil {
		return schemas.Record{}, decodeError(raw, c.ID.s, err)
	}

	convID, bad := requiredID(c.ID)
	if bad != "" {
		return schemas.Record{}, &invalidError{field: "id", msg: bad}
	}
	fail := func(field, msg string) (schemas.Record, error) {
		return schemas.Record{}, &invalidError{id: convID, field: field, msg: msg}
	}

	createdAt, bad := requiredTime(c.CreatedAt)
	if bad != "" {
		return fail("created_at", bad)
	}

	conv := schemas.Conversation{
		ConversationID: convID,
		CreatedAt:      createdAt,
		UpdatedAt:      c.UpdatedAt.time(),
		WaitingSince:   c.WaitingSince.time(),
		SnoozedUntil:   c.SnoozedUntil.time(),
		State:          c.State,
		Open:           c.Open.b,
		Read:           c.Read.b,
		Title:          c.Title,
		Priority:       c.Priority,
	}

	msg := c.Source
	if msg == nil {
		msg = c.ConversationMessage
	}
	if msg != nil {
		conv.MessageID = msg.ID.s
		conv.MessageType = msg.Type
		conv.MessageDeliveredAs = msg.DeliveredAs
		conv.MessageSubject = msg.Subject
		conv.MessageBody = msg.Body
		conv.MessageURL = msg.URL
		conv.MessageAuthorType = msg.Author.Type
		conv.MessageAuthorID = msg.Author.ID.s
		conv.MessageAuthorName = msg.Author.Name
		conv.MessageAuthorEmail = msg.Author.Email
		conv.MessageRedacted = msg.Redacted.b
	}

	// A 2.x key decides even when null; the 1.x assignee counts only when neither 2.x key was sent.
	if c.AdminAssigneeID.set || c.TeamAssigneeID.set {
		conv.AdminAssigneeID = assigneeID(c.AdminAssigneeID.s)
		conv.TeamAssigneeID = assigneeID(c.TeamAssigneeID.s)
	} else if a := c.Assignee; a != nil {
		switch typ := deref(a.Type); typ {
		case "admin", "":
			// 1.x documents assignee as an Admin object, so an untyped one is an admin.
			conv.AdminAssigneeID = assigneeID(a.ID.s)
		case "team":
			conv.TeamAssigneeID = assigneeID(a.ID.s)
		}
	}

	reply := c.FirstContactReply
	if reply == nil {
		reply = c.CustomerFirstReply
	}
	if reply != nil {
		conv.FirstContactReplyAt = reply.CreatedAt.time()
		conv.FirstContactReplyType = reply.Type
		conv.FirstContactReplyURL = reply.URL
	}

	var parts []rawPart
	if c.ConversationParts != nil {
		parts = c.ConversationParts.Parts
	}
	conv.PartsExportedCount = int64(len(parts))
	switch {
	case c.Statistics != nil && c.Statistics.CountConversationParts.valid:
		n := c.Statistics.CountConversationParts.n
		conv.PartsTotalCount = &n
	case c.ConversationParts != nil && c.ConversationParts.TotalCount.valid:
		n := c.ConversationParts.TotalCount.n
		conv.PartsTotalCount = &n
	}
	conv.PartsTruncated = conv.PartsTotalCount != nil && *conv.PartsTotalCount > conv.PartsExportedCount

	if ca := c.CustomAttributes; len(ca) > 0 && string(ca) != "null" {
		if ca[0] != '{' {
			return fail("custom_attributes", "want an object, got "+literal(ca))
		}
		var buf bytes.Buffer
		buf.Grow(len(ca))
		if err := json.Compact(&buf, ca); err != nil {
			return fail("custom_attributes", err.Error())
		}
		s := buf.String()
		if !utf8.ValidString(s) {
			// Match what encoding/json does to every other string: invalid bytes become U+FFFD.
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		conv.CustomAttributes = &s
	}

	rec := schemas.Record{Date: schemas.DateOf(createdAt), Conversation: conv}

	if len(parts) > 0 {
		rec.Parts = make([]schemas.ConversationPart, len(parts))
	}
	for i := range parts {
		p := &parts[i]
		partID, bad := requiredID(p.ID)
		if bad != "" {
			return fail(partPath+"["+strconv.Itoa(i)+"].id", bad)
		}
		rec.Parts[i] = schemas.ConversationPart{
			ConversationID: convID,
			PartID:         partID,
			PartType:       p.PartType,
			Body:           p.Body,
			CreatedAt:      p.CreatedAt.time(),
			UpdatedAt:      p.UpdatedAt.time(),
			NotifiedAt:     p.NotifiedAt.time(),
			AssignedToType: p.AssignedTo.Type,
			AssignedToID:   p.AssignedTo.ID.s,
			AuthorType:     p.Author.Type,
			AuthorID:       p.Author.ID.s,
			AuthorName:     p.Author.Name,
			AuthorEmail:    p.Author.Email,
			ExternalID:     p.ExternalID.s,
			Redacted:       p.Redacted.b,
		}
	}

	tags := c.Tags.tags
	tagPath := "tags"
	if c.Tags.object {
		tagPath = "tags.tags"
	}
	if len(tags) > 0 {
		rec.Tags = make([]schemas.ConversationTag, len(tags))
	}
	for i := range tags {
		t := &tags[i]
		tagID, bad := requiredID(t.ID)
		if bad != "" {
			return fail(tagPath+"["+strconv.Itoa(i)+"].id", bad)
		}
		rec.Tags[i] = schemas.ConversationTag{
			ConversationID: convID,
			TagID:          tagID,
			TagName:        t.Name,
			AppliedAt:      t.AppliedAt.time(),
			AppliedByType:  t.AppliedBy.Type,
			AppliedByID:    t.AppliedBy.ID.s,
		}
	}

	// 1.x sends a rating object with every field null on unrated conversations: that is no rating.
	if r := c.ConversationRating; r != nil && (r.Rating.valid || r.Remark != nil) {
		row := &schemas.ConversationRating{
			ConversationID: convID,
			Remark:         r.Remark,
			CreatedAt:      r.CreatedAt.time(),
			TeammateType:   r.Teammate.Type,
			TeammateID:     r.Teammate.ID.s,
		}
		if r.Rating.valid {
			n := int32(r.Rating.n)
			if int64(n) != r.Rating.n {
				return fail("conversation_rating.rating", "want a rating that fits 32 bits, got "+strconv.FormatInt(r.Rating.n, 10))
			}
			row.Rating = &n
		}
		who := r.Contact
		if who == nil {
			who = r.Customer
		}
		if who != nil {
			row.CustomerType = who.Type
			row.CustomerID = who.ID.s
		}
		rec.Rating = row
	}
	return rec, nil
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

// assigneeID turns Intercom's spellings of "unassigned" into NULL.
func assigneeID(s *string) *string {
	if s == nil || *s == "" || *s == "0" {
		return nil
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

const partPath = "conversation_parts.conversation_parts"

// invalidError is every error Conversation returns. Its message leads with the conversation and the
// field path so a log line alone locates the problem in a dump.
type invalidError struct {
	id    string // empty when the input has no usable id
	field string // dotted JSON path, list indexes in brackets; empty for the document as a whole
	msg   string
	cause error // the decoder's error, if any
}

func (e *invalidError) Error() string {
	var b strings.Builder
	b.WriteString("conversation")
	if e.id != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.id))
	}
	b.WriteString(": ")
	if e.field != "" {
		b.WriteString(e.field)
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidConversation}
	}
	return []error{ErrInvalidConversation, e.cause}
}

// decodeError turns an encoding/json error into an invalidError. It runs only on failure, so it can
// afford to decode again: once to find the conversation id when decoding stopped before reaching it,
// and once more to find the index of the list element at fault, which encoding/json's paths omit.
func decodeError(raw []byte, convID *string, err error) error {
	e := &invalidError{cause: err}
	if convID == nil {
		var probe struct {
			ID id `json:"id"`
		}
		if json.Unmarshal(raw, &probe) == nil {
			convID = probe.ID.s
		}
	}
	if convID != nil {
		e.id = *convID
	}

	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		e.msg = "not valid JSON: " + strings.TrimPrefix(syntax.Error(), "json: ")
	case errors.As(err, &typ):
		e.field = locate(raw, typ.Field)
		e.msg = "want " + want(typ.Type) + ", got " + typ.Value
	default:
		e.msg = strings.TrimPrefix(err.Error(), "json: ")
	}
	return e
}

// locate adds the index of the failing element to a path inside the parts or tags list.
func locate(raw []byte, field string) string {
	if under(field, partPath) {
		var doc struct {
			ConversationParts struct {
				Parts []json.RawMessage `json:"conversation_parts"`
			} `json:"conversation_parts"`
		}
		if json.Unmarshal(raw, &doc) == nil {
			return indexed(field, partPath, doc.ConversationParts.Parts, func(b []byte) error {
				var p rawPart
				return json.Unmarshal(b, &p)
			})
		}
		return field
	}
	var doc struct {
		Tags json.RawMessage `json:"tags"`
	}
	if !under(field, "tags") || json.Unmarshal(raw, &doc) != nil || len(doc.Tags) == 0 {
		return field
	}
	prefix := "tags"
	var list []json.RawMessage
	switch doc.Tags[0] {
	case '{':
		prefix = "tags.tags"
		var obj struct {
			Tags []json.RawMessage `json:"tags"`
		}
		if !under(field, prefix) || json.Unmarshal(doc.Tags, &obj) != nil {
			return field
		}
		list = obj.Tags
	case '[':
		if json.Unmarshal(doc.Tags, &list) != nil {
			return field
		}
	default:
		return field
	}
	return indexed(field, prefix, list, func(b []byte) error {
		var t rawTag
		return json.Unmarshal(b, &t)
	})
}

// under reports whether field is prefix or lies below it.
func under(field, prefix string) bool {
	return field == prefix || strings.HasPrefix(field, prefix+".")
}

// indexed inserts "[i]" after prefix, i being the first element decode rejects.
func indexed(field, prefix string, list []json.RawMessage, decode func([]byte) error) string {
	for i, elem := range list {
		if decode(elem) != nil {
			return prefix + "[" + strconv.Itoa(i) + "]" + field[len(prefix):]
		}
	}
	return field
}
