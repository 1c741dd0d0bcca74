package intercomtest

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strconv"
)

// The real API's encodings vary between conversations (ids as numbers or strings, null or 0 for
// "unassigned", statistics null or all-null). The server varies them by a hash of the id rather than
// by chance, so one conversation always looks the same while the workspace as a whole shows them all.
func variant(id, salt string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(salt))
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

func isNumeric(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 63)
	return err == nil
}

// idValue renders a numeric id as a JSON number one time in every, else as a string; "" is null.
func idValue(id, salt string, every int) any {
	switch {
	case id == "":
		return nil
	case isNumeric(id) && variant(id, salt, every) == 0:
		return json.Number(id)
	}
	return id
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableInt(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// marshalJSON encodes like the real API: HTML in bodies stays literal rather than \u003c-escaped.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func marshalConversation(c Conversation, v version, withParts bool) ([]byte, error) {
	return marshalJSON(renderConversation(c, v, withParts))
}

// renderConversation returns c in v's shape: with its newest PartsCap parts when withParts (retrieve),
// without parts otherwise (list and search items, which in 1.x also lack tags).
func renderConversation(c Conversation, v version, withParts bool) any {
	if v.v2() {
		return render2(c, v, withParts)
	}
	return render1(c, v, withParts)
}

// newestParts returns the parts the API sends: the newest PartsCap, oldest first.
func newestParts(parts []Part) []Part {
	return parts[max(0, len(parts)-PartsCap):]
}

type partList[P any] struct {
	Type       string `json:"type"`
	Parts      []P    `json:"conversation_parts"`
	TotalCount int    `json:"total_count"`
}

type tagList[T any] struct {
	Type string `json:"type"`
	Tags []T    `json:"tags"`
}

type firstReplyJSON struct {
	CreatedAt int64  `json:"created_at"`
	Type      string `json:"type"`
	URL       string `json:"url"`
}

func renderFirstReply(f *FirstContactReply) *firstReplyJSON {
	if f == nil {
		return nil
	}
	return &firstReplyJSON{f.CreatedAt, f.Type, f.URL}
}

// ---- 2.x ----

type conversation2 struct {
	Type                string           `json:"type"`
	ID                  any              `json:"id"`
	Title               *string          `json:"title"`
	CreatedAt           int64            `json:"created_at"`
	UpdatedAt           int64            `json:"updated_at"`
	WaitingSince        *int64           `json:"waiting_since"`
	SnoozedUntil        *int64           `json:"snoozed_until"`
	Open                bool             `json:"open"`
	State               string           `json:"state"`
	Read                bool             `json:"read"`
	Priority            *string          `json:"priority"`
	AdminAssigneeID     any              `json:"admin_assignee_id"`
	TeamAssigneeID      any              `json:"team_assignee_id"`
	Tags                tagList[tag2]    `json:"tags"`
	ConversationRating  *rating2         `json:"conversation_rating"`
	Source              source2          `json:"source"`
	Contacts            contactList      `json:"contacts"`
	Teammates           adminList        `json:"teammates"`
	CustomAttributes    map[string]any   `json:"custom_attributes"`
	FirstContactReply   *firstReplyJSON  `json:"first_contact_reply"`
	SLAApplied          any              `json:"sla_applied"`
	Statistics          *statistics2     `json:"statistics"`
	ConversationParts   *partList[part2] `json:"conversation_parts,omitempty"`
	AIAgentParticipated bool             `json:"ai_agent_participated"`
	AIAgent             *aiAgent2        `json:"ai_agent"`
	LinkedObjects       map[string]any   `json:"linked_objects"`
}

type slaApplied2 struct {
	Type      string `json:"type"`
	SLAName   string `json:"sla_name"`
	SLAStatus string `json:"sla_status"`
}

type aiAgent2 struct {
	SourceType      string         `json:"source_type"`
	SourceTitle     *string        `json:"source_title"`
	LastAnswerType  *string        `json:"last_answer_type"`
	ResolutionState *string        `json:"resolution_state"`
	Rating          *int           `json:"rating"`
	RatingRemark    *string        `json:"rating_remark"`
	ContentSources  map[string]any `json:"content_sources"`
}

// partAuthor2 is a part's author, which from 2.14 on says whether the AI agent wrote the part.
type partAuthor2 struct {
	Type        string `json:"type"`
	ID          any    `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	FromAIAgent *bool  `json:"from_ai_agent,omitempty"`
	IsAIAnswer  *bool  `json:"is_ai_answer,omitempty"`
}

type author2 struct {
	Type  string `json:"type"`
	ID    any    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type ref struct {
	Type *string `json:"type"`
	ID   any     `json:"id"`
}

type source2 struct {
	Type        *string       `json:"type"`
	ID          any           `json:"id"`
	DeliveredAs string        `json:"delivered_as"`
	Subject     string        `json:"subject"`
	Body        string        `json:"body"`
	Author      author2       `json:"author"`
	Attachments []attachment2 `json:"attachments"`
	URL         *string       `json:"url"`
	Redacted    bool          `json:"redacted"`
}

type attachment2 struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Filesize    int64  `json:"filesize"`
	Width       *int64 `json:"width"`
	Height      *int64 `json:"height"`
}

type contact2 struct {
	Type       string  `json:"type"`
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id"`
}

type contactList struct {
	Type     string     `json:"type"`
	Contacts []contact2 `json:"contacts"`
}

type adminList struct {
	Type   string `json:"type"`
	Admins []ref  `json:"admins"`
}

type tag2 struct {
	Type      string `json:"type"`
	ID        any    `json:"id"`
	Name      string `json:"name"`
	AppliedAt int64  `json:"applied_at"`
	AppliedBy ref    `json:"applied_by"`
}

type rating2 struct {
	Rating    *int    `json:"rating"`
	Remark    *string `json:"remark"`
	CreatedAt int64   `json:"created_at"`
	Contact   ref     `json:"contact"`
	Teammate  ref     `json:"teammate"`
}

type part2 struct {
	Type        string        `json:"type"`
	ID          any           `json:"id"`
	PartType    string        `json:"part_type"`
	Body        *string       `json:"body"`
	CreatedAt   int64         `json:"created_at"`
	UpdatedAt   int64         `json:"updated_at"`
	NotifiedAt  int64         `json:"notified_at"`
	AssignedTo  *ref          `json:"assigned_to"`
	Author      partAuthor2   `json:"author"`
	Attachments []attachment2 `json:"attachments"`
	ExternalID  *string       `json:"external_id"`
	Redacted    bool          `json:"redacted"`
	// State exists from 2.13 on, as a string or null; before, the key is absent (empty RawMessage).
	State json.RawMessage `json:"state,omitempty"`
}

type statistics2 struct {
	Type                       string `json:"type"`
	TimeToAssignment           *int64 `json:"time_to_assignment"`
	TimeToAdminReply           *int64 `json:"time_to_admin_reply"`
	TimeToFirstClose           *int64 `json:"time_to_first_close"`
	TimeToLastClose            *int64 `json:"time_to_last_close"`
	MedianTimeToReply          *int64 `json:"median_time_to_reply"`
	FirstContactReplyAt        *int64 `json:"first_contact_reply_at"`
	FirstAssignmentAt          *int64 `json:"first_assignment_at"`
	FirstAdminReplyAt          *int64 `json:"first_admin_reply_at"`
	FirstCloseAt               *int64 `json:"first_close_at"`
	LastAssignmentAt           *int64 `json:"last_assignment_at"`
	LastAssignmentAdminReplyAt *int64 `json:"last_assignment_admin_reply_at"`
	LastContactReplyAt         *int64 `json:"last_contact_reply_at"`
	LastAdminReplyAt           *int64 `json:"last_admin_reply_at"`
	LastCloseAt                *int64 `json:"last_close_at"`
	LastClosedByID             any    `json:"last_closed_by_id"`
	CountReopens               *int   `json:"count_reopens"`
	CountAssignments           *int   `json:"count_assignments"`
	CountConversationParts     *int   `json:"count_conversation_parts"`
}

func render2(c Conversation, v version, withParts bool) conversation2 {
	out := conversation2{
		Type:                "conversation",
		ID:                  idValue(c.ID, "conversation", 20),
		Title:               nullable(c.Title),
		CreatedAt:           c.CreatedAt,
		UpdatedAt:           c.UpdatedAt,
		WaitingSince:        c.WaitingSince,
		SnoozedUntil:        c.SnoozedUntil,
		Open:                c.Open,
		State:               c.State,
		Read:                c.Read,
		Priority:            nullable(c.Priority),
		AdminAssigneeID:     assigneeID2(c.ID, "admin", c.AdminAssigneeID),
		TeamAssigneeID:      assigneeID2(c.ID, "team", c.TeamAssigneeID),
		Tags:                tagList[tag2]{Type: "tag.list", Tags: []tag2{}},
		Source:              renderSource2(c.Message),
		Contacts:            contactList{Type: "contact.list", Contacts: []contact2{}},
		Teammates:           adminList{Type: "admin.list", Admins: []ref{}},
		CustomAttributes:    c.CustomAttributes,
		FirstContactReply:   renderFirstReply(c.FirstContactReply),
		Statistics:          renderStatistics2(c),
		AIAgentParticipated: c.AIAgentParticipated,
		AIAgent:             renderAIAgent2(c.AIAgent),
		LinkedObjects:       map[string]any{"type": "list", "data": []any{}, "total_count": 0, "has_more": false},
	}
	if s := c.SLA; s != nil {
		out.SLAApplied = slaApplied2{"conversation_sla_summary", s.Name, s.Status}
	}
	if out.CustomAttributes == nil {
		out.CustomAttributes = map[string]any{}
	}
	for _, t := range c.Tags {
		out.Tags.Tags = append(out.Tags.Tags, tag2{
			Type: "tag", ID: idValue(t.ID, "tag", 6), Name: t.Name, AppliedAt: t.AppliedAt,
			AppliedBy: authorRef(t.AppliedBy),
		})
	}
	if r := c.Rating; r != nil {
		contact := authorRef(r.Customer)
		if r.Customer.Type == "user" || r.Customer.Type == "lead" {
			contact.Type = nullable("contact") // 2.x calls every customer a contact, as in contacts
		}
		out.ConversationRating = &rating2{r.Rating, r.Remark, r.CreatedAt, contact, authorRef(r.Teammate)}
	}
	for _, ct := range c.Contacts {
		out.Contacts.Contacts = append(out.Contacts.Contacts, contact2{"contact", ct.ID, nullable(ct.ExternalID)})
	}
	for _, id := range c.Teammates {
		out.Teammates.Admins = append(out.Teammates.Admins, ref{nullable("admin"), idValue(id, "teammate", 2)})
	}
	if withParts {
		shown := newestParts(c.Parts)
		list := &partList[part2]{Type: "conversation_part.list", Parts: make([]part2, len(shown)), TotalCount: len(c.Parts)}
		for i, p := range shown {
			list.Parts[i] = renderPart2(p, v)
		}
		out.ConversationParts = list
	}
	return out
}

// assigneeID2 renders admin_assignee_id or team_assignee_id: a number or a numeric string when
// assigned, null or 0 when not.
func assigneeID2(convID, kind, id string) any {
	if id == "" {
		if variant(convID, kind+"-unassigned", 2) == 0 {
			return json.Number("0")
		}
		return nil
	}
	return idValue(id, convID+kind, 2)
}

func authorRef(a Author) ref {
	return ref{nullable(a.Type), idValue(a.ID, "author", 6)}
}

func renderAuthor2(a Author) author2 {
	return author2{Type: a.Type, ID: idValue(a.ID, "author", 6), Name: a.Name, Email: a.Email}
}

func renderSource2(m Message) source2 {
	return source2{
		Type:        nullable(m.Type),
		ID:          idValue(m.ID, "message", 4),
		DeliveredAs: m.DeliveredAs,
		Subject:     m.Subject,
		Body:        m.Body,
		Author:      renderAuthor2(m.Author),
		Attachments: renderAttachments2(m.Attachments),
		URL:         &m.URL,
		Redacted:    m.Redacted,
	}
}

func renderAttachments2(as []Attachment) []attachment2 {
	out := make([]attachment2, len(as))
	for i, a := range as {
		out[i] = attachment2{a.Type, a.Name, a.URL, a.ContentType, a.Filesize, nullableInt(a.Width), nullableInt(a.Height)}
	}
	return out
}

func renderAIAgent2(a *AIAgent) *aiAgent2 {
	if a == nil {
		return nil
	}
	return &aiAgent2{
		SourceType: a.SourceType, SourceTitle: nullable(a.SourceTitle), LastAnswerType: nullable(a.LastAnswerType),
		ResolutionState: nullable(a.ResolutionState), Rating: a.Rating, RatingRemark: nullable(a.RatingRemark),
		ContentSources: map[string]any{"type": "content_source.list", "total_count": 0, "content_sources": []any{}},
	}
}

func renderPart2(p Part, v version) part2 {
	a := p.Author
	out := part2{
		Type:        "conversation_part",
		ID:          idValue(p.ID, "part", 4),
		PartType:    v.partType(p.PartType),
		CreatedAt:   p.CreatedAt,
		UpdatedAt:   p.UpdatedAt,
		NotifiedAt:  p.NotifiedAt,
		Author:      partAuthor2{Type: a.Type, ID: idValue(a.ID, "author", 6), Name: a.Name, Email: a.Email},
		Attachments: renderAttachments2(p.Attachments),
		ExternalID:  nullable(p.ExternalID),
		Redacted:    p.Redacted,
	}
	if !p.BodyNull {
		out.Body = &p.Body
	}
	if a := p.AssignedTo; a != nil {
		out.AssignedTo = &ref{nullable(a.Type), idValue(a.ID, "assignee", 3)}
	}
	if v.atLeast(2, 13) {
		out.State = json.RawMessage("null")
		if p.State != "" {
			out.State = json.RawMessage(strconv.Quote(p.State))
		}
	}
	if v.atLeast(2, 14) {
		out.Author.FromAIAgent, out.Author.IsAIAnswer = ptr(p.FromAIAgent), ptr(p.IsAIAnswer)
	}
	return out
}

// renderStatistics2 derives statistics from the parts. Some conversations get null statistics or an
// object of nulls, as in real data; never one whose parts exceed the cap, which tests detect by count.
func renderStatistics2(c Conversation) *statistics2 {
	s := &statistics2{Type: "conversation_statistics"}
	if len(c.Parts) < PartsCap {
		switch variant(c.ID, "statistics", 20) {
		case 0:
			return nil
		case 1:
			return s
		}
	}
	var reopens, assignments int
	var lastCloser string
	first := func(dst **int64, t int64) {
		if *dst == nil {
			*dst = ptr(t)
		}
	}
	for _, p := range c.Parts {
		switch {
		case assigningPartTypes[p.PartType]:
			assignments++
			first(&s.FirstAssignmentAt, p.CreatedAt)
			s.LastAssignmentAt = ptr(p.CreatedAt)
			s.LastAssignmentAdminReplyAt = nil
		case p.PartType == "close":
			first(&s.FirstCloseAt, p.CreatedAt)
			s.LastCloseAt = ptr(p.CreatedAt)
			lastCloser = p.Author.ID
		case p.PartType == "open" || p.PartType == "note_and_reopen" || p.PartType == "assign_and_reopen":
			reopens++
		case p.PartType == "comment" && p.Author.Type == "admin":
			first(&s.FirstAdminReplyAt, p.CreatedAt)
			s.LastAdminReplyAt = ptr(p.CreatedAt)
			if s.LastAssignmentAt != nil {
				first(&s.LastAssignmentAdminReplyAt, p.CreatedAt)
			}
		case p.PartType == "comment" && slices.Contains([]string{"user", "lead", "contact"}, p.Author.Type):
			first(&s.FirstContactReplyAt, p.CreatedAt)
			s.LastContactReplyAt = ptr(p.CreatedAt)
		}
	}
	if c.FirstContactReply != nil {
		s.FirstContactReplyAt = ptr(c.FirstContactReply.CreatedAt)
	}
	since := func(t *int64) *int64 {
		if t == nil || *t < c.CreatedAt {
			return nil
		}
		return ptr(*t - c.CreatedAt)
	}
	s.TimeToAssignment = since(s.FirstAssignmentAt)
	s.TimeToAdminReply = since(s.FirstAdminReplyAt)
	s.MedianTimeToReply = s.TimeToAdminReply
	s.TimeToFirstClose = since(s.FirstCloseAt)
	s.TimeToLastClose = since(s.LastCloseAt)
	if lastCloser != "" && isNumeric(lastCloser) {
		// A number although the spec says string.
		s.LastClosedByID = json.Number(lastCloser)
	} else if lastCloser != "" {
		s.LastClosedByID = lastCloser
	}
	s.CountReopens, s.CountAssignments, s.CountConversationParts = ptr(reopens), ptr(assignments), ptr(len(c.Parts))
	return s
}

// ---- 1.x ----

type conversation1 struct {
	Type                string           `json:"type"`
	ID                  any              `json:"id"`
	CreatedAt           int64            `json:"created_at"`
	UpdatedAt           int64            `json:"updated_at"`
	WaitingSince        *int64           `json:"waiting_since"`
	SnoozedUntil        *int64           `json:"snoozed_until"`
	ConversationMessage message1         `json:"conversation_message"`
	User                *ref             `json:"user"`
	Customers           []ref            `json:"customers"`
	Assignee            ref              `json:"assignee"`
	Open                bool             `json:"open"`
	State               string           `json:"state"`
	Read                bool             `json:"read"`
	CustomerFirstReply  *firstReplyJSON  `json:"customer_first_reply"`
	ConversationParts   *partList[part1] `json:"conversation_parts,omitempty"`
	ConversationRating  rating1          `json:"conversation_rating"`
	Tags                *tagList[tag1]   `json:"tags,omitempty"`
}

type message1 struct {
	Type        string        `json:"type"`
	ID          any           `json:"id"`
	DeliveredAs string        `json:"delivered_as"`
	Subject     string        `json:"subject"`
	Body        string        `json:"body"`
	Author      ref           `json:"author"`
	Attachments []attachment1 `json:"attachments"`
	URL         string        `json:"url"`
}

type attachment1 struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type rating1 struct {
	Rating    *int    `json:"rating"`
	Remark    *string `json:"remark"`
	CreatedAt *int64  `json:"created_at"`
	Customer  ref     `json:"customer"`
	Teammate  ref     `json:"teammate"`
}

type tag1 struct {
	Type      string `json:"type"`
	ID        any    `json:"id"`
	Name      string `json:"name"`
	AppliedAt int64  `json:"applied_at"`
	AppliedBy ref    `json:"applied_by"`
}

type part1 struct {
	Type        string        `json:"type"`
	ID          any           `json:"id"`
	PartType    string        `json:"part_type"`
	Body        *string       `json:"body"`
	CreatedAt   int64         `json:"created_at"`
	UpdatedAt   int64         `json:"updated_at"`
	NotifiedAt  int64         `json:"notified_at"`
	AssignedTo  any           `json:"assigned_to"`
	Author      ref           `json:"author"`
	Attachments []attachment1 `json:"attachments"`
	ExternalID  *string       `json:"external_id"`
}

func render1(c Conversation, v version, withParts bool) conversation1 {
	m := c.Message
	typ := m.Type
	if typ == "" {
		typ = "conversation_message"
	}
	out := conversation1{
		Type:         "conversation",
		ID:           idValue(c.ID, "conversation", 20),
		CreatedAt:    c.CreatedAt,
		UpdatedAt:    c.UpdatedAt,
		WaitingSince: c.WaitingSince,
		SnoozedUntil: c.SnoozedUntil,
		ConversationMessage: message1{
			Type: typ, ID: idValue(m.ID, "message", 4), DeliveredAs: m.DeliveredAs, Subject: m.Subject,
			Body: m.Body, Author: authorRef(m.Author), Attachments: renderAttachments1(m.Attachments), URL: m.URL,
		},
		Customers:          []ref{},
		Assignee:           assignee1(c),
		Open:               c.Open,
		State:              c.State,
		Read:               c.Read,
		CustomerFirstReply: renderFirstReply(c.FirstContactReply),
		// 1.x sends a rating object of nulls, nested objects included, when there is no rating.
		ConversationRating: rating1{Customer: ref{}, Teammate: ref{}},
	}
	for _, ct := range c.Contacts {
		out.Customers = append(out.Customers, ref{nullable(ct.Type), ct.ID})
	}
	if len(out.Customers) > 0 {
		out.User = &out.Customers[0]
	}
	if r := c.Rating; r != nil {
		out.ConversationRating = rating1{r.Rating, r.Remark, ptr(r.CreatedAt), authorRef(r.Customer), authorRef(r.Teammate)}
	}
	if withParts {
		out.Tags = &tagList[tag1]{Type: "tag.list", Tags: []tag1{}}
		for _, t := range c.Tags {
			out.Tags.Tags = append(out.Tags.Tags, tag1{
				Type: "tag", ID: idValue(t.ID, "tag", 6), Name: t.Name, AppliedAt: t.AppliedAt,
				AppliedBy: authorRef(t.AppliedBy),
			})
		}
		shown := newestParts(c.Parts)
		list := &partList[part1]{Type: "conversation_part.list", Parts: make([]part1, len(shown)), TotalCount: len(c.Parts)}
		for i, p := range shown {
			list.Parts[i] = renderPart1(p, v)
		}
		out.ConversationParts = list
	}
	return out
}

// assignee1 folds the two 2.x assignees into 1.x's one: the admin if any, else the team, else nobody.
func assignee1(c Conversation) ref {
	switch {
	case c.AdminAssigneeID != "":
		return ref{nullable("admin"), idValue(c.AdminAssigneeID, c.ID+"assignee", 3)}
	case c.TeamAssigneeID != "":
		return ref{nullable("team"), idValue(c.TeamAssigneeID, c.ID+"assignee", 3)}
	}
	return ref{Type: nullable("nobody_admin")}
}

func renderAttachments1(as []Attachment) []attachment1 {
	out := make([]attachment1, len(as))
	for i, a := range as {
		out[i] = attachment1{a.Name, a.URL}
	}
	return out
}

func renderPart1(p Part, v version) part1 {
	out := part1{
		Type:        "conversation_part",
		ID:          idValue(p.ID, "part", 4),
		PartType:    v.partType(p.PartType),
		CreatedAt:   p.CreatedAt,
		UpdatedAt:   p.UpdatedAt,
		NotifiedAt:  p.NotifiedAt,
		Author:      authorRef(p.Author),
		Attachments: renderAttachments1(p.Attachments),
		ExternalID:  nullable(p.ExternalID),
	}
	if !p.BodyNull {
		out.Body = &p.Body
	}
	if p.AssignedTo != nil {
		// 1.x sends the assignee's bare id; nobody_admin has none.
		out.AssignedTo = idValue(p.AssignedTo.ID, "assignee", 3)
	}
	return out
}
