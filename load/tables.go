package load

import (
	"reflect"
	"unsafe"

	"github.com/intercom-export/intercom-export/schemas"
)

// Table indexes, in the order of Tables. Commit merges a partition's four tables together, one
// conversation id at a time: a conversation this run re-added or deleted loses its published rows in
// every table, even one its new version has no rows in (re-added without tags, its old tags go).
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
	// batch is how many rows a file cursor reads at a time: fewer for wide rows.
	batch int
	id    func(*T) string
	// setDate sets the row's created_date: rows of a daily partition published before the column
	// existed get their partition's day when they are merged.
	setDate func(*T, schemas.Date)
	count   func(*schemas.Record) int
	at      func(*schemas.Record, int) *T
}

var (
	convDef = tableDef[schemas.Conversation]{
		// A conversation row holds its whole JSON (source_json), often kilobytes.
		index: tConversations, name: schemas.TableConversations, batch: 32,
		id:      func(r *schemas.Conversation) string { return r.ConversationID },
		setDate: func(r *schemas.Conversation, d schemas.Date) { r.CreatedDate = d },
		count:   func(*schemas.Record) int { return 1 },
		at:      func(r *schemas.Record, _ int) *schemas.Conversation { return &r.Conversation },
	}
	partDef = tableDef[schemas.ConversationPart]{
		index: tParts, name: schemas.TableConversationParts, batch: batchRows,
		id:      func(r *schemas.ConversationPart) string { return r.ConversationID },
		setDate: func(r *schemas.ConversationPart, d schemas.Date) { r.CreatedDate = d },
		count:   func(r *schemas.Record) int { return len(r.Parts) },
		at:      func(r *schemas.Record, i int) *schemas.ConversationPart { return &r.Parts[i] },
	}
	tagDef = tableDef[schemas.ConversationTag]{
		index: tTags, name: schemas.TableConversationTags, batch: batchRows,
		id:      func(r *schemas.ConversationTag) string { return r.ConversationID },
		setDate: func(r *schemas.ConversationTag, d schemas.Date) { r.CreatedDate = d },
		count:   func(r *schemas.Record) int { return len(r.Tags) },
		at:      func(r *schemas.Record, i int) *schemas.ConversationTag { return &r.Tags[i] },
	}
	ratingDef = tableDef[schemas.ConversationRating]{
		index: tRatings, name: schemas.TableConversationRatings, batch: batchRows,
		id:      func(r *schemas.ConversationRating) string { return r.ConversationID },
		setDate: func(r *schemas.ConversationRating, d schemas.Date) { r.CreatedDate = d },
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
	recordHeader = int64(unsafe.Sizeof(schemas.Record{})) + 64 // plus the map entry holding it
)

// estimateSize approximates the heap bytes a buffered record holds. It walks the record by reflection
// so that a column added to schemas is counted without anyone remembering to list it here.
func estimateSize(r *schemas.Record) int64 {
	return recordHeader + heapSize(reflect.ValueOf(r).Elem())
}

// heapSize is what v holds outside its own inline size: string bytes, pointed-to values and slices'
// backing arrays.
func heapSize(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return ptrOverhead + int64(e.Type().Size()) + heapSize(e)
	case reflect.Slice:
		n := int64(v.Len()) * int64(v.Type().Elem().Size())
		for i := range v.Len() {
			n += heapSize(v.Index(i))
		}
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			return 0 // its location pointer is shared
		}
		var n int64
		for i := range v.NumField() {
			n += heapSize(v.Field(i))
		}
		return n
	}
	return 0
}
