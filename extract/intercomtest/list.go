package intercomtest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
)

const (
	defaultPerPage    = 20
	maxPerPage        = 150
	maxDeletedPerPage = 60
)

// field is what a listing or search is ordered by; ties are broken by id.
type field int

const (
	fieldUpdatedAt field = iota
	fieldCreatedAt
	fieldID
)

func (f field) key(e entry) int64 {
	switch f {
	case fieldUpdatedAt:
		return e.updated
	case fieldCreatedAt:
		return e.created
	}
	return 0 // fieldID: the id tie-break alone orders
}

func (f field) compare(a, b entry) int {
	return cmp.Or(cmp.Compare(f.key(a), f.key(b)), compareIDs(a.id, b.id))
}

// sorted returns entries ordered by f; entries must be ordered by updated_at already (Workspace.entries).
func (f field) sorted(entries []entry) []entry {
	if f == fieldUpdatedAt {
		return entries
	}
	out := slices.Clone(entries)
	slices.SortFunc(out, f.compare)
	return out
}

// view is a read-only ordering of entries sorted ascending by field, read backwards when desc. It lets
// the list walk the shared index without copying it.
type view struct {
	entries []entry
	field   field
	desc    bool
}

func (v view) len() int { return len(v.entries) }

func (v view) at(k int) entry {
	if v.desc {
		return v.entries[len(v.entries)-1-k]
	}
	return v.entries[k]
}

// cursor is the decoded starting_after: the page it ends and the position of the last item returned.
// Holding a position rather than an offset makes cursor listings behave like Intercom's while
// conversations change: an updated conversation moves, and a listing may miss or repeat it.
type cursor struct {
	page int
	key  int64
	id   string
}

// encode returns the cursor as Intercom spells them, base64 of a JSON array ("WzE3..."), so it may need
// URL escaping. The array ends with a checksum over the ordering too, so that a cursor the server did
// not issue, or one issued for another ordering, is refused rather than silently misread.
func (c cursor) encode(v view) string {
	b, _ := json.Marshal([]any{c.page, c.key, c.id, c.sum(v)})
	return base64.StdEncoding.EncodeToString(b)
}

func (c cursor) sum(v view) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d/%s/%d/%t", c.page, c.key, c.id, v.field, v.desc)
	return h.Sum32()
}

var errBadCursor = errors.New("starting_after is invalid")

func decodeCursor(s string, v view) (cursor, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 4 {
		return cursor{}, errBadCursor
	}
	var c cursor
	var sum uint32
	if json.Unmarshal(raw[0], &c.page) != nil || json.Unmarshal(raw[1], &c.key) != nil ||
		json.Unmarshal(raw[2], &c.id) != nil || json.Unmarshal(raw[3], &sum) != nil || sum != c.sum(v) {
		return cursor{}, errBadCursor
	}
	return c, nil
}

type listEnvelope struct {
	Type          string `json:"type"`
	Conversations []any  `json:"conversations"`
	TotalCount    int    `json:"total_count"`
	Pages         any    `json:"pages"`
}

type cursorPages struct {
	Type       string      `json:"type"`
	Page       int         `json:"page"`
	PerPage    any         `json:"per_page"`
	TotalPages int         `json:"total_pages"`
	Next       *cursorNext `json:"next,omitempty"`
}

// cursorNext holds page and starting_after, as real responses do (the spec says per_page).
type cursorNext struct {
	Page          int    `json:"page"`
	StartingAfter string `json:"starting_after"`
}

type numberedPages struct {
	Type       string  `json:"type"`
	Page       int     `json:"page"`
	PerPage    any     `json:"per_page"`
	TotalPages int     `json:"total_pages"`
	Next       *string `json:"next"`
}

// perPageValue renders per_page as a number on odd pages and as a string on even ones: real responses
// have sent "50", so clients must accept both within one listing.
func perPageValue(perPage, page int) any {
	if page%2 == 0 {
		return strconv.Itoa(perPage)
	}
	return perPage
}

// perPageParam parses a per_page value, which is absent, a JSON number or a (numeric) string.
func perPageParam(s string, limit int) (int, error) {
	if s == "" {
		return defaultPerPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New("Per Page is invalid")
	}
	if n > limit {
		return 0, errors.New("Per Page is too big")
	}
	return n, nil
}

// cursorPage returns the page of v that follows start (the first page when start is nil).
func cursorPage(v view, perPage int, start *cursor) ([]entry, cursorPages) {
	first, page := 0, 1
	if start != nil {
		page = start.page + 1
		pos := entry{id: start.id, created: start.key, updated: start.key}
		first = sort.Search(v.len(), func(k int) bool {
			d := v.field.compare(v.at(k), pos)
			return v.desc && d < 0 || !v.desc && d > 0
		})
	}
	end := min(first+perPage, v.len())
	items := make([]entry, 0, end-first)
	for k := first; k < end; k++ {
		items = append(items, v.at(k))
	}
	pages := cursorPages{
		Type:       "pages",
		Page:       page,
		PerPage:    perPageValue(perPage, page),
		TotalPages: (v.len() + perPage - 1) / perPage,
	}
	if end < v.len() {
		last := items[len(items)-1]
		c := cursor{page: page, key: v.field.key(last), id: last.id}
		pages.Next = &cursorNext{Page: page + 1, StartingAfter: c.encode(v)}
	}
	return items, pages
}

// pageWindow returns the bounds of page (from 1) of n items, pages holding perPage items and starting
// step items apart, and the number of pages.
func pageWindow(n, page, perPage, step int) (first, end, totalPages int) {
	switch {
	case n == 0:
		totalPages = 0
	case n <= perPage:
		totalPages = 1
	default:
		totalPages = 1 + (n-perPage+step-1)/step
	}
	first = min((page-1)*step, n)
	return first, min(first+perPage, n), totalPages
}

// pageURL is the URL of another page of the request, on the host the client called.
func pageURL(r *http.Request, page int) *string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	s := u.String()
	return &s
}

// renderItems renders list and search items, which carry no parts. A conversation deleted since the
// entries were taken is left out, as a real listing would.
func (s *Server) renderItems(entries []entry, v version) []any {
	out := make([]any, 0, len(entries))
	for _, e := range entries {
		if c, ok := s.ws.Conversation(e.id); ok {
			out = append(out, renderConversation(c, v, false))
		}
	}
	return out
}

func (s *Server) badParameter(w http.ResponseWriter, msg string) int {
	return s.writeError(w, http.StatusBadRequest, "parameter_invalid", msg)
}

// list serves GET /conversations, by cursor from 2.6 on and by page number before.
func (s *Server) list(w http.ResponseWriter, r *http.Request, v version) int {
	q := r.URL.Query()
	perPage, err := perPageParam(q.Get("per_page"), maxPerPage)
	if err != nil {
		return s.badParameter(w, err.Error())
	}
	entries := s.ws.entries()
	if v.cursorPaging() {
		vw := view{entries, fieldUpdatedAt, true}
		var start *cursor
		if after := q.Get("starting_after"); after != "" {
			c, err := decodeCursor(after, vw)
			if err != nil {
				return s.badParameter(w, err.Error())
			}
			start = &c
		}
		items, pages := cursorPage(vw, perPage, start)
		return s.writeJSON(w, http.StatusOK, listEnvelope{
			Type: "conversation.list", Conversations: s.renderItems(items, v), TotalCount: len(entries), Pages: pages,
		})
	}

	f := fieldUpdatedAt
	switch q.Get("sort") {
	case "", "updated_at":
	case "created_at":
		f = fieldCreatedAt
	default:
		return s.badParameter(w, "sort must be created_at or updated_at")
	}
	desc := true
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		desc = false
	default:
		return s.badParameter(w, "order must be asc or desc")
	}
	page, err := pageParam(q.Get("page"))
	if err != nil {
		return s.badParameter(w, err.Error())
	}
	vw := view{f.sorted(entries), f, desc}
	// Consecutive pages overlap by one item, the way real page-based listings shift while conversations
	// are updated, so that clients must deduplicate by id.
	step := max(perPage-1, 1)
	first, end, totalPages := pageWindow(vw.len(), page, perPage, step)
	items := make([]entry, 0, end-first)
	for k := first; k < end; k++ {
		items = append(items, vw.at(k))
	}
	pages := numberedPages{Type: "pages", Page: page, PerPage: perPageValue(perPage, page), TotalPages: totalPages}
	if page < totalPages {
		pages.Next = pageURL(r, page+1)
	}
	return s.writeJSON(w, http.StatusOK, listEnvelope{
		Type: "conversation.list", Conversations: s.renderItems(items, v), TotalCount: vw.len(), Pages: pages,
	})
}

func pageParam(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New("page is invalid")
	}
	return n, nil
}

type deletedItem struct {
	Type            string `json:"type"`
	ID              string `json:"id"`
	DeletedAt       int64  `json:"deleted_at"`
	MetricsRetained bool   `json:"metrics_retained"`
}

// deleted serves GET /conversations/deleted (2.16 on), paged by number without overlap.
func (s *Server) deleted(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	perPage, err := perPageParam(q.Get("per_page"), maxDeletedPerPage)
	if err != nil {
		return s.badParameter(w, err.Error())
	}
	page, err := pageParam(q.Get("page"))
	if err != nil {
		return s.badParameter(w, err.Error())
	}
	all := s.ws.deletedList()
	first, end, totalPages := pageWindow(len(all), page, perPage, perPage)
	items := make([]any, 0, end-first)
	for _, d := range all[first:end] {
		items = append(items, deletedItem{"conversation", d.id, d.deletedAt, false})
	}
	pages := numberedPages{Type: "pages", Page: page, PerPage: perPageValue(perPage, page), TotalPages: totalPages}
	if page < totalPages {
		pages.Next = pageURL(r, page+1)
	}
	return s.writeJSON(w, http.StatusOK, listEnvelope{
		Type: "conversation.list", Conversations: items, TotalCount: len(all), Pages: pages,
	})
}
