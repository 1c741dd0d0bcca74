package transform

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/intercom-export/intercom-export/schemas"
)

// source_json stores nothing twice: the conversation's JSON goes to conversations.source_json without
// its part list (the key conversation_parts.conversation_parts and its array), and each part's JSON
// to its row's source_json. Put back in place, they are the input, compacted. Both are the input's
// bytes with the whitespace between tokens removed and invalid UTF-8 replaced by U+FFFD, nothing else:
// numbers, escapes and key order are as sent.

// partSpans locates the part list in a conversation's JSON: the byte range of the key
// "conversation_parts" inside the top-level conversation_parts object, through the end of its array,
// and the range of each element. It walks the document with the fast decoder's scanner, skipping
// every other value; it gives up (ok false) on anything encoding/json might read otherwise than this
// walk: a repeated or case-folded key, a key with escapes, a value that is no array.
type partSpans struct {
	found  bool // there is a part list (an array)
	known  bool // spaced and badUTF describe the whole input
	list   [2]int
	parts  [][2]int
	spaced bool // the input has whitespace between tokens
	badUTF bool // the input has invalid UTF-8 in a string
}

// findPartSpans is for inputs that took encoding/json's path; decodeFast finds the same on its way.
func findPartSpans(raw []byte) (sp partSpans) {
	d := decoder{data: raw}
	d.space()
	found := false
	ok := d.object(func(key []byte) bool {
		if !equalFoldASCII(key, "conversation_parts") {
			return d.skip()
		}
		if found || string(key) != "conversation_parts" || d.cur() != '{' {
			return false
		}
		found = true
		inner := false
		return d.object(func(key []byte) bool {
			if !equalFoldASCII(key, "conversation_parts") {
				return d.skip()
			}
			if inner || string(key) != "conversation_parts" || !d.open('[') {
				return false
			}
			inner = true
			sp.list[0] = d.keyOff
			if d.cur() == ']' {
				d.off++
				sp.list[1] = d.off
				return true
			}
			for {
				start := d.off
				if !d.skip() {
					return false
				}
				if string(raw[start:d.off]) != "null" { // as decodeFast, which has no part there
					sp.parts = append(sp.parts, [2]int{start, d.off})
				}
				more, ok := d.next(']')
				if !more {
					sp.list[1] = d.off
					return ok
				}
			}
		})
	})
	d.space()
	sp.spaced, sp.badUTF = d.spaced, d.invalidUTF8
	sp.known = ok && d.off == len(raw)
	sp.found = sp.known && found && sp.list[1] > 0
	return sp
}

// setSourceJSON fills source_json on the conversation and its parts. When the part list cannot be
// located exactly as decoded (odd inputs that took encoding/json's path), the conversation keeps its
// whole JSON and the parts none: more bytes, nothing lost.
//
// Two strings are made: the conversation's, and one holding all the parts', which theirs are slices of.
func setSourceJSON(raw []byte, rec *schemas.Record, sp partSpans) {
	if !sp.found || len(sp.parts) != len(rec.Parts) || len(rec.Parts) == 0 {
		var s string
		if !sp.known || sp.spaced || sp.badUTF {
			s = compactJSON(raw)
		} else {
			s = string(raw)
		}
		rec.Conversation.SourceJSON = &s
		return
	}
	start, end := cutWithComma(raw, sp.list)
	var b strings.Builder
	b.Grow(start + len(raw) - end)
	appendCompact(&b, raw[:start], sp.spaced)
	appendCompact(&b, raw[end:], sp.spaced)
	conv := clean(b.String(), sp.badUTF)
	rec.Conversation.SourceJSON = &conv

	var all strings.Builder
	all.Grow(sp.parts[len(sp.parts)-1][1] - sp.parts[0][0])
	for i, span := range sp.parts {
		appendCompact(&all, raw[span[0]:span[1]], sp.spaced)
		sp.parts[i][1] = all.Len() // now where the part ends in all
	}
	joined, from := all.String(), 0
	strs := make([]string, len(sp.parts)) // one allocation for the pointers
	for i, span := range sp.parts {
		strs[i] = clean(joined[from:span[1]], sp.badUTF) // a slice of joined unless it needs mending
		rec.Parts[i].SourceJSON = &strs[i]
		from = span[1]
	}
}

// cutWithComma widens the key-and-value span to take one comma with it: the one after, else the one
// before, so the object around stays valid JSON.
func cutWithComma(raw []byte, span [2]int) (int, int) {
	j := span[1]
	for j < len(raw) && isSpace(raw[j]) {
		j++
	}
	if j < len(raw) && raw[j] == ',' {
		return span[0], j + 1
	}
	i := span[0] - 1
	for i >= 0 && isSpace(raw[i]) {
		i--
	}
	if i >= 0 && raw[i] == ',' {
		return i, span[1]
	}
	return span[0], span[1]
}

func clean(s string, badUTF bool) string {
	if badUTF && !utf8.ValidString(s) {
		// As encoding/json does to every string it decodes: invalid bytes become U+FFFD.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// compactJSON returns raw without the whitespace between tokens, as valid UTF-8.
func compactJSON(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	appendCompact(&b, raw, true)
	return clean(b.String(), true)
}

// appendCompact appends raw without the whitespace between tokens (when spaced; otherwise raw is
// copied as is). raw has already been validated, so finding string boundaries is all compaction
// needs: strings are skipped with bytes.IndexByte, which makes this many times faster than
// json.Compact (which validates again).
func appendCompact(b *strings.Builder, raw []byte, spaced bool) {
	if !spaced {
		b.Write(raw)
		return
	}
	start := 0
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '"':
			i = stringEnd(raw, i)
		case ' ', '\t', '\n', '\r':
			b.Write(raw[start:i])
			for i++; i < len(raw) && isSpace(raw[i]); i++ {
			}
			start = i
		default:
			i++
		}
	}
	b.Write(raw[start:])
}

// stringEnd returns the index just past the JSON string that opens at raw[open]: its closing quote is
// the first one not escaped by an odd run of backslashes.
func stringEnd(raw []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			return len(raw) // unreachable for valid JSON
		}
		j += k
		backslashes := 0
		for p := j - 1; p > open && raw[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
