package transform_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

// The realcorpus (../shared/realcorpus from the repository root) holds conversation JSON published by
// others: Intercom's OpenAPI examples and SDK fixtures. TestRealCorpus converts every object and checks
// each leaf of its JSON against the column it lands in; a leaf without a column must be one of the
// explained ones below, kept in source_json. No file of the corpus is part of this repository.

// realCorpusDir finds the corpus relative to the repository root (the folder holding go.mod).
func realCorpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test: cannot locate ../shared/realcorpus")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "realcorpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("the real-data corpus is not here (%s): skipping; it lives outside the repository", corpus)
	}
	return corpus
}

// leafCheck compares one leaf of the source JSON (v: a string, json.Number, bool, nil, or an empty
// object or array) with the record; idx holds the leaf's list indexes, outermost first.
type leafCheck func(r *schemas.Record, idx []int, v any) error

// Leaves without a column, by path pattern ([] for any index; a trailing .* for a whole subtree).
var corpusExplained = map[string]string{
	"type":                                  "always \"conversation\"",
	"conversation_parts.type":               "list wrapper: always \"conversation_part.list\"",
	"conversation_parts.conversation_parts": "the part list itself (each part is a row); [] shows as parts_included with parts_exported_count 0",
	"conversation_parts.conversation_parts[].type":                   "always \"conversation_part\"",
	"conversation_parts.conversation_parts[].tags[].type":            "always \"tag\"",
	"conversation_parts.conversation_parts[].translations.*":         "machine translations of the body (Preview): text derived from body, kept in the part's source_json",
	"conversation_parts.conversation_parts[].email_message_metadata": "email headers of a part (Preview): null in every example, kept in the part's source_json",
	"tags.type":                            "list wrapper: always \"tag.list\"",
	"tags.tags[].type":                     "always \"tag\"",
	"contacts.type":                        "list wrapper: always \"contact.list\"",
	"teammates.type":                       "list wrapper: always \"admin.list\"",
	"teammates.admins[].type":              "always \"admin\": teammate_ids holds the ids",
	"teammates.teammates[].type":           "always \"admin\": teammate_ids holds the ids",
	"sla_applied.type":                     "always \"conversation_sla_summary\"",
	"statistics.type":                      "always \"conversation_statistics\"",
	"linked_objects.type":                  "list wrapper: always \"list\"",
	"ai_agent.content_sources.type":        "list wrapper: always \"content_source.list\"",
	"ai_agent.content_sources.total_count": "the length of content_sources, which the list column has",
	"assignee.type":                        "decides which of admin_assignee_id and team_assignee_id gets the id",
	"company.*":                            "the company's own profile (plan, size, segments, notes, custom attributes, counters): an entity of its own, not conversation data; id, company_id and name have columns",
	"topics":                               "topics (2.x): an empty object in every example, kept in source_json",
	"ai_topics":                            "Preview: null in every example",
	"ticket":                               "the ticket a conversation belongs to (Preview): null in every example",
	"links.*":                              "links.conversation_web: a URL Intercom derives from the id",
	"monitor_evaluations.*":                "Preview: AI quality monitors, an open-ended evaluation object",
	"scorecards.*":                         "Preview: teammate review scorecards, an open-ended evaluation object",
	"source.email_message_metadata.*":      "email headers of the first message (Preview), kept in source_json",
	"source.recipients.*":                  "email recipients of the first message (Preview), kept in source_json",
	"source.reply_to.*":                    "email reply-to of the first message (Preview), kept in source_json",
	"conversation_message.attachments":     "an empty list: message_attachments is []",
}

func str(get func(*schemas.Record, []int) *string) leafCheck {
	return func(r *schemas.Record, idx []int, v any) error {
		got := get(r, idx)
		switch v := v.(type) {
		case nil:
			if got != nil {
				return fmt.Errorf("got %q, want NULL", *got)
			}
		case string:
			if got == nil || *got != v {
				return fmt.Errorf("got %s, want %q", showPtr(got), v)
			}
		case json.Number:
			if got == nil || *got != v.String() {
				return fmt.Errorf("got %s, want %s", showPtr(got), v)
			}
		default:
			return fmt.Errorf("unexpected JSON %v", v)
		}
		return nil
	}
}

func boolean(get func(*schemas.Record, []int) *bool) leafCheck {
	return func(r *schemas.Record, idx []int, v any) error {
		got := get(r, idx)
		if v == nil && got == nil || got != nil && v == *got {
			return nil
		}
		return fmt.Errorf("got %s, want %v", showPtr(got), v)
	}
}

func integer(get func(*schemas.Record, []int) *int64) leafCheck {
	return func(r *schemas.Record, idx []int, v any) error {
		got := get(r, idx)
		if v == nil && got == nil {
			return nil
		}
		n, ok := v.(json.Number)
		if !ok || got == nil || n.String() != strconv.FormatInt(*got, 10) {
			return fmt.Errorf("got %s, want %v", showPtr(got), v)
		}
		return nil
	}
}

func int32Of(get func(*schemas.Record, []int) *int32) leafCheck {
	return integer(func(r *schemas.Record, idx []int) *int64 {
		if p := get(r, idx); p != nil {
			n := int64(*p)
			return &n
		}
		return nil
	})
}

// stamp checks a timestamp column under the sentinel rule.
func stamp(get func(*schemas.Record, []int) *time.Time) leafCheck {
	return func(r *schemas.Record, idx []int, v any) error {
		got := get(r, idx)
		var want *time.Time
		if n, ok := v.(json.Number); ok {
			sec, err := n.Int64()
			if err != nil {
				return err
			}
			if sec > 0 && sec < 4102444800 {
				t := time.Unix(sec, 0).UTC()
				want = &t
			}
		} else if s, ok := v.(string); ok && s != "" {
			sec, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("a timestamp string in the corpus: %q", s)
			}
			t := time.Unix(sec, 0).UTC()
			want = &t
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got %s, want %s", showPtr(got), showPtr(want))
		}
		return nil
	}
}

// unassigned checks an assignee id: 0, "0", "" and null mean unassigned.
func unassigned(get func(*schemas.Record, []int) *string) leafCheck {
	return func(r *schemas.Record, idx []int, v any) error {
		if s := fmt.Sprint(v); v == nil || s == "0" || s == "" {
			if got := get(r, idx); got != nil {
				return fmt.Errorf("got %q, want NULL (unassigned)", *got)
			}
			return nil
		}
		return str(get)(r, idx, v)
	}
}

func part(r *schemas.Record, idx []int) *schemas.ConversationPart { return &r.Parts[idx[0]] }

func c(r *schemas.Record) *schemas.Conversation { return &r.Conversation }

func attachment(list func(*schemas.Record, []int) []schemas.Attachment) map[string]leafCheck {
	at := func(r *schemas.Record, idx []int) *schemas.Attachment { return &list(r, idx)[idx[len(idx)-1]] }
	return map[string]leafCheck{
		"type":         str(func(r *schemas.Record, i []int) *string { return at(r, i).Type }),
		"name":         str(func(r *schemas.Record, i []int) *string { return at(r, i).Name }),
		"url":          str(func(r *schemas.Record, i []int) *string { return at(r, i).URL }),
		"content_type": str(func(r *schemas.Record, i []int) *string { return at(r, i).ContentType }),
		"filesize":     integer(func(r *schemas.Record, i []int) *int64 { return at(r, i).Filesize }),
		"width":        integer(func(r *schemas.Record, i []int) *int64 { return at(r, i).Width }),
		"height":       integer(func(r *schemas.Record, i []int) *int64 { return at(r, i).Height }),
	}
}

// corpusRules maps each leaf pattern with a column to its check.
func corpusRules() map[string]leafCheck {
	rules := map[string]leafCheck{
		"id":              str(func(r *schemas.Record, _ []int) *string { return &r.Conversation.ConversationID }),
		"created_at":      stamp(func(r *schemas.Record, _ []int) *time.Time { return &r.Conversation.CreatedAt }),
		"updated_at":      stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).UpdatedAt }),
		"waiting_since":   stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).WaitingSince }),
		"snoozed_until":   stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).SnoozedUntil }),
		"state":           str(func(r *schemas.Record, _ []int) *string { return c(r).State }),
		"open":            boolean(func(r *schemas.Record, _ []int) *bool { return c(r).Open }),
		"read":            boolean(func(r *schemas.Record, _ []int) *bool { return c(r).Read }),
		"title":           str(func(r *schemas.Record, _ []int) *string { return c(r).Title }),
		"priority":        str(func(r *schemas.Record, _ []int) *string { return c(r).Priority }),
		"channel.initial": str(func(r *schemas.Record, _ []int) *string { return c(r).ChannelInitial }),
		"channel.current": str(func(r *schemas.Record, _ []int) *string { return c(r).ChannelCurrent }),

		"admin_assignee_id": unassigned(func(r *schemas.Record, _ []int) *string { return c(r).AdminAssigneeID }),
		"team_assignee_id":  unassigned(func(r *schemas.Record, _ []int) *string { return c(r).TeamAssigneeID }),
		"assignee.id": unassigned(func(r *schemas.Record, _ []int) *string {
			return or(c(r).AdminAssigneeID, c(r).TeamAssigneeID)
		}),
		"assignee.name":  str(func(r *schemas.Record, _ []int) *string { return c(r).AssigneeName }),
		"assignee.email": str(func(r *schemas.Record, _ []int) *string { return c(r).AssigneeEmail }),

		"contacts.contacts[].type":        str(func(r *schemas.Record, i []int) *string { return c(r).Contacts[i[0]].Type }),
		"contacts.contacts[].id":          str(func(r *schemas.Record, i []int) *string { return c(r).Contacts[i[0]].ID }),
		"contacts.contacts[].external_id": str(func(r *schemas.Record, i []int) *string { return c(r).Contacts[i[0]].ExternalID }),
		"customers[].type":                str(func(r *schemas.Record, i []int) *string { return c(r).Contacts[i[0]].Type }),
		"customers[].id":                  str(func(r *schemas.Record, i []int) *string { return c(r).Contacts[i[0]].ID }),
		"teammates.admins[].id":           str(func(r *schemas.Record, i []int) *string { return &c(r).TeammateIDs[i[0]] }),
		"teammates.teammates[].id":        str(func(r *schemas.Record, i []int) *string { return &c(r).TeammateIDs[i[0]] }),

		"company.id":         str(func(r *schemas.Record, _ []int) *string { return c(r).CompanyID }),
		"company.company_id": str(func(r *schemas.Record, _ []int) *string { return c(r).CompanyExternalID }),
		"company.name":       str(func(r *schemas.Record, _ []int) *string { return c(r).CompanyName }),

		"sla_applied.sla_name":   str(func(r *schemas.Record, _ []int) *string { return c(r).SLAName }),
		"sla_applied.sla_status": str(func(r *schemas.Record, _ []int) *string { return c(r).SLAStatus }),

		"ai_agent_participated":     boolean(func(r *schemas.Record, _ []int) *bool { return c(r).AIAgentParticipated }),
		"ai_agent.source_type":      str(func(r *schemas.Record, _ []int) *string { return c(r).AIAgentSourceType }),
		"ai_agent.source_title":     str(func(r *schemas.Record, _ []int) *string { return c(r).AIAgentSourceTitle }),
		"ai_agent.last_answer_type": str(func(r *schemas.Record, _ []int) *string { return c(r).AIAgentLastAnswerType }),
		"ai_agent.resolution_state": str(func(r *schemas.Record, _ []int) *string { return c(r).AIAgentResolutionState }),
		"ai_agent.rating":           int32Of(func(r *schemas.Record, _ []int) *int32 { return c(r).AIAgentRating }),
		"ai_agent.rating_remark":    str(func(r *schemas.Record, _ []int) *string { return c(r).AIAgentRatingRemark }),
		"ai_agent.created_at":       stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).AIAgentCreatedAt }),
		"ai_agent.updated_at":       stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).AIAgentUpdatedAt }),
		"ai_agent.content_sources.content_sources[].content_type": str(func(r *schemas.Record, i []int) *string { return c(r).AIAgentContentSources[i[0]].ContentType }),
		"ai_agent.content_sources.content_sources[].title":        str(func(r *schemas.Record, i []int) *string { return c(r).AIAgentContentSources[i[0]].Title }),
		"ai_agent.content_sources.content_sources[].url":          str(func(r *schemas.Record, i []int) *string { return c(r).AIAgentContentSources[i[0]].URL }),
		"ai_agent.content_sources.content_sources[].locale":       str(func(r *schemas.Record, i []int) *string { return c(r).AIAgentContentSources[i[0]].Locale }),

		"linked_objects.total_count":     integer(func(r *schemas.Record, _ []int) *int64 { return c(r).LinkedObjectsTotalCount }),
		"linked_objects.has_more":        boolean(func(r *schemas.Record, _ []int) *bool { return c(r).LinkedObjectsHasMore }),
		"linked_objects.data[].type":     str(func(r *schemas.Record, i []int) *string { return c(r).LinkedObjects[i[0]].Type }),
		"linked_objects.data[].id":       str(func(r *schemas.Record, i []int) *string { return c(r).LinkedObjects[i[0]].ID }),
		"linked_objects.data[].category": str(func(r *schemas.Record, i []int) *string { return c(r).LinkedObjects[i[0]].Category }),

		"conversation_rating.rating":              int32Of(func(r *schemas.Record, _ []int) *int32 { return r.Rating.Rating }),
		"conversation_rating.remark":              str(func(r *schemas.Record, _ []int) *string { return r.Rating.Remark }),
		"conversation_rating.created_at":          stamp(func(r *schemas.Record, _ []int) *time.Time { return r.Rating.CreatedAt }),
		"conversation_rating.updated_at":          stamp(func(r *schemas.Record, _ []int) *time.Time { return r.Rating.UpdatedAt }),
		"conversation_rating.contact.type":        str(func(r *schemas.Record, _ []int) *string { return r.Rating.CustomerType }),
		"conversation_rating.contact.id":          str(func(r *schemas.Record, _ []int) *string { return r.Rating.CustomerID }),
		"conversation_rating.contact.external_id": str(func(r *schemas.Record, _ []int) *string { return r.Rating.CustomerExternalID }),
		"conversation_rating.customer.type":       str(func(r *schemas.Record, _ []int) *string { return r.Rating.CustomerType }),
		"conversation_rating.customer.id":         str(func(r *schemas.Record, _ []int) *string { return r.Rating.CustomerID }),
		"conversation_rating.teammate.type":       str(func(r *schemas.Record, _ []int) *string { return r.Rating.TeammateType }),
		"conversation_rating.teammate.id":         str(func(r *schemas.Record, _ []int) *string { return r.Rating.TeammateID }),

		"tags.tags[].id":              str(func(r *schemas.Record, i []int) *string { return &r.Tags[i[0]].TagID }),
		"tags.tags[].name":            str(func(r *schemas.Record, i []int) *string { return r.Tags[i[0]].TagName }),
		"tags.tags[].applied_at":      stamp(func(r *schemas.Record, i []int) *time.Time { return r.Tags[i[0]].AppliedAt }),
		"tags.tags[].applied_by.type": str(func(r *schemas.Record, i []int) *string { return r.Tags[i[0]].AppliedByType }),
		"tags.tags[].applied_by.id":   str(func(r *schemas.Record, i []int) *string { return r.Tags[i[0]].AppliedByID }),
	}
	for _, m := range []string{"source", "conversation_message"} {
		rules[m+".type"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageType })
		rules[m+".id"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageID })
		rules[m+".delivered_as"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageDeliveredAs })
		rules[m+".subject"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageSubject })
		rules[m+".body"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageBody })
		rules[m+".url"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageURL })
		rules[m+".redacted"] = boolean(func(r *schemas.Record, _ []int) *bool { return c(r).MessageRedacted })
		rules[m+".author.type"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageAuthorType })
		rules[m+".author.id"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageAuthorID })
		rules[m+".author.name"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageAuthorName })
		rules[m+".author.email"] = str(func(r *schemas.Record, _ []int) *string { return c(r).MessageAuthorEmail })
		rules[m+".author.from_ai_agent"] = boolean(func(r *schemas.Record, _ []int) *bool { return c(r).MessageAuthorFromAI })
		rules[m+".author.is_ai_answer"] = boolean(func(r *schemas.Record, _ []int) *bool { return c(r).MessageAuthorAIAnswer })
		for k, check := range attachment(func(r *schemas.Record, _ []int) []schemas.Attachment { return c(r).MessageAttachments }) {
			rules[m+".attachments[]."+k] = check
		}
	}
	for _, m := range []string{"first_contact_reply", "customer_first_reply"} {
		rules[m+".created_at"] = stamp(func(r *schemas.Record, _ []int) *time.Time { return c(r).FirstContactReplyAt })
		rules[m+".type"] = str(func(r *schemas.Record, _ []int) *string { return c(r).FirstContactReplyType })
		rules[m+".url"] = str(func(r *schemas.Record, _ []int) *string { return c(r).FirstContactReplyURL })
	}
	st := func(name string, get func(*schemas.Conversation) *int64) {
		rules["statistics."+name] = integer(func(r *schemas.Record, _ []int) *int64 { return get(c(r)) })
	}
	st("time_to_assignment", func(c *schemas.Conversation) *int64 { return c.TimeToAssignment })
	st("time_to_admin_reply", func(c *schemas.Conversation) *int64 { return c.TimeToAdminReply })
	st("time_to_first_close", func(c *schemas.Conversation) *int64 { return c.TimeToFirstClose })
	st("time_to_last_close", func(c *schemas.Conversation) *int64 { return c.TimeToLastClose })
	st("median_time_to_reply", func(c *schemas.Conversation) *int64 { return c.MedianTimeToReply })
	st("handling_time", func(c *schemas.Conversation) *int64 { return c.HandlingTime })
	st("adjusted_handling_time", func(c *schemas.Conversation) *int64 { return c.AdjustedHandlingTime })
	st("count_reopens", func(c *schemas.Conversation) *int64 { return c.CountReopens })
	st("count_assignments", func(c *schemas.Conversation) *int64 { return c.CountAssignments })
	st("count_conversation_parts", func(c *schemas.Conversation) *int64 { return c.CountConversationParts })
	sts := func(name string, get func(*schemas.Conversation) *time.Time) {
		rules["statistics."+name] = stamp(func(r *schemas.Record, _ []int) *time.Time { return get(c(r)) })
	}
	sts("first_contact_reply_at", func(c *schemas.Conversation) *time.Time { return c.StatisticsFirstContactReplyAt })
	sts("first_assignment_at", func(c *schemas.Conversation) *time.Time { return c.FirstAssignmentAt })
	sts("first_admin_reply_at", func(c *schemas.Conversation) *time.Time { return c.FirstAdminReplyAt })
	sts("first_close_at", func(c *schemas.Conversation) *time.Time { return c.FirstCloseAt })
	sts("last_assignment_at", func(c *schemas.Conversation) *time.Time { return c.LastAssignmentAt })
	sts("last_assignment_admin_reply_at", func(c *schemas.Conversation) *time.Time { return c.LastAssignmentAdminReplyAt })
	sts("last_contact_reply_at", func(c *schemas.Conversation) *time.Time { return c.LastContactReplyAt })
	sts("last_admin_reply_at", func(c *schemas.Conversation) *time.Time { return c.LastAdminReplyAt })
	sts("last_close_at", func(c *schemas.Conversation) *time.Time { return c.LastCloseAt })
	rules["statistics.last_closed_by_id"] = str(func(r *schemas.Record, _ []int) *string { return c(r).LastClosedByID })
	rules["statistics.last_closed_by.id"] = str(func(r *schemas.Record, _ []int) *string { return c(r).LastClosedByID })
	for key, list := range map[string]func(*schemas.Conversation) []schemas.TeamResponseTime{
		"assigned_team_first_response_time_by_team":         func(c *schemas.Conversation) []schemas.TeamResponseTime { return c.TeamFirstResponseTimes },
		"assigned_team_first_response_time_in_office_hours": func(c *schemas.Conversation) []schemas.TeamResponseTime { return c.TeamFirstResponseTimesInOfficeHours },
	} {
		rules["statistics."+key+"[].team_id"] = str(func(r *schemas.Record, i []int) *string { return list(c(r))[i[0]].TeamID })
		rules["statistics."+key+"[].team_name"] = str(func(r *schemas.Record, i []int) *string { return list(c(r))[i[0]].TeamName })
		rules["statistics."+key+"[].response_time"] = integer(func(r *schemas.Record, i []int) *int64 { return list(c(r))[i[0]].ResponseTime })
	}

	const p = "conversation_parts.conversation_parts[]."
	ps := func(name string, get func(*schemas.ConversationPart) *string) {
		rules[p+name] = str(func(r *schemas.Record, i []int) *string { return get(part(r, i)) })
	}
	pt := func(name string, get func(*schemas.ConversationPart) *time.Time) {
		rules[p+name] = stamp(func(r *schemas.Record, i []int) *time.Time { return get(part(r, i)) })
	}
	pb := func(name string, get func(*schemas.ConversationPart) *bool) {
		rules[p+name] = boolean(func(r *schemas.Record, i []int) *bool { return get(part(r, i)) })
	}
	ps("id", func(p *schemas.ConversationPart) *string { return &p.PartID })
	ps("part_type", func(p *schemas.ConversationPart) *string { return p.PartType })
	ps("body", func(p *schemas.ConversationPart) *string { return p.Body })
	pt("created_at", func(p *schemas.ConversationPart) *time.Time { return p.CreatedAt })
	pt("updated_at", func(p *schemas.ConversationPart) *time.Time { return p.UpdatedAt })
	pt("notified_at", func(p *schemas.ConversationPart) *time.Time { return p.NotifiedAt })
	ps("assigned_to.type", func(p *schemas.ConversationPart) *string { return p.AssignedToType })
	ps("assigned_to.id", func(p *schemas.ConversationPart) *string { return p.AssignedToID })
	ps("author.type", func(p *schemas.ConversationPart) *string { return p.AuthorType })
	ps("author.id", func(p *schemas.ConversationPart) *string { return p.AuthorID })
	ps("author.name", func(p *schemas.ConversationPart) *string { return p.AuthorName })
	ps("author.email", func(p *schemas.ConversationPart) *string { return p.AuthorEmail })
	pb("author.from_ai_agent", func(p *schemas.ConversationPart) *bool { return p.AuthorFromAI })
	pb("author.is_ai_answer", func(p *schemas.ConversationPart) *bool { return p.AuthorAIAnswer })
	ps("external_id", func(p *schemas.ConversationPart) *string { return p.ExternalID })
	pb("redacted", func(p *schemas.ConversationPart) *bool { return p.Redacted })
	ps("state", func(p *schemas.ConversationPart) *string { return p.State })
	ps("app_package_code", func(p *schemas.ConversationPart) *string { return p.AppPackageCode })
	rules[p+"tags[].id"] = str(func(r *schemas.Record, i []int) *string { return part(r, i).Tags[i[1]].ID })
	rules[p+"tags[].name"] = str(func(r *schemas.Record, i []int) *string { return part(r, i).Tags[i[1]].Name })
	for k, check := range attachment(func(r *schemas.Record, i []int) []schemas.Attachment { return part(r, i).Attachments }) {
		rules[p+"attachments[]."+k] = check
	}
	return rules
}

func or(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

func showPtr[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%v", *p)
}

// leaf is one scalar (or empty container) of a JSON document, with its path.
type leaf struct {
	pattern string // indexes as []
	path    string // indexes written out
	idx     []int
	value   any
}

func leaves(v any, pattern, path string, idx []int, out *[]leaf) {
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "." + b
	}
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			*out = append(*out, leaf{pattern, path, idx, v})
		}
		for k, x := range v {
			leaves(x, join(pattern, k), join(path, k), idx, out)
		}
	case []any:
		if len(v) == 0 {
			*out = append(*out, leaf{pattern, path, idx, v})
		}
		for i, x := range v {
			leaves(x, pattern+"[]", path+"["+strconv.Itoa(i)+"]", append(slices.Clone(idx), i), out)
		}
	default:
		*out = append(*out, leaf{pattern, path, idx, v})
	}
}

// lookup finds the value at a dotted path with [i] indexes in a decoded JSON document.
func lookup(doc any, path string) (any, bool) {
	for _, step := range regexp.MustCompile(`[^.\[\]]+|\[\d+\]`).FindAllString(path, -1) {
		if strings.HasPrefix(step, "[") {
			i, _ := strconv.Atoi(step[1 : len(step)-1])
			l, ok := doc.([]any)
			if !ok || i >= len(l) {
				return nil, false
			}
			doc = l[i]
			continue
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[step]; !ok {
			return nil, false
		}
	}
	return doc, true
}

func decodeNumbers(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func TestRealCorpus(t *testing.T) {
	dir := realCorpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", dir, err)
	}
	rules := corpusRules()
	// JSON-string columns: a leaf under the prefix must be in the column's JSON at the same place.
	jsonColumns := map[string]func(*schemas.Record, []int) *string{
		"custom_attributes": func(r *schemas.Record, _ []int) *string { return c(r).CustomAttributes },
		"conversation_parts.conversation_parts[].event_details": func(r *schemas.Record, i []int) *string { return part(r, i).EventDetails },
		"conversation_parts.conversation_parts[].metadata":      func(r *schemas.Record, i []int) *string { return part(r, i).Metadata },
	}
	objects, checked, explainedLeaves := 0, 0, 0
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for line := 1; sc.Scan(); line++ {
			raw := bytes.TrimSpace(sc.Bytes())
			if len(raw) == 0 {
				continue
			}
			objects++
			where := fmt.Sprintf("%s:%d", filepath.Base(file), line)
			res, err := transform.Convert(raw, transform.Options{})
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			rec := res.Record
			if err := sourcesMakeInput(raw, rec); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			checkCorpusCounts(t, where, raw, &rec, res.Warnings)
			doc, err := decodeNumbers(string(raw))
			if err != nil {
				t.Fatal(err)
			}
			var all []leaf
			leaves(doc, "", "", nil, &all)
		leaf:
			for _, l := range all {
				if check, ok := rules[l.pattern]; ok {
					if _, empty := l.value.(map[string]any); empty {
						continue // an empty object where a column's parent object goes: nothing to hold
					}
					if err := check(&rec, l.idx, l.value); err != nil {
						t.Errorf("%s: %s: %v", where, l.path, err)
					}
					checked++
					continue
				}
				for prefix, get := range jsonColumns {
					if l.pattern == prefix || strings.HasPrefix(l.pattern, prefix+".") {
						if err := checkInJSON(get(&rec, l.idx), strings.TrimPrefix(l.path[len(l.path)-len(l.pattern)+len(prefix):], "."), l.value); err != nil {
							t.Errorf("%s: %s: %v", where, l.path, err)
						}
						checked++
						continue leaf
					}
				}
				if l.value == nil && nullObject(t, where, &rec, rules, l) {
					checked++
					continue
				}
				if special(t, where, &rec, doc, l) {
					checked++
					continue
				}
				if _, ok := corpusExplained[l.pattern]; ok {
					explainedLeaves++
					continue
				}
				for p := range corpusExplained {
					if base, ok := strings.CutSuffix(p, ".*"); ok && (l.pattern == base || strings.HasPrefix(l.pattern, base+".") || strings.HasPrefix(l.pattern, base+"[]")) {
						explainedLeaves++
						continue leaf
					}
				}
				t.Errorf("%s: %s = %v: no column holds it and it is not explained", where, l.path, l.value)
			}
		}
		f.Close()
	}
	t.Logf("%d objects from %d files: %d leaves checked against their columns, %d explained (source_json only)", objects, len(files), checked, explainedLeaves)
}

// checkInJSON checks that the JSON text col holds v at path (relative to the column's object; "" for
// the object itself).
func checkInJSON(col *string, path string, v any) error {
	if col == nil {
		if v == nil && path == "" {
			return nil
		}
		return fmt.Errorf("column is NULL, want JSON holding %v at %q", v, path)
	}
	doc, err := decodeNumbers(*col)
	if err != nil {
		return err
	}
	got, ok := lookup(doc, path)
	if !ok || !reflect.DeepEqual(got, v) {
		return fmt.Errorf("column %s holds %v at %q, want %v", *col, got, path, v)
	}
	return nil
}

// nullObject checks an object sent as null: every column that comes from it is NULL.
func nullObject(t *testing.T, where string, r *schemas.Record, rules map[string]leafCheck, l leaf) bool {
	t.Helper()
	switch l.pattern {
	case "conversation_rating":
		if r.Rating != nil {
			t.Errorf("%s: conversation_rating is null, but a rating row exists", where)
		}
		return true
	case "teammates":
		if r.Conversation.TeammateIDs != nil {
			t.Errorf("%s: teammates is null, but teammate_ids is %v", where, r.Conversation.TeammateIDs)
		}
		return true
	}
	n := 0
	for pattern, check := range rules {
		rest, ok := strings.CutPrefix(pattern, l.pattern+".")
		if !ok || strings.Contains(rest, "[]") {
			continue
		}
		n++
		if err := check(r, l.idx, nil); err != nil {
			t.Errorf("%s: %s is null, but %s: %v", where, l.path, pattern, err)
		}
	}
	return n > 0
}

// special checks the leaves whose column depends on other fields of the object.
func special(t *testing.T, where string, r *schemas.Record, doc any, l leaf) bool {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Errorf("%s: %s: "+format, append([]any{where, l.path}, args...)...)
	}
	switch l.pattern {
	case "user.type", "user.id", "user.user_id", "user.name", "user.email":
		// 1.x user: the contact with its id (the first customer, normally) carries its fields.
		id, _ := lookup(doc, "user.id")
		var ct *schemas.Contact
		for i := range r.Conversation.Contacts {
			if x := r.Conversation.Contacts[i].ID; x != nil && *x == fmt.Sprint(id) {
				ct = &r.Conversation.Contacts[i]
			}
		}
		if ct == nil {
			fail("no contact with the user's id %v", id)
			return true
		}
		var got *string
		switch l.pattern {
		case "user.type":
			got = ct.Type
		case "user.id":
			got = ct.ID
		case "user.user_id":
			got = ct.ExternalID
		case "user.name":
			got = ct.Name
		case "user.email":
			got = ct.Email
		}
		if err := str(func(*schemas.Record, []int) *string { return got })(r, nil, l.value); err != nil {
			fail("%v", err)
		}
		return true
	case "company_id":
		// The company object's id wins when sent; the bare key otherwise.
		if id, ok := lookup(doc, "company.id"); ok && id != nil {
			return true
		}
		if err := str(func(*schemas.Record, []int) *string { return r.Conversation.CompanyID })(r, nil, l.value); err != nil {
			fail("%v", err)
		}
		return true
	case "conversation_parts.total_count":
		// parts_total_count, unless statistics.count_conversation_parts says otherwise, and never
		// below the parts present.
		n, _ := l.value.(json.Number).Int64()
		c := &r.Conversation
		if c.CountConversationParts == nil && (c.PartsTotalCount == nil || *c.PartsTotalCount != max(n, int64(len(r.Parts)))) {
			fail("parts_total_count %s, want %d or the parts present", showPtr(c.PartsTotalCount), n)
		}
		return true
	case "contacts.contacts", "customers", "teammates.admins", "teammates.teammates", "tags.tags",
		"conversation_parts.conversation_parts[].tags", "conversation_parts.conversation_parts[].attachments",
		"source.attachments", "linked_objects.data", "ai_agent.content_sources.content_sources":
		// An empty list: the list column (or table) is empty, not NULL.
		var n = -1
		switch l.pattern {
		case "contacts.contacts", "customers":
			if r.Conversation.Contacts != nil {
				n = len(r.Conversation.Contacts)
			}
		case "teammates.admins", "teammates.teammates":
			if r.Conversation.TeammateIDs != nil {
				n = len(r.Conversation.TeammateIDs)
			}
		case "tags.tags":
			n = len(r.Tags)
		case "conversation_parts.conversation_parts[].tags":
			if tags := r.Parts[l.idx[0]].Tags; tags != nil {
				n = len(tags)
			}
		case "conversation_parts.conversation_parts[].attachments":
			if a := r.Parts[l.idx[0]].Attachments; a != nil {
				n = len(a)
			}
		case "source.attachments":
			if a := r.Conversation.MessageAttachments; a != nil {
				n = len(a)
			}
		case "linked_objects.data":
			if a := r.Conversation.LinkedObjects; a != nil {
				n = len(a)
			}
		case "ai_agent.content_sources.content_sources":
			if a := r.Conversation.AIAgentContentSources; a != nil {
				n = len(a)
			}
		}
		if n != 0 && !(l.pattern == "customers" && n > 0) { // 1.x user joins an empty customers list
			fail("an empty list became %d elements (-1: NULL)", n)
		}
		return true
	}
	return false
}

// checkCorpusCounts checks the part counts and the warnings that come with them.
func checkCorpusCounts(t *testing.T, where string, raw []byte, r *schemas.Record, warnings []transform.Warning) {
	t.Helper()
	c := &r.Conversation
	var probe struct {
		Parts *struct {
			Parts []json.RawMessage `json:"conversation_parts"`
		} `json:"conversation_parts"`
	}
	json.Unmarshal(raw, &probe)
	included := probe.Parts != nil && probe.Parts.Parts != nil
	if c.PartsIncluded != included || (c.PartsExportedCount == nil) == included {
		t.Errorf("%s: parts_included %v, parts_exported_count %s; the object has a part list: %v", where, c.PartsIncluded, showPtr(c.PartsExportedCount), included)
	}
	if c.PartsTotalCount != nil && *c.PartsTotalCount < int64(len(r.Parts)) {
		t.Errorf("%s: parts_total_count %d below the %d parts", where, *c.PartsTotalCount, len(r.Parts))
	}
	if !included && c.PartsTruncated {
		t.Errorf("%s: a list item is flagged truncated", where)
	}
	for _, w := range warnings {
		if !strings.Contains(w.Msg, "parts but") {
			t.Errorf("%s: unexpected warning %s", where, w)
		}
	}
}
