package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/intercom-export/intercom-export/schemas"
)

// The run files of a spill (see run.go) hold records in a private binary form, written and read back
// once within one run by the same binary: it only has to be fast and exact, NULL apart from a zero
// value and a nil list apart from an empty one (encoding/gob, for one, loses both). The codec is
// compiled once from the Record type by reflection into functions working on field offsets, so that a
// column added to schemas needs nothing here; a field of a kind it does not know fails NewWriter (and
// TestCodecRoundTrip), never a run half way.
//
// Encoding, per kind: integers as (zig-zag) varints, bools as a byte, floats as 8 bytes, strings as
// a length and the bytes, time.Time as Unix seconds and nanoseconds (always read back in UTC, as the
// transform makes them), structs as their fields in order. A pointer or a slice starts with a varint
// that is 0 for nil: for a pointer 1 then the value, for a slice 1 + its length then the elements; a
// *string is its length + 1 then the bytes.

type encFn func(p unsafe.Pointer, b []byte) []byte
type decFn func(p unsafe.Pointer, d *decoder)

// decoder reads values from one encoded record; the first error sticks and the rest read zeroes.
type decoder struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("run file: record cut short")

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShortRecord
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.fail()
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

type codec struct {
	enc encFn
	dec decFn
}

// recordCodec is the codec of schemas.Record, built on first use.
var recordCodec = sync.OnceValues(func() (codec, error) { return codecOf(reflect.TypeFor[schemas.Record]()) })

func encodeRecord(b []byte, r *schemas.Record) []byte {
	c, _ := recordCodec() // NewWriter checked the error
	return c.enc(unsafe.Pointer(r), b)
}

func decodeRecord(b []byte, r *schemas.Record) error {
	c, err := recordCodec()
	if err != nil {
		return err
	}
	d := decoder{b: b}
	c.dec(unsafe.Pointer(r), &d)
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("run file: %d bytes left after a record", len(d.b))
	}
	return d.err
}

func codecOf(t reflect.Type) (codec, error) {
	if t == timeType {
		return codec{encTime, decTime}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return codec{
			func(p unsafe.Pointer, b []byte) []byte {
				s := *(*string)(p)
				return append(binary.AppendUvarint(b, uint64(len(s))), s...)
			},
			func(p unsafe.Pointer, d *decoder) { *(*string)(p) = string(d.bytes(d.uvarint())) },
		}, nil
	case reflect.Bool:
		return codec{
			func(p unsafe.Pointer, b []byte) []byte {
				if *(*bool)(p) {
					return append(b, 1)
				}
				return append(b, 0)
			},
			func(p unsafe.Pointer, d *decoder) { *(*bool)(p) = d.uvarint() != 0 },
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intCodec(t.Size()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return uintCodec(t.Size()), nil
	case reflect.Float32:
		return codec{
			func(p unsafe.Pointer, b []byte) []byte {
				return binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(p)))
			},
			func(p unsafe.Pointer, d *decoder) {
				if v := d.bytes(4); v != nil {
					*(*float32)(p) = math.Float32frombits(binary.LittleEndian.Uint32(v))
				}
			},
		}, nil
	case reflect.Float64:
		return codec{
			func(p unsafe.Pointer, b []byte) []byte {
				return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(p)))
			},
			func(p unsafe.Pointer, d *decoder) {
				if v := d.bytes(8); v != nil {
					*(*float64)(p) = math.Float64frombits(binary.LittleEndian.Uint64(v))
				}
			},
		}, nil
	case reflect.Pointer:
		return pointerCodec(t)
	case reflect.Slice:
		return sliceCodec(t)
	case reflect.Struct:
		return structCodec(t)
	}
	return codec{}, fmt.Errorf("load: run files cannot hold a %v", t)
}

func intCodec(size uintptr) codec {
	get := map[uintptr]func(unsafe.Pointer) int64{
		1: func(p unsafe.Pointer) int64 { return int64(*(*int8)(p)) },
		2: func(p unsafe.Pointer) int64 { return int64(*(*int16)(p)) },
		4: func(p unsafe.Pointer) int64 { return int64(*(*int32)(p)) },
		8: func(p unsafe.Pointer) int64 { return *(*int64)(p) },
	}[size]
	set := map[uintptr]func(unsafe.Pointer, int64){
		1: func(p unsafe.Pointer, v int64) { *(*int8)(p) = int8(v) },
		2: func(p unsafe.Pointer, v int64) { *(*int16)(p) = int16(v) },
		4: func(p unsafe.Pointer, v int64) { *(*int32)(p) = int32(v) },
		8: func(p unsafe.Pointer, v int64) { *(*int64)(p) = v },
	}[size]
	return codec{
		func(p unsafe.Pointer, b []byte) []byte { return binary.AppendVarint(b, get(p)) },
		func(p unsafe.Pointer, d *decoder) { set(p, d.varint()) },
	}
}

func uintCodec(size uintptr) codec {
	get := map[uintptr]func(unsafe.Pointer) uint64{
		1: func(p unsafe.Pointer) uint64 { return uint64(*(*uint8)(p)) },
		2: func(p unsafe.Pointer) uint64 { return uint64(*(*uint16)(p)) },
		4: func(p unsafe.Pointer) uint64 { return uint64(*(*uint32)(p)) },
		8: func(p unsafe.Pointer) uint64 { return *(*uint64)(p) },
	}[size]
	set := map[uintptr]func(unsafe.Pointer, uint64){
		1: func(p unsafe.Pointer, v uint64) { *(*uint8)(p) = uint8(v) },
		2: func(p unsafe.Pointer, v uint64) { *(*uint16)(p) = uint16(v) },
		4: func(p unsafe.Pointer, v uint64) { *(*uint32)(p) = uint32(v) },
		8: func(p unsafe.Pointer, v uint64) { *(*uint64)(p) = v },
	}[size]
	return codec{
		func(p unsafe.Pointer, b []byte) []byte { return binary.AppendUvarint(b, get(p)) },
		func(p unsafe.Pointer, d *decoder) { set(p, d.uvarint()) },
	}
}

func encTime(p unsafe.Pointer, b []byte) []byte {
	t := (*time.Time)(p)
	return binary.AppendUvarint(binary.AppendVarint(b, t.Unix()), uint64(t.Nanosecond()))
}

func decTime(p unsafe.Pointer, d *decoder) {
	s := d.varint()
	*(*time.Time)(p) = time.Unix(s, int64(d.uvarint())).UTC()
}

func pointerCodec(t reflect.Type) (codec, error) {
	elem := t.Elem()
	if elem.Kind() == reflect.String {
		// The most common column kind gets its own form: length + 1, 0 for NULL.
		return codec{
			func(p unsafe.Pointer, b []byte) []byte {
				s := *(**string)(p)
				if s == nil {
					return append(b, 0)
				}
				return append(binary.AppendUvarint(b, uint64(len(*s))+1), *s...)
			},
			func(p unsafe.Pointer, d *decoder) {
				n := d.uvarint()
				if n == 0 {
					*(**string)(p) = nil
					return
				}
				s := string(d.bytes(n - 1))
				*(**string)(p) = &s
			},
		}, nil
	}
	ec, err := codecOf(elem)
	if err != nil {
		return codec{}, err
	}
	return codec{
		func(p unsafe.Pointer, b []byte) []byte {
			v := *(*unsafe.Pointer)(p)
			if v == nil {
				return append(b, 0)
			}
			return ec.enc(v, append(b, 1))
		},
		func(p unsafe.Pointer, d *decoder) {
			if d.uvarint() == 0 {
				*(*unsafe.Pointer)(p) = nil
				return
			}
			v := reflect.New(elem).UnsafePointer()
			ec.dec(v, d)
			*(*unsafe.Pointer)(p) = v
		},
	}, nil
}

// sliceHeader is the layout of a Go slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func sliceCodec(t reflect.Type) (codec, error) {
	elem := t.Elem()
	ec, err := codecOf(elem)
	if err != nil {
		return codec{}, err
	}
	size := elem.Size()
	return codec{
		func(p unsafe.Pointer, b []byte) []byte {
			h := (*sliceHeader)(p)
			if h.data == nil {
				return append(b, 0)
			}
			b = binary.AppendUvarint(b, uint64(h.len)+1)
			for i := range h.len {
				b = ec.enc(unsafe.Add(h.data, uintptr(i)*size), b)
			}
			return b
		},
		func(p unsafe.Pointer, d *decoder) {
			n := d.uvarint()
			if n == 0 {
				*(*sliceHeader)(p) = sliceHeader{}
				return
			}
			n--
			if n > uint64(len(d.b)) { // every element takes a byte at least
				d.fail()
				return
			}
			s := reflect.MakeSlice(t, int(n), int(n))
			data := s.UnsafePointer()
			for i := range int(n) {
				ec.dec(unsafe.Add(data, uintptr(i)*size), d)
			}
			*(*sliceHeader)(p) = sliceHeader{data: data, len: int(n), cap: int(n)}
		},
	}, nil
}

func structCodec(t reflect.Type) (codec, error) {
	type field struct {
		off uintptr
		codec
	}
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		c, err := codecOf(f.Type)
		if err != nil {
			return codec{}, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		fields = append(fields, field{f.Offset, c})
	}
	return codec{
		func(p unsafe.Pointer, b []byte) []byte {
			for _, f := range fields {
				b = f.enc(unsafe.Add(p, f.off), b)
			}
			return b
		},
		func(p unsafe.Pointer, d *decoder) {
			for _, f := range fields {
				f.dec(unsafe.Add(p, f.off), d)
			}
		},
	}, nil
}
