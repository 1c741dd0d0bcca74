package transform

import (
	"encoding/binary"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder is a cursor over the input, for decodeFast. Its methods return false to bail out, the
// position being then meaningless.
//
// A method that decodes or skips a value starts at the value's first byte and stops just past its last.
// The whitespace between tokens is skipped by the loops over objects and arrays (and by decodeFast
// around the document), always with space: that way the common case, no whitespace, costs an inlined
// comparison, and space sees all the whitespace there is (for source_json, see findPartSpans).
type decoder struct {
	data   []byte
	off    int
	depth  int        // nesting of the value skip is in
	buf    []byte     // scratch for unescaping strings
	strs   []string   // slab for newString
	recent [64]string // strings made lately, by a hash of their bytes: see intern

	keyOff      int       // where the key object passed to its field function starts (its quote)
	sp          partSpans // the part list, for source_json (decodeFast)
	spaced      bool      // whitespace seen between tokens
	invalidUTF8 bool      // seen in a string, the only place it can be
}

// cur returns the byte at the cursor, 0 at the end of the input.
func (d *decoder) cur() byte {
	if d.off < len(d.data) {
		return d.data[d.off]
	}
	return 0
}

// space skips whitespace. The test for none is small enough to be inlined.
func (d *decoder) space() {
	if b := d.data[d.off:]; len(b) == 0 || b[0] > ' ' {
		return
	}
	d.skipSpace()
}

func (d *decoder) skipSpace() {
	b, i := d.data, d.off
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	if i > d.off {
		d.spaced = true
	}
	d.off = i
}

// newString returns a pointer to s. The pointers come from slabs, which saves an allocation per string
// field; slabs grow with the input to bound the waste on small conversations.
func (d *decoder) newString(s string) *string {
	if len(d.strs) == cap(d.strs) {
		d.strs = make([]string, 0, min(max(2*cap(d.strs), 16), 256))
	}
	d.strs = append(d.strs, s)
	return &d.strs[len(d.strs)-1]
}

// open consumes the bracket c and the whitespace after it.
func (d *decoder) open(c byte) bool {
	if d.cur() != c {
		return false
	}
	d.off++
	d.space()
	return true
}

// next is called after a value in a list: it consumes the comma or the closing bracket end that must
// follow (with whitespace), and reports whether the list goes on and whether that was well-formed.
func (d *decoder) next(end byte) (more, ok bool) {
	d.space()
	switch d.cur() {
	case ',':
		d.off++
		d.space()
		return true, true
	case end:
		d.off++
		return false, true
	}
	return false, false
}

// word consumes the literal w (true, false or null) if it comes next. A letter right after it (nullx)
// is left for the caller, whose next expectation (a comma, a closing bracket) rejects it.
func (d *decoder) word(w string) bool {
	if len(d.data)-d.off < len(w) || string(d.data[d.off:d.off+len(w)]) != w {
		return false
	}
	d.off += len(w)
	return true
}

// null consumes a null if one comes next and reports whether it did.
func (d *decoder) null() bool {
	return d.cur() == 'n' && d.word("null")
}

// object decodes an object into a struct: field is called for each key, at the value, and must
// consume the value. Keys with escapes or non-ASCII bytes bail: encoding/json would unescape and
// case-fold them (the Kelvin sign folds to k), which is not worth reproducing for keys real data never
// has.
func (d *decoder) object(field func(key []byte) bool) bool {
	if !d.open('{') {
		return false
	}
	if d.cur() == '}' {
		d.off++
		return true
	}
	for {
		if d.cur() != '"' {
			return false
		}
		b, start := d.data, d.off+1
		end := plainEnd(b, start)
		if end == len(b) || b[end] != '"' {
			return false
		}
		d.off = end + 1
		d.space()
		d.keyOff = start - 1
		if !d.open(':') || !field(b[start:end]) {
			return false
		}
		if more, ok := d.next('}'); !more {
			return ok
		}
	}
}

// unknown skips the value of a key that is not exactly one of keys. encoding/json matches keys
// case-insensitively, so one that equals a known key but for case would fill a field: that bails. The
// struct keys are lower case and key is ASCII (see object), so only a key with upper case can match.
func (d *decoder) unknown(key []byte, keys []string) bool {
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			for _, k := range keys {
				if equalFoldASCII(key, k) {
					return false
				}
			}
			break
		}
	}
	return d.skip()
}

// equalFoldASCII reports whether ASCII a and b are equal but for the case of letters.
func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// skip consumes any value, checking it is valid JSON as encoding/json does before decoding anything.
func (d *decoder) skip() bool {
	switch c := d.cur(); c {
	case '"':
		_, _, ok := d.scanString()
		return ok
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if d.depth++; d.depth > maxSkipDepth {
			return false
		}
		d.open(c) // cannot fail: c is next
		if d.cur() == end {
			d.off++
			d.depth--
			return true
		}
		for {
			if c == '{' {
				if d.cur() != '"' {
					return false
				}
				if _, _, ok := d.scanString(); !ok {
					return false
				}
				d.space()
				if !d.open(':') {
					return false
				}
			}
			if !d.skip() {
				return false
			}
			if more, ok := d.next(end); !more {
				d.depth--
				return ok
			}
		}
	case 't':
		return d.word("true")
	case 'f':
		return d.word("false")
	case 'n':
		return d.word("null")
	}
	return d.number()
}

// number consumes a number in JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	end, ok := numberEnd(d.data, d.off, false)
	if ok {
		d.off = end
	}
	return ok
}

// numberEnd returns where the number starting at b[i] ends, in JSON's grammar; with leadingZeros, the
// integer part may also start with zeros (01), which the lenient types accept inside strings.
func numberEnd(b []byte, i int, leadingZeros bool) (int, bool) {
	digits := func() bool {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if !leadingZeros && i < len(b) && b[i] == '0' {
		i++ // no leading zeros: 01 ends after the 0, and the caller rejects the 1
	} else if !digits() {
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}

// plain marks the bytes a string can hold as they are: ASCII but for control characters, the quote
// and the backslash.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainEnd returns the index of the first byte from b[i] on that is not plain, len(b) if none.
// Bodies are long strings: it looks at 8 bytes at a time.
func plainEnd(b []byte, i int) int {
	for i+8 <= len(b) && !special8(binary.LittleEndian.Uint64(b[i:])) {
		i += 8
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// special8 reports whether any of the 8 bytes in x is not plain. (It may also report true for some
// plain ones, but only besides one that is not.)
func special8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte of x-ones*c gets its high bit when the byte of x is below c (and when it is 0x80 or more,
	// which x itself shows); only then does the subtraction borrow from the next byte up.
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	return ((quote-ones)|(backslash-ones)|(x-ones*' ')|x)&highs != 0
}

// scanString consumes the string that comes next (d.off is at its quote), checking it as encoding/json
// does: escapes as JSON defines them, no control characters, any other bytes (valid UTF-8 or not). It
// returns the bytes between the quotes and whether they need more than a copy to become the Go string
// encoding/json makes: they hold escapes or invalid UTF-8.
func (d *decoder) scanString() (inner []byte, complex bool, ok bool) {
	b := d.data
	start := d.off + 1
	i := start
	escaped, high := false, false
	for {
		i = plainEnd(b, i)
		if i == len(b) {
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			d.off = i + 1
			inner = b[start:i]
			invalid := high && !utf8.Valid(inner)
			d.invalidUTF8 = d.invalidUTF8 || invalid
			return inner, escaped || invalid, true
		case c == '\\':
			escaped = true
			if i+1 == len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		case c < ' ':
			return nil, false, false // control characters must be escaped
		default:
			high = true
			i++
		}
	}
}

// string decodes the string that comes next into a new Go string.
func (d *decoder) string() (string, bool) {
	inner, complex, ok := d.scanString()
	if !ok {
		return "", false
	}
	if !complex {
		return d.intern(inner), true
	}
	d.buf = unescape(d.buf[:0], inner)
	return string(d.buf), true
}

// intern returns b as a string, reusing an equal one made lately rather than allocating when it can:
// within a conversation the same authors, types and part types come again and again.
func (d *decoder) intern(b []byte) string {
	if len(b) == 0 || len(b) > 64 {
		return string(b)
	}
	h := (uint(len(b))*31+uint(b[0]))*31 + uint(b[len(b)-1])
	h = (h*31 + uint(b[len(b)/2])) % uint(len(d.recent))
	if s := d.recent[h]; s == string(b) {
		return s
	}
	s := string(b)
	d.recent[h] = s
	return s
}

// unescape appends the string whose validated bytes between the quotes are s, by encoding/json's rules
// (its unquoteBytes): a \u escape of half a surrogate pair that is not followed by the other half,
// and every byte of invalid UTF-8, become U+FFFD.
func unescape(b, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			e := s[r+1]
			r += 2
			switch e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr, _ := hex4(s[r:])
				r += 4
				if utf16.IsSurrogate(rr) {
					// A pair makes one rune. Half of one becomes U+FFFD, and the escape after it
					// (if any) is decoded on its own.
					hi := rr
					rr = unicode.ReplacementChar
					if len(s)-r >= 6 && s[r] == '\\' && s[r+1] == 'u' {
						lo, _ := hex4(s[r+2:])
						if pair := utf16.DecodeRune(hi, lo); pair != unicode.ReplacementChar {
							rr = pair
							r += 6
						}
					}
				}
				b = utf8.AppendRune(b, rr)
			default: // " \ /
				b = append(b, e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr) // RuneError for an invalid byte
			r += size
		}
	}
	return b
}

// hex4 decodes the four hex digits that s starts with.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
