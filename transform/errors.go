package transform

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

const partPath = "conversation_parts.conversation_parts"

// decodeReference decodes raw with encoding/json, the reference the fast path is held to; it decides
// every error.
func decodeReference(raw []byte) (rawConversation, error) {
	var c rawConversation
	if err := json.Unmarshal(raw, &c); err != nil {
		return rawConversation{}, decodeError(raw, c.ID.s, err)
	}
	return c, nil
}

// notAConversation explains a missing id when the object says it is something else (an error body,
// a contact), so the message says what was expected.
func notAConversation(raw []byte) string {
	var probe struct {
		Type *string `json:"type"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.Type == nil || *probe.Type == "conversation" {
		return ""
	}
	return " (the object's type is " + strconv.Quote(*probe.Type) + ": want a conversation, as GET /conversations/{id} answers)"
}

// invalidError is every error Conversation returns. Its message leads with the conversation and the
// field path so a log line alone locates the problem in a dump.
type invalidError struct {
	id    string // empty when the input has no usable id
	field string // dotted JSON path, list indexes in brackets; empty for the document as a whole
	msg   string
	cause error // the decoder's error, if any
}

func (e *invalidError) Error() string {
	var b strings.Builder
	b.WriteString("conversation")
	if e.id != "" {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(e.id))
	}
	b.WriteString(": ")
	if e.field != "" {
		b.WriteString(e.field)
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidConversation}
	}
	return []error{ErrInvalidConversation, e.cause}
}

// decodeError turns an encoding/json error into an invalidError. It runs only on failure, so it can
// afford to decode again: once to find the conversation id when decoding stopped before reaching it,
// and once more to find the index of the list element at fault, which encoding/json's paths omit.
func decodeError(raw []byte, convID *string, err error) error {
	e := &invalidError{cause: err}
	if convID == nil {
		var probe struct {
			ID id `json:"id"`
		}
		if json.Unmarshal(raw, &probe) == nil {
			convID = probe.ID.s
		}
	}
	if convID != nil {
		e.id = *convID
	}

	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		e.msg = "not valid JSON: " + strings.TrimPrefix(syntax.Error(), "json: ")
	case errors.As(err, &typ):
		e.field = locate(raw, typ.Field)
		e.msg = "want " + want(typ.Type) + ", got " + typ.Value
	default:
		e.msg = strings.TrimPrefix(err.Error(), "json: ")
	}
	return e
}

// locate adds the index of the failing element to a path inside the parts or tags list.
func locate(raw []byte, field string) string {
	if under(field, partPath) {
		var doc struct {
			ConversationParts struct {
				Parts []json.RawMessage `json:"conversation_parts"`
			} `json:"conversation_parts"`
		}
		if json.Unmarshal(raw, &doc) == nil {
			return indexed(field, partPath, doc.ConversationParts.Parts, func(b []byte) error {
				var p rawPart
				return json.Unmarshal(b, &p)
			})
		}
		return field
	}
	var doc struct {
		Tags json.RawMessage `json:"tags"`
	}
	if !under(field, "tags") || json.Unmarshal(raw, &doc) != nil || len(doc.Tags) == 0 {
		return field
	}
	prefix := "tags"
	var list []json.RawMessage
	switch doc.Tags[0] {
	case '{':
		prefix = "tags.tags"
		var obj struct {
			Tags []json.RawMessage `json:"tags"`
		}
		if !under(field, prefix) || json.Unmarshal(doc.Tags, &obj) != nil {
			return field
		}
		list = obj.Tags
	case '[':
		if json.Unmarshal(doc.Tags, &list) != nil {
			return field
		}
	default:
		return field
	}
	return indexed(field, prefix, list, func(b []byte) error {
		var t rawTag
		return json.Unmarshal(b, &t)
	})
}

// under reports whether field is prefix or lies below it.
func under(field, prefix string) bool {
	return field == prefix || strings.HasPrefix(field, prefix+".")
}

// indexed inserts "[i]" after prefix, i being the first element decode rejects.
func indexed(field, prefix string, list []json.RawMessage, decode func([]byte) error) string {
	for i, elem := range list {
		if decode(elem) != nil {
			return prefix + "[" + strconv.Itoa(i) + "]" + field[len(prefix):]
		}
	}
	return field
}
