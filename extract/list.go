package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Ref names a conversation found by listing or searching, with the updated_at the list reported.
type Ref struct {
	ID        string
	UpdatedAt int64
}

// listPage is the part of a conversation.list envelope the extractor reads. pages.next is an object
// holding a cursor (2.6 and later) or a URL string (earlier versions), absent or null on the last page.
type listPage struct {
	Conversations []struct {
		ID        jsonID    `json:"id"`
		UpdatedAt jsonInt64 `json:"updated_at"`
	} `json:"conversations"`
	Pages *struct {
		Next json.RawMessage `json:"next"`
	} `json:"pages"`
}

// next returns the cursor or URL of the following page; both empty on the last page.
func (p *listPage) next() (cursor, nextURL string, err error) {
	if p.Pages == nil {
		return "", "", nil
	}
	raw := bytes.TrimSpace(p.Pages.Next)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return "", "", nil
	case raw[0] == '"':
		err = json.Unmarshal(raw, &nextURL)
		return "", nextURL, err
	case raw[0] == '{':
		var obj struct {
			StartingAfter *string `json:"starting_after"`
		}
		err = json.Unmarshal(raw, &obj)
		if obj.StartingAfter != nil {
			cursor = *obj.StartingAfter
		}
		return cursor, "", err
	}
	return "", "", fmt.Errorf("pages.next is neither a cursor object nor a URL: %.60s", raw)
}

// decodePage decodes a list or search answer.
func decodePage(data []byte) (*listPage, error) {
	var p listPage
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding the conversation list: %w", err)
	}
	return &p, nil
}

// pager walks pages and reports each conversation once: page-based listing shifts while conversations
// are updated, so the same id can come back on a later page.
type pager struct {
	seen map[string]struct{}
	emit func(Ref) error
}

func newPager(emit func(Ref) error) *pager {
	return &pager{seen: make(map[string]struct{}), emit: emit}
}

func (p *pager) take(page *listPage) error {
	for _, item := range page.Conversations {
		id := string(item.ID)
		if id == "" {
			return fmt.Errorf("the conversation list holds an item without an id")
		}
		if _, dup := p.seen[id]; dup {
			continue
		}
		p.seen[id] = struct{}{}
		if err := p.emit(Ref{ID: id, UpdatedAt: int64(item.UpdatedAt)}); err != nil {
			return err
		}
	}
	return nil
}

// List pages through every conversation of the workspace and calls emit once per conversation.
func (c *Client) List(ctx context.Context, emit func(Ref) error) error {
	p := newPager(emit)
	if c.version.cursorPaging() {
		return c.walkCursor(ctx, p, func(cursor string) ([]byte, error) {
			q := url.Values{"per_page": {strconv.Itoa(c.cfg.PerPage)}}
			if cursor != "" {
				q.Set("starting_after", cursor)
			}
			return c.getJSON(ctx, c.endpoint("/conversations?"+q.Encode()))
		})
	}
	q := url.Values{"per_page": {strconv.Itoa(min(c.cfg.PerPage, 60))}, "order": {"desc"}, "sort": {"updated_at"}}
	return c.walkURLs(ctx, p, c.endpoint("/conversations?"+q.Encode()), nil)
}

// walkCursor follows starting_after cursors until a page has none.
func (c *Client) walkCursor(ctx context.Context, p *pager, fetch func(cursor string) ([]byte, error)) error {
	cursor := ""
	seenCursors := map[string]bool{}
	for {
		data, err := fetch(cursor)
		if err != nil {
			return err
		}
		page, err := decodePage(data)
		if err != nil {
			return err
		}
		if err := p.take(page); err != nil {
			return err
		}
		next, nextURL, err := page.next()
		if err != nil {
			return err
		}
		if nextURL != "" {
			return fmt.Errorf("the API answered with page URLs although Intercom-Version %s pages by cursor", c.cfg.APIVersion)
		}
		if next == "" {
			return nil
		}
		if seenCursors[next] {
			return fmt.Errorf("the API repeated the cursor %.40q: stopping instead of looping", next)
		}
		seenCursors[next] = true
		cursor = next
	}
}

// walkURLs lists page by page, following `next` URLs verbatim until one is null, or until done reports
// true after a page.
func (c *Client) walkURLs(ctx context.Context, p *pager, first string, done func() bool) error {
	return c.followPages(ctx, first, func(data []byte) (string, error) {
		page, err := decodePage(data)
		if err != nil {
			return "", err
		}
		if err := p.take(page); err != nil {
			return "", err
		}
		if done != nil && done() {
			return "", nil
		}
		_, next, err := page.next()
		return next, err
	})
}

// followPages GETs first and then each next URL that take returns for the previous answer, until take
// returns "". A next URL must be on the configured host: the token is sent nowhere else.
func (c *Client) followPages(ctx context.Context, first string, take func(data []byte) (next string, err error)) error {
	seen := map[string]bool{}
	for u := first; u != ""; {
		if !c.sameHost(u) {
			return fmt.Errorf("the API's next page %q is on another host than %s: refusing to send the token there", redactURL(u), c.base.Host)
		}
		if seen[u] {
			return fmt.Errorf("the API repeated the page %q: stopping instead of looping", redactURL(u))
		}
		seen[u] = true
		data, err := c.getJSON(ctx, u)
		if err != nil {
			return err
		}
		if u, err = take(data); err != nil {
			return err
		}
	}
	return nil
}

// Retrieve returns one conversation with its parts, as the API's JSON. A conversation deleted since it
// was listed gives an error wrapping ErrNotFound.
func (c *Client) Retrieve(ctx context.Context, id string) ([]byte, error) {
	data, err := c.getJSON(ctx, c.endpoint("/conversations/"+url.PathEscape(id)))
	if err != nil {
		return nil, fmt.Errorf("conversation %s: %w", id, err)
	}
	return data, nil
}
