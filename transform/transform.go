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

	Contacts  contactList  `json:"contacts"`  // 2.x
	Customers []rawContact `json:"customers"` // 1.x
	User      *rawContact  `json:"user"`      // 1.x
	Teammates teammateList `json:"teammates"` // 2.x

	SLAApplied          *rawSLA     `json:"sla_applied"`
	AIAgentParticipated boolean     `json:"ai_agent_participated"`
	AIAgent             *rawAIAgent `json:"ai_agent"`

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
	// nil when absent or null, empty when sent as []: encoding/json keeps the two apart.
	Attachments []rawAttachment `json:"attachments"`
}

type rawAttachment struct {
	Type        *string `json:"type"`
	Name        *string `json:"name"`
	URL         *string `json:"url"`
	ContentType *string `json:"content_type"`
	Filesize    integer `json:"filesize"`
	Width       integer `json:"width"`
	Height      integer `json:"height"`
}

type rawContact struct {
	Type       *string `json:"type"`
	ID         id      `json:"id"`
	ExternalID id      `json:"external_id"`
}

type rawSLA struct {
	Name   *string `json:"sla_name"`
	Status *string `json:"sla_status"`
}

type rawAIAgent struct {
	SourceType      *string `json:"source_type"`
	SourceTitle     *string `json:"source_title"`
	LastAnswerType  *string `json:"last_answer_type"`
	ResolutionState *string `json:"resolution_state"`
	Rating          integer `json:"rating"`
	RatingRemark    *string `json:"rating_remark"`
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
	TimeToAssignment           duration  `json:"time_to_assignment"`
	TimeToAdminReply           duration  `json:"time_to_admin_reply"`
	TimeToFirstClose           duration  `json:"time_to_first_close"`
	TimeToLastClose            duration  `json:"time_to_last_close"`
	MedianTimeToReply          duration  `json:"median_time_to_reply"`
	FirstContactReplyAt        timestamp `json:"first_contact_reply_at"`
	FirstAssignmentAt          timestamp `json:"first_assignment_at"`
	FirstAdminReplyAt          timestamp `json:"first_admin_reply_at"`
	FirstCloseAt               timestamp `json:"first_close_at"`
	LastAssignmentAt           timestamp `json:"last_assignment_at"`
	LastAssignmentAdminReplyAt timestamp `json:"last_assignment_admin_reply_at"`
	LastContactReplyAt         timestamp `json:"last_contact_reply_at"`
	LastAdminReplyAt           timestamp `json:"last_admin_reply_at"`
	LastCloseAt                timestamp `json:"last_close_at"`
	LastClosedByID             id        `json:"last_closed_by_id"`
	CountReopens               integer   `json:"count_reopens"`
	CountAssignments           integer   `json:"count_assignments"`
	CountConversationParts     integer   `json:"count_conversation_parts"`
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
	ID          id              `json:"id"`
	PartType    *string         `json:"part_type"`
	Body        *string         `json:"body"`
	CreatedAt   timestamp       `json:"created_at"`
	UpdatedAt   timestamp       `json:"updated_at"`
	NotifiedAt  timestamp       `json:"notified_at"`
	AssignedTo  assignedTo      `json:"assigned_to"`
	Author      rawPartAuthor   `json:"author"`
	ExternalID  id              `json:"external_id"`
	Redacted    boolean         `json:"redacted"`
	State       *string         `json:"state"`
	Attachments []rawAttachment `json:"attachments"`
}

// rawPartAuthor is a part's author; only parts (2.14+) say whether the AI agent wrote them. It repeats
// rawActor's fields rather than embedding it, which would put "rawActor" into decoding errors' paths.
type rawPartAuthor struct {
	Type        *string `json:"type"`
	ID          id      `json:"id"`
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	FromAIAgent boolean `json:"from_ai_agent"`
	IsAIAnswer  boolean `json:"is_ai_answer"`
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

// contactList is `{"type":"contact.list","contacts":[...]}`, or the bare array older 2.x versions send.
type contactList struct {
	contacts []rawContact
	sent     bool // an object or array came, even an empty one: the column is then [] rather than NULL
}

func (l *contactList) UnmarshalJSON(b []byte) error {
	*l = contactList{}
	switch b[0] {
	case 'n':
		return nil
	case '[':
		l.sent = true
		return json.Unmarshal(b, &l.contacts)
	case '{':
		var obj struct {
			Contacts []rawContact `json:"contacts"`
		}
		err := json.Unmarshal(b, &obj)
		l.contacts, l.sent = obj.Contacts, true
		return err
	}
	return typeError[contactList](b)
}

// teammateList is `{"type":"admin.list","admins":[...]}`. The spec names the inner list `teammates`
// while real responses say `admins`, so both are read; a bare array is accepted like contacts.
type teammateList struct {
	admins []rawActor
	sent   bool
}

func (l *teammateList) UnmarshalJSON(b []byte) error {
	*l = teammateList{}
	switch b[0] {
	case 'n':
		return nil
	case '[':
		l.sent = true
		return json.Unmarshal(b, &l.admins)
	case '{':
		var obj struct {
			Admins    []rawActor `json:"admins"`
			Teammates []rawActor `json:"teammates"`
		}
		err := json.Unmarshal(b, &obj)
		l.admins, l.sent = obj.Admins, true
		if l.admins == nil {
			l.admins = obj.Teammates
		}
		return err
	}
	return typeError[teammateList](b)
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

// Options tunes what ConversationWith keeps. The zero value keeps everything.
type Options struct {
	// OmitSourceJSON leaves source_json NULL, for exports where the modelled columns are enough and the
	// JSON (often most of the conversations table's size) is not worth storing.
	OmitSourceJSON bool
}

// Conversation decodes one conversation (1.x or 2.x shape) and flattens it into rows, keeping its
// source JSON.
func Conversation(raw []byte) (schemas.Record, error) {
	return ConversationWith(raw, Options{})
}

// ConversationWith is Conversation with options.
func ConversationWith(raw []byte, opts Options) (schemas.Record, error) {
	var c rawConversation
	source, ok := decodeFast(raw, &c, !opts.OmitSourceJSON)
	if !ok {
		// The fast path bails on anything unusual, errors included; encoding/json decides those.
		c = rawConversation{}
		if err := json.Unmarshal(raw, &c); err != nil {
			return schemas.Record{}, decodeError(raw, c.ID.s, err)
		}
		if !opts.OmitSourceJSON {
			source = compactJSON(raw)
		}
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
		conv.MessageAttachments = attachments(msg.Attachments)
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

	switch {
	case c.Contacts.sent:
		conv.Contacts = make([]schemas.Contact, len(c.Contacts.contacts))
		for i, ct := range c.Contacts.contacts {
			conv.Contacts[i] = schemas.Contact{Type: ct.Type, ID: ct.ID.s, ExternalID: ct.ExternalID.s}
		}
	case c.Customers != nil || c.User != nil:
		conv.Contacts = contacts1(c.Customers, c.User)
	}
	if c.Teammates.sent {
		conv.TeammateIDs = make([]string, 0, len(c.Teammates.admins))
		for _, a := range c.Teammates.admins {
			// A teammate without an id says nothing; VARCHAR[] elements stay non-null.
			if a.ID.s != nil && *a.ID.s != "" {
				conv.TeammateIDs = append(conv.TeammateIDs, *a.ID.s)
			}
		}
	}

	if sla := c.SLAApplied; sla != nil {
		conv.SLAName, conv.SLAStatus = sla.Name, sla.Status
	}

	if st := c.Statistics; st != nil {
		conv.TimeToAssignment = st.TimeToAssignment.ptr()
		conv.TimeToAdminReply = st.TimeToAdminReply.ptr()
		conv.TimeToFirstClose = st.TimeToFirstClose.ptr()
		conv.TimeToLastClose = st.TimeToLastClose.ptr()
		conv.MedianTimeToReply = st.MedianTimeToReply.ptr()
		conv.StatisticsFirstContactReplyAt = st.FirstContactReplyAt.time()
		conv.FirstAssignmentAt = st.FirstAssignmentAt.time()
		conv.FirstAdminReplyAt = st.FirstAdminReplyAt.time()
		conv.FirstCloseAt = st.FirstCloseAt.time()
		conv.LastAssignmentAt = st.LastAssignmentAt.time()
		conv.LastAssignmentAdminReplyAt = st.LastAssignmentAdminReplyAt.time()
		conv.LastContactReplyAt = st.LastContactReplyAt.time()
		conv.LastAdminReplyAt = st.LastAdminReplyAt.time()
		conv.LastCloseAt = st.LastCloseAt.time()
		conv.LastClosedByID = st.LastClosedByID.s
		conv.CountReopens = st.CountReopens.ptr()
		conv.CountAssignments = st.CountAssignments.ptr()
		conv.CountConversationParts = st.CountConversationParts.ptr()
	}

	conv.AIAgentParticipated = c.AIAgentParticipated.b
	if a := c.AIAgent; a != nil {
		conv.AIAgentSourceType = a.SourceType
		conv.AIAgentSourceTitle = a.SourceTitle
		conv.AIAgentLastAnswerType = a.LastAnswerType
		conv.AIAgentResolutionState = a.ResolutionState
		conv.AIAgentRatingRemark = a.RatingRemark
		if a.Rating.valid {
			n := int32(a.Rating.n)
			if int64(n) != a.Rating.n {
				return fail("ai_agent.rating", "want a rating that fits 32 bits, got "+strconv.FormatInt(a.Rating.n, 10))
			}
			conv.AIAgentRating = &n
		}
	}

	var parts []rawPart
	if c.ConversationParts != nil {
		parts = c.ConversationParts.Parts
	}
	conv.PartsExportedCount = int64(len(parts))
	switch {
	case conv.CountConversationParts != nil:
		n := *conv.CountConversationParts
		conv.PartsTotalCount = &n
	case c.ConversationParts != nil && c.ConversationParts.TotalCount.valid:
		conv.PartsTotalCount = c.ConversationParts.TotalCount.ptr()
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
	if !opts.OmitSourceJSON {
		conv.SourceJSON = &source
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
			ConversationID:  convID,
			PartID:          partID,
			PartType:        p.PartType,
			Body:            p.Body,
			CreatedAt:       p.CreatedAt.time(),
			UpdatedAt:       p.UpdatedAt.time(),
			NotifiedAt:      p.NotifiedAt.time(),
			AssignedToType:  p.AssignedTo.Type,
			AssignedToID:    p.AssignedTo.ID.s,
			AuthorType:      p.Author.Type,
			AuthorID:        p.Author.ID.s,
			AuthorName:      p.Author.Name,
			AuthorEmail:     p.Author.Email,
			AuthorFromAI:    p.Author.FromAIAgent.b,
			AuthorAIAnswer:  p.Author.IsAIAnswer.b,
			ExternalID:      p.ExternalID.s,
			Redacted:        p.Redacted.b,
			State:           p.State,
			Attachments:     attachments(p.Attachments),
			AttachmentCount: int64(len(p.Attachments)),
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

// contacts1 gathers 1.x's customers and user, the user being normally also the first customer: it is
// added only when its id is not among them, so nothing is lost and nothing doubled.
func contacts1(customers []rawContact, user *rawContact) []schemas.Contact {
	out := make([]schemas.Contact, 0, len(customers)+1)
	for _, ct := range customers {
		out = append(out, schemas.Contact{Type: ct.Type, ID: ct.ID.s})
	}
	if user == nil || user.ID.s == nil {
		return out
	}
	for _, ct := range out {
		if ct.ID != nil && *ct.ID == *user.ID.s {
			return out
		}
	}
	return append(out, schemas.Contact{Type: user.Type, ID: user.ID.s})
}

// attachments keeps nil (not sent) apart from empty (sent as []), as the list columns do.
func attachments(raw []rawAttachment) []schemas.Attachment {
	if raw == nil {
		return nil
	}
	out := make([]schemas.Attachment, len(raw))
	for i := range raw {
		a := &raw[i]
		out[i] = schemas.Attachment{
			Type: a.Type, Name: a.Name, URL: a.URL, ContentType: a.ContentType,
			Filesize: a.Filesize.ptr(), Width: a.Width.ptr(), Height: a.Height.ptr(),
		}
	}
	return out
}

// compactJSON returns raw without the whitespace between tokens, as valid UTF-8. raw has already been
// validated by json.Unmarshal, so finding string boundaries is all compaction needs: strings are skipped
// with bytes.IndexByte, which makes this many times faster than json.Compact (which validates again),
// and an already-compact body (what the API sends) is a plain copy.
func compactJSON(raw []byte) string {
	var b strings.Builder
	start := 0
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '"':
			i = stringEnd(raw, i)
		case ' ', '\t', '\n', '\r':
			if b.Cap() == 0 {
				b.Grow(len(raw))
			}
			b.Write(raw[start:i])
			for i++; i < len(raw) && isSpace(raw[i]); i++ {
			}
			start = i
		default:
			i++
		}
	}
	var s string
	if b.Cap() == 0 {
		s = string(raw)
	} else {
		b.Write(raw[start:])
		s = b.String()
	}
	if !utf8.ValidString(s) {
		// As encoding/json does to every string it decodes: invalid bytes become U+FFFD.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// stringEnd returns the index just past the JSON string that opens at raw[open]: its closing quote is
// the first one not escaped by an odd run of backslashes.
func stringEnd(raw []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			return len(raw) // unreachable for valid JSON
		}
		j += k
		backslashes := 0
		for p := j - 1; p > open && raw[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

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
