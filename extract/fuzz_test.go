package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The seed corpora are under testdata/fuzz: pages and errors the fake workspace serves, and odd ones.
// Run a target with: go test ./extract -run '^$' -fuzz '^FuzzDecodePage$' -fuzztime 30s

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"type":"conversation.list","conversations":[{"id":"1","updated_at":5},{"id":2,"updated_at":"6"}],"pages":{"type":"pages","page":1,"per_page":"50","next":{"page":2,"starting_after":"WzE3XQ=="}}}`))
	f.Add([]byte(`{"type":"conversation.list","conversations":[{"id":1}],"pages":{"next":"https://api.intercom.io/conversations?page=2"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := decodePage(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("decoded a page from invalid JSON %q", data)
		}
		cursor, nextURL, err := page.next()
		if err == nil && cursor != "" && nextURL != "" {
			t.Fatalf("pages.next gave both a cursor %q and a URL %q", cursor, nextURL)
		}
		if err != nil && (cursor != "" || nextURL != "") {
			t.Fatalf("pages.next failed (%v) but still gave %q, %q", err, cursor, nextURL)
		}
		seen := map[string]bool{}
		p := newPager(func(r Ref) error {
			if r.ID == "" || seen[r.ID] {
				t.Fatalf("emitted id %q (seen before: %v)", r.ID, seen[r.ID])
			}
			seen[r.ID] = true
			return nil
		})
		err = p.take(page)
		if len(seen) > len(page.Conversations) {
			t.Fatalf("%d refs from %d items", len(seen), len(page.Conversations))
		}
		if err == nil {
			// The same page again, as shifting page-based listings send: nothing new.
			if err := p.take(page); err != nil || len(seen) > len(page.Conversations) {
				t.Fatalf("second take: %v, %d refs", err, len(seen))
			}
		}
	})
}

// answerTransport answers every request with one status and body, without a network.
type answerTransport struct {
	status int
	body   []byte
}

func (a answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: a.status, Status: fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)), Request: r,
	}, nil
}

func FuzzAPIError(f *testing.F) {
	f.Add(401, []byte(`{"type":"error.list","request_id":"000cc1764nf6i2r1rlo0","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`), false)
	f.Add(400, []byte(`{"type":"error.list","errors":[{"code":"parameter_invalid","message":"starting_after is invalid"}]}`), true)
	f.Fuzz(func(t *testing.T, status int, body []byte, withCursor bool) {
		status = 200 + (status%400+400)%400 // the statuses a server answers with: 200 to 599
		e := apiError(&http.Response{StatusCode: status}, body)
		if e.Status != status || !strings.HasPrefix(e.Error(), fmt.Sprintf("intercom API: HTTP %d", status)) {
			t.Fatalf("status %d: %+v, %q", status, e, e.Error())
		}
		var env struct {
			Errors []json.RawMessage `json:"errors"`
		}
		if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
			if e.Message != http.StatusText(status) || e.Code != "" {
				t.Fatalf("a body that is no error envelope gave code %q, message %q", e.Code, e.Message)
			}
		}
		if errors.Is(e, ErrAuth) != (status == 401 || status == 403) || errors.Is(e, ErrNotFound) != (status == 404) {
			t.Fatalf("status %d classified auth=%v, not found=%v", status, errors.Is(e, ErrAuth), errors.Is(e, ErrNotFound))
		}

		// The same answer through the client: it succeeds only with a 2xx of valid JSON, and anything it
		// retries ends after the one attempt allowed.
		const token = "fuzz-secret-token"
		c, err := NewClient(Config{BaseURL: "https://api.intercom.io", Token: token, MaxAttempts: 1,
			HTTPClient: &http.Client{Transport: answerTransport{status, body}}})
		if err != nil {
			t.Fatal(err)
		}
		u := c.endpoint("/conversations?per_page=150")
		if withCursor {
			u += "&starting_after=WzE3XQ%3D%3D"
		}
		data, err := c.getJSON(context.Background(), u)
		switch {
		case err == nil:
			if status >= 300 || !json.Valid(data) || !bytes.Equal(data, body) {
				t.Fatalf("status %d with %q accepted", status, body)
			}
		case strings.Contains(err.Error(), token):
			t.Fatalf("the error shows the token: %v", err)
		case status >= 300 && status != 429 && status < 500 && status != 408 && status != 409:
			var api *APIError
			if !errors.As(err, &api) || api.Status != status {
				t.Fatalf("status %d gave %v, want the API's error", status, err)
			}
			retriedCursor := withCursor && status == 400 && api.Code == "parameter_invalid"
			if retriedCursor != errors.Is(err, ErrRetriesExhausted) {
				t.Fatalf("status %d code %q (cursor %v): retried %v", status, api.Code, withCursor, errors.Is(err, ErrRetriesExhausted))
			}
		default:
			if !errors.Is(err, ErrRetriesExhausted) {
				t.Fatalf("status %d with %q: %v, want retries exhausted", status, body, err)
			}
		}
	})
}
