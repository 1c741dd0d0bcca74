package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intercom-export/intercom-export/schemas"
)

// conversationRow builds the conversations row, one function per group of columns. Where the API
// generations differ, the 2.x field decides when sent and the 1.x function fills in otherwise.
func conversationRow(c *rawConversation, b *builder, createdAt time.Time) schemas.Conversation {
	conv := schemas.Conversation{
		ConversationID: b.convID,
		CreatedAt:      createdAt,
		UpdatedAt:      b.time(c.UpdatedAt, field("updated_at")),
		WaitingSince:   b.time(c.WaitingSince, field("waiting_since")),
		SnoozedUntil:   b.time(c.SnoozedUntil, field("snoozed_until")),
		State:          state(c),
		Open:           c.Open.b,
		Read:           c.Read.b,
		Title:          c.Title,
		Priority:       c.Priority,
	}
	if ch := c.Channel; ch != nil {
		conv.ChannelInitial, conv.ChannelCurrent = ch.Initial, ch.Current
	}
	message(&conv, c, b)
	assignees(&conv, c)
	firstContactReply(&conv, c, b)
	contacts(&conv, c)
	company(&conv, c)
	if sla := c.SLAApplied; sla != nil {
		conv.SLAName, conv.SLAStatus = sla.Name, sla.Status
	}
	statistics(&conv, c.Statistics, b)
	partCounts(&conv, c, b)
	aiAgent(&conv, c, b)
	linkedObjects(&conv, c.LinkedObjects, b)
	conv.CustomAttributes = customAttributes(c.CustomAttributes, b)
	return conv
}

// state is state as sent; 1.x objects without it say open or not, which gives open or closed.
func state(c *rawConversation) *string {
	if c.State != nil || c.Open.b == nil {
		return c.State
	}
	s := "closed"
	if *c.Open.b {
		s = "open"
	}
	return &s
}

// message fills the message_* columns from source (2.x) or conversation_message (1.x).
func message(conv *schemas.Conversation, c *rawConversation, b *builder) {
	msg, at := c.Source, "source"
	if msg == nil {
		msg, at = c.ConversationMessage, "conversation_message"
	}
	if msg == nil {
		return
	}
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
	conv.MessageAuthorFromAI = msg.Author.FromAIAgent.b
	conv.MessageAuthorAIAnswer = msg.Author.IsAIAnswer.b
	conv.MessageRedacted = msg.Redacted.b
	conv.MessageAttachments = attachments(msg.Attachments, b, field(at+".attachments"))
}

// assignees: a 2.x key decides even when null; the 1.x assignee counts only when neither was sent.
func assignees(conv *schemas.Conversation, c *rawConversation) {
	if c.AdminAssigneeID.set || c.TeamAssigneeID.set {
		conv.AdminAssigneeID = assigneeID(c.AdminAssigneeID.s)
		conv.TeamAssigneeID = assigneeID(c.TeamAssigneeID.s)
		return
	}
	if a := c.Assignee; a != nil {
		assignee1(conv, a)
	}
}

// assignee1 reads 1.x's assignee {type, id, name, email}.
func assignee1(conv *schemas.Conversation, a *rawActor) {
	switch deref(a.Type) {
	case "admin", "":
		// 1.x documents assignee as an Admin object, so an untyped one is an admin.
		conv.AdminAssigneeID = assigneeID(a.ID.s)
	case "team":
		conv.TeamAssigneeID = assigneeID(a.ID.s)
	}
	if conv.AdminAssigneeID != nil || conv.TeamAssigneeID != nil {
		conv.AssigneeName, conv.AssigneeEmail = a.Name, a.Email
	}
}

// assigneeID turns Intercom's spellings of "unassigned" into NULL.
func assigneeID(s *string) *string {
	if s == nil || *s == "" || *s == "0" {
		return nil
	}
	return s
}

func firstContactReply(conv *schemas.Conversation, c *rawConversation, b *builder) {
	reply, at := c.FirstContactReply, "first_contact_reply.created_at"
	if reply == nil {
		reply, at = c.CustomerFirstReply, "customer_first_reply.created_at"
	}
	if reply != nil {
		conv.FirstContactReplyAt = b.time(reply.CreatedAt, field(at))
		conv.FirstContactReplyType = reply.Type
		conv.FirstContactReplyURL = reply.URL
	}
}

// contacts reads 2.x's contacts whenever sent, else 1.x's customers and user.
func contacts(conv *schemas.Conversation, c *rawConversation) {
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
}

// contacts1 gathers 1.x's customers and user, the user being normally also the first customer: it is
// added only when its id is not among them, so nothing is lost and nothing doubled; when it is among
// them, what only the user object says (user_id, name, email) fills that customer's gaps.
func contacts1(customers []rawContact, user *rawContact) []schemas.Contact {
	out := make([]schemas.Contact, 0, len(customers)+1)
	for i := range customers {
		out = append(out, contact1(&customers[i]))
	}
	if user == nil || user.ID.s == nil {
		return out
	}
	u := contact1(user)
	for i := range out {
		if ct := &out[i]; ct.ID != nil && *ct.ID == *u.ID {
			ct.ExternalID = or(ct.ExternalID, u.ExternalID)
			ct.Name = or(ct.Name, u.Name)
			ct.Email = or(ct.Email, u.Email)
			return out
		}
	}
	return append(out, u)
}

func contact1(ct *rawContact) schemas.Contact {
	return schemas.Contact{Type: ct.Type, ID: ct.ID.s, ExternalID: or(ct.ExternalID.s, ct.UserID.s), Name: ct.Name, Email: ct.Email}
}

func or(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

// company: the conversation's company (2.x); the object's other fields are the company's profile.
func company(conv *schemas.Conversation, c *rawConversation) {
	conv.CompanyID = c.CompanyID.s
	if co := c.Company; co != nil {
		conv.CompanyID = or(co.ID.s, conv.CompanyID)
		conv.CompanyExternalID = co.CompanyID.s
		conv.CompanyName = co.Name
	}
}

// statistics fills the columns of statistics (2.x): durations in seconds, times under the sentinel rule.
func statistics(conv *schemas.Conversation, st *rawStatistics, b *builder) {
	if st == nil {
		return
	}
	const s = "statistics."
	conv.TimeToAssignment = b.duration(st.TimeToAssignment, field(s+"time_to_assignment"))
	conv.TimeToAdminReply = b.duration(st.TimeToAdminReply, field(s+"time_to_admin_reply"))
	conv.TimeToFirstClose = b.duration(st.TimeToFirstClose, field(s+"time_to_first_close"))
	conv.TimeToLastClose = b.duration(st.TimeToLastClose, field(s+"time_to_last_close"))
	conv.MedianTimeToReply = b.duration(st.MedianTimeToReply, field(s+"median_time_to_reply"))
	conv.HandlingTime = b.duration(st.HandlingTime, field(s+"handling_time"))
	conv.AdjustedHandlingTime = b.duration(st.AdjustedHandlingTime, field(s+"adjusted_handling_time"))
	conv.StatisticsFirstContactReplyAt = b.time(st.FirstContactReplyAt, field(s+"first_contact_reply_at"))
	conv.FirstAssignmentAt = b.time(st.FirstAssignmentAt, field(s+"first_assignment_at"))
	conv.FirstAdminReplyAt = b.time(st.FirstAdminReplyAt, field(s+"first_admin_reply_at"))
	conv.FirstCloseAt = b.time(st.FirstCloseAt, field(s+"first_close_at"))
	conv.LastAssignmentAt = b.time(st.LastAssignmentAt, field(s+"last_assignment_at"))
	conv.LastAssignmentAdminReplyAt = b.time(st.LastAssignmentAdminReplyAt, field(s+"last_assignment_admin_reply_at"))
	conv.LastContactReplyAt = b.time(st.LastContactReplyAt, field(s+"last_contact_reply_at"))
	conv.LastAdminReplyAt = b.time(st.LastAdminReplyAt, field(s+"last_admin_reply_at"))
	conv.LastCloseAt = b.time(st.LastCloseAt, field(s+"last_close_at"))
	conv.LastClosedByID = st.LastClosedByID.s
	if conv.LastClosedByID == nil && st.LastClosedBy != nil {
		conv.LastClosedByID = st.LastClosedBy.ID.s
	}
	conv.CountReopens = b.integer(st.CountReopens, field(s+"count_reopens"))
	conv.CountAssignments = b.integer(st.CountAssignments, field(s+"count_assignments"))
	conv.CountConversationParts = b.integer(st.CountConversationParts, field(s+"count_conversation_parts"))
	conv.TeamFirstResponseTimes = teamResponses(st.TeamFirstResponse, b, field(s+"assigned_team_first_response_time_by_team"))
	conv.TeamFirstResponseTimesInOfficeHours = teamResponses(st.TeamFirstResponseOffice, b, field(s+"assigned_team_first_response_time_in_office_hours"))
}

func teamResponses(raw []rawTeamResponse, b *builder, p path) []schemas.TeamResponseTime {
	if raw == nil {
		return nil
	}
	out := make([]schemas.TeamResponseTime, len(raw))
	for i := range raw {
		r := &raw[i]
		out[i] = schemas.TeamResponseTime{TeamID: r.TeamID.s, TeamName: r.TeamName,
			ResponseTime: b.duration(r.ResponseTime, p.elem(i, ".response_time"))}
	}
	return out
}

// partCounts says how many parts arrived and how many there are. An object without a part list
// (list and search items) has its parts unknown, not missing: parts_exported_count is then NULL and
// nothing is truncated. A total below the parts present is a contradiction in the input (the API's
// own examples have it): the parts present win, with a warning.
func partCounts(conv *schemas.Conversation, c *rawConversation, b *builder) {
	list := c.ConversationParts
	conv.PartsTotalCount, conv.PartsIncluded = conv.CountConversationParts, list != nil && list.Parts != nil
	at := field("statistics.count_conversation_parts")
	if conv.PartsTotalCount == nil && list != nil {
		at = field("conversation_parts.total_count")
		conv.PartsTotalCount = b.integer(list.TotalCount, at)
	}
	if conv.PartsTotalCount != nil {
		n := *conv.PartsTotalCount
		conv.PartsTotalCount = &n // not shared with count_conversation_parts, which stays as sent
	}
	if !conv.PartsIncluded {
		return
	}
	exported := int64(len(list.Parts))
	conv.PartsExportedCount = &exported
	if t := conv.PartsTotalCount; t != nil && *t < exported {
		b.warn(at, "says "+itoa(*t)+" parts but "+itoa(exported)+" are present; parts_total_count is "+itoa(exported))
		*t = exported
	}
	conv.PartsTruncated = conv.PartsTotalCount != nil && *conv.PartsTotalCount > exported
}

func aiAgent(conv *schemas.Conversation, c *rawConversation, b *builder) {
	conv.AIAgentParticipated = c.AIAgentParticipated.b
	a := c.AIAgent
	if a == nil {
		return
	}
	conv.AIAgentSourceType = a.SourceType
	conv.AIAgentSourceTitle = a.SourceTitle
	conv.AIAgentLastAnswerType = a.LastAnswerType
	conv.AIAgentResolutionState = a.ResolutionState
	conv.AIAgentRatingRemark = a.RatingRemark
	conv.AIAgentRating = b.rating(a.Rating, field("ai_agent.rating"))
	conv.AIAgentCreatedAt = b.time(a.CreatedAt, field("ai_agent.created_at"))
	conv.AIAgentUpdatedAt = b.time(a.UpdatedAt, field("ai_agent.updated_at"))
	if cs := a.ContentSources; cs != nil && cs.ContentSources != nil {
		conv.AIAgentContentSources = make([]schemas.ContentSource, len(cs.ContentSources))
		for i, s := range cs.ContentSources {
			conv.AIAgentContentSources[i] = schemas.ContentSource{ContentType: s.ContentType, Title: s.Title, URL: s.URL, Locale: s.Locale}
		}
	}
}

func linkedObjects(conv *schemas.Conversation, lo *rawLinkedObjects, b *builder) {
	if lo == nil {
		return
	}
	conv.LinkedObjectsTotalCount = b.integer(lo.TotalCount, field("linked_objects.total_count"))
	conv.LinkedObjectsHasMore = lo.HasMore.b
	if lo.Data != nil {
		conv.LinkedObjects = make([]schemas.LinkedObject, len(lo.Data))
		for i, o := range lo.Data {
			conv.LinkedObjects[i] = schemas.LinkedObject{Type: o.Type, ID: o.ID.s, Category: o.Category}
		}
	}
}

// customAttributes is the object as compact JSON text; any other JSON type is an error.
func customAttributes(ca json.RawMessage, b *builder) *string {
	if len(ca) == 0 || string(ca) == "null" {
		return nil
	}
	if ca[0] != '{' {
		b.fail("custom_attributes", "want an object, got "+literal(ca))
		return nil
	}
	return jsonText(ca, b, "custom_attributes")
}

// jsonText is a JSON value as compact text, invalid UTF-8 replaced as encoding/json does elsewhere.
func jsonText(v json.RawMessage, b *builder, name string) *string {
	var buf bytes.Buffer
	buf.Grow(len(v))
	if err := json.Compact(&buf, v); err != nil {
		b.fail(name, err.Error())
		return nil
	}
	s := buf.String()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return &s
}

// attachments keeps nil (not sent) apart from empty (sent as []), as the list columns do.
func attachments(raw []rawAttachment, b *builder, p path) []schemas.Attachment {
	if raw == nil {
		return nil
	}
	out := make([]schemas.Attachment, len(raw))
	for i := range raw {
		a := &raw[i]
		out[i] = schemas.Attachment{
			Type: a.Type, Name: a.Name, URL: a.URL, ContentType: a.ContentType,
			Filesize: b.integer(a.Filesize, p.elem(i, ".filesize")),
			Width:    b.integer(a.Width, p.elem(i, ".width")),
			Height:   b.integer(a.Height, p.elem(i, ".height")),
		}
	}
	return out
}
