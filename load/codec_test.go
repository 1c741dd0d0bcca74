package load

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
)

// fillRandom sets every field of v at random, by reflection (so a column added to schemas is covered):
// pointers nil or set (to zero values too), slices nil, empty or not.
func fillRandom(rng *rand.Rand, v reflect.Value, depth int) {
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		v.SetString(string(b))
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64() >> (rng.IntN(64)) * int64(1-2*rng.IntN(2)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64() >> rng.IntN(64))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(rng.NormFloat64())
	case reflect.Pointer:
		if rng.IntN(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		if rng.IntN(4) != 0 {
			fillRandom(rng, p.Elem(), depth+1)
		}
		v.Set(p)
	case reflect.Slice:
		switch rng.IntN(3) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := rng.IntN(4)
			if depth == 0 {
				n = rng.IntN(20)
			}
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fillRandom(rng, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fillRandom(rng, v.Field(i), depth)
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	for i := range 2000 {
		var rec schemas.Record
		if i > 0 { // the first one is the zero record
			fillRandom(rng, reflect.ValueOf(&rec).Elem(), 0)
		}
		buf = encodeRecord(buf[:0], &rec)
		var got schemas.Record
		if err := decodeRecord(buf, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Fatalf("record %d changed in the round trip:\n got %+v\nwant %+v", i, got, rec)
		}
		// A record cut short is an error, never a panic or a silent zero.
		if len(buf) > 1 {
			cut := rng.IntN(len(buf)-1) + 1
			if err := decodeRecord(bytes.Clone(buf[:cut]), &got); err == nil {
				t.Fatalf("record %d cut to %d of %d bytes decoded without an error", i, cut, len(buf))
			}
		}
	}
}

// The runs of a spill come back in order through the merge, the newest entry of each (partition, id).
func TestRunFilesMerge(t *testing.T) {
	dir := t.TempDir()
	mk := func(key schemas.Date, id string, seq uint64) *entry {
		return &entry{key: key, seq: seq, rec: schemas.Record{Date: key, Conversation: schemas.Conversation{ConversationID: id, Title: new(string)}}}
	}
	a := []*entry{mk(1, "a", 0), mk(1, "b", 3), mk(2, "a", 1)}
	b := []*entry{mk(1, "b", 5), mk(2, "a", 4), mk(3, "c", 6)}
	var srcs []source
	for i, es := range [][]*entry{a, b} {
		path := dir + "/run" + string(rune('0'+i))
		if err := writeRun(path, es); err != nil {
			t.Fatal(err)
		}
		r, err := openRun(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		srcs = append(srcs, r)
	}
	srcs = append(srcs, &sliceSource{es: []*entry{mk(2, "a", 2), mk(3, "b", 7)}})
	m := &mergeSources{srcs: srcs}
	var got []string
	for {
		e, err := m.next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		got = append(got, e.key.String()[8:]+"/"+e.rec.ID()+"@"+string(rune('0'+e.seq)))
	}
	want := []string{"02/a@0", "02/b@5", "03/a@4", "04/b@7", "04/c@6"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %v, want %v", got, want)
	}
}
