package intercomtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestGeneratedData(t *testing.T) {
	const n = 400
	ws := NewWorkspace(7, n)
	all := ws.Conversations()
	if len(all) != n || ws.Len() != n {
		t.Fatalf("%d conversations, Len %d, want %d", len(all), ws.Len(), n)
	}
	if !slices.IsSortedFunc(all, func(a, b Conversation) int { return compareIDs(a.ID, b.ID) }) {
		t.Error("Conversations not sorted by id")
	}
	if got := len(all[0].Parts); all[0].ID != ws.LongConversationID() || got != LongConversationParts {
		t.Errorf("conversation 0 (%s) has %d parts", all[0].ID, got)
	}
	if got := len(all[1].Parts); all[1].ID != ws.CapConversationID() || got != PartsCap {
		t.Errorf("conversation 1 (%s) has %d parts", all[1].ID, got)
	}

	seen := map[string]bool{} // features found somewhere in the workspace
	mark := func(ok bool, feature string) {
		if ok {
			seen[feature] = true
		}
	}
	partTypes, authorTypes := map[string]bool{}, map[string]bool{}
	totalParts, rated := 0, 0
	for k, c := range all {
		if c.CreatedAt < Epoch-History || c.UpdatedAt < c.CreatedAt || c.UpdatedAt > Epoch {
			t.Fatalf("%s: created %d updated %d out of range", c.ID, c.CreatedAt, c.UpdatedAt)
		}
		if k >= 2 {
			if len(c.Parts) < 1 || len(c.Parts) > 30 {
				t.Fatalf("%s has %d parts", c.ID, len(c.Parts))
			}
			totalParts += len(c.Parts)
		}
		if (c.State == "snoozed") != (c.SnoozedUntil != nil) || c.State == "snoozed" && !c.Open {
			t.Fatalf("%s: state %s, open %v, snoozed_until %v", c.ID, c.State, c.Open, c.SnoozedUntil)
		}
		if len(c.Tags) > 3 {
			t.Fatalf("%s has %d tags", c.ID, len(c.Tags))
		}
		mark(c.State == "snoozed", "snoozed")
		mark(c.WaitingSince == nil, "waiting_since null")
		mark(c.WaitingSince != nil && *c.WaitingSince == 0, "waiting_since 0")
		mark(c.WaitingSince != nil && *c.WaitingSince == WaitingSinceNever, "waiting_since sentinel")
		mark(c.WaitingSince != nil && *c.WaitingSince > 0 && *c.WaitingSince < Epoch, "waiting_since real")
		mark(c.Message.Type == "twitter" && c.Message.Body == TwitterNotice && c.Message.Author.Name == "" &&
			c.Message.Author.Email == "", "twitter")
		mark(c.Message.Type == "", "null source type")
		mark(len(c.Message.Attachments) > 0, "message attachment")
		mark(len(c.Tags) == 0, "no tags")
		mark(len(c.Tags) == 3, "three tags")
		mark(c.AdminAssigneeID == "" && c.TeamAssigneeID == "", "unassigned")
		mark(c.FirstContactReply == nil, "no first reply")
		mark(c.SLA != nil && c.SLA.Status == "missed", "sla missed")
		mark(c.AIAgent != nil && c.AIAgent.Rating != nil, "ai agent rated")
		mark(c.AIAgent != nil && c.AIAgent.SourceTitle == "", "ai agent without title")
		if (c.AIAgent != nil) != c.AIAgentParticipated {
			t.Fatalf("%s: ai_agent %v but ai_agent_participated %v", c.ID, c.AIAgent, c.AIAgentParticipated)
		}
		if r := c.Rating; r != nil {
			rated++
			mark(r.Rating == nil, "remark only")
			mark(r.Remark == nil, "rating only")
		}
		for i, p := range c.Parts {
			if i > 0 && p.CreatedAt < c.Parts[i-1].CreatedAt {
				t.Fatalf("%s: parts not in created_at order", c.ID)
			}
			partTypes[p.PartType] = true
			authorTypes[p.Author.Type] = true
			mark(p.CreatedAt < c.CreatedAt, "imported part")
			mark(p.BodyNull && p.PartType != "comment", "null event body")
			mark(p.Body == DeletedMessageBody && p.Redacted, "deleted message")
			mark(len(p.Attachments) > 0, "part attachment")
			mark(p.AssignedTo != nil, "assigned_to")
			mark(p.ExternalID != "", "external_id")
			mark(strings.Contains(p.Body, "👋") || strings.Contains(p.Body, "🙏"), "emoji")
			mark(strings.Contains(p.Body, "日本語"), "CJK")
			mark(strings.Contains(p.Body, `dir="rtl"`), "RTL")
			mark(strings.Contains(p.Body, "\n"), "newline")
			mark(strings.Contains(p.Body, `"`), "quote")
			mark(p.Body == TwitterNotice, "twitter part")
			mark(p.IsAIAnswer, "ai answer part")
			mark(p.FromAIAgent && !p.IsAIAnswer, "ai agent event part")
			mark(p.State == "snoozed", "part state snoozed")
			mark(p.State == "closed", "part state closed")
			if p.State == "" {
				t.Fatalf("%s: part %s without state", c.ID, p.ID)
			}
		}
	}
	for _, f := range []string{
		"snoozed", "waiting_since null", "waiting_since 0", "waiting_since sentinel", "waiting_since real",
		"twitter", "twitter part", "null source type", "message attachment", "no tags", "three tags",
		"unassigned", "no first reply", "remark only", "rating only", "imported part", "null event body",
		"deleted message", "part attachment", "assigned_to", "external_id", "emoji", "CJK", "RTL", "newline",
		"quote", "sla missed", "ai agent rated", "ai agent without title", "ai answer part", "ai agent event part",
		"part state snoozed", "part state closed",
	} {
		if !seen[f] {
			t.Errorf("no conversation shows %q", f)
		}
	}
	for _, pt := range PartTypes() {
		if !partTypes[pt] {
			t.Errorf("part_type %s never generated", pt)
		}
	}
	for _, at := range []string{"admin", "bot", "user", "lead", "team", "contact"} {
		if !authorTypes[at] {
			t.Errorf("author type %s never generated", at)
		}
	}
	if avg := float64(totalParts) / (n - 2); avg < 12 || avg > 16 {
		t.Errorf("%.1f parts per conversation on average, want about 14", avg)
	}
	if share := float64(rated) / n; share < 0.22 || share > 0.38 {
		t.Errorf("%.0f%% rated, want about 30%%", share*100)
	}
}

func TestDumpDeterministic(t *testing.T) {
	dump := func(seed int64, version string) []byte {
		var b bytes.Buffer
		if err := NewWorkspace(seed, 60).Dump(&b, version); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, v := range []string{"2.11", "1.4", "2.3", "Preview"} {
		a, b := dump(9, v), dump(9, v)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two dumps of seed 9 differ", v)
		}
		if bytes.Equal(a, dump(10, v)) {
			t.Errorf("%s: seeds 9 and 10 dump the same", v)
		}
	}
	if err := NewWorkspace(1, 3).Dump(&bytes.Buffer{}, "3.0"); err == nil {
		t.Error("Dump accepted version 3.0")
	}
}

func TestDumpShapes(t *testing.T) {
	ws := NewWorkspace(3, 300)
	for _, tc := range []struct {
		version       string
		present, gone []string
	}{
		{"2.11", []string{"source", "contacts", "admin_assignee_id", "team_assignee_id", "first_contact_reply",
			"statistics", "title", "priority", "custom_attributes", "teammates", "tags"},
			[]string{"conversation_message", "user", "customers", "assignee", "customer_first_reply"}},
		{"1.4", []string{"conversation_message", "user", "customers", "assignee", "customer_first_reply", "tags"},
			[]string{"source", "contacts", "statistics", "title", "priority", "custom_attributes", "teammates"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			var b bytes.Buffer
			if err := ws.Dump(&b, tc.version); err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{} // JSON kinds seen for varying fields
			kind := func(name string, raw json.RawMessage) {
				switch {
				case len(raw) == 0:
				case string(raw) == "null":
					kinds[name+" null"] = true
				case raw[0] == '"':
					kinds[name+" string"] = true
				case string(raw) == "0":
					kinds[name+" 0"] = true
				default:
					kinds[name+" number"] = true
				}
			}
			sc := bufio.NewScanner(&b)
			sc.Buffer(nil, 1<<24)
			lines := 0
			for sc.Scan() {
				lines++
				var m map[string]json.RawMessage
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("line %d: %v", lines, err)
				}
				for _, k := range tc.present {
					if _, ok := m[k]; !ok {
						t.Fatalf("line %d lacks %s", lines, k)
					}
				}
				for _, k := range tc.gone {
					if _, ok := m[k]; ok {
						t.Fatalf("line %d has %s", lines, k)
					}
				}
				kind("id", m["id"])
				kind("admin_assignee_id", m["admin_assignee_id"])
				kind("statistics", m["statistics"])
				var parts struct {
					Parts []struct {
						ID         json.RawMessage `json:"id"`
						AssignedTo json.RawMessage `json:"assigned_to"`
						Body       json.RawMessage `json:"body"`
					} `json:"conversation_parts"`
				}
				if err := json.Unmarshal(m["conversation_parts"], &parts); err != nil {
					t.Fatalf("line %d: conversation_parts: %v", lines, err)
				}
				for _, p := range parts.Parts {
					kind("part id", p.ID)
					kind("body", p.Body)
					if len(p.AssignedTo) > 0 && p.AssignedTo[0] == '{' {
						kinds["assigned_to object"] = true
					} else {
						kind("assigned_to", p.AssignedTo)
					}
				}
			}
			if lines != ws.Len() {
				t.Fatalf("%d lines for %d conversations", lines, ws.Len())
			}
			want := []string{"id string", "id number", "part id string", "part id number", "body null", "body string", "assigned_to null"}
			if tc.version == "2.11" {
				want = append(want, "admin_assignee_id string", "admin_assignee_id number", "admin_assignee_id null",
					"admin_assignee_id 0", "statistics null", "assigned_to object")
			} else {
				want = append(want, "assigned_to string", "assigned_to number")
			}
			for _, k := range want {
				if !kinds[k] {
					t.Errorf("never sent %s (saw %v)", k, kinds)
				}
			}
		})
	}
}

// TestNewerFieldsByVersion: sla_applied and ai_agent come with every 2.x answer, parts' state from 2.13
// and the author's AI flags from 2.14, as in the API's changelog.
func TestNewerFieldsByVersion(t *testing.T) {
	ws := NewWorkspace(3, 80)
	for _, tc := range []struct {
		version       string
		state, aiFlag bool
	}{{"2.11", false, false}, {"2.13", true, false}, {"2.14", true, true}, {"Preview", true, true}} {
		t.Run(tc.version, func(t *testing.T) {
			var b bytes.Buffer
			if err := ws.Dump(&b, tc.version); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			dec := json.NewDecoder(&b)
			for dec.More() {
				var c struct {
					SLA *struct {
						Name   *string `json:"sla_name"`
						Status *string `json:"sla_status"`
					} `json:"sla_applied"`
					AI      *bool                      `json:"ai_agent_participated"`
					AIAgent map[string]json.RawMessage `json:"ai_agent"`
					Parts   struct {
						Parts []struct {
							State  json.RawMessage            `json:"state"`
							Author map[string]json.RawMessage `json:"author"`
						} `json:"conversation_parts"`
					} `json:"conversation_parts"`
				}
				if err := dec.Decode(&c); err != nil {
					t.Fatal(err)
				}
				if c.AI == nil || (len(c.AIAgent) > 0) != *c.AI {
					t.Fatalf("ai_agent_participated %v with ai_agent %v", c.AI, c.AIAgent)
				}
				seen["sla"] = seen["sla"] || c.SLA != nil && c.SLA.Name != nil && c.SLA.Status != nil
				seen["ai_agent"] = seen["ai_agent"] || len(c.AIAgent["resolution_state"]) > 0
				for _, p := range c.Parts.Parts {
					_, from := p.Author["from_ai_agent"]
					_, answer := p.Author["is_ai_answer"]
					if (len(p.State) > 0) != tc.state || from != tc.aiFlag || answer != tc.aiFlag {
						t.Fatalf("part state %s, author %v", p.State, p.Author)
					}
					seen["ai answer"] = seen["ai answer"] || string(p.Author["is_ai_answer"]) == "true"
				}
			}
			for _, f := range []string{"sla", "ai_agent"} {
				if !seen[f] {
					t.Errorf("no conversation has %s", f)
				}
			}
			if tc.aiFlag && !seen["ai answer"] {
				t.Error("no part is an AI answer")
			}
		})
	}
}

func TestMutations(t *testing.T) {
	ws := NewWorkspace(5, 10)
	id := ws.Conversations()[4].ID
	ws.Update(id, Epoch+100, func(c *Conversation) {
		c.Parts = append(c.Parts, Part{ID: "p-new", PartType: "comment", Body: "<p>new</p>", CreatedAt: Epoch + 100})
		c.ID = "ignored"
	})
	c, ok := ws.Conversation(id)
	if !ok || c.UpdatedAt != Epoch+100 || c.Parts[len(c.Parts)-1].ID != "p-new" {
		t.Fatalf("update not applied: %v %+v", ok, c.Parts[len(c.Parts)-1])
	}
	c.Parts[0].Body = "changed by the caller"
	if again, _ := ws.Conversation(id); again.Parts[0].Body == "changed by the caller" {
		t.Error("Conversation returned shared memory")
	}

	newID := ws.NewID()
	if other := ws.NewID(); other == newID {
		t.Error("NewID returned the same id twice")
	}
	ws.Add(Conversation{ID: newID, CreatedAt: Epoch, UpdatedAt: Epoch + 200})
	if ws.Len() != 11 {
		t.Errorf("Len %d after Add", ws.Len())
	}
	if got := ws.entries(); got[len(got)-1].id != newID {
		t.Errorf("the newest conversation is not last by updated_at")
	}
	ws.Delete(newID, Epoch+300)
	if _, ok := ws.Conversation(newID); ok || ws.Len() != 10 {
		t.Error("deleted conversation still there")
	}
	if d := ws.deletedList(); len(d) != 1 || d[0] != (deletedConversation{newID, Epoch + 300}) {
		t.Errorf("deleted list %v", d)
	}

	for name, f := range map[string]func(){
		"update unknown": func() { ws.Update("nope", 1, func(*Conversation) {}) },
		"delete twice":   func() { ws.Delete(newID, 1) },
		"add existing":   func() { ws.Add(Conversation{ID: id}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRenderedPartType(t *testing.T) {
	for _, tc := range []struct{ version, in, want string }{
		{"2.11", "call_summary", "call_summary"},
		{"2.6", "future_part_type_x", "future_part_type_x"},
		{"2.5", "call_summary", "comment"},
		{"1.4", "workflow_assignment", "comment"},
		{"1.4", "assignment", "assignment"},
		{"Preview", "note_and_reopen", "note_and_reopen"},
	} {
		if got := RenderedPartType(tc.version, tc.in); got != tc.want {
			t.Errorf("RenderedPartType(%q, %q) = %q, want %q", tc.version, tc.in, got, tc.want)
		}
	}
}

func TestSmallWorkspaces(t *testing.T) {
	for _, n := range []int{0, 1, 2} {
		ws := NewWorkspace(1, n)
		if ws.LongConversationID() != "" || ws.CapConversationID() != "" || len(ws.Conversations()) != n {
			t.Errorf("n=%d: unexpected long conversations or count", n)
		}
	}
}
