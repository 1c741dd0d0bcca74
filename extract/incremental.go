package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// ChangedSince finds the conversations updated at or after since (Unix seconds) and calls emit once for
// each. On 2.x it searches `updated_at > since OR updated_at = since`, oldest first (integrators disagree
// on whether `>` is strict, so equality is asked for explicitly). 1.x has no search: it lists by
// updated_at, newest first, and stops after the first page that reaches past since.
func (c *Client) ChangedSince(ctx context.Context, since int64, emit func(Ref) error) error {
	if !c.version.hasSearch() {
		return c.listNewestUntil(ctx, since, emit)
	}
	query := map[string]any{
		"operator": "OR",
		"value": []any{
			map[string]any{"field": "updated_at", "operator": ">", "value": since},
			map[string]any{"field": "updated_at", "operator": "=", "value": since},
		},
	}
	p := newPager(func(r Ref) error {
		if r.UpdatedAt < since {
			return nil // the filter is the server's; this guards against a lax one
		}
		return emit(r)
	})
	return c.walkCursor(ctx, p, func(cursor string) ([]byte, error) {
		pagination := map[string]any{"per_page": c.cfg.PerPage}
		if cursor != "" {
			pagination["starting_after"] = cursor
		}
		body := map[string]any{
			"query":      query,
			"pagination": pagination,
			"sort":       map[string]any{"field": "updated_at", "order": "ascending"},
		}
		return c.postJSON(ctx, c.endpoint("/conversations/search"), body)
	})
}

func (c *Client) listNewestUntil(ctx context.Context, since int64, emit func(Ref) error) error {
	reachedPast := false
	p := newPager(func(r Ref) error {
		if r.UpdatedAt < since {
			reachedPast = true
			return nil
		}
		return emit(r)
	})
	q := url.Values{"per_page": {strconv.Itoa(min(c.cfg.PerPage, 60))}, "order": {"desc"}, "sort": {"updated_at"}}
	return c.walkURLs(ctx, p, c.endpoint("/conversations?"+q.Encode()), func() bool { return reachedPast })
}

// Deletion is a conversation deleted from the workspace.
type Deletion struct {
	ID        string
	DeletedAt int64
}

// SupportsDeletions reports whether the pinned API version lists deleted conversations (2.16 and later).
func (c *Client) SupportsDeletions() bool { return c.version.hasDeleted() }

// DeletedSince calls emit for each conversation deleted at or after since. The endpoint documents no
// order, so every page is read.
func (c *Client) DeletedSince(ctx context.Context, since int64, emit func(Deletion) error) error {
	if !c.version.hasDeleted() {
		return fmt.Errorf("listing deleted conversations needs Intercom-Version 2.16 or later, not %s", c.cfg.APIVersion)
	}
	seen := map[string]bool{}
	return c.followPages(ctx, c.endpoint("/conversations/deleted?per_page=60"), func(data []byte) (string, error) {
		var page struct {
			Conversations []struct {
				ID        jsonID    `json:"id"`
				DeletedAt jsonInt64 `json:"deleted_at"`
			} `json:"conversations"`
			Pages *struct {
				Next json.RawMessage `json:"next"`
			} `json:"pages"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return "", fmt.Errorf("decoding deleted conversations: %w", err)
		}
		for _, d := range page.Conversations {
			id := string(d.ID)
			if id == "" || seen[id] || int64(d.DeletedAt) < since {
				continue
			}
			seen[id] = true
			if err := emit(Deletion{ID: id, DeletedAt: int64(d.DeletedAt)}); err != nil {
				return "", err
			}
		}
		_, next, err := (&listPage{Pages: page.Pages}).next()
		return next, err
	})
}
