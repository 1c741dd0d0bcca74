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

	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

var update = flag.Bool("update", false, "rewrite the golden outputs in testdata/transform")

const goldenDir = "../testdata/transform"

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
			rec, err := transform.Conversation(raw)
			if err != nil {
				t.Fatal(err)
			}
			// HTML stays unescaped so the goldens read like the inputs.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rec); err != nil {
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
		check(t, "PartsExportedCount", c.PartsExportedCount, int64(10))
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
	if c.PartsExportedCount != 500 || c.PartsTotalCount == nil || *c.PartsTotalCount != 650 || !c.PartsTruncated {
		t.Errorf("counts: exported %d, total %s, truncated %v; want 500, 650, true", c.PartsExportedCount, show(c.PartsTotalCount), c.PartsTruncated)
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
		{name: "created_at yesterday", in: `{"id":"123","created_at":"yesterday"}`, exact: `conversation "123": created_at: want a Unix timestamp, got "yesterday"`},
		{name: "created_at before id", in: `{"created_at":"yesterday","id":123}`, exact: `conversation "123": created_at: want a Unix timestamp, got "yesterday"`},
		{name: "created_at zero", in: `{"id":"123","created_at":0}`, exact: `conversation "123": created_at: want a Unix timestamp between 1970 and 2100, got 0`},
		{name: "created_at sentinel", in: `{"id":"123","created_at":64654125776}`, field: "created_at: want a Unix timestamp between 1970 and 2100"},
		{name: "created_at Infinity", in: `{"id":"123","created_at":"Infinity"}`, field: "created_at: want a Unix timestamp"},
		{name: "created_at bool", in: `{"id":"123","created_at":true}`, field: "created_at: want a Unix timestamp, got true"},
		{name: "open yes", in: `{` + ok + `,"open":"yes"}`, exact: `conversation "123": open: want true, false or null, got "yes"`},
		{name: "state number", in: `{` + ok + `,"state":1}`, exact: `conversation "123": state: want a string, got number`},
		{name: "parts string", in: `{` + ok + `,"conversation_parts":"none"}`, exact: `conversation "123": conversation_parts: want an object, got string`},
		{name: "parts list string", in: `{` + ok + `,"conversation_parts":{"conversation_parts":"x"}}`, field: "conversation_parts.conversation_parts: want an array, got string"},
		{name: "part not object", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},7]}}`, field: "conversation_parts.conversation_parts[1]: want an object, got number"},
		{name: "part created_at", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},{"id":"2","created_at":"soon"}]}}`, exact: `conversation "123": conversation_parts.conversation_parts[1].created_at: want a Unix timestamp, got "soon"`},
		{name: "part author id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","author":{"id":true}}]}}`, field: "conversation_parts.conversation_parts[0].author.id: want an id (string or integer), got true"},
		{name: "part assigned_to bool", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","assigned_to":false}]}}`, field: "conversation_parts.conversation_parts[0].assigned_to: want an object, an id or null, got false"},
		{name: "part assigned_to id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","assigned_to":{"id":[]}}]}}`, field: "conversation_parts.conversation_parts[0].assigned_to.id: want an id"},
		{name: "part missing id", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1"},{"part_type":"note"}]}}`, exact: `conversation "123": conversation_parts.conversation_parts[1].id: missing`},
		{name: "part redacted", in: `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":"1","redacted":"no"}]}}`, field: `conversation_parts.conversation_parts[0].redacted: want true, false or null, got "no"`},
		{name: "tags string", in: `{` + ok + `,"tags":"vip"}`, exact: `conversation "123": tags: want a tag list (object or array), got "vip"`},
		{name: "tag applied_at", in: `{` + ok + `,"tags":{"tags":[{"id":"1","applied_at":"x"}]}}`, field: `tags.tags[0].applied_at: want a Unix timestamp, got "x"`},
		{name: "tag applied_at in array", in: `{` + ok + `,"tags":[{"id":"1"},{"id":"2","applied_at":"x"}]}`, field: `tags[1].applied_at: want a Unix timestamp, got "x"`},
		{name: "tag name number", in: `{` + ok + `,"tags":{"tags":[{"id":"1","name":5}]}}`, field: `tags.tags[0].name: want a string, got number`},
		{name: "tag missing id", in: `{` + ok + `,"tags":{"tags":[{"name":"vip"}]}}`, field: `tags.tags[0].id: missing`},
		{name: "rating word", in: `{` + ok + `,"conversation_rating":{"rating":"five"}}`, field: `conversation_rating.rating: want an integer, got "five"`},
		{name: "rating huge", in: `{` + ok + `,"conversation_rating":{"rating":99999999999}}`, field: `conversation_rating.rating: want a rating that fits 32 bits`},
		{name: "rating string", in: `{` + ok + `,"conversation_rating":"great"}`, field: `conversation_rating: want an object, got string`},
		{name: "count float", in: `{` + ok + `,"statistics":{"count_conversation_parts":1.5}}`, field: `statistics.count_conversation_parts: want an integer, got 1.5`},
		{name: "custom_attributes array", in: `{` + ok + `,"custom_attributes":[]}`, field: `custom_attributes: want an object, got an array`},
		{name: "assignee id", in: `{` + ok + `,"admin_assignee_id":false}`, field: `admin_assignee_id: want an id (string or integer), got false`},
		{name: "source author", in: `{` + ok + `,"source":{"author":"me"}}`, field: `source.author: want an object, got string`},
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
	     "author": {"type": "admin", "id": "25"}, "attachments": [], "external_id": "e2"}]}
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
	  "statistics": {"count_conversation_parts": 2},
	  "custom_attributes": {"k": "v"},
	  "conversation_parts": {"type": "conversation_part.list", "total_count": 2, "conversation_parts": [
	    {"type": "conversation_part", "id": "p1", "part_type": "assignment", "body": null, "created_at": 1710000050,
	     "updated_at": 1710000050, "notified_at": 1710000050, "assigned_to": {"type": "admin", "id": 25},
	     "author": {"type": "bot", "id": "b1", "name": "Fin", "email": ""}, "attachments": [], "external_id": null, "redacted": false},
	    {"type": "conversation_part", "id": "p2", "part_type": "close", "body": "<p>Done</p>", "created_at": 1710003600,
	     "updated_at": 1710003600, "notified_at": 1710003601, "assigned_to": null,
	     "author": {"type": "admin", "id": "25", "name": "A", "email": "a@x"}, "attachments": [], "external_id": "e2", "redacted": false}]}
	}`
	r1, err := transform.Conversation([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := transform.Conversation([]byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	// Blank what only 2.x carries, then the two records must be identical.
	c := &r2.Conversation
	c.Title, c.Priority, c.MessageRedacted, c.CustomAttributes = nil, nil, nil, nil
	c.MessageAuthorName, c.MessageAuthorEmail = nil, nil
	for i := range r2.Parts {
		p := &r2.Parts[i]
		p.Redacted, p.AuthorName, p.AuthorEmail = nil, nil, nil
	}
	if !reflect.DeepEqual(r1, r2) {
		t.Errorf("shapes disagree:\n1.x %s\n2.x %s", show(r1), show(r2))
	}
	if r1.Conversation.AdminAssigneeID == nil || r1.Rating == nil || len(r1.Parts) != 2 || len(r1.Tags) != 1 {
		t.Errorf("comparison is vacuous: %s", show(r1))
	}
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
		if c.PartsExportedCount != int64(len(rec.Parts)) {
			t.Fatalf("PartsExportedCount %d for %d parts", c.PartsExportedCount, len(rec.Parts))
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
		if r := rec.Rating; r != nil && (r.ConversationID != c.ConversationID || (r.Rating == nil && r.Remark == nil)) {
			t.Fatalf("rating row %+v", r)
		}
		if ca := c.CustomAttributes; ca != nil && !json.Valid([]byte(*ca)) {
			t.Fatalf("custom_attributes %q is not JSON", *ca)
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
