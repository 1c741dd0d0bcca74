package intercomtest

import (
	"encoding/json"
	"net/url"
	"testing"
)

// BenchmarkListAll100k lists a 100,000-conversation workspace by cursor, 150 at a time.
func BenchmarkListAll100k(b *testing.B) {
	ws := NewWorkspace(1, 100_000)
	srv := NewServer(ws, Options{})
	defer srv.Close()
	c := newClient(b, srv, "2.11")
	for b.Loop() {
		q := url.Values{"per_page": {"150"}}
		n := 0
		for {
			var p struct {
				Conversations []json.RawMessage `json:"conversations"`
				Pages         struct {
					Next *struct {
						StartingAfter string `json:"starting_after"`
					} `json:"next"`
				} `json:"pages"`
			}
			a := c.get("/conversations?" + q.Encode())
			if err := json.Unmarshal(a.body, &p); err != nil {
				b.Fatal(err)
			}
			n += len(p.Conversations)
			if p.Pages.Next == nil {
				break
			}
			q.Set("starting_after", p.Pages.Next.StartingAfter)
		}
		if n != 100_000 {
			b.Fatalf("listed %d", n)
		}
	}
}
