package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// The fast decoder is tested against encoding/json, its reference: whenever it succeeds, encoding/json
// must succeed too with a deeply equal rawConversation. And source_json, split between the
// conversation and its parts, must put back together into the input.

// diff compares the fast decoder with the reference on raw. It returns whether the fast path took the
// input, and an error when it took it but disagrees.
func diff(raw []byte) (fast bool, err error) {
	if err := checkSources(raw); err != nil {
		return false, err
	}
	var got rawConversation
	sp, ok := decodeFast(raw, &got)
	if !ok {
		return false, nil
	}
	if ref := findPartSpans(raw); ref.found != sp.found || sp.found && !reflect.DeepEqual(ref, sp) {
		return true, fmt.Errorf("fast path's part spans\n%+v\nfindPartSpans'\n%+v", sp, ref)
	}
	var want rawConversation
	if err := json.Unmarshal(raw, &want); err != nil {
		return true, fmt.Errorf("fast path accepted what encoding/json rejects: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		return true, fmt.Errorf("fast path decoded\n%#v\nencoding/json\n%#v", got, want)
	}
	return true, nil
}

// checkSources converts raw and checks that its source_json, the conversation's with the parts' put
// back in place, is the input compacted: nothing lost, nothing stored twice.
func checkSources(raw []byte) error {
	res, err := Convert(raw, Options{})
	if err != nil {
		return nil // rejected: there is no source_json
	}
	conv := res.Conversation.SourceJSON
	if conv == nil {
		return errors.New("no source_json")
	}
	var parts []string
	for _, p := range res.Parts {
		if p.SourceJSON != nil {
			parts = append(parts, *p.SourceJSON)
		}
	}
	if len(parts) != 0 && len(parts) != len(res.Parts) {
		return fmt.Errorf("%d of %d parts have source_json", len(parts), len(res.Parts))
	}
	whole := compactJSON(raw)
	if len(parts) == 0 {
		if *conv != whole {
			return fmt.Errorf("source_json\n%q\nwant the input compacted\n%q", *conv, whole)
		}
		return nil
	}
	// Put the parts back and compare the documents (as values: the key's place in its object moved).
	var doc, want any
	if err := unmarshalNumbers(*conv, &doc); err != nil {
		return fmt.Errorf("conversation source_json is not JSON: %v: %q", err, *conv)
	}
	list := make([]any, len(parts))
	for i, p := range parts {
		if err := unmarshalNumbers(p, &list[i]); err != nil {
			return fmt.Errorf("part %d source_json is not JSON: %v", i, err)
		}
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("source_json is no object: %q", *conv)
	}
	inner, ok := top["conversation_parts"].(map[string]any)
	if !ok {
		return fmt.Errorf("source_json lost conversation_parts: %q", *conv)
	}
	if _, dup := inner["conversation_parts"]; dup {
		return fmt.Errorf("source_json kept the part list: %q", *conv)
	}
	inner["conversation_parts"] = list
	if err := unmarshalNumbers(whole, &want); err != nil {
		return err
	}
	if !reflect.DeepEqual(doc, want) {
		return fmt.Errorf("source_json with its parts put back\n%v\nis not the input\n%v", doc, want)
	}
	return nil
}

func unmarshalNumbers(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	return dec.Decode(v)
}

// mustBeFast fails unless the fast path takes raw and agrees with the reference.
func mustBeFast(t *testing.T, name string, raw []byte) {
	t.Helper()
	fast, err := diff(raw)
	switch {
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	case !fast:
		t.Fatalf("%s: the fast path bailed out", name)
	}
}

const goldenDir = "../testdata/transform"

func goldenInputs(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	inputs := map[string][]byte{}
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		inputs[filepath.Base(p)] = raw
	}
	if len(inputs) == 0 {
		tb.Fatal("no golden inputs in " + goldenDir)
	}
	return inputs
}

func TestFastDecodeGoldens(t *testing.T) {
	for name, raw := range goldenInputs(t) {
		mustBeFast(t, name, raw)
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		mustBeFast(t, name+" compacted", compact.Bytes())
	}
}

// TestFastDecodeFakeWorkspace runs the fake workspace, long conversations included, as each API
// generation renders it: the fast path must take every conversation, or it would speed nothing up.
func TestFastDecodeFakeWorkspace(t *testing.T) {
	ws := intercomtest.NewWorkspace(5, 400)
	long := map[string]bool{ws.LongConversationID(): false, ws.CapConversationID(): false}
	for _, version := range []string{"2.16", "2.11", "2.6", "2.0", "1.4"} {
		var dump bytes.Buffer
		if err := ws.Dump(&dump, version); err != nil {
			t.Fatal(err)
		}
		n := 0
		for line := range bytes.Lines(dump.Bytes()) {
			var probe struct{ ID id }
			if err := json.Unmarshal(line, &probe); err != nil || probe.ID.s == nil {
				t.Fatalf("%s: no id in %.200s", version, line)
			}
			convID := *probe.ID.s
			if _, ok := long[convID]; ok {
				long[convID] = true
			}
			mustBeFast(t, version+" "+convID, line)
			n++
		}
		if n != 400 {
			t.Fatalf("%s: %d conversations in the dump, want 400", version, n)
		}
	}
	for id, seen := range long {
		if !seen {
			t.Errorf("long conversation %q not in the dumps", id)
		}
	}
}

func TestFastDecodeCases(t *testing.T) {
	const ok = `"id":"1","created_at":1700000000`
	nest := func(n int, open, close string) string {
		return `{` + ok + `,"x":` + strings.Repeat(open, n) + strings.Repeat(close, n) + `}`
	}
	// want: "fast" the fast path must take it (and agree), "bail" it must leave it to encoding/json.
	for _, tc := range []struct{ name, in, want string }{
		// Keys.
		{"case-mismatched top-level key", `{"ID":"1","created_at":1}`, "bail"},
		{"case-mismatched object key", `{` + ok + `,"Source":{}}`, "bail"},
		{"case-mismatched nested key", `{` + ok + `,"source":{"Body":"x"}}`, "bail"},
		{"case-mismatched wrapper key", `{` + ok + `,"tags":{"Tags":[]}}`, "bail"},
		{"case-mismatched parts key", `{` + ok + `,"conversation_parts":{"Conversation_Parts":[]}}`, "bail"},
		{"case-mismatched teammates key", `{` + ok + `,"teammates":{"ADMINS":[]}}`, "bail"},
		{"unknown key in upper case", `{` + ok + `,"Type":"conversation","TOPICS_x":{}}`, "fast"},
		{"key with an escape", `{"i\u0064":"1","created_at":1}`, "bail"},
		{"escaped unknown key", `{` + ok + `,"\u0078":1}`, "bail"},
		{"key folding to a field (long s)", `{` + ok + `,"ſtate":"open"}`, "bail"},
		{"key folding to a field (Kelvin)", `{` + ok + `,"tags":[{"id":1,"applied_by":{"\u212aind":1}}]}`, "bail"},
		{"escaped key in an unknown object", `{` + ok + `,"x":{"\u00e9\"":1,"ſ":2}}`, "fast"},
		{"duplicate key", `{"id":"1","id":"2","created_at":1}`, "bail"},
		{"duplicate object key", `{` + ok + `,"source":{"id":1},"source":{"body":"x"}}`, "bail"},
		{"duplicate nested key", `{` + ok + `,"source":{"body":"x","body":"y"}}`, "bail"},
		{"duplicate wrapper key", `{` + ok + `,"tags":{"tags":[],"tags":[{"id":1}]}}`, "bail"},
		{"duplicate unknown key", `{` + ok + `,"type":"a","type":"b"}`, "fast"},
		{"same key in sibling objects", `{` + ok + `,"source":{"id":1},"conversation_message":{"id":2}}`, "fast"},

		// null, [] and absent.
		{"attachments null", `{` + ok + `,"source":{"attachments":null}}`, "fast"},
		{"attachments empty", `{` + ok + `,"source":{"attachments":[]}}`, "fast"},
		{"attachments absent", `{` + ok + `,"source":{}}`, "fast"},
		{"attachments with null element", `{` + ok + `,"source":{"attachments":[null,{"name":"a"}]}}`, "fast"},
		{"contacts null", `{` + ok + `,"contacts":null}`, "fast"},
		{"contacts empty array", `{` + ok + `,"contacts":[]}`, "fast"},
		{"contacts empty object", `{` + ok + `,"contacts":{}}`, "fast"},
		{"contacts list null", `{` + ok + `,"contacts":{"type":"contact.list","contacts":null}}`, "fast"},
		{"customers null element", `{` + ok + `,"customers":[null,{"id":1}]}`, "fast"},
		{"teammates admins null", `{` + ok + `,"teammates":{"admins":null,"teammates":[{"id":1}]}}`, "fast"},
		{"teammates admins empty", `{` + ok + `,"teammates":{"admins":[],"teammates":[{"id":1}]}}`, "fast"},
		{"teammates spec key first", `{` + ok + `,"teammates":{"teammates":[{"id":2}],"admins":[{"id":1}]}}`, "fast"},
		{"teammates array", `{` + ok + `,"teammates":[{"id":1},null]}`, "fast"},
		{"teammates null", `{` + ok + `,"teammates":null}`, "fast"},
		{"tags null", `{` + ok + `,"tags":null}`, "fast"},
		{"tags list null", `{` + ok + `,"tags":{"tags":null}}`, "fast"},
		{"tags empty object", `{` + ok + `,"tags":{}}`, "fast"},
		{"tags array with null", `{` + ok + `,"tags":[null,{"id":1}]}`, "fast"},
		{"null struct fields", `{` + ok + `,"source":{"author":null},"conversation_rating":{"teammate":null,"contact":null},` +
			`"tags":[{"id":1,"applied_by":null}],"conversation_parts":{"conversation_parts":[{"id":1,"author":null,"assigned_to":null}]}}`, "fast"},
		{"null pointers", `{` + ok + `,"source":null,"conversation_message":null,"assignee":null,"first_contact_reply":null,` +
			`"customer_first_reply":null,"user":null,"sla_applied":null,"ai_agent":null,"statistics":null,"conversation_rating":null,` +
			`"conversation_parts":null}`, "fast"},
		{"null leaves", `{"id":null,"created_at":null,"updated_at":null,"state":null,"open":null,"admin_assignee_id":null,"custom_attributes":null}`, "fast"},
		{"empty objects", `{` + ok + `,"source":{},"statistics":{},"conversation_parts":{},"ai_agent":{},"conversation_rating":{}}`, "fast"},
		{"parts null", `{` + ok + `,"conversation_parts":{"conversation_parts":null,"total_count":null}}`, "fast"},

		// Strings.
		{"escapes", `{` + ok + `,"title":"a\"b\\c\/d\b\f\n\r\t"}`, "fast"},
		{"unicode escapes", `{` + ok + `,"title":"\u00e9\u4E2D\u0000\u001f"}`, "fast"},
		{"surrogate pair", `{` + ok + `,"title":"\ud83d\ude00!"}`, "fast"},
		{"lone high surrogate", `{` + ok + `,"title":"\ud83d"}`, "fast"},
		{"high surrogate then text", `{` + ok + `,"title":"\ud83dxy"}`, "fast"},
		{"high surrogate then other escape", `{` + ok + `,"title":"\ud83d\u0041\n"}`, "fast"},
		{"high surrogate then high", `{` + ok + `,"title":"\ud83d\ud83d\ude00"}`, "fast"},
		{"lone low surrogate", `{` + ok + `,"title":"\ude00\ud83d"}`, "fast"},
		{"high surrogate then short escape", `{` + ok + `,"title":"\ud83d\n"}`, "fast"},
		{"invalid UTF-8", "{" + ok + ",\"title\":\"a\xffb\"}", "fast"},
		{"truncated UTF-8", "{" + ok + ",\"title\":\"\xe2\x82\"}", "fast"},
		{"surrogate in UTF-8", "{" + ok + ",\"title\":\"\xed\xa0\x80\"}", "fast"},
		{"overlong UTF-8", "{" + ok + ",\"title\":\"\xc0\xaf\\n\"}", "fast"},
		{"invalid UTF-8 in an unknown field", "{" + ok + ",\"x\":\"\xff\"}", "fast"},
		{"invalid UTF-8 in an id", "{\"id\":\"\xff1\",\"created_at\":1}", "fast"},
		{"escaped id", `{"id":"\u0031\n","created_at":"\u0031"}`, "fast"},
		{"non-ASCII text", `{` + ok + `,"title":"Zoë 李 🙏","source":{"author":{"name":"Ólafur \"Oli\""}}}`, "fast"},
		{"control character", "{" + ok + ",\"title\":\"a\tb\"}", "bail"},
		{"control character in unknown field", "{" + ok + ",\"x\":\"\x01\"}", "bail"},
		{"bad escape", `{` + ok + `,"title":"\q"}`, "bail"},
		{"short unicode escape", `{` + ok + `,"title":"\u12"}`, "bail"},
		{"bad unicode escape", `{` + ok + `,"x":"\u12g4"}`, "bail"},
		{"unterminated string", `{` + ok + `,"title":"abc`, "bail"},
		{"string as object", `{` + ok + `,"source":"x"}`, "bail"},

		// Numbers and leaves.
		{"timestamp 1e3", `{"id":"1","created_at":1e3,"updated_at":1E+2,"waiting_since":5e-1}`, "fast"},
		{"timestamp -0", `{"id":"1","created_at":-0,"updated_at":-0.0}`, "fast"},
		{"timestamp 1.5", `{"id":"1","created_at":1.5,"updated_at":"1.5","snoozed_until":""}`, "fast"},
		{"timestamp huge", `{"id":"1","created_at":1e400,"updated_at":-1e400,"waiting_since":99999999999999999999}`, "fast"},
		{"timestamp leading zero", `{"id":"1","created_at":01}`, "bail"},
		{"timestamp trailing dot", `{"id":"1","created_at":1.}`, "bail"},
		{"timestamp leading dot", `{"id":"1","created_at":.5}`, "bail"},
		{"timestamp plus", `{"id":"1","created_at":+1}`, "bail"},
		{"timestamp bare minus", `{"id":"1","created_at":-}`, "bail"},
		{"timestamp bare exponent", `{"id":"1","created_at":1e}`, "bail"},
		{"timestamp word", `{"id":"1","created_at":"soon"}`, "fast"},
		{"timestamp bool", `{"id":"1","created_at":true}`, "fast"},
		{"id beyond 2^63", `{"id":98765432109876543210,"created_at":1}`, "fast"},
		{"id beyond 2^64", `{"id":-184467440737095516170,"created_at":1,"tags":[{"id":18446744073709551617}]}`, "fast"},
		{"id float", `{"id":1.5,"created_at":1}`, "bail"},
		{"id exponent", `{"id":1e3,"created_at":1}`, "bail"},
		{"id object", `{"id":{},"created_at":1}`, "bail"},
		{"id array", `{"id":[],"created_at":1}`, "bail"},
		{"counts", `{` + ok + `,"statistics":{"count_reopens":"3","count_assignments":-2,"time_to_assignment":2.9,"median_time_to_reply":"","last_closed_by_id":7}}`, "fast"},
		{"count float", `{` + ok + `,"statistics":{"count_reopens":1.5}}`, "fast"},
		{"count overflow", `{` + ok + `,"statistics":{"count_reopens":9223372036854775808}}`, "fast"},
		{"booleans", `{` + ok + `,"open":true,"read":false,"ai_agent_participated":null}`, "fast"},
		{"boolean string", `{` + ok + `,"open":"true"}`, "bail"},
		{"literal typo", `{` + ok + `,"open":tru}`, "bail"},
		{"literal with tail", `{` + ok + `,"open":truex}`, "bail"},
		{"null typo in unknown field", `{` + ok + `,"x":nul}`, "bail"},
		{"assigned_to forms", `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":1,"assigned_to":5},{"id":2,"assigned_to":"6"},` +
			`{"id":3,"assigned_to":{"type":"team","id":7}},{"id":4,"assigned_to":null},{"id":5,"assigned_to":-8}]}}`, "fast"},
		{"assigned_to float", `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":1,"assigned_to":1.5}]}}`, "bail"},
		{"assigned_to bool", `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":1,"assigned_to":true}]}}`, "bail"},
		{"assigned_to array", `{` + ok + `,"conversation_parts":{"conversation_parts":[{"id":1,"assigned_to":[]}]}}`, "bail"},
		{"part not an object", `{` + ok + `,"conversation_parts":{"conversation_parts":[7]}}`, "bail"},
		{"tags string", `{` + ok + `,"tags":"vip"}`, "bail"},
		{"tags number", `{` + ok + `,"tags":1}`, "bail"},
		{"contacts bool", `{` + ok + `,"contacts":false}`, "bail"},
		{"state number", `{` + ok + `,"state":5}`, "bail"},
		{"attachments object", `{` + ok + `,"source":{"attachments":{}}}`, "bail"},

		// custom_attributes keeps its bytes, any JSON type.
		{"custom_attributes with whitespace", "{" + ok + ",\"custom_attributes\": { \"a\" : [ 1 , 2 ] ,\n\t\"b\":{ } } }", "fast"},
		{"custom_attributes array", `{` + ok + `,"custom_attributes":[1, "x"]}`, "fast"},
		{"custom_attributes string", `{` + ok + `,"custom_attributes":"x\u00e9"}`, "fast"},
		{"custom_attributes number", `{` + ok + `,"custom_attributes":-1.5e3}`, "fast"},
		{"custom_attributes invalid UTF-8", "{" + ok + ",\"custom_attributes\":{\"k\":\"\xff\"}}", "fast"},
		{"custom_attributes invalid", `{` + ok + `,"custom_attributes":{"a":}}`, "bail"},

		// The document.
		{"whitespace around", " \t\r\n{ \"id\" : \"1\" ,\n\"created_at\" :\t1 } \n\r\t", "fast"},
		{"whitespace in lists", `{` + ok + `, "tags" : [ { "id" : 1 } , null ] , "customers" : [ ] }`, "fast"},
		{"trailing garbage", `{` + ok + `} x`, "bail"},
		{"second value", `{` + ok + `}{}`, "bail"},
		{"trailing comma", `{` + ok + `,}`, "bail"},
		{"trailing comma in list", `{` + ok + `,"tags":[{"id":1},]}`, "bail"},
		{"missing colon", `{"id" "1"}`, "bail"},
		{"missing comma", `{"id":"1" "created_at":1}`, "bail"},
		{"unclosed", `{` + ok, "bail"},
		{"empty object", `{}`, "fast"},
		{"empty input", ``, "bail"},
		{"only whitespace", ` `, "bail"},
		{"null document", `null`, "bail"},
		{"array document", `[]`, "bail"},
		{"string document", `"x"`, "bail"},
		{"deep arrays in an unknown field", nest(200, "[", "]"), "fast"},
		{"deep objects in an unknown field", `{` + ok + `,"x":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`, "fast"},
		{"deeper than the fast path goes", nest(maxSkipDepth+1, "[", "]"), "bail"},
		{"deeper than encoding/json goes", nest(10001, "[", "]"), "bail"},
		{"unbalanced brackets", `{` + ok + `,"x":[[1]}`, "bail"},
		{"invalid in an unknown field", `{` + ok + `,"x":{"a"}}`, "bail"},
		{"non-string key in an unknown field", `{` + ok + `,"x":{1:2}}`, "bail"},
		{"all JSON in an unknown field", `{` + ok + `,"x":[{"a":[true,false,null,-0.5e+7,"s\"\\"]},{},[]]}`, "fast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast, err := diff([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want == "fast"; fast != want {
				t.Fatalf("fast path took it: %v, want %v", fast, want)
			}
		})
	}
}

// TestFastDecodeKeys checks each struct decoder against its struct's tags: every key decoded, a repeat
// or a key differing only in case bailing. The switches name keys and number them by hand; this is
// what keeps them in step with the structs.
func TestFastDecodeKeys(t *testing.T) {
	for _, tc := range []struct {
		keys   []string
		typ    reflect.Type // nil for the wrappers, whose keys hold lists of objects
		inside string       // the document, %s standing for the object's members
	}{
		{conversationKeys, reflect.TypeFor[rawConversation](), `{%s}`},
		{messageKeys, reflect.TypeFor[rawMessage](), `{"source":{%s}}`},
		{attachmentKeys, reflect.TypeFor[rawAttachment](), `{"conversation_parts":{"conversation_parts":[{"attachments":[{%s}]}]}}`},
		{contactKeys, reflect.TypeFor[rawContact](), `{"customers":[{%s}]}`},
		{slaKeys, reflect.TypeFor[rawSLA](), `{"sla_applied":{%s}}`},
		{aiAgentKeys, reflect.TypeFor[rawAIAgent](), `{"ai_agent":{%s}}`},
		{actorKeys, reflect.TypeFor[rawActor](), `{"conversation_parts":{"conversation_parts":[{"assigned_to":{%s}}]}}`},
		{replyKeys, reflect.TypeFor[rawReply](), `{"customer_first_reply":{%s}}`},
		{statisticsKeys, reflect.TypeFor[rawStatistics](), `{"statistics":{%s}}`},
		{ratingKeys, reflect.TypeFor[rawRating](), `{"conversation_rating":{%s}}`},
		{partListKeys, reflect.TypeFor[rawPartList](), `{"conversation_parts":{%s}}`},
		{partKeys, reflect.TypeFor[rawPart](), `{"conversation_parts":{"conversation_parts":[{%s}]}}`},
		{authorKeys, reflect.TypeFor[rawAuthor](), `{"conversation_parts":{"conversation_parts":[{"author":{%s}}]}}`},
		{contentKeys, reflect.TypeFor[rawContentSources](), `{"ai_agent":{"content_sources":{%s}}}`},
		{sourceKeys, reflect.TypeFor[rawContentSource](), `{"ai_agent":{"content_sources":{"content_sources":[{%s}]}}}`},
		{teamRespKeys, reflect.TypeFor[rawTeamResponse](), `{"statistics":{"assigned_team_first_response_time_by_team":[{%s}]}}`},
		{companyKeys, reflect.TypeFor[rawCompany](), `{"company":{%s}}`},
		{channelKeys, reflect.TypeFor[rawChannel](), `{"channel":{%s}}`},
		{linkedKeys, reflect.TypeFor[rawLinkedObjects](), `{"linked_objects":{%s}}`},
		{linkedObjKeys, reflect.TypeFor[rawLinkedObject](), `{"linked_objects":{"data":[{%s}]}}`},
		{tagKeys, reflect.TypeFor[rawTag](), `{"tags":{"tags":[{%s}]}}`},
		{tagListKeys, nil, `{"tags":{%s}}`},
		{contactListKeys, nil, `{"contacts":{%s}}`},
		{teammateListKeys, nil, `{"teammates":{%s}}`},
	} {
		if len(tc.keys) > 64 {
			t.Fatalf("%v: more keys than seen has bits", tc.keys)
		}
		values := make([]string, len(tc.keys))
		for i, k := range tc.keys {
			if k == "" || k != strings.ToLower(k) || strconv.QuoteToASCII(k) != `"`+k+`"` || strings.ContainsAny(k, ",-") {
				t.Fatalf("key %q is not lower-case ASCII, as decoder.unknown assumes", k)
			}
			values[i] = `[{"id":"1"},null]`
			if tc.typ != nil {
				values[i] = sampleValue(t, tc.typ.Field(i).Type)
			}
		}
		doc := func(members ...string) []byte {
			return fmt.Appendf(nil, tc.inside, strings.Join(members, ","))
		}
		var all []string
		for i, k := range tc.keys {
			all = append(all, strconv.Quote(k)+":"+values[i])
			// One key alone, then with a non-null value: it must reach its own field.
			mustBeFast(t, "one key", doc(strconv.Quote(k)+":"+values[i]))
			for _, bad := range [][]byte{
				doc(strconv.Quote(k)+":"+values[i], strconv.Quote(k)+":"+values[i]),
				doc(strconv.Quote(strings.ToUpper(k[:1])+k[1:]) + ":" + values[i]),
				doc(strconv.Quote(strings.ToUpper(k)) + ":null"),
			} {
				if fast, err := diff(bad); err != nil || fast {
					t.Errorf("%s: fast path took it (%v)", bad, err)
				}
			}
		}
		mustBeFast(t, "all keys", doc(all...))
		// All keys in reverse order, with an unknown key between.
		var reversed []string
		for i := len(all) - 1; i >= 0; i-- {
			reversed = append(reversed, all[i], `"zz_unknown":{"id":[1]}`)
		}
		mustBeFast(t, "all keys reversed", doc(reversed...))
	}
}

// sampleValue returns a JSON value that sets a field of type t to something other than its zero value.
func sampleValue(t *testing.T, typ reflect.Type) string {
	switch typ {
	case reflect.TypeFor[*string]():
		return `"s\u00e9"`
	case reflect.TypeFor[id](), reflect.TypeFor[assignedTo]():
		return `"7"`
	case reflect.TypeFor[timestamp](), reflect.TypeFor[duration](), reflect.TypeFor[integer]():
		return `"42"`
	case reflect.TypeFor[boolean]():
		return `false`
	case reflect.TypeFor[json.RawMessage]():
		return `{ "k" : [1] }`
	case reflect.TypeFor[tagList](), reflect.TypeFor[contactList](), reflect.TypeFor[teammateList]():
		return `[{"id":3}]`
	}
	switch typ.Kind() {
	case reflect.Pointer, reflect.Struct:
		return `{"id":5}`
	case reflect.Slice:
		return `[{"id":6},null]`
	}
	t.Fatalf("no sample value for %v", typ)
	return ""
}

// TestFastDecodeRandom compares the decoders on random documents shaped like conversations: the known
// keys with values of the expected type mostly, and now and then null, a wrong type, an odd number or
// string, a key in another case, a repeated key, an unknown key, whitespace. Byte-level fuzzing seldom
// produces such documents, which are valid JSON and so reach the fast path's decoding.
func TestFastDecodeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fast := 0
	const n = 20000
	for range n {
		// Half the documents have nothing odd, so that the fast path takes them.
		g := docGen{rng: rng, odd: 0.02 * float64(rng.IntN(2))}
		raw := []byte(g.value(reflect.TypeFor[rawConversation](), 0))
		took, err := diff(raw)
		if err != nil {
			t.Fatalf("%s\n%v", raw, err)
		}
		if took {
			fast++
		}
	}
	// The odd cases are rare enough for most documents to take the fast path, or this tests little.
	t.Logf("the fast path took %d of %d documents", fast, n)
	if fast < n/4 {
		t.Errorf("the fast path took only %d of %d documents", fast, n)
	}
}

// docGen writes random JSON for a field type of the raw structs.
type docGen struct {
	rng *rand.Rand
	odd float64 // how often to write something odd: a wrong type or key, a repeated key, an unusual value
}

func (g docGen) one(p float64) bool { return g.rng.Float64() < p }

func (g docGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

func (g docGen) space() string {
	if g.one(0.9) {
		return ""
	}
	return g.pick(" ", "\n  ", "\t", "\r\n")
}

// value returns a value for a field of type typ, usually of the right type.
func (g docGen) value(typ reflect.Type, depth int) string {
	odd := g.one(g.odd)
	if odd && g.one(0.3) {
		return g.any(depth) // most likely the wrong type
	}
	switch typ {
	case reflect.TypeFor[*string]():
		return g.pick(g.str(), g.str(), g.str(), "null")
	case reflect.TypeFor[id]():
		if odd {
			return g.pick("1.5", "1e3", "true", "{}", `"\u0031"`)
		}
		return g.pick(g.str(), `"123"`, "4471", "-5", "98765432109876543210", "null", `""`)
	case reflect.TypeFor[integer]():
		if odd {
			return g.pick("1.5", "1e3", `""`, "99999999999999999999", `"x"`)
		}
		return g.pick("42", "0", "-0", "-1", `"7"`, `"-7"`, "null")
	case reflect.TypeFor[timestamp](), reflect.TypeFor[duration]():
		if odd {
			return g.pick(`"x"`, "true", "[]", "1.", "01", `"1e400"`)
		}
		return g.pick("1700000000", "0", "-0", "1.5", "1e3", "1E+2", "-1", `"1700000000"`, `"1.5"`, `""`, "null",
			"99999999999999999999", "1e400", `"2024-06-10T12:00:00Z"`, `"2024-06-10T12:00:00.5+02:00"`, `"2024-06-10"`)
	case reflect.TypeFor[boolean]():
		if odd {
			return g.pick(`"true"`, "1", "nul")
		}
		return g.pick("true", "false", "null")
	case reflect.TypeFor[json.RawMessage]():
		return g.any(depth)
	case reflect.TypeFor[assignedTo]():
		if odd {
			return g.pick("1.5", "true", "[]")
		}
		return g.pick(g.object(reflect.TypeFor[rawActor](), depth), `"7"`, "8", "null")
	case reflect.TypeFor[tagList]():
		return g.wrapped(reflect.TypeFor[[]rawTag](), depth, "tags")
	case reflect.TypeFor[contactList]():
		return g.wrapped(reflect.TypeFor[[]rawContact](), depth, "contacts")
	case reflect.TypeFor[teammateList]():
		return g.wrapped(reflect.TypeFor[[]rawActor](), depth, "admins", "teammates")
	}
	switch typ.Kind() {
	case reflect.Pointer:
		if g.one(0.2) {
			return "null"
		}
		return g.object(typ.Elem(), depth)
	case reflect.Struct:
		if g.one(0.1) {
			return "null"
		}
		return g.object(typ, depth)
	case reflect.Slice:
		return g.list(typ.Elem(), depth)
	}
	panic("no generator for " + typ.String())
}

// object writes an object for struct type typ: some of its keys in random order, now and then odd ones.
func (g docGen) object(typ reflect.Type, depth int) string {
	var members []string
	for _, i := range g.rng.Perm(typ.NumField()) {
		if depth > 4 || g.one(0.4) {
			continue
		}
		key := typ.Field(i).Tag.Get("json")
		switch {
		case g.one(g.odd / 2):
			key = strings.ToUpper(key[:1]) + key[1:]
		case g.one(g.odd / 2):
			members = append(members, strconv.Quote(key)+":"+g.value(typ.Field(i).Type, depth+1))
		}
		members = append(members, g.member(key, g.value(typ.Field(i).Type, depth+1)))
	}
	if g.one(0.3) {
		members = append(members, g.member(g.pick("type", "TYPE_X", "topics", "x"), g.any(depth)))
	}
	if g.one(g.odd) {
		// Keys that encoding/json may match to a field: another case, a folding rune, an escape.
		members = append(members, g.pick(`"Type"`, `"ID"`, `"ſtate"`, `"\u0069d"`, `"é"`)+":"+g.any(depth))
	}
	return "{" + g.space() + strings.Join(members, ","+g.space()) + g.space() + "}"
}

func (g docGen) member(key, value string) string {
	return strconv.Quote(key) + g.space() + ":" + g.space() + value
}

// list writes null, [] or an array of elements of type elem, null among them now and then.
func (g docGen) list(elem reflect.Type, depth int) string {
	switch {
	case g.one(0.15):
		return "null"
	case g.one(0.15) || depth > 4:
		return "[" + g.space() + "]"
	}
	var elems []string
	for range 1 + g.rng.IntN(3) {
		if g.one(0.05) {
			elems = append(elems, "null")
			continue
		}
		elems = append(elems, g.object(elem, depth+1))
	}
	return "[" + strings.Join(elems, ","+g.space()) + "]"
}

// wrapped writes a list either bare or in an object under one of keys, as the list types accept.
func (g docGen) wrapped(slice reflect.Type, depth int, keys ...string) string {
	switch {
	case g.one(0.1):
		return "null"
	case g.one(0.4):
		return g.list(slice.Elem(), depth)
	}
	var members []string
	for _, k := range keys {
		if g.one(0.7) {
			members = append(members, g.member(k, g.list(slice.Elem(), depth)))
		}
	}
	if g.one(0.5) {
		members = append(members, g.member("type", `"list"`))
	}
	return "{" + strings.Join(members, ",") + "}"
}

// str writes a string literal, mostly plain text, sometimes with escapes or invalid UTF-8.
func (g docGen) str() string {
	return `"` + g.pick("admin", "comment", "Zoë", "李小龙", "<p>Hi</p>", "", `a\"b`, `\\`, `\n\t`, `\u00e9`,
		`\ud83d\ude00`, `\ud83d`, `\ude00x`, `\u0000`, `\ud83d\u0041`, "\xff", "\xe2\x82", `a/b\/c`,
		strings.Repeat("long text ", 5)) + `"`
}

// any writes any JSON value.
func (g docGen) any(depth int) string {
	if depth > 6 {
		return g.pick("1", "null", `"x"`)
	}
	switch g.rng.IntN(8) {
	case 0:
		return g.pick("true", "false", "null")
	case 1:
		return g.pick("0", "-1.5e3", "42", "1E-2")
	case 2, 3:
		return g.str()
	case 4, 5:
		var members []string
		for range g.rng.IntN(3) {
			members = append(members, g.member(g.pick("a", "b", "K", "id"), g.any(depth+1)))
		}
		return "{" + strings.Join(members, ","+g.space()) + "}"
	}
	var elems []string
	for range g.rng.IntN(3) {
		elems = append(elems, g.any(depth+1))
	}
	return "[" + g.space() + strings.Join(elems, ",") + "]"
}

// TestPlainEnd checks the 8-bytes-at-a-time scan of strings against the byte table it speeds up.
func TestPlainEnd(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		want := 0
		for want < len(b) && plain[b[want]] {
			want++
		}
		if got := plainEnd(b, 0); got != want {
			t.Fatalf("plainEnd(%q) = %d, want %d", b, got, want)
		}
	}
	// Every byte value at every position of a word, and after a word of plain bytes.
	for c := range 256 {
		for pos := range 16 {
			b := []byte("abcdefghijklmnopqrs")
			b[pos] = byte(c)
			check(b)
		}
	}
	// Random words mixing plain bytes with a few of the others, which may make the subtractions borrow.
	rng := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 1, 0x1f, ' ', '!', '"', '#', '\\', ']', 0x7e, 0x7f, 0x80, 0xc3, 0xff, 'a', 'z'}
	for range 100000 {
		b := make([]byte, 1+rng.IntN(24))
		for i := range b {
			b[i] = pick[rng.IntN(len(pick))]
			if rng.IntN(3) > 0 {
				b[i] = 'a' + byte(rng.IntN(26))
			}
		}
		check(b)
	}
}

// TestFastDecodeCopies checks that nothing decoded shares memory with the input, which callers reuse.
func TestFastDecodeCopies(t *testing.T) {
	for name, raw := range goldenInputs(t) {
		buf := bytes.Clone(raw)
		var c rawConversation
		if _, ok := decodeFast(buf, &c); !ok {
			t.Fatalf("%s: the fast path bailed out", name)
		}
		for i := range buf {
			buf[i] = 'x'
		}
		var want rawConversation
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s: the result changed with the input buffer", name)
		}
	}
}

// fuzzCorpus returns the inputs of a checked-in fuzz corpus.
func fuzzCorpus(tb testing.TB, target string) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var inputs [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		header, arg, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		inner, ok := strings.CutPrefix(strings.TrimSpace(arg), "[]byte(")
		inner, ok2 := strings.CutSuffix(inner, ")")
		s, err := strconv.Unquote(inner)
		if header != "go test fuzz v1" || !ok || !ok2 || err != nil {
			tb.Fatalf("%s: not a one-argument []byte corpus entry", p)
		}
		inputs = append(inputs, []byte(s))
	}
	return inputs
}

func FuzzFastDecode(f *testing.F) {
	for _, raw := range goldenInputs(f) {
		f.Add(raw)
	}
	for _, raw := range fuzzCorpus(f, "FuzzConversation") {
		f.Add(raw)
	}
	f.Add([]byte(`{"id":1,"created_at":"1","tags":[{"id":2}],"conversation_parts":{"conversation_parts":[{"id":3,"assigned_to":4}]}}`))
	f.Add([]byte(`{"ID":"\ud83d\ude00","source":{"body":"a\u00e9\n","Body":null},"contacts":{"contacts":[]},"x":[1e3,-0,{"a":null}]}`))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		g := docGen{rng: rng, odd: 0.02 * float64(i%2)}
		f.Add([]byte(g.value(reflect.TypeFor[rawConversation](), 0)))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if _, err := diff(raw); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkDecode compares the two decoders alone, on v2_full as the API sends it (compact).
func BenchmarkDecode(b *testing.B) {
	pretty, err := os.ReadFile(filepath.Join(goldenDir, "v2_full.json"))
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, pretty); err != nil {
		b.Fatal(err)
	}
	raw := compact.Bytes()
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			var c rawConversation
			if _, ok := decodeFast(raw, &c); !ok {
				b.Fatal("bailed out")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			var c rawConversation
			if err := json.Unmarshal(raw, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
