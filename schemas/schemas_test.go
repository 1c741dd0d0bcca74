package schemas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/intercom-export/intercom-export/schemas"
)

func ptr[T any](v T) *T { return &v }

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// roundTrip writes rows with parquet-go and reads them back; parquet-go panics on bad tags, so building
// each row type's writer here keeps such a panic out of a user's run.
func roundTrip[T any](t *testing.T, rows []T) []T {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&parquet.Zstd))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.Read[T](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRowTypesRoundTrip(t *testing.T) {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	conv := []schemas.Conversation{
		{ConversationID: "1", CreatedAt: ts, UpdatedAt: &ts, State: ptr("open"), Open: ptr(true), PartsTotalCount: ptr(int64(650)), PartsExportedCount: ptr(int64(500)), PartsIncluded: true, PartsTruncated: true},
		{ConversationID: "2", CreatedAt: ts},
		{ConversationID: "3", CreatedAt: ts, Read: ptr(false)},
		{ConversationID: "4", CreatedAt: ts, SLAName: ptr("1h"), SLAStatus: ptr("hit"), TimeToAssignment: ptr(int64(0)), FirstCloseAt: &ts,
			LastClosedByID: ptr("25"), CountReopens: ptr(int64(2)), AIAgentParticipated: ptr(true), AIAgentRating: ptr(int32(4)),
			TeammateIDs: []string{"25"}, Contacts: []schemas.Contact{{Type: ptr("contact"), ID: ptr("c1")}},
			MessageAttachments: []schemas.Attachment{{Name: ptr("a.png"), Filesize: ptr(int64(3))}}, SourceJSON: ptr(`{"id":"4"}`)},
		{ConversationID: "5", CreatedAt: ts, TeammateIDs: []string{}, Contacts: []schemas.Contact{}, MessageAttachments: []schemas.Attachment{}},
	}
	if got := roundTrip(t, conv); !reflect.DeepEqual(got, conv) {
		t.Errorf("conversations:\n got %+v\nwant %+v", got, conv)
	}
	parts := []schemas.ConversationPart{{ConversationID: "1", PartID: "9", PartType: ptr("comment"), CreatedAt: &ts}, {ConversationID: "1", PartID: "10"},
		{ConversationID: "1", PartID: "11", State: ptr("open"), AuthorFromAI: ptr(true), AuthorAIAnswer: ptr(false),
			Attachments: []schemas.Attachment{{Type: ptr("upload"), Width: ptr(int64(1))}, {}}, AttachmentCount: 2},
		{ConversationID: "1", PartID: "12", Attachments: []schemas.Attachment{}}}
	if got := roundTrip(t, parts); !reflect.DeepEqual(got, parts) {
		t.Errorf("parts:\n got %+v\nwant %+v", got, parts)
	}
	tags := []schemas.ConversationTag{{ConversationID: "1", TagID: "7", TagName: ptr("vip")}}
	if got := roundTrip(t, tags); !reflect.DeepEqual(got, tags) {
		t.Errorf("tags:\n got %+v\nwant %+v", got, tags)
	}
	ratings := []schemas.ConversationRating{{ConversationID: "1", Rating: ptr(int32(5)), CreatedAt: &ts}, {ConversationID: "2", Remark: ptr("meh")}}
	if got := roundTrip(t, ratings); !reflect.DeepEqual(got, ratings) {
		t.Errorf("ratings:\n got %+v\nwant %+v", got, ratings)
	}
}

func TestDateOf(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{0, "1970-01-01"},
		{1400850973, "2014-05-23"},
		{-1, "1969-12-31"},
		{86399, "1970-01-01"},
		{86400, "1970-01-02"},
	} {
		d := schemas.DateOf(time.Unix(tc.unix, 0))
		if d.String() != tc.want {
			t.Errorf("DateOf(%d) = %s, want %s", tc.unix, d, tc.want)
		}
		back, err := schemas.ParsePartitionDir(d.PartitionDir())
		if err != nil || back != d {
			t.Errorf("ParsePartitionDir(%q) = %v, %v", d.PartitionDir(), back, err)
		}
	}
	if _, err := schemas.ParsePartitionDir("day=2024-01-01"); err == nil {
		t.Error("ParsePartitionDir accepted a folder without date=")
	}
}
