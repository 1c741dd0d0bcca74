// Package intercomtest is a fake Intercom server for tests and demos, in the spirit of net/http/httptest.
//
// A Workspace is a deterministic synthetic set of conversations; a Server serves it over real HTTP on
// 127.0.0.1 with the quirks of the real API (shared/docs/intercom-api.md): both pagination styles, the
// 1.x and 2.x shapes, the 500-part cap, ids sent as numbers or strings, rate limits and injected faults.
package intercomtest

import (
	"maps"
	"slices"
)

// Conversation is the canonical, version-neutral model of one conversation; the server renders it in the
// 1.x or the 2.x shape. Empty strings are rendered as null where the API sends null.
type Conversation struct {
	ID        string
	CreatedAt int64
	UpdatedAt int64

	// WaitingSince may hold the "not waiting" sentinel WaitingSinceNever, 0, or nil, as the real API does.
	WaitingSince *int64
	// SnoozedUntil is set only when State is "snoozed".
	SnoozedUntil *int64

	State    string // open, closed or snoozed
	Open     bool
	Read     bool
	Title    string // 2.x only
	Priority string // 2.x only: priority or not_priority

	Message  Message   // 2.x source, 1.x conversation_message
	Contacts []Contact // 2.x contacts.contacts, 1.x customers (and user, the first one)

	AdminAssigneeID string // "" means unassigned
	TeamAssigneeID  string // "" means unassigned

	FirstContactReply *FirstContactReply

	// Parts holds every part, oldest first; the server returns only the newest PartsCap of them.
	Parts []Part

	Tags   []Tag
	Rating *Rating

	CustomAttributes map[string]any // 2.x only
	Teammates        []string       // admin ids, 2.x only

	SLA                 *SLA     // 2.x only: sla_applied, nil when no SLA applies
	AIAgentParticipated bool     // 2.x only
	AIAgent             *AIAgent // 2.x only: nil when the AI agent took no part
}

// SLA is the service-level agreement applied to a conversation.
type SLA struct {
	Name   string
	Status string // hit, missed, cancelled or active
}

// AIAgent is what the AI agent (Fin) did in a conversation; empty strings and a nil Rating are null.
type AIAgent struct {
	SourceType      string
	SourceTitle     string
	LastAnswerType  string
	ResolutionState string
	Rating          *int
	RatingRemark    string
}

// Message is the message that started a conversation.
type Message struct {
	Type        string // conversation, email, twitter, ...; "" is rendered as null (2.x AI conversations)
	ID          string
	DeliveredAs string
	Subject     string
	Body        string
	URL         string
	Author      Author
	Attachments []Attachment
	Redacted    bool // 2.x only
}

// Author is whoever wrote a message or part, or applied a tag.
type Author struct {
	Type  string // admin, bot, user, lead, team or contact
	ID    string
	Name  string // 2.x only
	Email string // 2.x only
}

// Contact is a customer taking part in a conversation. Type is the contact's role, user or lead: 1.x
// sends it, 2.x always sends "contact".
type Contact struct {
	Type       string
	ID         string
	ExternalID string
}

// FirstContactReply is the customer's first reply (2.x first_contact_reply, 1.x customer_first_reply).
type FirstContactReply struct {
	CreatedAt int64
	Type      string
	URL       string
}

// Part is one conversation part: a reply, a note or an event such as an assignment.
type Part struct {
	ID       string
	PartType string // an open set: the generator also emits values the API guide does not list
	Body     string
	BodyNull bool // the API sends a null body (events), which differs from ""

	CreatedAt  int64
	UpdatedAt  int64
	NotifiedAt int64

	AssignedTo  *Assignee // nil: the part changed no assignment
	Author      Author
	Attachments []Attachment
	ExternalID  string // "" is rendered as null
	Redacted    bool   // 2.x only: a deleted message

	State       string // 2.13+: the conversation's state when the part was created; "" is null
	FromAIAgent bool   // 2.14+ author.from_ai_agent
	IsAIAnswer  bool   // 2.14+ author.is_ai_answer
}

// Assignee is who a part assigned the conversation to.
type Assignee struct {
	Type string // admin, team, bot or nobody_admin
	ID   string // "" for nobody_admin
}

// Attachment is an uploaded file; 1.x renders only its name and url.
type Attachment struct {
	Type        string
	Name        string
	URL         string
	ContentType string
	Filesize    int64
	Width       int64
	Height      int64
}

// Tag is a tag applied to a conversation.
type Tag struct {
	ID        string
	Name      string
	AppliedAt int64
	AppliedBy Author
}

// Rating is the customer's rating and/or remark; either may be missing.
type Rating struct {
	Rating    *int
	Remark    *string
	CreatedAt int64
	Customer  Author
	Teammate  Author
}

// clone returns a deep copy, so that stored conversations never share memory with callers.
func (c Conversation) clone() Conversation {
	out := c
	out.WaitingSince = clonePtr(c.WaitingSince)
	out.SnoozedUntil = clonePtr(c.SnoozedUntil)
	out.Message.Attachments = slices.Clone(c.Message.Attachments)
	out.Contacts = slices.Clone(c.Contacts)
	out.FirstContactReply = clonePtr(c.FirstContactReply)
	out.Parts = slices.Clone(c.Parts)
	for i := range out.Parts {
		out.Parts[i].AssignedTo = clonePtr(out.Parts[i].AssignedTo)
		out.Parts[i].Attachments = slices.Clone(out.Parts[i].Attachments)
	}
	out.Tags = slices.Clone(c.Tags)
	if c.Rating != nil {
		r := *c.Rating
		r.Rating = clonePtr(r.Rating)
		r.Remark = clonePtr(r.Remark)
		out.Rating = &r
	}
	out.CustomAttributes = maps.Clone(c.CustomAttributes)
	out.Teammates = slices.Clone(c.Teammates)
	out.SLA = clonePtr(c.SLA)
	if c.AIAgent != nil {
		a := *c.AIAgent
		a.Rating = clonePtr(a.Rating)
		out.AIAgent = &a
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
