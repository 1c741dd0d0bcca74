package load

import (
	"time"
	"unsafe"

	"github.com/intercom-export/intercom-export/schemas"
)

// Table indexes; the order is the order Commit merges a partition's tables in. Conversations come first
// because every record has exactly one conversation row: merging that table decides, for each id, which
// source (old file, spool, memory) wins, and the other tables follow that decision. A conversation
// re-added without tags must lose its old tags even though no new tag row mentions it.
const (
	tConversations = iota
	tParts
	tTags
	tRatings
	numTables
)

// Tables lists the table names in the order of their index.
var Tables = [numTables]string{
	schemas.TableConversations,
	schemas.TableConversationParts,
	schemas.TableConversationTags,
	schemas.TableConversationRatings,
}

// tableDef tells the generic merge code how to get at the rows of one table.
type tableDef[T any] struct {
	index int
	name  string
	id    func(*T) string
	count func(*schemas.Record) int
	at    func(*schemas.Record, int) *T
}

var (
	convDef = tableDef[schemas.Conversation]{
		index: tConversations, name: schemas.TableConversations,
		id:    func(r *schemas.Conversation) string { return r.ConversationID },
		count: func(*schemas.Record) int { return 1 },
		at:    func(r *schemas.Record, _ int) *schemas.Conversation { return &r.Conversation },
	}
	partDef = tableDef[schemas.ConversationPart]{
		index: tParts, name: schemas.TableConversationParts,
		id:    func(r *schemas.ConversationPart) string { return r.ConversationID },
		count: func(r *schemas.Record) int { return len(r.Parts) },
		at:    func(r *schemas.Record, i int) *schemas.ConversationPart { return &r.Parts[i] },
	}
	tagDef = tableDef[schemas.ConversationTag]{
		index: tTags, name: schemas.TableConversationTags,
		id:    func(r *schemas.ConversationTag) string { return r.ConversationID },
		count: func(r *schemas.Record) int { return len(r.Tags) },
		at:    func(r *schemas.Record, i int) *schemas.ConversationTag { return &r.Tags[i] },
	}
	ratingDef = tableDef[schemas.ConversationRating]{
		index: tRatings, name: schemas.TableConversationRatings,
		id: func(r *schemas.ConversationRating) string { return r.ConversationID },
		count: func(r *schemas.Record) int {
			if r.Rating == nil {
				return 0
			}
			return 1
		},
		at: func(r *schemas.Record, _ int) *schemas.ConversationRating { return r.Rating },
	}
)

// Per-value overheads of the size estimate: a pointer target carries an allocation header on top of its
// size, and a string its header. Being roughly right is enough: the estimate only decides when to spill.
const (
	ptrOverhead  = 16
	strHeader    = int64(unsafe.Sizeof(""))
	timeSize     = int64(unsafe.Sizeof(time.Time{}))
	recordHeader = int64(unsafe.Sizeof(schemas.Record{})) + 64 // plus the map entry holding it
)

func strLen(s *string) int64 {
	if s == nil {
		return 0
	}
	return ptrOverhead + strHeader + int64(len(*s))
}

func timeLen(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return ptrOverhead + timeSize
}

func scalarLen[T any](p *T) int64 {
	if p == nil {
		return 0
	}
	return ptrOverhead + 8
}

// estimateSize approximates the heap bytes a buffered record holds.
func estimateSize(r *schemas.Record) int64 {
	c := &r.Conversation
	n := recordHeader + int64(unsafe.Sizeof(*c)) + int64(len(c.ConversationID)) +
		timeLen(c.UpdatedAt) + timeLen(c.WaitingSince) + timeLen(c.SnoozedUntil) + timeLen(c.FirstContactReplyAt) +
		strLen(c.State) + scalarLen(c.Open) + scalarLen(c.Read) + strLen(c.Title) + strLen(c.Priority) +
		strLen(c.MessageID) + strLen(c.MessageType) + strLen(c.MessageDeliveredAs) + strLen(c.MessageSubject) +
		strLen(c.MessageBody) + strLen(c.MessageURL) + strLen(c.MessageAuthorType) + strLen(c.MessageAuthorID) +
		strLen(c.MessageAuthorName) + strLen(c.MessageAuthorEmail) + scalarLen(c.MessageRedacted) +
		strLen(c.AdminAssigneeID) + strLen(c.TeamAssigneeID) + strLen(c.FirstContactReplyType) +
		strLen(c.FirstContactReplyURL) + scalarLen(c.PartsTotalCount) + strLen(c.CustomAttributes)
	for i := range r.Parts {
		p := &r.Parts[i]
		n += int64(unsafe.Sizeof(*p)) + int64(len(p.ConversationID)+len(p.PartID)) +
			strLen(p.PartType) + strLen(p.Body) + timeLen(p.CreatedAt) + timeLen(p.UpdatedAt) + timeLen(p.NotifiedAt) +
			strLen(p.AssignedToType) + strLen(p.AssignedToID) + strLen(p.AuthorType) + strLen(p.AuthorID) +
			strLen(p.AuthorName) + strLen(p.AuthorEmail) + strLen(p.ExternalID) + scalarLen(p.Redacted)
	}
	for i := range r.Tags {
		t := &r.Tags[i]
		n += int64(unsafe.Sizeof(*t)) + int64(len(t.ConversationID)+len(t.TagID)) +
			strLen(t.TagName) + timeLen(t.AppliedAt) + strLen(t.AppliedByType) + strLen(t.AppliedByID)
	}
	if t := r.Rating; t != nil {
		n += ptrOverhead + int64(unsafe.Sizeof(*t)) + int64(len(t.ConversationID)) +
			scalarLen(t.Rating) + strLen(t.Remark) + timeLen(t.CreatedAt) + strLen(t.CustomerType) +
			strLen(t.CustomerID) + strLen(t.TeammateType) + strLen(t.TeammateID)
	}
	return n
}
