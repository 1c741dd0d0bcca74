package intercomtest

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Workspace is a deterministic synthetic workspace. Conversation i is generated from (seed, i) on demand,
// so a workspace of 100,000 conversations costs little memory; only mutations are stored. All methods
// are safe for concurrent use, also while a Server serves the workspace.
type Workspace struct {
	gen generator

	mu      sync.RWMutex
	stored  map[string]Conversation // updated and added conversations; they shadow generated ones
	deleted map[string]int64        // id → deleted_at
	live    int
	nextID  int64
	// index is every live conversation's sort keys ordered by (updated_at, id), rebuilt after a mutation.
	// A built index is never modified, so readers may keep using it after releasing mu.
	index []entry
}

// entry is what listing and searching need of a conversation, without generating it.
type entry struct {
	id               string
	created, updated int64
}

// NewWorkspace returns a workspace of n conversations generated from seed. When n >= 3, conversation 0
// has LongConversationParts parts and conversation 1 exactly PartsCap parts.
func NewWorkspace(seed int64, n int) *Workspace {
	n = max(n, 0)
	return &Workspace{
		gen:     generator{seed: seed, n: n},
		stored:  map[string]Conversation{},
		deleted: map[string]int64{},
		live:    n,
		nextID:  idBase + int64(n),
	}
}

// LongConversationID is the id of the conversation with LongConversationParts parts, of which the server
// withholds the oldest; "" when the workspace has fewer than 3 conversations.
func (w *Workspace) LongConversationID() string {
	if w.gen.n < 3 {
		return ""
	}
	return w.gen.id(0)
}

// CapConversationID is the id of the conversation with exactly PartsCap parts, all of which the server
// returns; "" when the workspace has fewer than 3 conversations.
func (w *Workspace) CapConversationID() string {
	if w.gen.n < 3 {
		return ""
	}
	return w.gen.id(1)
}

// Len returns the number of live (not deleted) conversations.
func (w *Workspace) Len() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.live
}

// Conversation returns a copy of the conversation with the given id, if it exists and is not deleted.
func (w *Workspace) Conversation(id string) (Conversation, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.conversationLocked(id)
}

func (w *Workspace) conversationLocked(id string) (Conversation, bool) {
	if _, gone := w.deleted[id]; gone {
		return Conversation{}, false
	}
	if c, ok := w.stored[id]; ok {
		return c.clone(), true
	}
	if i, ok := w.gen.index(id); ok {
		return w.gen.conversation(i), true
	}
	return Conversation{}, false
}

// Conversations returns a snapshot of every live conversation, sorted by numeric id. It generates them
// all: for large workspaces prefer Conversation or Dump.
func (w *Workspace) Conversations() []Conversation {
	ids := w.ids()
	out := make([]Conversation, 0, len(ids))
	for _, id := range ids {
		if c, ok := w.Conversation(id); ok {
			out = append(out, c)
		}
	}
	return out
}

// ids returns the ids of the live conversations sorted by numeric id.
func (w *Workspace) ids() []string {
	entries := w.entries()
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// Update applies change to a copy of the conversation, sets its UpdatedAt to at and stores it. It panics
// if the conversation does not exist, since that is a mistake in the calling test.
func (w *Workspace) Update(id string, at int64, change func(*Conversation)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.conversationLocked(id)
	if !ok {
		panic(fmt.Sprintf("intercomtest: Update of unknown conversation %q", id))
	}
	change(&c)
	c.ID = id
	c.UpdatedAt = at
	w.stored[id] = c.clone()
	w.index = nil
}

// Add stores a new conversation; the caller sets its ID (see NewID), CreatedAt and UpdatedAt. It panics
// if the id is empty or already live.
func (w *Workspace) Add(c Conversation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.ID == "" {
		panic("intercomtest: Add of a conversation without an id")
	}
	if _, ok := w.conversationLocked(c.ID); ok {
		panic(fmt.Sprintf("intercomtest: Add of existing conversation %q", c.ID))
	}
	delete(w.deleted, c.ID)
	w.stored[c.ID] = c.clone()
	w.live++
	w.index = nil
}

// Delete removes the conversation and remembers it, with deleted_at = at, for GET /conversations/deleted.
// It panics if the conversation does not exist.
func (w *Workspace) Delete(id string, at int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.conversationLocked(id); !ok {
		panic(fmt.Sprintf("intercomtest: Delete of unknown conversation %q", id))
	}
	delete(w.stored, id)
	w.deleted[id] = at
	w.live--
	w.index = nil
}

// NewID returns an id that no conversation, live or deleted, has and that no earlier call returned.
func (w *Workspace) NewID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		id := fmt.Sprint(w.nextID)
		w.nextID++
		_, isStored := w.stored[id]
		_, isDeleted := w.deleted[id]
		if !isStored && !isDeleted {
			return id
		}
	}
}

// entries returns the live conversations' sort keys ordered by (updated_at, id). The caller must not
// modify the slice.
func (w *Workspace) entries() []entry {
	w.mu.RLock()
	index := w.index
	w.mu.RUnlock()
	if index != nil {
		return index
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.index != nil {
		return w.index
	}
	index = make([]entry, 0, w.live)
	for i := range w.gen.n {
		id := w.gen.id(i)
		if _, gone := w.deleted[id]; gone {
			continue
		}
		if _, ok := w.stored[id]; !ok {
			index = append(index, w.gen.entry(i))
		}
	}
	for id, c := range w.stored {
		index = append(index, entry{id: id, created: c.CreatedAt, updated: c.UpdatedAt})
	}
	slices.SortFunc(index, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.updated, b.updated), compareIDs(a.id, b.id))
	})
	w.index = index
	return index
}

// deletedConversation is one answer item of GET /conversations/deleted.
type deletedConversation struct {
	id        string
	deletedAt int64
}

// deletedList returns the deleted conversations, most recently deleted first.
func (w *Workspace) deletedList() []deletedConversation {
	w.mu.RLock()
	out := make([]deletedConversation, 0, len(w.deleted))
	for id, at := range w.deleted {
		out = append(out, deletedConversation{id, at})
	}
	w.mu.RUnlock()
	slices.SortFunc(out, func(a, b deletedConversation) int {
		return cmp.Or(cmp.Compare(b.deletedAt, a.deletedAt), compareIDs(b.id, a.id))
	})
	return out
}

// Dump writes one GET /conversations/{id} answer per line (NDJSON) for every live conversation, sorted
// by numeric id, in the shape of apiVersion (as sent in the Intercom-Version header).
func (w *Workspace) Dump(out io.Writer, apiVersion string) error {
	v, ok := parseVersion(apiVersion)
	if !ok {
		return fmt.Errorf("intercomtest: dump: unknown API version %q", apiVersion)
	}
	bw := bufio.NewWriter(out)
	for _, id := range w.ids() {
		c, ok := w.Conversation(id)
		if !ok {
			continue // deleted meanwhile
		}
		b, err := marshalConversation(c, v, true)
		if err != nil {
			return fmt.Errorf("intercomtest: dump conversation %s: %w", id, err)
		}
		bw.Write(b)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("intercomtest: dump: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("intercomtest: dump: %w", err)
	}
	return nil
}

// compareIDs orders numeric ids by value (shorter first, then by digits) and any other strings totally.
func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}
