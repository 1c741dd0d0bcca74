package transform_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

var update = flag.Bool("update", false, "rewrite the golden outputs in testdata/transform")

const goldenDir = "../testdata/transform"

// sourceJSONPlaceholder stands in the goldens for source_json, which TestGolden compares with the input.
var sourceJSONPlaceholder = "(the input, compacted, without its part list)"

// partSourcePlaceholder stands in the goldens for parts' source_json.
var partSourcePlaceholder = "(the part in the input, compacted)"

// sourcesMakeInput checks that the conversation's source_json, with its parts' source_json put back
// as conversation_parts.conversation_parts, is the input: nothing lost, nothing stored twice.
func sourcesMakeInput(raw []byte, rec schemas.Record) error {
	decode := func(s string) (any, error) {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		err := dec.Decode(&v)
		return v, err
	}
	if rec.Conversation.SourceJSON == nil {
		return errors.New("no source_json")
	}
	conv := *rec.Conversation.SourceJSON
	doc, err := decode(conv)
	if err != nil {
		return fmt.Errorf("source_json %q: %v", conv, err)
	}
	if len(rec.Parts) > 0 {
		inner, _ := doc.(map[string]any)["conversation_parts"].(map[string]any)
		if inner == nil || inner["conversation_parts"] != nil {
			return fmt.Errorf("source_json holds the part list, or lost conversation_parts: %.300s", conv)
		}
		list := make([]any, len(rec.Parts))
		for i, p := range rec.Parts {
			if p.SourceJSON == nil {
				return fmt.Errorf("part %d has no source_json", i)
			}
			if list[i], err = decode(*p.SourceJSON); err != nil {
				return fmt.Errorf("part %d source_json: %v", i, err)
			}
		}
		inner["conversation_parts"] = list
	}
	want, err := decode(string(raw))
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(doc, want) {
		return fmt.Errorf("source_json with the parts put back is not the input:\n%v\n%v", doc, want)
	}
	return nil
}

// goldenInputs lists the input files, without the golden outputs that share the directory.
func goldenInputs(tb testing.TB) []string {
	tb.Helper()
	all, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var inputs []string
	for _, p := range all {
		if !strings.HasSuffix(p, ".golden.json") {
			inputs = append(inputs, p)
		}
	}
	if len(inputs) == 0 {
		tb.Fatal("no golden inputs in " + goldenDir)
	}
	return inputs
}

func TestGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			res, err := transform.Convert(raw, transform.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rec := res.Record
			// source_json would repeat the input in every golden; it is checked against it instead.
			if err := sourcesMakeInput(raw, rec); err != nil {
				t.Error(err)
			}
			rec.Conversation.SourceJSON = &sourceJSONPlaceholder
			for i := range rec.Parts {
				rec.Parts[i].SourceJSON = &partSourcePlaceholder
			}
			// HTML stays unescaped so the goldens read like the inputs.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			res.Record = rec
			if err := enc.Encode(res); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := strings.TrimSuffix(in, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./transform/ -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test ./transform/ -update to accept):\n%s", golden, got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func unix(sec int64) *time.Time { return ptr(time.Unix(sec, 0).UTC()) }

// TestRules pins, on the golden inputs, the rules that are easy to lose in a large golden diff.
func TestRules(t *testing.T) {
	load := func(t *testing.T, name string) schemas.Record {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := transform.Conversation(raw)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	check := func(t *testing.T, what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %s, want %s", what, show(got), show(want))
		}
	}

	t.Run("v2 full", func(t *testing.T) {
		rec := load(t, "v2_full.json")
		c := rec.Conversation
		check(t, "Date", rec.Date.String(), "2024-06-10")
		check(t, "AdminAssigneeID", c.AdminAssigneeID, ptr("4471"))
		check(t, "TeamAssigneeID", c.TeamAssigneeID, ptr("6062"))
		check(t, "MessageAuthorName", c.MessageAuthorName, ptr("Zoë Ångström"))
		check(t, "PartsTotalCount", c.PartsTotalCount, ptr(int64(12)))
		check(t, "PartsExportedCount", c.PartsExportedCount, ptr(int64(10)))
		check(t, "PartsTruncated", c.PartsTruncated, true)
		check(t, "CustomAttributes", c.CustomAttributes, ptr(`{"Plan":"Pro","Seats":12,"Nested":{"a":[1,2,{"b":null}],"html":"<b>x</b>","uni":"ü"}}`))
		check(t, "part ids", partIDs(rec), []string{"1500000001", "1500000002", "1500000003", "1500000004", "1500000005", "1500000006", "1500000007", "1500000008", "1500000009", "1500000010"})
		check(t, "unknown part_type", rec.Parts[4].PartType, ptr("quantum_teleport_v9"))
		check(t, "redacted part", rec.Parts[2].Redacted, ptr(true))
		check(t, "null body", rec.Parts[0].Body, (*string)(nil))
		check(t, "empty body", rec.Parts[5].Body, ptr(""))
		check(t, "assigned_to team", []*string{rec.Parts[5].AssignedToType, rec.Parts[5].AssignedToID}, []*string{ptr("team"), ptr("6062")})
		check(t, "float created_at", rec.Parts[7].CreatedAt, unix(1718080000))
		check(t, "string updated_at", rec.Parts[7].UpdatedAt, unix(1718080000))
		check(t, "empty-string notified_at", rec.Parts[7].NotifiedAt, (*time.Time)(nil))
		check(t, "rating", rec.Rating.Rating, ptr(int32(5)))
		check(t, "rating contact", rec.Rating.CustomerID, ptr("65f000000000000000000001"))
		check(t, "tag ids", []string{rec.Tags[0].TagID, rec.Tags[1].TagID}, []string{"81", "82"})
		check(t, "MessageAttachments", c.MessageAttachments, []schemas.Attachment{{Type: ptr("upload"), Name: ptr("screenshot.png"),
			URL: ptr("https://downloads.intercomcdn.com/i/o/1/screenshot.png"), ContentType: ptr("image/png"),
			Filesize: ptr(int64(12345)), Width: ptr(int64(640)), Height: ptr(int64(480))}})
		check(t, "Contacts", c.Contacts, []schemas.Contact{{Type: ptr("contact"), ID: ptr("65f000000000000000000001"), ExternalID: ptr("u-1")}})
		check(t, "TeammateIDs", c.TeammateIDs, []string{"4471"})
		check(t, "sla_applied null", []*string{c.SLAName, c.SLAStatus}, []*string{nil, nil})
		check(t, "zero duration is kept", c.TimeToAssignment, ptr(int64(0)))
		check(t, "null duration", c.TimeToFirstClose, (*int64)(nil))
		check(t, "absent duration", c.TimeToLastClose, (*int64)(nil))
		check(t, "LastClosedByID from a number", c.LastClosedByID, ptr("4471"))
		check(t, "CountReopens", c.CountReopens, ptr(int64(0)))
		check(t, "AIAgentParticipated", c.AIAgentParticipated, ptr(false))
		check(t, "no ai_agent", c.AIAgentSourceType, (*string)(nil))
		check(t, "part attachment without width", rec.Parts[3].Attachments, []schemas.Attachment{{Type: ptr("upload"), Name: ptr("plan.pdf"),
			URL: ptr("https://downloads.intercomcdn.com/plan.pdf"), ContentType: ptr("application/pdf"), Filesize: ptr(int64(999))}})
		check(t, "attachment counts", []int64{rec.Parts[0].AttachmentCount, rec.Parts[3].AttachmentCount}, []int64{0, 1})
		check(t, "empty attachments", rec.Parts[0].Attachments, []schemas.Attachment{})
		check(t, "part state", []*string{rec.Parts[4].State, rec.Parts[3].State}, []*string{ptr("open"), nil})
		check(t, "from_ai_agent false", []*bool{rec.Parts[0].AuthorFromAI, rec.Parts[0].AuthorAIAnswer}, []*bool{ptr(false), ptr(false)})
		check(t, "from_ai_agent absent", []*bool{rec.Parts[1].AuthorFromAI, rec.Parts[1].AuthorAIAnswer}, []*bool{nil, nil})
	})
	t.Run("v2 ai agent and sla", func(t *testing.T) {
		rec := load(t, "v2_ai_agent_sla.json")
		c := rec.Conversation
		check(t, "sla", []*string{c.SLAName, c.SLAStatus}, []*string{ptr("VIP: reply in 1h"), ptr("missed")})
		check(t, "durations", []*int64{c.TimeToAssignment, c.TimeToAdminReply, c.TimeToFirstClose, c.TimeToLastClose, c.MedianTimeToReply},
			[]*int64{ptr(int64(300)), ptr(int64(900)), ptr(int64(3600)), ptr(int64(7200)), ptr(int64(450))})
		check(t, "statistics times", []*time.Time{c.StatisticsFirstContactReplyAt, c.FirstAssignmentAt, c.FirstAdminReplyAt, c.FirstCloseAt,
			c.LastAssignmentAt, c.LastAssignmentAdminReplyAt, c.LastContactReplyAt, c.LastAdminReplyAt, c.LastCloseAt},
			[]*time.Time{unix(1740000060), unix(1740000300), unix(1740000900), unix(1740003600),
				unix(1740000300), unix(1740000900), unix(1740006000), unix(1740006500), unix(1740007200)})
		check(t, "LastClosedByID", c.LastClosedByID, ptr("4471"))
		check(t, "counts", []*int64{c.CountReopens, c.CountAssignments, c.CountConversationParts, c.PartsTotalCount},
			[]*int64{ptr(int64(1)), ptr(int64(2)), ptr(int64(6)), ptr(int64(6))})
		check(t, "AIAgentParticipated", c.AIAgentParticipated, ptr(true))
		check(t, "ai_agent", []*string{c.AIAgentSourceType, c.AIAgentSourceTitle, c.AIAgentLastAnswerType, c.AIAgentResolutionState, c.AIAgentRatingRemark},
			[]*string{ptr("workflow"), ptr("Fin over chat – “billing” ✨"), ptr("ai_answer"), ptr("routed_to_team"), ptr("Didn't <b>help</b>")})
		check(t, "AIAgentRating", c.AIAgentRating, ptr(int32(2)))
		check(t, "teammates under the spec's key, null id dropped", c.TeammateIDs, []string{"4471", "4472"})
		check(t, "contacts", c.Contacts, []schemas.Contact{
			{Type: ptr("contact"), ID: ptr("65f000000000000000000101"), ExternalID: ptr("cust_77")},
			{Type: ptr("contact"), ID: ptr("65f000000000000000000102")}})
		check(t, "empty message attachments", c.MessageAttachments, []schemas.Attachment{})
		check(t, "AI answer", []*bool{rec.Parts[0].AuthorFromAI, rec.Parts[0].AuthorAIAnswer}, []*bool{ptr(true), ptr(true)})
		check(t, "AI handover", []*bool{rec.Parts[2].AuthorFromAI, rec.Parts[2].AuthorAIAnswer}, []*bool{ptr(true), ptr(false)})
		check(t, "states", []*string{rec.Parts[0].State, rec.Parts[3].State, rec.Parts[4].State}, []*string{ptr("open"), ptr("closed"), nil})
		check(t, "two attachments", rec.Parts[1].Attachments, []schemas.Attachment{
			{Type: ptr("upload"), Name: ptr("bug.png"), URL: ptr("https://downloads.intercomcdn.com/i/o/9/bug.png"), ContentType: ptr("image/png"),
				Filesize: ptr(int64(20480)), Width: ptr(int64(1280)), Height: ptr(int64(720))},
			{Type: ptr("upload"), Name: ptr("log.txt"), URL: ptr("https://downloads.intercomcdn.com/i/o/9/log.txt"), ContentType: ptr("text/plain"),
				Filesize: ptr(int64(512))}})
		check(t, "AttachmentCount", rec.Parts[1].AttachmentCount, int64(2))
		check(t, "null and absent attachments", []any{rec.Parts[4].Attachments, rec.Parts[5].Attachments}, []any{[]schemas.Attachment(nil), []schemas.Attachment(nil)})
	})
	t.Run("v2 snoozed", func(t *testing.T) {
		rec := load(t, "v2_contacts_array_snoozed.json")
		c := rec.Conversation
		check(t, "WaitingSince", c.WaitingSince, (*time.Time)(nil))
		check(t, "SnoozedUntil", c.SnoozedUntil, unix(1612137600))
		check(t, "AdminAssigneeID", c.AdminAssigneeID, ptr("123"))
		check(t, "PartsTotalCount", c.PartsTotalCount, ptr(int64(1)))
		check(t, "CustomAttributes", c.CustomAttributes, ptr("{}"))
		check(t, "rating", rec.Rating.Rating, (*int32)(nil))
		check(t, "remark", rec.Rating.Remark, ptr("No rating, but: thanks 🙏"))
		check(t, "tags from a plain array", len(rec.Tags), 1)
	})
	t.Run("v2 unassigned", func(t *testing.T) {
		rec := load(t, "v2_unassigned_zero.json")
		c := rec.Conversation
		check(t, "ConversationID", c.ConversationID, "9003")
		check(t, "assignees", []*string{c.AdminAssigneeID, c.TeamAssigneeID}, []*string{nil, nil})
		check(t, "Title", c.Title, ptr(""))
		check(t, "MessageType", c.MessageType, (*string)(nil))
		check(t, "PartsTotalCount falls back to total_count", c.PartsTotalCount, ptr(int64(3)))
		check(t, "PartsTruncated", c.PartsTruncated, true)
		check(t, "CustomAttributes", c.CustomAttributes, (*string)(nil))
		check(t, "Rating", rec.Rating, (*schemas.ConversationRating)(nil))
	})
	t.Run("v2 team", func(t *testing.T) {
		c := load(t, "v2_team_null_admin.json").Conversation
		check(t, "assignees", []*string{c.AdminAssigneeID, c.TeamAssigneeID}, []*string{nil, ptr("6062")})
		check(t, "PartsTruncated", c.PartsTruncated, false)
	})
	t.Run("v2 odd numbers", func(t *testing.T) {
		rec := load(t, "v2_odd_numbers.json")
		c := rec.Conversation
		check(t, "ConversationID", c.ConversationID, "123456789012345678901234567890")
		check(t, "CreatedAt", c.CreatedAt, time.Unix(1700000000, 0).UTC())
		check(t, "UpdatedAt", c.UpdatedAt, unix(1700000123))
		check(t, "sentinels", []*time.Time{c.WaitingSince, c.SnoozedUntil, rec.Parts[0].UpdatedAt, rec.Parts[0].NotifiedAt}, []*time.Time{nil, nil, nil, nil})
		check(t, "last second before 2100", rec.Parts[1].CreatedAt, unix(4102444799))
		check(t, "assignees", []*string{c.AdminAssigneeID, c.TeamAssigneeID}, []*string{nil, nil})
		check(t, "part ids", partIDs(rec), []string{"98765432109876543210", "-5"})
		check(t, "assigned_to plain number", []*string{rec.Parts[1].AssignedToType, rec.Parts[1].AssignedToID}, []*string{nil, ptr("4471")})
		check(t, "external_id number", rec.Parts[1].ExternalID, ptr("31337"))
		check(t, "tag id", rec.Tags[0].TagID, "18446744073709551617")
		check(t, "rating from string", rec.Rating.Rating, ptr(int32(3)))
		check(t, "rating customer (1.x)", rec.Rating.CustomerID, ptr("77"))
		check(t, "PartsTotalCount from string", c.PartsTotalCount, ptr(int64(7)))
	})
	t.Run("v1 team", func(t *testing.T) {
		rec := load(t, "v1_assignee_team.json")
		c := rec.Conversation
		check(t, "assignees", []*string{c.AdminAssigneeID, c.TeamAssigneeID}, []*string{nil, ptr("3003")})
		check(t, "assigned_to plain string", []*string{rec.Parts[0].AssignedToType, rec.Parts[0].AssignedToID}, []*string{nil, ptr("3003")})
		check(t, "assigned_to plain number", rec.Parts[1].AssignedToID, ptr("26"))
		check(t, "redacted in 1.x", rec.Parts[0].Redacted, (*bool)(nil))
		check(t, "FirstContactReplyAt", c.FirstContactReplyAt, unix(1704067199))
		check(t, "rating customer", rec.Rating.CustomerType, ptr("user"))
		check(t, "Date of 23:59:59", rec.Date.String(), "2023-12-31")
	})
	t.Run("v1 nobody", func(t *testing.T) {
		rec := load(t, "v1_assignee_nobody.json")
		c := rec.Conversation
		check(t, "ConversationID", c.ConversationID, "5502")
		check(t, "assignees", []*string{c.AdminAssigneeID, c.TeamAssigneeID}, []*string{nil, nil})
		check(t, "Read", c.Read, (*bool)(nil))
		check(t, "all-null rating", rec.Rating, (*schemas.ConversationRating)(nil))
	})
	t.Run("v1 attachments and customers", func(t *testing.T) {
		rec := load(t, "v1_attachments_customers.json")
		c := rec.Conversation
		check(t, "MessageAttachments", c.MessageAttachments, []schemas.Attachment{
			{Name: ptr("invoice №7.pdf"), URL: ptr("https://downloads.intercomcdn.com/i/o/1/invoice.pdf")},
			{Name: ptr("photo.jpg"), URL: ptr("https://downloads.intercomcdn.com/i/o/1/photo.jpg")}})
		check(t, "customers, user not repeated", c.Contacts, []schemas.Contact{
			{Type: ptr("user"), ID: ptr("5680000000000000000000a1")}, {Type: ptr("lead"), ID: ptr("5680000000000000000000b2")}})
		check(t, "part attachment", rec.Parts[0].Attachments, []schemas.Attachment{
			{Name: ptr("invoice №7 (fixed).pdf"), URL: ptr("https://downloads.intercomcdn.com/i/o/2/invoice-fixed.pdf")}})
		check(t, "AttachmentCount", []int64{rec.Parts[0].AttachmentCount, rec.Parts[1].AttachmentCount}, []int64{1, 0})
		check(t, "2.x-only lists are NULL", []any{c.TeammateIDs}, []any{[]string(nil)})
		check(t, "2.x-only scalars are NULL", []any{c.SLAName, c.TimeToAssignment, c.CountConversationParts, c.AIAgentParticipated, rec.Parts[0].State, rec.Parts[0].AuthorFromAI},
			[]any{(*string)(nil), (*int64)(nil), (*int64)(nil), (*bool)(nil), (*string)(nil), (*bool)(nil)})
	})
	t.Run("v1 user apart from customers", func(t *testing.T) {
		c := load(t, "v1_seed000_003.json").Conversation
		check(t, "Contacts", c.Contacts, []schemas.Contact{
			{Type: ptr("user"), ID: ptr("58ff3f670f14ab4f1aa83750")}, {Type: ptr("user"), ID: ptr("536e564f316c83104c000020")}})
		check(t, "MessageAttachments", c.MessageAttachments, []schemas.Attachment{{Name: ptr("signature"), URL: ptr("")}})
	})
	t.Run("v1 seed", func(t *testing.T) {
		rec := load(t, "v1_seed001a.json")
		c := rec.Conversation
		check(t, "AdminAssigneeID", c.AdminAssigneeID, ptr("814860"))
		check(t, "WaitingSince", c.WaitingSince, (*time.Time)(nil))
		check(t, "PartsTruncated", c.PartsTruncated, true)
		check(t, "Rating", rec.Rating, (*schemas.ConversationRating)(nil))
		check(t, "MessageRedacted", c.MessageRedacted, (*bool)(nil))
	})
}

func partIDs(rec schemas.Record) []string {
	var ids []string
	for _, p := range rec.Parts {
		ids = append(ids, p.PartID)
	}
	return ids
}

// show prints pointers by what they point to, so failures are readable.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func TestTruncatedAt500(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"id":"77","created_at":1718000000,"statistics":{"count_conversation_parts":650},"conversation_parts":{"type":"conversation_part.list","total_count":500,"conversation_parts":[`)
	for i := range 500 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"conversation_part","id":%d,"part_type":"comment","body":"<p>%d</p>","created_at":%d}`, 3000+i, i, 1718000000+i)
	}
	b.WriteString(`]}}`)
	rec, err := transform.Conversation([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Conversation
	if c.PartsExportedCount == nil || *c.PartsExportedCount != 500 || c.PartsTotalCount == nil || *c.PartsTotalCount != 650 || !c.PartsTruncated {
		t.Errorf("counts: exported %s, total %s, truncated %v; want 500, 650, true", show(c.PartsExportedCount), show(c.PartsTotalCount), c.PartsTruncated)
	}
	if len(rec.Parts) != 500 || rec.Parts[0].PartID != "3000" || rec.Parts[499].PartID != "3499" {
		t.Errorf("parts not kept in API order")
	}
	for i, p := range rec.Parts {
		if p.ConversationID != "77" {
			t.Fatalf("part %d has conversation id %q", i, p.ConversationID)
		}
	}
}

func TestErrors(t *testing.T) {
	const ok = `"id":"123","created_at":1700000000`
	for _, tc := range []struct {
		name  string
		in    string
		field string // the message must name it
		exact string // when set, the whole message
	}{
		{name: "not JSON", in: `{"id": "123",`, field: "not valid JSON"},
		{name: "empty input", in: ``, field: "not valid JSON"},
		{name: "trailing comma", in: `{"id":"1","created_at":1,}`, field: "not valid JSON"},
		{name: "array", in: `[]`, exact: "conversation: want an object, got array"},
		{name: "null document", in: `null`, exact: "conversation: id: missing"},
		{name: "missing id", in: `{"created_at":1700000000}`, exact: "conversation: id: missing"},
		{name: "null id", in: `{"id":null,"created_at":1700000000}`, field: "id: want an id, got null"},
		{name: "empty id", in: `{"id":"","created_at":1700000000}`, field: `id: want an id, got ""`},
		{name: "float id", in: `{"id":1.5,"created_at":1700000000}`, exact: "conversation: id: want an id (string or integer), got 1.5"},
		{name: "object id", in: `{"id":{},"created_at":1700000000}`, field: "id: want an id (string or integer), got an object"},
		{name: "created_at missing", in: `{"id":"123"}`, exact: `conversation "123": created_at: missing`},
		{name: "created_at null", in: `{"id":"123","created_at":null}`, field: `created_at: want a Unix timestamp, got null or ""`},
		{name: "created_at empty", in: `{"id":"123","created_at":""}`, field: `created_at: want a Unix timestamp, got null or ""`},
		{name: "created_at yesterday", in: `{"id":"123","created_at":"yesterday"}`, exact: `conversation "123": created_at: want a Unix timestamp or an ISO 8601 time, got "yesterday"`},
		{name: "created_at before id", in: `{"created_at":"yesterday","id":123}`, exact: `conversation "123": created_at: want a Unix timestamp or an ISO 8601 time, got "yesterday"`},
		{name: "created_at zero", in: `{"id":"123","created_at":0}`, exact: `conversation "123": created_at: want a Unix timestamp between 1970 and 2100, got 0`},
		{name: "created_at sentinel", in: `{"id":"123","created_at":64654125776}`, field: "created_at: want a Unix timestamp between 1970 and 2100"},
		{name: "created_at Infinity", in: `{"id":"123","created_at":"Infinity"}`, field: "created_at: want a Unix timestamp"},
		{name: "created_at bool", in: `{"id":"123","created_at":true}`, field: "created_at: want a Unix timestamp or an ISO 8601 time, got true"},
		{name: "open yes", in: `{` + ok + `,"open":"yes"}`, exact: `conversation "123": open: want true, false or null, got "yes"`},
		{name: "state number", in: `{` + ok + `,"state":1}`, exact: `conversation "123": state: want a string, got number`},
		{name: "parts string", in: `{` + ok + `,"conversation_parts":"none"}`, exact: `conversation "123": conversation_parts: want an object, got string`},
		{name: "parts list string", in: `{` + ok + `,"conversation_parts":{"conversation_parts":"x"}}`, field: "conversation_parts.conversation_parts: want an array, got string"},
		{name: "part not object", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},7]}}`, field: "conversation_parts.conversation_parts[1]: want an object, got number"},
		{name: "part author id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","author":{"id":true}}]}}`, field: "conversation_parts.conversation_parts[0].author.id: want an id (string or integer), got true"},
		{name: "part assigned_to bool", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","assigned_to":false}]}}`, field: "conversation_parts.conversation_parts[0].assigned_to: want an object, an id or null, got false"},
		{name: "part assigned_to id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","assigned_to":{"id":[]}}]}}`, field: "conversation_parts.conversation_parts[0].assigned_to.id: want an id"},
		{name: "part missing id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},{"part_type":"note"}]}}`, exact: `conversation "123": conversation_parts.conversation_parts[1].id: missing`},
		{name: "part redacted", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","redacted":"no"}]}}`, field: `conversation_parts.conversation_parts[0].redacted: want true, false or null, got "no"`},
		{name: "tags string", in: `{` + ok + `,"tags":"vip"}`, exact: `conversation "123": tags: want a tag list (object or array), got "vip"`},
		{name: "tag name number", in: `{` + ok + `,"tags":{"tags":[{"id":"1","name":5}]}}`, field: `tags.tags[0].name: want a string, got number`},
		{name: "tag missing id", in: `{` + ok + `,"tags":{"tags":[{"name":"vip"}]}}`, field: `tags.tags[0].id: missing`},
		{name: "rating string", in: `{` + ok + `,"conversation_rating":"great"}`, field: `conversation_rating: want an object, got string`},
		{name: "custom_attributes array", in: `{` + ok + `,"custom_attributes":[]}`, field: `custom_attributes: want an object, got an array`},
		{name: "assignee id", in: `{` + ok + `,"admin_assignee_id":false}`, field: `admin_assignee_id: want an id (string or integer), got false`},
		{name: "source author", in: `{` + ok + `,"source":{"author":"me"}}`, field: `source.author: want an object, got string`},
		{name: "last_closed_by_id float", in: `{` + ok + `,"statistics":{"last_closed_by_id":1.5}}`, field: `statistics.last_closed_by_id: want an id (string or integer), got 1.5`},
		{name: "sla_applied string", in: `{` + ok + `,"sla_applied":"VIP"}`, field: `sla_applied: want an object, got string`},
		{name: "sla_status number", in: `{` + ok + `,"sla_applied":{"sla_status":1}}`, field: `sla_applied.sla_status: want a string, got number`},
		{name: "ai_agent_participated", in: `{` + ok + `,"ai_agent_participated":"yes"}`, field: `ai_agent_participated: want true, false or null, got "yes"`},
		{name: "ai_agent array", in: `{` + ok + `,"ai_agent":[]}`, field: `ai_agent: want an object, got array`},
		{name: "contacts string", in: `{` + ok + `,"contacts":"u1"}`, exact: `conversation "123": contacts: want a contact list (object or array), got "u1"`},
		{name: "contact id", in: `{` + ok + `,"contacts":{"contacts":[{"id":true}]}}`, field: `contacts.contacts.id: want an id (string or integer), got true`},
		{name: "customers object", in: `{` + ok + `,"customers":{}}`, field: `customers: want an array, got object`},
		{name: "teammates number", in: `{` + ok + `,"teammates":5}`, field: `teammates: want a teammate list (object or array), got 5`},
		{name: "teammate id", in: `{` + ok + `,"teammates":{"admins":[{"id":{}}]}}`, field: `teammates.admins.id: want an id (string or integer), got an object`},
		{name: "attachments object", in: `{` + ok + `,"source":{"attachments":{}}}`, field: `source.attachments: want an array, got object`},
		{name: "part state", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","state":1}]}}`, field: `conversation_parts.conversation_parts[0].state: want a string, got number`},
		{name: "part from_ai_agent", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","author":{"from_ai_agent":"yes"}}]}}`, exact: `conversation "123": conversation_parts.conversation_parts[0].author.from_ai_agent: want true, false or null, got "yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := transform.Conversation([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error; got %s", show(rec))
			}
			if !errors.Is(err, transform.ErrInvalidConversation) {
				t.Errorf("error %q does not wrap ErrInvalidConversation", err)
			}
			if tc.exact != "" && err.Error() != tc.exact {
				t.Errorf("error\n got %q\nwant %q", err, tc.exact)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not contain %q", err, tc.field)
			}
			if !reflect.DeepEqual(rec, schemas.Record{}) {
				t.Errorf("partial record returned with the error: %s", show(rec))
			}
		})
	}
}

// TestBadValues: an unparseable timestamp or number outside ids and created_at costs that value (NULL,
// a warning naming the field), not the conversation; ISO 8601 times are read.
func TestBadValues(t *testing.T) {
	const ok = `"id":"123","created_at":1700000000`
	parts := func(p string) string {
		return `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},` + p + `]}}`
	}
	for _, tc := range []struct {
		name, in string
		warning  string // the whole warning
		null     func(r schemas.Record) any
	}{
		{"part created_at", parts(`{"id":"2","created_at":"soon"}`), `conversation_parts.conversation_parts[1].created_at: want a Unix timestamp or an ISO 8601 time, got "soon"; written as NULL`,
			func(r schemas.Record) any { return r.Parts[1].CreatedAt }},
		{"tag applied_at", `{` + ok + `,"tags":{"tags":[{"id":"1","applied_at":"x"}]}}`, `tags.tags[0].applied_at: want a Unix timestamp or an ISO 8601 time, got "x"; written as NULL`,
			func(r schemas.Record) any { return r.Tags[0].AppliedAt }},
		{"tag applied_at in array", `{` + ok + `,"tags":[{"id":"1"},{"id":"2","applied_at":"x"}]}`, `tags[1].applied_at: want a Unix timestamp or an ISO 8601 time, got "x"; written as NULL`,
			func(r schemas.Record) any { return r.Tags[1].AppliedAt }},
		{"rating word", `{` + ok + `,"conversation_rating":{"rating":"five","remark":"ok"}}`, `conversation_rating.rating: want an integer, got "five"; written as NULL`,
			func(r schemas.Record) any { return r.Rating.Rating }},
		{"rating huge", `{` + ok + `,"conversation_rating":{"rating":99999999999}}`, `conversation_rating.rating: want a rating that fits 32 bits, got 99999999999; written as NULL`,
			func(r schemas.Record) any { return r.Rating.Rating }},
		{"count float", `{` + ok + `,"statistics":{"count_conversation_parts":1.5}}`, `statistics.count_conversation_parts: want an integer, got 1.5; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.CountConversationParts }},
		{"duration word", `{` + ok + `,"statistics":{"time_to_assignment":"soon"}}`, `statistics.time_to_assignment: want a number of seconds, got "soon"; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.TimeToAssignment }},
		{"statistics time", `{` + ok + `,"statistics":{"last_close_at":true}}`, `statistics.last_close_at: want a Unix timestamp or an ISO 8601 time, got true; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.LastCloseAt }},
		{"statistics time not ISO", `{` + ok + `,"statistics":{"first_contact_reply_at":"2024-13-45T99:00:00Z"}}`, `statistics.first_contact_reply_at: want a Unix timestamp or an ISO 8601 time, got "2024-13-45T99:00:00Z"; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.StatisticsFirstContactReplyAt }},
		{"count_reopens word", `{` + ok + `,"statistics":{"count_reopens":"x"}}`, `statistics.count_reopens: want an integer, got "x"; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.CountReopens }},
		{"ai_agent rating huge", `{` + ok + `,"ai_agent":{"rating":99999999999}}`, `ai_agent.rating: want a rating that fits 32 bits, got 99999999999; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.AIAgentRating }},
		{"attachment filesize", `{` + ok + `,"source":{"attachments":[{"filesize":"big"}]}}`, `source.attachments[0].filesize: want an integer, got "big"; written as NULL`,
			func(r schemas.Record) any { return r.Conversation.MessageAttachments[0].Filesize }},
		{"part attachment width", parts(`{"id":"2","attachments":[{"width":1},{"width":1.5}]}`), `conversation_parts.conversation_parts[1].attachments[1].width: want an integer, got 1.5; written as NULL`,
			func(r schemas.Record) any { return r.Parts[1].Attachments[1].Width }},
		{"parts count below the parts", `{` + ok + `,"statistics":{"count_conversation_parts":1},"conversation_parts":{"total_count":1,"conversation_parts":[{"id":"1"},{"id":"2"}]}}`,
			`statistics.count_conversation_parts: says 1 parts but 2 are present; parts_total_count is 2`,
			func(r schemas.Record) any {
				if *r.Conversation.PartsTotalCount != 2 || *r.Conversation.CountConversationParts != 1 {
					return r.Conversation.PartsTotalCount
				}
				return (*int64)(nil)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := transform.Convert([]byte(tc.in), transform.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) != 1 || res.Warnings[0].String() != tc.warning {
				t.Errorf("warnings %q\nwant [%q]", res.Warnings, tc.warning)
			}
			if v := reflect.ValueOf(tc.null(res.Record)); !v.IsNil() {
				t.Errorf("value %s, want NULL", show(v.Interface()))
			}
			// The value as sent stays in source_json (the part's, for a part's value).
			all := *res.Conversation.SourceJSON
			for _, p := range res.Parts {
				all += *p.SourceJSON
			}
			if _, got, ok := strings.Cut(tc.warning, "got "); ok {
				if raw, _, _ := strings.Cut(got, ";"); !strings.Contains(all, raw) {
					t.Errorf("source_json lost the value %s: %s", raw, all)
				}
			}
		})
	}
	// ISO 8601 times are times.
	for in, want := range map[string]int64{
		`"2024-06-10T12:00:00Z"`: 1718020800, `"2024-06-10T14:00:00+02:00"`: 1718020800, `"2024-06-10T12:00:00.75Z"`: 1718020800,
		`"2024-06-10T12:00:00"`: 1718020800, `"2024-06-10"`: 1717977600,
	} {
		res, err := transform.Convert([]byte(`{"id":"1","created_at":`+in+`,"statistics":{"first_contact_reply_at":`+in+`}}`), transform.Options{})
		if err != nil || len(res.Warnings) > 0 {
			t.Fatalf("%s: %v %v", in, err, res.Warnings)
		}
		if got := res.Conversation.StatisticsFirstContactReplyAt; got == nil || got.Unix() != want || res.Conversation.CreatedAt.Unix() != want {
			t.Errorf("%s read as %s, %v; want %d", in, show(got), res.Conversation.CreatedAt, want)
		}
	}
}

func TestSyntaxErrorIsReachable(t *testing.T) {
	_, err := transform.Conversation([]byte(`{"id":`))
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		t.Errorf("error %v does not wrap *json.SyntaxError", err)
	}
}

// TestShapesAgree renders one conversation in both API generations: every column both carry must match.
func TestShapesAgree(t *testing.T) {
	const v1 = `{
	  "type": "conversation", "id": "4242", "created_at": 1710000000, "updated_at": 1710003600,
	  "waiting_since": 64654125776, "snoozed_until": null, "open": false, "state": "closed", "read": true,
	  "conversation_message": {"type": "email", "id": "777", "delivered_as": "customer_initiated", "subject": "Hi",
	    "body": "<p>Help</p>", "url": null, "author": {"type": "user", "id": "u1"}, "attachments": [{"name": "a.png", "url": "x"}]},
	  "user": {"type": "user", "id": "u1"}, "customers": [{"type": "user", "id": "u1"}],
	  "assignee": {"type": "admin", "id": "25"},
	  "customer_first_reply": {"created_at": 1710000000, "type": "email", "url": null},
	  "conversation_rating": {"rating": 2, "remark": "slow", "created_at": 1710003000,
	    "customer": {"type": "user", "id": "u1"}, "teammate": {"type": "admin", "id": "25"}},
	  "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": "5", "name": "bug", "applied_at": 1710000100, "applied_by": {"type": "admin", "id": "25"}}]},
	  "conversation_parts": {"type": "conversation_part.list", "total_count": 2, "conversation_parts": [
	    {"type": "conversation_part", "id": "p1", "part_type": "assignment", "body": null, "created_at": 1710000050,
	     "updated_at": 1710000050, "notified_at": 1710000050, "assigned_to": {"type": "admin", "id": "25"},
	     "author": {"type": "bot", "id": "b1"}, "attachments": [], "external_id": null},
	    {"type": "conversation_part", "id": "p2", "part_type": "close", "body": "<p>Done</p>", "created_at": 1710003600,
	     "updated_at": 1710003600, "notified_at": 1710003601, "assigned_to": null,
	     "author": {"type": "admin", "id": "25"}, "attachments": [{"name": "r.txt", "url": "y"}], "external_id": "e2"}]}
	}`
	const v2 = `{
	  "type": "conversation", "id": 4242, "created_at": 1710000000, "updated_at": 1710003600,
	  "waiting_since": 64654125776, "snoozed_until": null, "open": false, "state": "closed", "read": true,
	  "title": "Help", "priority": "not_priority",
	  "source": {"type": "email", "id": 777, "delivered_as": "customer_initiated", "subject": "Hi",
	    "body": "<p>Help</p>", "url": null, "author": {"type": "user", "id": "u1", "name": "U", "email": "u@x"},
	    "attachments": [{"type": "upload", "name": "a.png", "url": "x"}], "redacted": false},
	  "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "u1"}]},
	  "admin_assignee_id": 25, "team_assignee_id": null,
	  "first_contact_reply": {"created_at": 1710000000, "type": "email", "url": null},
	  "conversation_rating": {"rating": 2, "remark": "slow", "created_at": 1710003000,
	    "contact": {"type": "user", "id": "u1"}, "teammate": {"type": "admin", "id": 25}},
	  "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": 5, "name": "bug", "applied_at": 1710000100, "applied_by": {"type": "admin", "id": 25}}]},
	  "statistics": {"count_conversation_parts": 2, "time_to_first_close": 3600, "last_close_at": 1710003600},
	  "custom_attributes": {"k": "v"},
	  "teammates": {"type": "admin.list", "admins": [{"type": "admin", "id": 25}]},
	  "sla_applied": {"type": "conversation_sla_summary", "sla_name": "1h", "sla_status": "hit"},
	  "ai_agent_participated": true, "ai_agent": {"source_type": "workflow", "rating": 5},
	  "conversation_parts": {"type": "conversation_part.list", "total_count": 2, "conversation_parts": [
	    {"type": "conversation_part", "id": "p1", "part_type": "assignment", "body": null, "created_at": 1710000050,
	     "updated_at": 1710000050, "notified_at": 1710000050, "assigned_to": {"type": "admin", "id": 25},
	     "author": {"type": "bot", "id": "b1", "name": "Fin", "email": ""}, "attachments": [], "external_id": null, "redacted": false},
	    {"type": "conversation_part", "id": "p2", "part_type": "close", "body": "<p>Done</p>", "created_at": 1710003600,
	     "updated_at": 1710003600, "notified_at": 1710003601, "assigned_to": null,
	     "author": {"type": "admin", "id": "25", "name": "A", "email": "a@x", "from_ai_agent": false, "is_ai_answer": false},
	     "attachments": [{"type": "upload", "name": "r.txt", "url": "y", "content_type": "text/plain", "filesize": 3}],
	     "external_id": "e2", "redacted": false, "state": "closed"}]}
	}`
	r1, err := transform.Conversation([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := transform.Conversation([]byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	// Blank what only 2.x carries and where the generations spell values differently (attachment and
	// contact types), then the two records must be identical.
	c := &r2.Conversation
	c.Title, c.Priority, c.MessageRedacted, c.CustomAttributes = nil, nil, nil, nil
	c.MessageAuthorName, c.MessageAuthorEmail = nil, nil
	c.TeammateIDs, c.SLAName, c.SLAStatus, c.CountConversationParts, c.AIAgentParticipated = nil, nil, nil, nil, nil
	c.TimeToFirstClose, c.LastCloseAt, c.AIAgentSourceType, c.AIAgentRating = nil, nil, nil, nil
	c.MessageAttachments[0].Type = nil
	for i := range c.Contacts {
		c.Contacts[i].Type, r1.Conversation.Contacts[i].Type = nil, nil
	}
	r1.Conversation.SourceJSON, c.SourceJSON = nil, nil
	for i := range r2.Parts {
		p := &r2.Parts[i]
		p.Redacted, p.AuthorName, p.AuthorEmail, p.AuthorFromAI, p.AuthorAIAnswer, p.State = nil, nil, nil, nil, nil, nil
		p.SourceJSON, r1.Parts[i].SourceJSON = nil, nil
		for k := range p.Attachments {
			a := &p.Attachments[k]
			a.Type, a.ContentType, a.Filesize = nil, nil, nil
		}
	}
	if !reflect.DeepEqual(r1, r2) {
		t.Errorf("shapes disagree:\n1.x %s\n2.x %s", show(r1), show(r2))
	}
	if r1.Conversation.AdminAssigneeID == nil || r1.Rating == nil || len(r1.Parts) != 2 || len(r1.Tags) != 1 ||
		len(r1.Conversation.MessageAttachments) != 1 || len(r1.Conversation.Contacts) != 1 || r1.Parts[1].Attachments == nil {
		t.Errorf("comparison is vacuous: %s", show(r1))
	}
}

func TestSourceJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"already compact", `{"id":"1","created_at":1700000000}`, `{"id":"1","created_at":1700000000}`},
		{"whitespace between tokens", " {\r\n\t\"id\" : \"1\" ,\n \"created_at\": 1700000000, \"x\": [ 1 , { } ] }\n",
			`{"id":"1","created_at":1700000000,"x":[1,{}]}`},
		{"whitespace inside strings", `{"id": "1", "created_at": 1700000000, "title": " a  b\t\" c \\", "k": "\\"}`,
			`{"id":"1","created_at":1700000000,"title":" a  b\t\" c \\","k":"\\"}`},
		{"html and unicode as sent", `{"id": "1", "created_at": 1700000000, "title": "<b>&</b> ü \u00fc"}`,
			`{"id":"1","created_at":1700000000,"title":"<b>&</b> ü \u00fc"}`},
		{"invalid UTF-8", "{\"id\": \"1\", \"created_at\": 1700000000, \"title\": \"a\xffb\"}", "{\"id\":\"1\",\"created_at\":1700000000,\"title\":\"a\uFFFDb\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := transform.Conversation([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Conversation.SourceJSON; got == nil || *got != tc.want {
				t.Errorf("SourceJSON = %s, want %q", show(got), tc.want)
			}
		})
	}

	raw, err := os.ReadFile(filepath.Join(goldenDir, "v2_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	with, err := transform.ConversationWith(raw, transform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := transform.ConversationWith(raw, transform.Options{OmitSourceJSON: true})
	if err != nil {
		t.Fatal(err)
	}
	if without.Conversation.SourceJSON != nil {
		t.Errorf("OmitSourceJSON kept %d bytes of JSON", len(*without.Conversation.SourceJSON))
	}
	with.Conversation.SourceJSON = nil
	for i := range with.Parts {
		if with.Parts[i].SourceJSON == nil || without.Parts[i].SourceJSON != nil {
			t.Errorf("part %d: source_json %s with, %s without", i, show(with.Parts[i].SourceJSON), show(without.Parts[i].SourceJSON))
		}
		with.Parts[i].SourceJSON = nil
	}
	if !reflect.DeepEqual(with, without) {
		t.Error("OmitSourceJSON changed more than source_json")
	}
}

// TestFakeWorkspace transforms the fake server's workspace as each API generation renders it, and checks
// the newer columns against the model they were rendered from.
func TestFakeWorkspace(t *testing.T) {
	ws := intercomtest.NewWorkspace(21, 120)
	for _, version := range []string{"1.4", "2.11", "2.16"} {
		t.Run(version, func(t *testing.T) {
			v2 := version != "1.4"
			var dump bytes.Buffer
			if err := ws.Dump(&dump, version); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for line := range bytes.Lines(dump.Bytes()) {
				rec, err := transform.Conversation(line)
				if err != nil {
					t.Fatal(err)
				}
				c := rec.Conversation
				m, ok := ws.Conversation(c.ConversationID)
				if !ok {
					t.Fatalf("unknown conversation %s", c.ConversationID)
				}
				var contactIDs []string
				for _, ct := range c.Contacts {
					contactIDs = append(contactIDs, *ct.ID)
				}
				var wantContacts []string
				for _, ct := range m.Contacts {
					wantContacts = append(wantContacts, ct.ID)
				}
				if !reflect.DeepEqual(contactIDs, wantContacts) {
					t.Fatalf("%s: contacts %v, want %v", m.ID, contactIDs, wantContacts)
				}
				if len(c.MessageAttachments) != len(m.Message.Attachments) || c.MessageAttachments == nil {
					t.Fatalf("%s: %d message attachments, want %d", m.ID, len(c.MessageAttachments), len(m.Message.Attachments))
				}
				for i, a := range m.Message.Attachments {
					got := c.MessageAttachments[i]
					if *got.Name != a.Name || *got.URL != a.URL || v2 && (*got.ContentType != a.ContentType || *got.Filesize != a.Filesize) {
						t.Fatalf("%s: message attachment %s, want %+v", m.ID, show(got), a)
					}
				}
				shown := m.Parts[max(0, len(m.Parts)-500):]
				for i, p := range rec.Parts {
					mp := shown[i]
					if p.AttachmentCount != int64(len(mp.Attachments)) {
						t.Fatalf("%s/%s: %d attachments, want %d", m.ID, p.PartID, p.AttachmentCount, len(mp.Attachments))
					}
					wantState, wantAI := (*string)(nil), []*bool{nil, nil}
					if version == "2.16" {
						wantState, wantAI = &mp.State, []*bool{&mp.FromAIAgent, &mp.IsAIAnswer}
					}
					if !reflect.DeepEqual(p.State, wantState) || !reflect.DeepEqual([]*bool{p.AuthorFromAI, p.AuthorAIAnswer}, wantAI) {
						t.Fatalf("%s/%s: state %s, AI %s", m.ID, p.PartID, show(p.State), show([]*bool{p.AuthorFromAI, p.AuthorAIAnswer}))
					}
					seen["part attachment"] = seen["part attachment"] || p.AttachmentCount > 0
					seen["ai answer"] = seen["ai answer"] || p.AuthorAIAnswer != nil && *p.AuthorAIAnswer
				}
				if !v2 {
					if c.TeammateIDs != nil || c.SLAName != nil || c.AIAgentParticipated != nil || c.CountConversationParts != nil {
						t.Fatalf("%s: 2.x-only columns filled from 1.x", m.ID)
					}
					continue
				}
				if !reflect.DeepEqual(c.TeammateIDs, append([]string{}, m.Teammates...)) {
					t.Fatalf("%s: teammates %v, want %v", m.ID, c.TeammateIDs, m.Teammates)
				}
				if s := m.SLA; s == nil && c.SLAName != nil || s != nil && (*c.SLAName != s.Name || *c.SLAStatus != s.Status) {
					t.Fatalf("%s: sla %s %s, want %+v", m.ID, show(c.SLAName), show(c.SLAStatus), s)
				}
				if *c.AIAgentParticipated != m.AIAgentParticipated || (m.AIAgent != nil) != (c.AIAgentSourceType != nil) {
					t.Fatalf("%s: ai agent %v %s, want %v %+v", m.ID, *c.AIAgentParticipated, show(c.AIAgentSourceType), m.AIAgentParticipated, m.AIAgent)
				}
				if a := m.AIAgent; a != nil {
					var rating *int32
					if a.Rating != nil {
						rating = ptr(int32(*a.Rating))
					}
					if *c.AIAgentSourceType != a.SourceType || deref(c.AIAgentSourceTitle) != a.SourceTitle || deref(c.AIAgentLastAnswerType) != a.LastAnswerType ||
						deref(c.AIAgentResolutionState) != a.ResolutionState || !reflect.DeepEqual(c.AIAgentRating, rating) || deref(c.AIAgentRatingRemark) != a.RatingRemark {
						t.Fatalf("%s: ai agent columns %s, want %+v", m.ID, show(c), a)
					}
					seen["ai agent"] = true
				}
				seen["sla"] = seen["sla"] || c.SLAName != nil
				seen["statistics"] = seen["statistics"] || c.FirstAdminReplyAt != nil && c.TimeToAdminReply != nil && c.CountAssignments != nil
			}
			want := []string{"part attachment"}
			if v2 {
				want = append(want, "sla", "ai agent", "statistics")
			}
			if version == "2.16" {
				want = append(want, "ai answer")
			}
			for _, f := range want {
				if !seen[f] {
					t.Errorf("no conversation shows %s", f)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func FuzzConversation(f *testing.F) {
	for _, in := range goldenInputs(f) {
		raw, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"id":1,"created_at":"1","tags":[{"id":2}],"conversation_parts":{"conversation_parts":[{"id":3,"assigned_to":4}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := transform.Conversation(raw)
		if err != nil {
			if !errors.Is(err, transform.ErrInvalidConversation) {
				t.Fatalf("error %q does not wrap ErrInvalidConversation", err)
			}
			return
		}
		c := rec.Conversation
		if c.ConversationID == "" {
			t.Fatal("success with an empty conversation id")
		}
		if c.CreatedAt.Unix() <= 0 || c.CreatedAt.Unix() >= 4102444800 || c.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at %v outside 1970..2100 UTC", c.CreatedAt)
		}
		if rec.Date != schemas.DateOf(c.CreatedAt) {
			t.Fatalf("Date %v is not the day of created_at %v", rec.Date, c.CreatedAt)
		}
		if c.PartsIncluded != (c.PartsExportedCount != nil) || (c.PartsExportedCount == nil && len(rec.Parts) > 0) ||
			(c.PartsExportedCount != nil && *c.PartsExportedCount != int64(len(rec.Parts))) {
			t.Fatalf("PartsExportedCount %s, PartsIncluded %v for %d parts", show(c.PartsExportedCount), c.PartsIncluded, len(rec.Parts))
		}
		if c.PartsTotalCount != nil && *c.PartsTotalCount < int64(len(rec.Parts)) {
			t.Fatalf("PartsTotalCount %d below the %d parts", *c.PartsTotalCount, len(rec.Parts))
		}
		for _, p := range rec.Parts {
			if p.ConversationID != c.ConversationID || p.PartID == "" {
				t.Fatalf("part row %+v", p)
			}
		}
		for _, tag := range rec.Tags {
			if tag.ConversationID != c.ConversationID || tag.TagID == "" {
				t.Fatalf("tag row %+v", tag)
			}
		}
		if r := rec.Rating; r != nil && r.ConversationID != c.ConversationID {
			t.Fatalf("rating row %+v", r)
		}
		if ca := c.CustomAttributes; ca != nil && !json.Valid([]byte(*ca)) {
			t.Fatalf("custom_attributes %q is not JSON", *ca)
		}
		src := c.SourceJSON
		if src == nil || !json.Valid([]byte(*src)) || !utf8.ValidString(*src) {
			t.Fatalf("source_json %s is not valid JSON in UTF-8", show(src))
		}
		if utf8.Valid(raw) {
			if err := sourcesMakeInput(raw, rec); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range rec.Parts {
			if p.AttachmentCount != int64(len(p.Attachments)) {
				t.Fatalf("part %s: AttachmentCount %d for %d attachments", p.PartID, p.AttachmentCount, len(p.Attachments))
			}
		}
	})
}

func BenchmarkConversation(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "v2_full.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.Conversation(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConversationOmitSourceJSON shows what keeping the source JSON costs, by difference.
func BenchmarkConversationOmitSourceJSON(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "v2_full.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.ConversationWith(raw, transform.Options{OmitSourceJSON: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConversationCompactInput decodes v2_full as the API sends it, without indentation, which is
// the usual case for source_json: a copy rather than a compaction.
func BenchmarkConversationCompactInput(b *testing.B) {
	pretty, err := os.ReadFile(filepath.Join(goldenDir, "v2_full.json"))
	if err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if err := json.Compact(&raw, pretty); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(raw.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.Conversation(raw.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
