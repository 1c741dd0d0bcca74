package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Window bounds a search by updated_at (Unix seconds): Since is included, Until (when not zero) is not.
type Window struct {
	Since, Until int64
}

func (w Window) contains(updatedAt int64) bool {
	return updatedAt >= w.Since && (w.Until == 0 || updatedAt < w.Until)
}

// query is the search filter of the window. Integrators disagree on whether `>` is strict, so equality
// with Since is asked for explicitly; the nesting stays within the API's two levels.
func (w Window) query() map[string]any {
	from := map[string]any{
		"operator": "OR",
		"value": []any{
			map[string]any{"field": "updated_at", "operator": ">", "value": w.Since},
			map[string]any{"field": "updated_at", "operator": "=", "value": w.Since},
		},
	}
	if w.Until == 0 {
		return from
	}
	return map[string]any{
		"operator": "AND",
		"value":    []any{from, map[string]any{"field": "updated_at", "operator": "<", "value": w.Until}},
	}
}

// ChangedSince finds the conversations updated at or after since (Unix seconds) and calls emit once for
// each; see ChangedIn.
func (c *Client) ChangedSince(ctx context.Context, since int64, emit func(Ref) error) error {
	return c.ChangedIn(ctx, Window{Since: since}, emit)
}

// ChangedIn finds the conversations updated within w and calls emit once for each. On 2.x it searches
// by updated_at, oldest first. 1.x has no search: it lists by updated_at, newest first, skips what is
// newer than the window and stops after the first page that reaches past its start.
func (c *Client) ChangedIn(ctx context.Context, w Window, emit func(Ref) error) error {
	if !c.version.hasSearch() {
		return c.listNewestUntil(ctx, w, emit)
	}
	query := w.query()
	p := newPager(func(r Ref) error {
		if !w.contains(r.UpdatedAt) {
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

func (c *Client) listNewestUntil(ctx context.Context, w Window, emit func(Ref) error) error {
	reachedPast := false
	p := newPager(func(r Ref) error {
		if r.UpdatedAt < w.Since {
			reachedPast = true
			return nil
		}
		if !w.contains(r.UpdatedAt) {
			return nil // newer than the window
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
// order, so every page is read. It is an optional endpoint: where the pinned version or the workspace
// does not offer it, the error wraps ErrUnavailable.
func (c *Client) DeletedSince(ctx context.Context, since int64, emit func(Deletion) error) error {
	if !c.version.hasDeleted() {
		return fmt.Errorf("listing deleted conversations needs Intercom-Version 2.16 or later, not %s: %w", c.cfg.APIVersion, ErrUnavailable)
	}
	seen := map[string]bool{}
	err := c.followPages(ctx, c.endpoint("/conversations/deleted?per_page=60"), func(data []byte) (string, error) {
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
	return optionalEndpointError("GET /conversations/deleted", err)
}

// ErrUnavailable is wrapped by the errors of an optional endpoint that this workspace's API does not
// offer: the pinned version lacks it, or it answers 404 (missing: the path can then be taken for a
// conversation id), 403 (the app lacks the permission) or 405. Such an endpoint costs its own data and
// never the run. A 401 is about the token, not the endpoint, and is not one of these.
var ErrUnavailable = errors.New("not offered by this workspace's API")

// optionalEndpointError marks the answers of an optional endpoint that mean it is not there for us.
func optionalEndpointError(endpoint string, err error) error {
	var api *APIError
	if errors.As(err, &api) {
		switch api.Status {
		case http.StatusNotFound, http.StatusForbidden, http.StatusMethodNotAllowed:
			return fmt.Errorf("%s: %w (%w)", endpoint, ErrUnavailable, err)
		}
	}
	return err
}
