package load

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
)

// The index is `_intercom_export/index`: which conversations the folder holds, in which partition, with
// which updated_at, and the size and modification time of each partition's conversations file. An
// incremental run reads it instead of every conversations file (3-8 s for 730 daily files, minutes on
// object storage) to know what to skip and what moved. It is written with the data, through the commit
// protocol (a temporary file, made durable before the journal, renamed with the data files), so it
// describes exactly the committed files. On open it is checked against a listing of the conversations
// table (one stat a partition): a partition missing, added or rewritten behind the tool's back makes it
// rebuilt from the data, as is a missing or unreadable index. `verify` compares it with the data in full.
//
// Format: the magic line, the partitioning, then per partition (in key order) its key, file size,
// modification time (Unix ns) and conversations (id order: id, updated_at, created day minus the key),
// all varints; then a CRC-32 of everything before it.
const (
	indexFile  = "index"
	indexName  = StateDir + "/" + indexFile
	indexMagic = "intercom-export index 1\n"
)

// heldEntry is one conversation the folder holds.
type heldEntry struct {
	id      string
	updated int64 // Unix seconds; 0 when unknown
	date    schemas.Date
}

type indexPart struct {
	size    int64
	modTime int64
	held    []heldEntry
}

// folderIndex is what a folder holds, by partition key.
type folderIndex struct {
	partition schemas.Partitioning // "" for a folder that holds nothing yet
	parts     map[schemas.Date]*indexPart
	// trusted: read and found consistent with the folder's listing, or rebuilt from the data.
	trusted bool
}

func heldOf(c *schemas.Conversation, key schemas.Date, p schemas.Partitioning) heldEntry {
	h := heldEntry{id: c.ConversationID, date: key}
	if c.UpdatedAt != nil {
		h.updated = c.UpdatedAt.Unix()
	}
	if p == schemas.ByMonth {
		h.date = c.CreatedDate
	}
	return h
}

// heldMap is the index as Dataset.Index returns it.
func (ix *folderIndex) heldMap() map[string]Held {
	n := 0
	for _, p := range ix.parts {
		n += len(p.held)
	}
	out := make(map[string]Held, n)
	for _, p := range ix.parts {
		for _, h := range p.held {
			out[h.id] = Held{UpdatedAt: h.updated, Date: h.date}
		}
	}
	return out
}

func (ix *folderIndex) encode() []byte {
	b := []byte(indexMagic)
	b = appendString(b, string(ix.partition))
	keys := slices.Sorted(maps.Keys(ix.parts))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		p := ix.parts[k]
		b = binary.AppendVarint(b, int64(k))
		b = binary.AppendVarint(b, p.size)
		b = binary.AppendVarint(b, p.modTime)
		b = binary.AppendUvarint(b, uint64(len(p.held)))
		for _, h := range p.held {
			b = appendString(b, h.id)
			b = binary.AppendVarint(b, h.updated)
			b = binary.AppendVarint(b, int64(h.date-k))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errBadIndex = errors.New("not an index this version reads")

func decodeIndex(b []byte) (*folderIndex, error) {
	if len(b) < len(indexMagic)+4 || !bytes.HasPrefix(b, []byte(indexMagic)) {
		return nil, errBadIndex
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadIndex)
	}
	d := decoder{b: body[len(indexMagic):]}
	str := func() string { return string(d.bytes(d.uvarint())) }
	ix := &folderIndex{partition: schemas.Partitioning(str()), parts: map[schemas.Date]*indexPart{}}
	for range d.uvarint() {
		k := schemas.Date(d.varint())
		p := &indexPart{size: d.varint(), modTime: d.varint()}
		n := d.uvarint()
		if n > uint64(len(d.b)) {
			return nil, fmt.Errorf("%w: cut short", errBadIndex)
		}
		p.held = make([]heldEntry, n)
		for i := range p.held {
			p.held[i] = heldEntry{id: str(), updated: d.varint()}
			p.held[i].date = k + schemas.Date(d.varint())
		}
		if d.err != nil {
			break
		}
		ix.parts[k] = p
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, fmt.Errorf("%w: cut short", errBadIndex)
	}
	return ix, nil
}

// listedPart is a partition folder of the conversations table, as the folder lists it.
type listedPart struct {
	name    string
	size    int64
	modTime int64
}

// listConversations lists the conversations table's partitions with the size and version of their
// file, and infers the folder's partitioning from the folder names ("" when there is none).
func listConversations(ctx context.Context, st Store) (map[schemas.Date]listedPart, schemas.Partitioning, error) {
	entries, err := st.List(ctx, schemas.TableConversations)
	if err != nil {
		return nil, "", err
	}
	out := map[schemas.Date]listedPart{}
	var layout schemas.Partitioning
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name, schemas.TableConversations+"/")
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, "/"+DataFile)
		if !ok || strings.Contains(name, "/") {
			continue // verify reports it; readers never see it as a partition
		}
		var p schemas.Partitioning
		switch {
		case strings.HasPrefix(name, "date="):
			p = schemas.ByDay
		case strings.HasPrefix(name, "month="):
			p = schemas.ByMonth
		default:
			continue
		}
		key, err := p.ParseDir(name)
		if err != nil {
			continue
		}
		if layout != "" && layout != p {
			return nil, "", fmt.Errorf("%s/%s holds both date= and month= partition folders: verify the folder, and keep one layout", st.Location(), schemas.TableConversations)
		}
		layout = p
		out[key] = listedPart{name: name, size: e.Size, modTime: e.Version}
	}
	return out, layout, nil
}

// consistent reports whether ix names exactly the listed partitions, with their files' sizes and times.
func (ix *folderIndex) consistent(listed map[schemas.Date]listedPart, layout schemas.Partitioning) bool {
	if len(listed) != len(ix.parts) || (layout != "" && layout != ix.partition) {
		return false
	}
	for k, l := range listed {
		p, ok := ix.parts[k]
		if !ok || p.size != l.size || p.modTime != l.modTime {
			return false
		}
	}
	return true
}

// heldRow is the projection of the conversations table the index is rebuilt from.
type heldRow struct {
	ConversationID string       `parquet:"conversation_id"`
	UpdatedAt      *time.Time   `parquet:"updated_at,timestamp(microsecond)"`
	CreatedDate    schemas.Date `parquet:"created_date,date"`
}

// rebuildIndex reads the index from the conversations files themselves.
func rebuildIndex(ctx context.Context, st Store, listed map[schemas.Date]listedPart, layout schemas.Partitioning) (*folderIndex, error) {
	ix := &folderIndex{partition: layout, parts: map[schemas.Date]*indexPart{}, trusted: true}
	for k, l := range listed {
		local, release, err := st.Fetch(ctx, path.Join(schemas.TableConversations, l.name, DataFile))
		if err != nil {
			return nil, fmt.Errorf("reading what %s holds: %w", st.Location(), err)
		}
		rows, err := ReadFile[heldRow](local)
		release()
		if err != nil {
			return nil, fmt.Errorf("reading what %s holds: %w", st.Location(), err)
		}
		p := &indexPart{size: l.size, modTime: l.modTime, held: make([]heldEntry, len(rows))}
		for i, r := range rows {
			c := schemas.Conversation{ConversationID: r.ConversationID, UpdatedAt: r.UpdatedAt, CreatedDate: r.CreatedDate}
			p.held[i] = heldOf(&c, k, layout)
		}
		slices.SortFunc(p.held, func(a, b heldEntry) int { return cmp.Compare(a.id, b.id) })
		ix.parts[k] = p
	}
	return ix, nil
}

// readIndex reads dir's index, or rebuilds it from the data when it is missing or does not match the
// folder's listing; rebuilt tells which.
func readIndex(ctx context.Context, st Store) (ix *folderIndex, rebuilt string, err error) {
	listed, layout, err := listConversations(ctx, st)
	if err != nil {
		return nil, "", err
	}
	data, err := st.ReadFile(ctx, indexName)
	switch {
	case err == nil:
		ix, err = decodeIndex(data)
		switch {
		case err != nil:
			rebuilt = err.Error()
		case !ix.consistent(listed, layout):
			rebuilt = "it does not match the conversations files"
		default:
			ix.trusted = true
			return ix, "", nil
		}
	case errors.Is(err, fs.ErrNotExist):
		if len(listed) == 0 {
			return &folderIndex{partition: layout, parts: map[schemas.Date]*indexPart{}, trusted: true}, "", nil
		}
		rebuilt = "it is missing"
	default:
		return nil, "", err
	}
	ix, err = rebuildIndex(ctx, st, listed, layout)
	return ix, rebuilt, err
}

// next is the index after a commit that wrote res: the partitions it merged are replaced by what their
// new conversations files hold.
func (ix *folderIndex) next(p schemas.Partitioning, res []partitionResult) *folderIndex {
	out := &folderIndex{partition: p, parts: maps.Clone(ix.parts), trusted: true}
	for i := range res {
		r := &res[i]
		c := r.tables[tConversations]
		switch {
		case c.existed && c.added == 0 && c.replaced == 0:
			// unchanged: the published file stays, and so does its entry
		case c.rows == 0:
			delete(out.parts, r.key)
		default:
			out.parts[r.key] = &indexPart{size: c.size, modTime: c.modTime.UnixNano(), held: r.held}
		}
	}
	return out
}

// settle records in the index the size and version of the conversations files published as files, as
// the store reports them once published: a bucket's copy gets a version of its own.
func (ix *folderIndex) settle(ctx context.Context, st Store, files []File) error {
	var todo []File
	for _, f := range files {
		if f.Table == schemas.TableConversations && !f.Removed && ix.parts[f.Date] != nil {
			todo = append(todo, f)
		}
	}
	readBack := func(f File) (Entry, error) { return st.Stat(ctx, f.Path) }
	// One listing of the table answers for a page of up to listPageKeys files at a time, where reading
	// each back costs a request (a HEAD, in a bucket): a backfill publishes hundreds.
	if len(todo) > (len(ix.parts)+listPageKeys-1)/listPageKeys {
		listed, err := st.List(ctx, schemas.TableConversations)
		if err != nil {
			return fmt.Errorf("reading back the conversations files: %w", err)
		}
		byName := make(map[string]Entry, len(listed))
		for _, e := range listed {
			byName[e.Name] = e
		}
		readBack = func(f File) (Entry, error) {
			if e, ok := byName[f.Path]; ok {
				return e, nil
			}
			return Entry{}, fs.ErrNotExist
		}
	}
	for _, f := range todo {
		e, err := readBack(f)
		if err != nil {
			return fmt.Errorf("reading back %s: %w", f.Path, err)
		}
		p := ix.parts[f.Date]
		p.size, p.modTime = e.Size, e.Version
	}
	return nil
}

// listPageKeys is how many objects one listing request returns (S3's ListObjectsV2 maximum).
const listPageKeys = 1000

// compareIndex reports how the index file disagrees with what the data holds, for verify; nil when it
// agrees or there is no index.
func compareIndex(ctx context.Context, st Store) error {
	data, err := st.ReadFile(ctx, indexName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // written by the next run
	}
	if err != nil {
		return err
	}
	ix, err := decodeIndex(data)
	if err != nil {
		return err
	}
	listed, layout, err := listConversations(ctx, st)
	if err != nil {
		return err
	}
	if layout != "" && layout != ix.partition {
		return fmt.Errorf("the index says partitions by %s, the folders are by %s", ix.partition, layout)
	}
	fromData, err := rebuildIndex(ctx, st, listed, layout)
	if err != nil {
		return nil // a conversations file that cannot be read is reported as the file's problem
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(listed)) {
		name := listed[k].name
		p, ok := ix.parts[k]
		if !ok {
			diffs = append(diffs, name+" is not in the index")
			continue
		}
		if p.size != listed[k].size || p.modTime != listed[k].modTime {
			diffs = append(diffs, name+": the file's size or time differs from the index's")
		}
		if !slices.Equal(p.held, fromData.parts[k].held) {
			diffs = append(diffs, name+": the index lists other conversations or updated_at values than the file")
		}
	}
	for k := range ix.parts {
		if _, ok := listed[k]; !ok {
			diffs = append(diffs, ix.partition.Dir(k)+" is in the index but not in the folder")
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 5 {
			diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
		}
		return fmt.Errorf("the index disagrees with the data (the next run rebuilds it if its listing differs; else remove the index): %s", strings.Join(diffs, "; "))
	}
	return nil
}
