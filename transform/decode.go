package transform

import (
	"encoding/json"
	"reflect"
)

// decodeFast is the fast path of ConversationWith: a single pass over raw that fills c as
// json.Unmarshal(raw, c) would, without reflection. It reports false whenever it cannot vouch for giving
// exactly encoding/json's result: invalid JSON, a value of an unexpected type, a leaf value its
// UnmarshalJSON rejects, a key that repeats or that matches a field only case-insensitively, a key
// with escapes or non-ASCII bytes, very deep nesting. The caller then decodes again with encoding/json,
// which stays the reference: it decides every error and every odd case.
//
// c must be zero on entry; after a false return it holds partial results and must be reset.
// Strings and byte slices in c never alias raw, which callers may reuse.
//
// On the way it locates the part list for source_json, as findPartSpans does (sp.found false when
// there is none), which saves a second pass over the input.
func decodeFast(raw []byte, c *rawConversation) (sp partSpans, ok bool) {
	d := decoder{data: raw}
	d.space()
	if !d.conversation(c) {
		return partSpans{}, false
	}
	d.space()
	if d.off != len(d.data) { // one value, nothing after it
		return partSpans{}, false
	}
	d.sp.spaced, d.sp.badUTF, d.sp.known = d.spaced, d.invalidUTF8, true
	return d.sp, true
}

// maxSkipDepth bounds the nesting of skipped values, far below encoding/json's own limit (10000), so
// that skip's recursion stays shallow; deeper input takes the slow path.
const maxSkipDepth = 500

// Keys of the decoded structs, in field order. A key that equals one of its struct's only
// case-insensitively bails (see decoder.unknown). The wrappers' lists follow the anonymous structs in
// the UnmarshalJSON methods of tagList, contactList and teammateList.
var (
	conversationKeys = jsonKeys[rawConversation]()
	messageKeys      = jsonKeys[rawMessage]()
	attachmentKeys   = jsonKeys[rawAttachment]()
	contactKeys      = jsonKeys[rawContact]()
	slaKeys          = jsonKeys[rawSLA]()
	aiAgentKeys      = jsonKeys[rawAIAgent]()
	actorKeys        = jsonKeys[rawActor]()
	replyKeys        = jsonKeys[rawReply]()
	statisticsKeys   = jsonKeys[rawStatistics]()
	ratingKeys       = jsonKeys[rawRating]()
	partListKeys     = jsonKeys[rawPartList]()
	partKeys         = jsonKeys[rawPart]()
	authorKeys       = jsonKeys[rawAuthor]()
	tagKeys          = jsonKeys[rawTag]()
	contentKeys      = jsonKeys[rawContentSources]()
	sourceKeys       = jsonKeys[rawContentSource]()
	teamRespKeys     = jsonKeys[rawTeamResponse]()
	companyKeys      = jsonKeys[rawCompany]()
	channelKeys      = jsonKeys[rawChannel]()
	linkedKeys       = jsonKeys[rawLinkedObjects]()
	linkedObjKeys    = jsonKeys[rawLinkedObject]()
	tagListKeys      = []string{"tags"}
	contactListKeys  = []string{"contacts"}
	teammateListKeys = []string{"admins", "teammates"}
)

// jsonKeys returns the json tag names of T's fields, in field order.
func jsonKeys[T any]() []string {
	t := reflect.TypeFor[T]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("json")
	}
	return keys
}

// seen records which keys of a struct an object has had, bit i standing for the struct's i-th key (its
// field index; TestFastDecodeKeys checks the numbering). encoding/json lets a repeated key overwrite
// the earlier value, or merge into it for a struct; rather than reproduce that, a repeat bails.
type seen uint64

// once marks key i and reports whether it is new.
func (s *seen) once(i uint) bool {
	bit := seen(1) << i
	if *s&bit != 0 {
		return false
	}
	*s |= bit
	return true
}

// The structs. Each switch decodes the keys of its struct, numbered by field index for seen.once, and
// hands any other key to unknown. Fields start zero (decodeFast's c is zero, new structs are zero, and
// a repeated key bails), so null, which leaves a non-pointer struct as it is and sets pointers and
// slices to nil, needs no assignment.

func (d *decoder) conversation(c *rawConversation) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.once(0) && d.id(&c.ID)
		case "created_at":
			return s.once(1) && d.lenient(&c.CreatedAt)
		case "updated_at":
			return s.once(2) && d.lenient(&c.UpdatedAt)
		case "waiting_since":
			return s.once(3) && d.lenient(&c.WaitingSince)
		case "snoozed_until":
			return s.once(4) && d.lenient(&c.SnoozedUntil)
		case "state":
			return s.once(5) && d.str(&c.State)
		case "open":
			return s.once(6) && d.lenient(&c.Open)
		case "read":
			return s.once(7) && d.lenient(&c.Read)
		case "title":
			return s.once(8) && d.str(&c.Title)
		case "priority":
			return s.once(9) && d.str(&c.Priority)
		case "source":
			return s.once(10) && (d.null() || d.message(newPtr(&c.Source)))
		case "conversation_message":
			return s.once(11) && (d.null() || d.message(newPtr(&c.ConversationMessage)))
		case "admin_assignee_id":
			return s.once(12) && d.id(&c.AdminAssigneeID)
		case "team_assignee_id":
			return s.once(13) && d.id(&c.TeamAssigneeID)
		case "assignee":
			return s.once(14) && (d.null() || d.actor(newPtr(&c.Assignee)))
		case "first_contact_reply":
			return s.once(15) && (d.null() || d.reply(newPtr(&c.FirstContactReply)))
		case "customer_first_reply":
			return s.once(16) && (d.null() || d.reply(newPtr(&c.CustomerFirstReply)))
		case "contacts":
			return s.once(17) && d.contactList(&c.Contacts)
		case "customers":
			return s.once(18) && list(d, &c.Customers, d.contact)
		case "user":
			return s.once(19) && (d.null() || d.contact(newPtr(&c.User)))
		case "teammates":
			return s.once(20) && d.teammateList(&c.Teammates)
		case "sla_applied":
			return s.once(21) && (d.null() || d.sla(newPtr(&c.SLAApplied)))
		case "ai_agent_participated":
			return s.once(22) && d.lenient(&c.AIAgentParticipated)
		case "ai_agent":
			return s.once(23) && (d.null() || d.aiAgent(newPtr(&c.AIAgent)))
		case "statistics":
			return s.once(24) && (d.null() || d.statistics(newPtr(&c.Statistics)))
		case "custom_attributes":
			return s.once(25) && d.rawValue(&c.CustomAttributes)
		case "conversation_rating":
			return s.once(26) && (d.null() || d.rating(newPtr(&c.ConversationRating)))
		case "tags":
			return s.once(27) && d.tagList(&c.Tags)
		case "conversation_parts":
			return s.once(28) && (d.null() || d.partList(newPtr(&c.ConversationParts)))
		case "company":
			return s.once(29) && (d.null() || d.company(newPtr(&c.Company)))
		case "company_id":
			return s.once(30) && d.id(&c.CompanyID)
		case "channel":
			return s.once(31) && (d.null() || d.channel(newPtr(&c.Channel)))
		case "linked_objects":
			return s.once(32) && (d.null() || d.linkedObjects(newPtr(&c.LinkedObjects)))
		}
		return d.unknown(key, conversationKeys)
	})
}

func (d *decoder) message(m *rawMessage) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&m.Type)
		case "id":
			return s.once(1) && d.id(&m.ID)
		case "delivered_as":
			return s.once(2) && d.str(&m.DeliveredAs)
		case "subject":
			return s.once(3) && d.str(&m.Subject)
		case "body":
			return s.once(4) && d.str(&m.Body)
		case "url":
			return s.once(5) && d.str(&m.URL)
		case "author":
			return s.once(6) && (d.null() || d.author(&m.Author))
		case "redacted":
			return s.once(7) && d.lenient(&m.Redacted)
		case "attachments":
			return s.once(8) && list(d, &m.Attachments, d.attachment)
		}
		return d.unknown(key, messageKeys)
	})
}

func (d *decoder) attachment(a *rawAttachment) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&a.Type)
		case "name":
			return s.once(1) && d.str(&a.Name)
		case "url":
			return s.once(2) && d.str(&a.URL)
		case "content_type":
			return s.once(3) && d.str(&a.ContentType)
		case "filesize":
			return s.once(4) && d.lenient(&a.Filesize)
		case "width":
			return s.once(5) && d.lenient(&a.Width)
		case "height":
			return s.once(6) && d.lenient(&a.Height)
		}
		return d.unknown(key, attachmentKeys)
	})
}

func (d *decoder) contact(c *rawContact) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&c.Type)
		case "id":
			return s.once(1) && d.id(&c.ID)
		case "external_id":
			return s.once(2) && d.id(&c.ExternalID)
		case "user_id":
			return s.once(3) && d.id(&c.UserID)
		case "name":
			return s.once(4) && d.str(&c.Name)
		case "email":
			return s.once(5) && d.str(&c.Email)
		}
		return d.unknown(key, contactKeys)
	})
}

func (d *decoder) sla(a *rawSLA) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "sla_name":
			return s.once(0) && d.str(&a.Name)
		case "sla_status":
			return s.once(1) && d.str(&a.Status)
		}
		return d.unknown(key, slaKeys)
	})
}

func (d *decoder) aiAgent(a *rawAIAgent) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "source_type":
			return s.once(0) && d.str(&a.SourceType)
		case "source_title":
			return s.once(1) && d.str(&a.SourceTitle)
		case "last_answer_type":
			return s.once(2) && d.str(&a.LastAnswerType)
		case "resolution_state":
			return s.once(3) && d.str(&a.ResolutionState)
		case "rating":
			return s.once(4) && d.lenient(&a.Rating)
		case "rating_remark":
			return s.once(5) && d.str(&a.RatingRemark)
		case "content_sources":
			return s.once(6) && (d.null() || d.contentSources(newPtr(&a.ContentSources)))
		case "created_at":
			return s.once(7) && d.lenient(&a.CreatedAt)
		case "updated_at":
			return s.once(8) && d.lenient(&a.UpdatedAt)
		}
		return d.unknown(key, aiAgentKeys)
	})
}

func (d *decoder) contentSources(l *rawContentSources) bool {
	var s seen
	return d.object(func(key []byte) bool {
		if string(key) == "content_sources" {
			return s.once(0) && list(d, &l.ContentSources, d.contentSource)
		}
		return d.unknown(key, contentKeys)
	})
}

func (d *decoder) contentSource(c *rawContentSource) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "content_type":
			return s.once(0) && d.str(&c.ContentType)
		case "title":
			return s.once(1) && d.str(&c.Title)
		case "url":
			return s.once(2) && d.str(&c.URL)
		case "locale":
			return s.once(3) && d.str(&c.Locale)
		}
		return d.unknown(key, sourceKeys)
	})
}

func (d *decoder) company(c *rawCompany) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.once(0) && d.id(&c.ID)
		case "company_id":
			return s.once(1) && d.id(&c.CompanyID)
		case "name":
			return s.once(2) && d.str(&c.Name)
		}
		return d.unknown(key, companyKeys)
	})
}

func (d *decoder) channel(c *rawChannel) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "initial":
			return s.once(0) && d.str(&c.Initial)
		case "current":
			return s.once(1) && d.str(&c.Current)
		}
		return d.unknown(key, channelKeys)
	})
}

func (d *decoder) linkedObjects(l *rawLinkedObjects) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "data":
			return s.once(0) && list(d, &l.Data, d.linkedObject)
		case "total_count":
			return s.once(1) && d.lenient(&l.TotalCount)
		case "has_more":
			return s.once(2) && d.lenient(&l.HasMore)
		}
		return d.unknown(key, linkedKeys)
	})
}

func (d *decoder) linkedObject(o *rawLinkedObject) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&o.Type)
		case "id":
			return s.once(1) && d.id(&o.ID)
		case "category":
			return s.once(2) && d.str(&o.Category)
		}
		return d.unknown(key, linkedObjKeys)
	})
}

func (d *decoder) teamResponse(r *rawTeamResponse) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "team_id":
			return s.once(0) && d.id(&r.TeamID)
		case "team_name":
			return s.once(1) && d.str(&r.TeamName)
		case "response_time":
			return s.once(2) && d.lenient(&r.ResponseTime)
		}
		return d.unknown(key, teamRespKeys)
	})
}

func (d *decoder) actor(a *rawActor) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&a.Type)
		case "id":
			return s.once(1) && d.id(&a.ID)
		case "name":
			return s.once(2) && d.str(&a.Name)
		case "email":
			return s.once(3) && d.str(&a.Email)
		case "external_id":
			return s.once(4) && d.id(&a.ExternalID)
		}
		return d.unknown(key, actorKeys)
	})
}

func (d *decoder) reply(r *rawReply) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "created_at":
			return s.once(0) && d.lenient(&r.CreatedAt)
		case "type":
			return s.once(1) && d.str(&r.Type)
		case "url":
			return s.once(2) && d.str(&r.URL)
		}
		return d.unknown(key, replyKeys)
	})
}

func (d *decoder) statistics(st *rawStatistics) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "time_to_assignment":
			return s.once(0) && d.lenient(&st.TimeToAssignment)
		case "time_to_admin_reply":
			return s.once(1) && d.lenient(&st.TimeToAdminReply)
		case "time_to_first_close":
			return s.once(2) && d.lenient(&st.TimeToFirstClose)
		case "time_to_last_close":
			return s.once(3) && d.lenient(&st.TimeToLastClose)
		case "median_time_to_reply":
			return s.once(4) && d.lenient(&st.MedianTimeToReply)
		case "first_contact_reply_at":
			return s.once(5) && d.lenient(&st.FirstContactReplyAt)
		case "first_assignment_at":
			return s.once(6) && d.lenient(&st.FirstAssignmentAt)
		case "first_admin_reply_at":
			return s.once(7) && d.lenient(&st.FirstAdminReplyAt)
		case "first_close_at":
			return s.once(8) && d.lenient(&st.FirstCloseAt)
		case "last_assignment_at":
			return s.once(9) && d.lenient(&st.LastAssignmentAt)
		case "last_assignment_admin_reply_at":
			return s.once(10) && d.lenient(&st.LastAssignmentAdminReplyAt)
		case "last_contact_reply_at":
			return s.once(11) && d.lenient(&st.LastContactReplyAt)
		case "last_admin_reply_at":
			return s.once(12) && d.lenient(&st.LastAdminReplyAt)
		case "last_close_at":
			return s.once(13) && d.lenient(&st.LastCloseAt)
		case "last_closed_by_id":
			return s.once(14) && d.id(&st.LastClosedByID)
		case "count_reopens":
			return s.once(15) && d.lenient(&st.CountReopens)
		case "count_assignments":
			return s.once(16) && d.lenient(&st.CountAssignments)
		case "count_conversation_parts":
			return s.once(17) && d.lenient(&st.CountConversationParts)
		case "handling_time":
			return s.once(18) && d.lenient(&st.HandlingTime)
		case "adjusted_handling_time":
			return s.once(19) && d.lenient(&st.AdjustedHandlingTime)
		case "assigned_team_first_response_time_by_team":
			return s.once(20) && list(d, &st.TeamFirstResponse, d.teamResponse)
		case "assigned_team_first_response_time_in_office_hours":
			return s.once(21) && list(d, &st.TeamFirstResponseOffice, d.teamResponse)
		case "last_closed_by":
			return s.once(22) && (d.null() || d.actor(newPtr(&st.LastClosedBy)))
		}
		return d.unknown(key, statisticsKeys)
	})
}

func (d *decoder) rating(r *rawRating) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "rating":
			return s.once(0) && d.lenient(&r.Rating)
		case "remark":
			return s.once(1) && d.str(&r.Remark)
		case "created_at":
			return s.once(2) && d.lenient(&r.CreatedAt)
		case "contact":
			return s.once(3) && (d.null() || d.actor(newPtr(&r.Contact)))
		case "customer":
			return s.once(4) && (d.null() || d.actor(newPtr(&r.Customer)))
		case "teammate":
			return s.once(5) && (d.null() || d.actor(&r.Teammate))
		case "updated_at":
			return s.once(6) && d.lenient(&r.UpdatedAt)
		}
		return d.unknown(key, ratingKeys)
	})
}

func (d *decoder) partList(l *rawPartList) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "conversation_parts":
			start := d.keyOff
			if !s.once(0) || !list(d, &l.Parts, d.spannedPart) {
				return false
			}
			d.sp.list, d.sp.found = [2]int{start, d.off}, l.Parts != nil // null is no list
			return true
		case "total_count":
			return s.once(1) && d.lenient(&l.TotalCount)
		}
		return d.unknown(key, partListKeys)
	})
}

// spannedPart is part, recording where the part's JSON lies for source_json.
func (d *decoder) spannedPart(p *rawPart) bool {
	start := d.off
	if !d.part(p) {
		return false
	}
	if d.sp.parts == nil {
		d.sp.parts = make([][2]int, 0, 32) // most conversations have fewer parts: one allocation
	}
	d.sp.parts = append(d.sp.parts, [2]int{start, d.off})
	return true
}

func (d *decoder) part(p *rawPart) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.once(0) && d.id(&p.ID)
		case "part_type":
			return s.once(1) && d.str(&p.PartType)
		case "body":
			return s.once(2) && d.str(&p.Body)
		case "created_at":
			return s.once(3) && d.lenient(&p.CreatedAt)
		case "updated_at":
			return s.once(4) && d.lenient(&p.UpdatedAt)
		case "notified_at":
			return s.once(5) && d.lenient(&p.NotifiedAt)
		case "assigned_to":
			return s.once(6) && d.assignedTo(&p.AssignedTo)
		case "author":
			return s.once(7) && (d.null() || d.author(&p.Author))
		case "external_id":
			return s.once(8) && d.id(&p.ExternalID)
		case "redacted":
			return s.once(9) && d.lenient(&p.Redacted)
		case "state":
			return s.once(10) && d.str(&p.State)
		case "attachments":
			return s.once(11) && list(d, &p.Attachments, d.attachment)
		case "tags":
			return s.once(12) && d.tagList(&p.Tags)
		case "event_details":
			return s.once(13) && d.rawValue(&p.EventDetails)
		case "app_package_code":
			return s.once(14) && d.str(&p.AppPackageCode)
		case "metadata":
			return s.once(15) && d.rawValue(&p.Metadata)
		}
		return d.unknown(key, partKeys)
	})
}

func (d *decoder) author(a *rawAuthor) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.once(0) && d.str(&a.Type)
		case "id":
			return s.once(1) && d.id(&a.ID)
		case "name":
			return s.once(2) && d.str(&a.Name)
		case "email":
			return s.once(3) && d.str(&a.Email)
		case "from_ai_agent":
			return s.once(4) && d.lenient(&a.FromAIAgent)
		case "is_ai_answer":
			return s.once(5) && d.lenient(&a.IsAIAnswer)
		}
		return d.unknown(key, authorKeys)
	})
}

func (d *decoder) tag(t *rawTag) bool {
	var s seen
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.once(0) && d.id(&t.ID)
		case "name":
			return s.once(1) && d.str(&t.Name)
		case "applied_at":
			return s.once(2) && d.lenient(&t.AppliedAt)
		case "applied_by":
			return s.once(3) && (d.null() || d.actor(&t.AppliedBy))
		}
		return d.unknown(key, tagKeys)
	})
}

// The types with their own UnmarshalJSON. A scalar goes to that method, as encoding/json would send
// it; an object or array is decoded here the way the method decodes it with json.Unmarshal.

func (d *decoder) tagList(l *tagList) bool {
	switch d.cur() {
	case '[':
		return list(d, &l.tags, d.tag)
	case '{':
		l.object = true
		var s seen
		return d.object(func(key []byte) bool {
			if string(key) == "tags" {
				return s.once(0) && list(d, &l.tags, d.tag)
			}
			return d.unknown(key, tagListKeys)
		})
	}
	return d.lenient(l)
}

func (d *decoder) contactList(l *contactList) bool {
	switch d.cur() {
	case '[':
		l.sent = true
		return list(d, &l.contacts, d.contact)
	case '{':
		l.sent = true
		var s seen
		return d.object(func(key []byte) bool {
			if string(key) == "contacts" {
				return s.once(0) && list(d, &l.contacts, d.contact)
			}
			return d.unknown(key, contactListKeys)
		})
	}
	return d.lenient(l)
}

func (d *decoder) teammateList(l *teammateList) bool {
	switch d.cur() {
	case '[':
		l.sent = true
		return list(d, &l.admins, d.actor)
	case '{':
		l.sent = true
		var s seen
		var admins, teammates []rawActor
		ok := d.object(func(key []byte) bool {
			switch string(key) {
			case "admins":
				return s.once(0) && list(d, &admins, d.actor)
			case "teammates":
				return s.once(1) && list(d, &teammates, d.actor)
			}
			return d.unknown(key, teammateListKeys)
		})
		// As in UnmarshalJSON: admins (what real responses send) unless null or absent.
		l.admins = admins
		if l.admins == nil {
			l.admins = teammates
		}
		return ok
	}
	return d.lenient(l)
}

func (d *decoder) assignedTo(a *assignedTo) bool {
	if d.cur() == '{' {
		return d.actor(&a.rawActor)
	}
	return d.lenient(a)
}

// Values.

// newPtr points *p at a new zero T and returns it, for decoding into a pointer field.
func newPtr[T any](p **T) *T {
	*p = new(T)
	return *p
}

// list decodes an array of objects into *s as encoding/json does: null leaves *s nil, [] makes it
// empty but not nil (nil means "not sent" to the columns), and a null element is a zero value.
func list[T any](d *decoder, s *[]T, decode func(*T) bool) bool {
	if d.null() {
		return true
	}
	if !d.open('[') {
		return false
	}
	out := make([]T, 0)
	if d.cur() == ']' {
		d.off++
		*s = out
		return true
	}
	for {
		var zero T
		out = append(out, zero)
		if !d.null() && !decode(&out[len(out)-1]) {
			return false
		}
		if more, ok := d.next(']'); !more {
			*s = out
			return ok
		}
	}
}

// str decodes a string or null into a *string field.
func (d *decoder) str(p **string) bool {
	switch d.cur() {
	case '"':
		s, ok := d.string()
		if !ok {
			return false
		}
		*p = d.newString(s)
		return true
	case 'n':
		return d.word("null")
	}
	return false
}

// id decodes an id as id.UnmarshalJSON does, but takes the *string for the usual shapes, a string or
// an integer, from the decoder's slab. (id.UnmarshalJSON's unquote decodes a string as encoding/json
// does, and so does d.string.)
func (d *decoder) id(v *id) bool {
	switch c := d.cur(); {
	case c == '"':
		s, ok := d.string()
		if !ok {
			return false
		}
		v.s, v.set = d.newString(s), true
		return true
	case c == '-' || '0' <= c && c <= '9':
		start := d.off
		if !d.number() || !isInteger(d.data[start:d.off]) {
			return false // a float: id.UnmarshalJSON rejects it
		}
		v.s, v.set = d.newString(string(d.data[start:d.off])), true
		return true
	}
	return d.lenient(v)
}

// lenient hands a scalar to v's UnmarshalJSON, which sees the literal as encoding/json would pass it.
// Objects and arrays bail: the leaf types reject them, and the lists are decoded before reaching here.
func (d *decoder) lenient(v json.Unmarshaler) bool {
	start := d.off
	if c := d.cur(); c == '{' || c == '[' || !d.skip() {
		return false
	}
	return v.UnmarshalJSON(d.data[start:d.off]) == nil
}

// rawValue copies any value's bytes into a json.RawMessage, as its UnmarshalJSON does (null included).
func (d *decoder) rawValue(m *json.RawMessage) bool {
	start := d.off
	if !d.skip() {
		return false
	}
	*m = append(json.RawMessage(nil), d.data[start:d.off]...)
	return true
}
