package intercomtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

const (
	maxQueryDepth   = 2  // groups nest at most two levels deep
	maxGroupFilters = 15 // items per group
)

type searchRequest struct {
	Query      json.RawMessage `json:"query"`
	Pagination *struct {
		PerPage       any    `json:"per_page"`
		StartingAfter string `json:"starting_after"`
	} `json:"pagination"`
	Sort *struct {
		Field string `json:"field"`
		Order string `json:"order"`
	} `json:"sort"`
}

// search serves POST /conversations/search (2.x): filters on id, created_at and updated_at.
func (s *Server) search(w http.ResponseWriter, r *http.Request, v version) int {
	var req searchRequest
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return s.badParameter(w, fmt.Sprintf("invalid JSON body: %v", err))
	}
	if len(req.Query) == 0 {
		return s.badParameter(w, "query is required")
	}
	match, err := parseQuery(req.Query, 0)
	if err != nil {
		return s.badParameter(w, err.Error())
	}

	f, desc := fieldUpdatedAt, true
	if srt := req.Sort; srt != nil {
		switch srt.Field {
		case "", "updated_at":
		case "created_at":
			f = fieldCreatedAt
		case "id":
			f = fieldID
		default:
			return s.badParameter(w, fmt.Sprintf("sorting by %q is not supported", srt.Field))
		}
		switch srt.Order {
		case "", "descending":
		case "ascending":
			desc = false
		default:
			return s.badParameter(w, fmt.Sprintf("sort order %q must be ascending or descending", srt.Order))
		}
	}

	vw := view{field: f, desc: desc} // entries below, once the request is known to be valid
	perPage, start := defaultPerPage, (*cursor)(nil)
	if p := req.Pagination; p != nil {
		if p.PerPage != nil {
			if perPage, err = perPageParam(scalarText(p.PerPage), maxPerPage); err != nil {
				return s.badParameter(w, err.Error())
			}
		}
		if p.StartingAfter != "" {
			c, err := decodeCursor(p.StartingAfter, vw)
			if err != nil {
				return s.badParameter(w, err.Error())
			}
			start = &c
		}
	}

	var found []entry
	for _, e := range s.ws.entries() {
		if match(e) {
			found = append(found, e)
		}
	}
	vw.entries = f.sorted(found)
	items, pages := cursorPage(vw, perPage, start)
	return s.writeJSON(w, http.StatusOK, listEnvelope{
		Type: "conversation.list", Conversations: s.renderItems(items, v), TotalCount: len(found), Pages: pages,
	})
}

// scalarText returns a JSON number or string as text, so that numbers and numeric strings read alike.
func scalarText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	}
	return fmt.Sprint(v)
}

type matcher func(entry) bool

type queryNode struct {
	Field    *string         `json:"field"`
	Operator string          `json:"operator"`
	Value    json.RawMessage `json:"value"`
}

// parseQuery parses a filter or a group of them; depth is the number of groups around raw.
func parseQuery(raw json.RawMessage, depth int) (matcher, error) {
	var n queryNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("query is invalid: %w", err)
	}
	if n.Field != nil {
		return parseFilter(*n.Field, n.Operator, n.Value)
	}
	if n.Operator != "AND" && n.Operator != "OR" {
		return nil, fmt.Errorf("query operator %q is neither AND nor OR, and no field is given", n.Operator)
	}
	if depth >= maxQueryDepth {
		return nil, errors.New("query nests groups more than 2 levels deep")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(n.Value, &items); err != nil || len(items) == 0 {
		return nil, fmt.Errorf("%s group needs a non-empty array of queries", n.Operator)
	}
	if len(items) > maxGroupFilters {
		return nil, fmt.Errorf("a group holds at most %d filters, got %d", maxGroupFilters, len(items))
	}
	subs := make([]matcher, len(items))
	for i, item := range items {
		m, err := parseQuery(item, depth+1)
		if err != nil {
			return nil, err
		}
		subs[i] = m
	}
	and := n.Operator == "AND"
	return func(e entry) bool {
		for _, m := range subs {
			if m(e) != and {
				return !and
			}
		}
		return and
	}, nil
}

func parseFilter(fieldName, op string, raw json.RawMessage) (matcher, error) {
	var values []string
	if op == "IN" || op == "NIN" {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("%s on %s needs an array value", op, fieldName)
		}
		for _, item := range list {
			s, err := scalar(item)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", op, fieldName, err)
			}
			values = append(values, s)
		}
	} else {
		s, err := scalar(raw)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", op, fieldName, err)
		}
		values = []string{s}
	}

	// compareTo(e, k) compares the entry's field with values[k].
	var compareTo func(e entry, k int) int
	switch fieldName {
	case "id":
		compareTo = func(e entry, k int) int { return compareIDs(e.id, values[k]) }
	case "created_at", "updated_at":
		nums := make([]int64, len(values))
		for k, s := range values {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s needs a Unix timestamp, got %q", fieldName, s)
			}
			nums[k] = n
		}
		f := fieldUpdatedAt
		if fieldName == "created_at" {
			f = fieldCreatedAt
		}
		compareTo = func(e entry, k int) int { return cmp.Compare(f.key(e), nums[k]) }
	default:
		return nil, fmt.Errorf("searching by field %q is not supported by this fake", fieldName)
	}

	one := func(test func(int) bool) matcher {
		return func(e entry) bool { return test(compareTo(e, 0)) }
	}
	switch op {
	case "=":
		return one(func(d int) bool { return d == 0 }), nil
	case "!=":
		return one(func(d int) bool { return d != 0 }), nil
	case "<":
		return one(func(d int) bool { return d < 0 }), nil
	case "<=":
		return one(func(d int) bool { return d <= 0 }), nil
	case ">":
		return one(func(d int) bool { return d > 0 }), nil
	case ">=":
		return one(func(d int) bool { return d >= 0 }), nil
	case "IN", "NIN":
		in := op == "IN"
		return func(e entry) bool {
			for k := range values {
				if compareTo(e, k) == 0 {
					return in
				}
			}
			return !in
		}, nil
	}
	return nil, fmt.Errorf("operator %q is not supported for %s", op, fieldName)
}

// scalar reads a JSON number or string as text.
func scalar(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid value: %w", err)
	}
	switch v := v.(type) {
	case json.Number:
		return v.String(), nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("value %s is neither a number nor a string", raw)
}
