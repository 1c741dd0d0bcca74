package intercomtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// client sends requests the way the exporter must: token, Accept and a pinned version.
type client struct {
	t       testing.TB
	srv     *Server
	version string
	http    *http.Client
}

func newClient(t testing.TB, srv *Server, version string) *client {
	return &client{t: t, srv: srv, version: version, http: srv.Client()}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; edit, when not nil, changes it before it is sent.
func (c *client) do(method, target string, body any, edit func(*http.Request)) answer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	if strings.HasPrefix(target, "/") {
		target = c.srv.URL + target
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Intercom-Version", c.version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func (c *client) get(target string) answer { return c.do(http.MethodGet, target, nil, nil) }

// decode unmarshals an answer that must be a 200.
func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decoding %.200s: %v", a.body, err)
	}
}

// wantError checks an Intercom error answer.
func (a answer) wantError(t *testing.T, status int, code string) apiError {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	var e errorList
	if err := json.Unmarshal(a.body, &e); err != nil || e.Type != "error.list" || len(e.Errors) != 1 {
		t.Fatalf("not an error.list: %s", a.body)
	}
	if e.Errors[0].Code != code {
		t.Fatalf("error code %q, want %q (%s)", e.Errors[0].Code, code, e.Errors[0].Message)
	}
	return e.Errors[0]
}

// flexID decodes an id sent as a string or a number.
type flexID string

func (id *flexID) UnmarshalJSON(b []byte) error {
	*id = flexID(strings.Trim(string(b), `"`))
	return nil
}

type item struct {
	ID                flexID          `json:"id"`
	CreatedAt         int64           `json:"created_at"`
	UpdatedAt         int64           `json:"updated_at"`
	Tags              json.RawMessage `json:"tags"`
	ConversationParts json.RawMessage `json:"conversation_parts"`
}

type page struct {
	Type          string `json:"type"`
	Conversations []item `json:"conversations"`
	TotalCount    int    `json:"total_count"`
	Pages         struct {
		Page       int             `json:"page"`
		PerPage    json.RawMessage `json:"per_page"`
		TotalPages int             `json:"total_pages"`
		Next       json.RawMessage `json:"next"`
	} `json:"pages"`
}

func newTestServer(t *testing.T, n int, opts Options) (*Workspace, *Server) {
	t.Helper()
	ws := NewWorkspace(42, n)
	srv := NewServer(ws, opts)
	t.Cleanup(srv.Close)
	return ws, srv
}

func liveIDs(ws *Workspace) []string { return ws.ids() }

// checkExactlyOnce fails unless got holds every id of want exactly once.
func checkExactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("id %s listed %d times", id, n)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			t.Errorf("id %s never listed", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("listed %d ids, want %d", len(got), len(want))
	}
}

func TestListCursor(t *testing.T) {
	ws, srv := newTestServer(t, 523, Options{})
	for _, tc := range []struct {
		version string
		perPage int // 0: the default
		pages   int
	}{
		{"2.11", 150, 4},
		{"2.6", 0, 27},
		{"Preview", 7, 75},
		{"2.16", 100, 6},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.version, tc.perPage), func(t *testing.T) {
			c := newClient(t, srv, tc.version)
			var ids []string
			var perPageKinds = map[byte]bool{}
			prevUpdated := int64(1 << 62)
			q := url.Values{}
			if tc.perPage > 0 {
				q.Set("per_page", strconv.Itoa(tc.perPage))
			}
			for n := 1; ; n++ {
				var p page
				c.get("/conversations?"+q.Encode()).decode(t, &p)
				if p.Type != "conversation.list" || p.TotalCount != ws.Len() || p.Pages.Page != n || p.Pages.TotalPages != tc.pages {
					t.Fatalf("page %d: type %q total_count %d page %d total_pages %d", n, p.Type, p.TotalCount, p.Pages.Page, p.Pages.TotalPages)
				}
				perPageKinds[p.Pages.PerPage[0]] = true
				for _, it := range p.Conversations {
					if it.UpdatedAt > prevUpdated {
						t.Fatalf("not ordered by updated_at descending at %s", it.ID)
					}
					prevUpdated = it.UpdatedAt
					if it.ConversationParts != nil {
						t.Fatalf("list item %s carries conversation_parts", it.ID)
					}
					if it.Tags == nil {
						t.Fatalf("2.x list item %s lacks tags", it.ID)
					}
					ids = append(ids, string(it.ID))
				}
				if p.Pages.Next == nil {
					if n != tc.pages {
						t.Fatalf("no next after page %d of %d", n, tc.pages)
					}
					break
				}
				var next struct {
					Page          int    `json:"page"`
					StartingAfter string `json:"starting_after"`
				}
				if err := json.Unmarshal(p.Pages.Next, &next); err != nil || next.StartingAfter == "" || next.Page != n+1 {
					t.Fatalf("page %d: bad next %s", n, p.Pages.Next)
				}
				q.Set("starting_after", next.StartingAfter)
			}
			checkExactlyOnce(t, ids, liveIDs(ws))
			if tc.pages > 1 && (!perPageKinds['"'] || len(perPageKinds) != 2) {
				t.Errorf("per_page was not sent both as a number and as a string: %v", perPageKinds)
			}
		})
	}

	c := newClient(t, srv, "2.11")
	for _, target := range []string{
		"/conversations?per_page=151",
		"/conversations?per_page=abc",
		"/conversations?starting_after=bm90IGEgY3Vyc29y", // "not a cursor"
		"/conversations?starting_after=%25%25",
		"/conversations?starting_after=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`[2,1782777600,"1900000001",0]`))), // forged
	} {
		c.get(target).wantError(t, http.StatusBadRequest, "parameter_invalid")
	}
	if msg := c.get("/conversations?per_page=151").wantError(t, 400, "parameter_invalid").Message; msg != "Per Page is too big" {
		t.Errorf("message %q", msg)
	}
}

func TestListPages(t *testing.T) {
	ws, srv := newTestServer(t, 211, Options{})
	for _, tc := range []struct {
		version, query string
		ascCreated     bool
	}{
		{"1.4", "per_page=20", false},
		{"1.0", "per_page=60&order=desc&sort=updated_at", false},
		{"2.3", "", false},
		{"1.2", "per_page=50&order=asc&sort=created_at", true},
		{"2.5", "per_page=1", false},
	} {
		t.Run(tc.version+"?"+tc.query, func(t *testing.T) {
			c := newClient(t, srv, tc.version)
			var ids []string
			pages := 0
			target := "/conversations?" + tc.query
			var prev item
			for {
				var p page
				c.get(target).decode(t, &p)
				pages++
				for k, it := range p.Conversations {
					if it.ConversationParts != nil {
						t.Fatalf("list item %s carries conversation_parts", it.ID)
					}
					if tc.version[0] == '1' && it.Tags != nil {
						t.Fatalf("1.x list item %s carries tags", it.ID)
					}
					if k > 0 || pages > 1 {
						if tc.ascCreated && it.CreatedAt < prev.CreatedAt || !tc.ascCreated && it.UpdatedAt > prev.UpdatedAt {
							t.Fatalf("out of order at %s", it.ID)
						}
					}
					prev = it
					ids = append(ids, string(it.ID))
				}
				if string(p.Pages.Next) == "null" {
					if p.Pages.Page != p.Pages.TotalPages {
						t.Fatalf("next is null on page %d of %d", p.Pages.Page, p.Pages.TotalPages)
					}
					break
				}
				var next string
				if err := json.Unmarshal(p.Pages.Next, &next); err != nil || !strings.HasPrefix(next, srv.URL+"/conversations?") {
					t.Fatalf("next %s is not a full URL on the server", p.Pages.Next)
				}
				target = next
			}
			deduped := slices.Compact(slices.Clone(ids)) // overlaps are adjacent
			if dups := len(ids) - len(deduped); tc.query != "per_page=1" && dups != pages-1 {
				t.Errorf("%d duplicates over %d pages, want each page to repeat the previous page's last item", dups, pages)
			}
			checkExactlyOnce(t, deduped, liveIDs(ws))
		})
	}
}

// retrieved is what TestRetrieve reads of a retrieve answer, in either shape.
type retrieved struct {
	ID                flexID `json:"id"`
	ConversationParts struct {
		Type  string `json:"type"`
		Parts []struct {
			ID         flexID          `json:"id"`
			PartType   string          `json:"part_type"`
			AssignedTo json.RawMessage `json:"assigned_to"`
		} `json:"conversation_parts"`
		TotalCount int `json:"total_count"`
	} `json:"conversation_parts"`
	Statistics *struct {
		CountConversationParts *int `json:"count_conversation_parts"`
	} `json:"statistics"`
	Source              json.RawMessage `json:"source"`
	ConversationMessage json.RawMessage `json:"conversation_message"`
}

func TestRetrieve(t *testing.T) {
	ws, srv := newTestServer(t, 20, Options{})
	long, _ := ws.Conversation(ws.LongConversationID())
	capped, _ := ws.Conversation(ws.CapConversationID())
	for _, tc := range []struct {
		version string
		conv    Conversation
		shown   int
	}{
		{"2.11", long, PartsCap},
		{"1.4", long, PartsCap},
		{"2.16", capped, PartsCap},
		{"1.1", capped, PartsCap},
	} {
		t.Run(tc.version+"/"+tc.conv.ID, func(t *testing.T) {
			c := newClient(t, srv, tc.version)
			var got retrieved
			c.get("/conversations/"+tc.conv.ID).decode(t, &got)
			parts := got.ConversationParts
			if string(got.ID) != tc.conv.ID || parts.Type != "conversation_part.list" {
				t.Fatalf("id %s, parts type %q", got.ID, parts.Type)
			}
			if len(parts.Parts) != tc.shown || parts.TotalCount != len(tc.conv.Parts) {
				t.Fatalf("%d parts, total_count %d; want %d and %d", len(parts.Parts), parts.TotalCount, tc.shown, len(tc.conv.Parts))
			}
			withheld := len(tc.conv.Parts) - tc.shown
			for k, p := range parts.Parts {
				if want := tc.conv.Parts[withheld+k].ID; string(p.ID) != want {
					t.Fatalf("part %d is %s, want %s (the newest parts, oldest first)", k, p.ID, want)
				}
			}
			if tc.version[0] == '2' {
				if got.Statistics == nil || got.Statistics.CountConversationParts == nil ||
					*got.Statistics.CountConversationParts != len(tc.conv.Parts) {
					t.Fatalf("statistics.count_conversation_parts missing or wrong")
				}
				if got.Source == nil || got.ConversationMessage != nil {
					t.Fatal("2.x answer must have source and no conversation_message")
				}
			} else if got.Source != nil || got.ConversationMessage == nil {
				t.Fatal("1.x answer must have conversation_message and no source")
			}
		})
	}

	c := newClient(t, srv, "2.11")
	c.get("/conversations/1").wantError(t, http.StatusNotFound, "not_found")
	c.get("/conversations/"+long.ID+"/parts").wantError(t, http.StatusNotFound, "not_found")
	st := srv.Stats()
	if st.Retrieved[long.ID] != 2 || st.Retrieved[capped.ID] != 2 || st.RetrieveRequests != 6 || st.NotFound != 2 {
		t.Errorf("stats %+v", st)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.Requests != 0 || len(st.Retrieved) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestSearch(t *testing.T) {
	ws, srv := newTestServer(t, 300, Options{})
	all := ws.Conversations()
	mid := all[len(all)/2].UpdatedAt
	someIDs := []any{all[3].ID, json.Number(all[10].ID), all[200].ID, "999"}

	filter := func(field, op string, v any) map[string]any {
		return map[string]any{"field": field, "operator": op, "value": v}
	}
	group := func(op string, qs ...any) map[string]any { return map[string]any{"operator": op, "value": qs} }

	for _, tc := range []struct {
		name  string
		query any
		field string // sort field
		order string
		keep  func(Conversation) bool
	}{
		{"updated_at > T ascending", filter("updated_at", ">", mid), "updated_at", "ascending",
			func(c Conversation) bool { return c.UpdatedAt > mid }},
		{"updated_at > T OR = T, T as a string", group("OR", filter("updated_at", ">", strconv.FormatInt(mid, 10)), filter("updated_at", "=", mid)), "updated_at", "ascending",
			func(c Conversation) bool { return c.UpdatedAt >= mid }},
		{"updated_at <= T descending", filter("updated_at", "<=", mid), "updated_at", "descending",
			func(c Conversation) bool { return c.UpdatedAt <= mid }},
		{"created_at < T by created_at", filter("created_at", "<", mid), "created_at", "ascending",
			func(c Conversation) bool { return c.CreatedAt < mid }},
		{"id IN", filter("id", "IN", someIDs), "updated_at", "descending",
			func(c Conversation) bool { return slices.Contains([]string{all[3].ID, all[10].ID, all[200].ID}, c.ID) }},
		{"nested: (id NIN) AND (updated_at >= T OR created_at < T)",
			group("AND", filter("id", "NIN", someIDs), group("OR", filter("updated_at", ">=", mid), filter("created_at", "<", mid-86400*300))),
			"id", "ascending",
			func(c Conversation) bool {
				return !slices.Contains([]string{all[3].ID, all[10].ID, all[200].ID}, c.ID) &&
					(c.UpdatedAt >= mid || c.CreatedAt < mid-86400*300)
			}},
		{"id != and >", group("AND", filter("id", "!=", all[5].ID), filter("id", ">", all[1].ID)), "", "",
			func(c Conversation) bool { return c.ID != all[5].ID && compareIDs(c.ID, all[1].ID) > 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []Conversation
			for _, c := range all {
				if tc.keep(c) {
					want = append(want, c)
				}
			}
			f := map[string]func(Conversation) int64{
				"": func(c Conversation) int64 { return c.UpdatedAt }, "updated_at": func(c Conversation) int64 { return c.UpdatedAt },
				"created_at": func(c Conversation) int64 { return c.CreatedAt }, "id": func(Conversation) int64 { return 0 },
			}[tc.field]
			slices.SortFunc(want, func(a, b Conversation) int {
				d := f(a) - f(b)
				if d == 0 {
					return compareIDs(a.ID, b.ID)
				}
				return int(max(-1, min(1, d)))
			})
			if tc.order != "ascending" {
				slices.Reverse(want)
			}

			c := newClient(t, srv, "2.11")
			body := map[string]any{"query": tc.query, "pagination": map[string]any{"per_page": 17}}
			if tc.field != "" {
				body["sort"] = map[string]any{"field": tc.field, "order": tc.order}
			}
			var got []string
			for {
				var p page
				c.do(http.MethodPost, "/conversations/search", body, nil).decode(t, &p)
				if p.TotalCount != len(want) {
					t.Fatalf("total_count %d, want %d", p.TotalCount, len(want))
				}
				for _, it := range p.Conversations {
					if it.ConversationParts != nil {
						t.Fatalf("search item %s carries parts", it.ID)
					}
					got = append(got, string(it.ID))
				}
				if p.Pages.Next == nil {
					break
				}
				var next struct {
					StartingAfter string `json:"starting_after"`
				}
				json.Unmarshal(p.Pages.Next, &next)
				body["pagination"] = map[string]any{"per_page": "17", "starting_after": next.StartingAfter}
			}
			var wantIDs []string
			for _, c := range want {
				wantIDs = append(wantIDs, c.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("got %d ids %v\nwant %d ids %v", len(got), got, len(wantIDs), wantIDs)
			}
		})
	}

	// A cursor of the descending list does not continue an ascending search.
	var first page
	c := newClient(t, srv, "2.11")
	c.get("/conversations").decode(t, &first)
	var listNext struct {
		StartingAfter string `json:"starting_after"`
	}
	json.Unmarshal(first.Pages.Next, &listNext)
	c.do(http.MethodPost, "/conversations/search", map[string]any{
		"query":      filter("updated_at", ">", 0),
		"pagination": map[string]any{"starting_after": listNext.StartingAfter},
		"sort":       map[string]any{"field": "updated_at", "order": "ascending"},
	}, nil).wantError(t, http.StatusBadRequest, "parameter_invalid")

	deep := group("AND", group("OR", group("AND", filter("id", "=", "1")), filter("id", "=", "2")))
	var many []any
	for k := range 16 {
		many = append(many, filter("id", "=", strconv.Itoa(k)))
	}
	for name, body := range map[string]any{
		"per_page too big":     map[string]any{"query": filter("id", "=", "1"), "pagination": map[string]any{"per_page": 151}},
		"three levels":         map[string]any{"query": deep},
		"sixteen filters":      map[string]any{"query": group("OR", many...)},
		"unsupported operator": map[string]any{"query": filter("updated_at", "~", 1)},
		"bad date":             map[string]any{"query": filter("updated_at", ">", "yesterday")},
		"bad cursor":           map[string]any{"query": filter("id", ">", 0), "pagination": map[string]any{"starting_after": "WzE3"}},
		"asc is not a word":    map[string]any{"query": filter("id", ">", 0), "sort": map[string]any{"field": "updated_at", "order": "asc"}},
		"no query":             map[string]any{},
	} {
		t.Run(name, func(t *testing.T) {
			c.do(http.MethodPost, "/conversations/search", body, nil).wantError(t, http.StatusBadRequest, "parameter_invalid")
		})
	}
	newClient(t, srv, "1.4").do(http.MethodPost, "/conversations/search", map[string]any{"query": filter("id", ">", 0)}, nil).
		wantError(t, http.StatusNotFound, "not_found")
}

func TestDeleted(t *testing.T) {
	ws, srv := newTestServer(t, 50, Options{})
	ids := liveIDs(ws)
	deletedAt := map[string]int64{}
	for k, id := range []string{ids[3], ids[7], ids[8], ids[40], ids[49]} {
		deletedAt[id] = Epoch + int64(k)*60
		ws.Delete(id, deletedAt[id])
	}
	if ws.Len() != 45 {
		t.Fatalf("Len %d after 5 deletions of 50", ws.Len())
	}

	c := newClient(t, srv, "2.16")
	var got []string
	target := "/conversations/deleted?per_page=2"
	for {
		var p struct {
			Type          string `json:"type"`
			Conversations []struct {
				Type            string `json:"type"`
				ID              string `json:"id"`
				DeletedAt       int64  `json:"deleted_at"`
				MetricsRetained *bool  `json:"metrics_retained"`
			} `json:"conversations"`
			TotalCount int `json:"total_count"`
			Pages      struct {
				Next *string `json:"next"`
			} `json:"pages"`
		}
		c.get(target).decode(t, &p)
		if p.TotalCount != 5 {
			t.Fatalf("total_count %d", p.TotalCount)
		}
		for _, it := range p.Conversations {
			if it.Type != "conversation" || it.DeletedAt != deletedAt[it.ID] || it.MetricsRetained == nil {
				t.Fatalf("bad item %+v", it)
			}
			got = append(got, it.ID)
		}
		if p.Pages.Next == nil {
			break
		}
		target = *p.Pages.Next
	}
	checkExactlyOnce(t, got, slices.Collect(maps.Keys(deletedAt)))

	c.get("/conversations/deleted?per_page=61").wantError(t, http.StatusBadRequest, "parameter_invalid")
	c.get("/conversations/"+ids[3]).wantError(t, http.StatusNotFound, "not_found")
	newClient(t, srv, "2.15").get("/conversations/deleted").wantError(t, http.StatusNotFound, "not_found")
	var p page
	newClient(t, srv, "Preview").get("/conversations/deleted").decode(t, &p)
	newClient(t, srv, "2.11").get("/conversations?per_page=150").decode(t, &p)
	if p.TotalCount != 45 {
		t.Errorf("list total_count %d after deletions", p.TotalCount)
	}
	if st := srv.Stats(); st.DeletedRequests != 5 {
		t.Errorf("DeletedRequests %d, want 5", st.DeletedRequests)
	}
}

func TestRequestErrors(t *testing.T) {
	_, srv := newTestServer(t, 5, Options{Token: "s3cret"})
	for _, tc := range []struct {
		name   string
		edit   func(*http.Request)
		status int
		code   string
	}{
		{"no token", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "unauthorized"},
		{"wrong token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer test-token") }, 401, "unauthorized"},
		{"no Accept", func(r *http.Request) { r.Header.Del("Accept") }, 406, "media_type_not_acceptable"},
		{"Accept html", func(r *http.Request) { r.Header.Set("Accept", "text/html") }, 406, "media_type_not_acceptable"},
		{"version 2.17", func(r *http.Request) { r.Header.Set("Intercom-Version", "2.17") }, 400, "intercom_version_invalid"},
		{"version 1.5", func(r *http.Request) { r.Header.Set("Intercom-Version", "1.5") }, 400, "intercom_version_invalid"},
		{"version preview", func(r *http.Request) { r.Header.Set("Intercom-Version", "latest") }, 400, "intercom_version_invalid"},
		{"no version", func(r *http.Request) { r.Header.Del("Intercom-Version") }, 200, ""},
		{"Accept list", func(r *http.Request) { r.Header.Set("Accept", "text/html, application/json;q=0.9") }, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv, "2.11")
			a := c.do(http.MethodGet, "/conversations", nil, func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer s3cret")
				tc.edit(r)
			})
			if tc.status == 200 {
				var p page
				a.decode(t, &p)
				return
			}
			e := a.wantError(t, tc.status, tc.code)
			if tc.status == 401 {
				if e.Message != "Access Token Invalid" {
					t.Errorf("message %q", e.Message)
				}
				if a.header.Get("X-RateLimit-Limit") != "" {
					t.Error("unauthenticated answer carries rate-limit headers")
				}
			} else if a.header.Get("X-RateLimit-Remaining") == "" {
				t.Error("authenticated answer lacks rate-limit headers")
			}
		})
	}
}

// fakeClock is a settable clock for rate-limit windows.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_003, 500_000_000)}
	ws, srv := newTestServer(t, 5, Options{RateLimit: 3, Now: clock.Now})
	c := newClient(t, srv, "2.11")

	check := func(a answer, status int, remaining, reset string) {
		t.Helper()
		if a.status != status {
			t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
		}
		h := a.header
		if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != remaining || h.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("headers limit %q remaining %q reset %q, want 3 %s %s", h.Get("X-RateLimit-Limit"),
				h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"), remaining, reset)
		}
	}
	check(c.get("/conversations"), 200, "2", "1700000010")
	c.do(http.MethodGet, "/conversations", nil, func(r *http.Request) { r.Header.Del("Authorization") }) // not counted
	check(c.get("/conversations/"+ws.ids()[0]), 200, "1", "1700000010")
	clock.Advance(6 * time.Second) // 09.5: still the same window
	check(c.get("/conversations"), 200, "0", "1700000010")
	a := c.get("/conversations")
	check(a, 429, "0", "1700000010")
	if msg := a.wantError(t, 429, "rate_limit_exceeded").Message; msg != "Exceeded rate limit of 3 in 10_seconds" {
		t.Errorf("message %q", msg)
	}
	clock.Advance(time.Second) // 10.5: a new window
	check(c.get("/conversations"), 200, "2", "1700000020")
	if st := srv.Stats(); st.RateLimited != 1 || st.Requests != 6 || st.ListRequests != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaults(t *testing.T) {
	const requests, rate = 600, 0.2
	for _, tc := range []struct {
		name   string
		faults Faults
	}{
		{"server errors", Faults{Seed: 1, ServerErrorRate: rate}},
		{"cuts", Faults{Seed: 2, CutRate: rate}},
		{"truncations", Faults{Seed: 3, TruncateRate: rate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, srv := newTestServer(t, 30, Options{Faults: tc.faults})
			// A fresh connection per request: Go's transport silently retries a GET whose reused
			// connection closes before answering, which would hide cuts from this count.
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			id := ws.ids()[5]
			var serverErrors, cuts, truncations int
			for range requests {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/conversations/"+id, nil)
				req.Header.Set("Authorization", "Bearer "+DefaultToken)
				req.Header.Set("Accept", "application/json")
				req.Header.Set("Intercom-Version", "2.11")
				resp, err := hc.Do(req)
				if err != nil {
					cuts++
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case errors.Is(err, io.ErrUnexpectedEOF):
					truncations++
				case err != nil:
					t.Fatalf("reading body: %v", err)
				case resp.StatusCode >= 500:
					serverErrors++
					answer{resp.StatusCode, resp.Header, body}.wantError(t, resp.StatusCode,
						map[bool]string{true: "service_unavailable", false: "server_error"}[resp.StatusCode == 503])
				case resp.StatusCode != 200:
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			got := map[string]int{"server errors": serverErrors, "cuts": cuts, "truncations": truncations}
			for kind, n := range got {
				want := 0.0
				if kind == tc.name {
					want = rate * requests
				}
				if float64(n) < want*0.7 || float64(n) > want*1.3 {
					t.Errorf("%d %s in %d requests, want about %.0f", n, kind, requests, want)
				}
			}
			st := srv.Stats()
			if int(st.Faults) != got[tc.name] || int(st.RetrieveRequests)+got[tc.name] != requests ||
				st.Retrieved[id] != int(st.RetrieveRequests) {
				t.Errorf("stats %+v, observed %v", st, got)
			}
		})
	}
}

func TestServerWhileMutating(t *testing.T) {
	ws, srv := newTestServer(t, 200, Options{})
	ids := liveIDs(ws)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			c := newClient(t, srv, []string{"2.11", "1.4", "2.3", "2.16"}[w])
			for k := range 20 {
				var p page
				c.get("/conversations?per_page=50").decode(t, &p)
				if a := c.get("/conversations/" + ids[(w*20+k)%len(ids)]); a.status != 200 && a.status != 404 {
					t.Errorf("retrieve: status %d", a.status)
				}
			}
		})
	}
	for k := range 50 {
		ws.Update(ids[k], Epoch+int64(k), func(c *Conversation) { c.State = "closed"; c.Open = false })
		ws.Delete(ids[100+k], Epoch+int64(k))
		ws.Add(Conversation{ID: ws.NewID(), CreatedAt: Epoch, UpdatedAt: Epoch + int64(k), State: "open", Open: true})
	}
	wg.Wait()
	if ws.Len() != 200 {
		t.Errorf("Len %d, want 200", ws.Len())
	}

	// The most recently updated conversation comes first.
	var p page
	newClient(t, srv, "2.11").get("/conversations").decode(t, &p)
	top := p.Conversations[0]
	if top.UpdatedAt != Epoch+49 {
		t.Errorf("first listed %s updated at %d, want %d", top.ID, top.UpdatedAt, Epoch+49)
	}
}

func TestLatency(t *testing.T) {
	const latency = 40 * time.Millisecond
	_, srv := newTestServer(t, 3, Options{Latency: latency})
	start := time.Now()
	var p page
	newClient(t, srv, "2.11").get("/conversations").decode(t, &p)
	if took := time.Since(start); took < latency {
		t.Errorf("answered in %v, want at least %v", took, latency)
	}
}
