package transform

import (
	"encoding/json"
	"strconv"

	"github.com/intercom-export/intercom-export/schemas"
)

// partRows builds a row per part, in API order. A part without an id cannot key its row: that
// rejects the conversation.
func partRows(c *rawConversation, b *builder) ([]schemas.ConversationPart, error) {
	if c.ConversationParts == nil || len(c.ConversationParts.Parts) == 0 {
		return nil, nil
	}
	parts := c.ConversationParts.Parts
	rows := make([]schemas.ConversationPart, len(parts))
	for i := range parts {
		p := &parts[i]
		partID, bad := requiredID(p.ID)
		if bad != "" {
			return nil, &invalidError{id: b.convID, field: partPath + "[" + strconv.Itoa(i) + "].id", msg: bad}
		}
		rows[i] = schemas.ConversationPart{
			ConversationID:  b.convID,
			PartID:          partID,
			PartType:        p.PartType,
			Body:            p.Body,
			CreatedAt:       b.time(p.CreatedAt, field(partPath).elem(i, ".created_at")),
			UpdatedAt:       b.time(p.UpdatedAt, field(partPath).elem(i, ".updated_at")),
			NotifiedAt:      b.time(p.NotifiedAt, field(partPath).elem(i, ".notified_at")),
			AssignedToType:  p.AssignedTo.Type,
			AssignedToID:    p.AssignedTo.ID.s,
			AuthorType:      p.Author.Type,
			AuthorID:        p.Author.ID.s,
			AuthorName:      p.Author.Name,
			AuthorEmail:     p.Author.Email,
			AuthorFromAI:    p.Author.FromAIAgent.b,
			AuthorAIAnswer:  p.Author.IsAIAnswer.b,
			ExternalID:      p.ExternalID.s,
			Redacted:        p.Redacted.b,
			State:           p.State,
			Attachments:     attachments(p.Attachments, b, field(partPath).elem(i, ".attachments")),
			AttachmentCount: int64(len(p.Attachments)),
			Tags:            partTags(p.Tags),
			EventDetails:    openJSON(p.EventDetails, b, partPath, i, ".event_details"),
			AppPackageCode:  p.AppPackageCode,
			Metadata:        openJSON(p.Metadata, b, partPath, i, ".metadata"),
		}
	}
	return rows, nil
}

// partTags keeps a part's tags as a list: they say which parts a tag was applied with, which the
// conversation's tags do not, and they need no key of their own.
func partTags(l tagList) []schemas.PartTag {
	if l.tags == nil {
		return nil
	}
	out := make([]schemas.PartTag, len(l.tags))
	for i, t := range l.tags {
		out[i] = schemas.PartTag{ID: t.ID.s, Name: t.Name}
	}
	return out
}

// openJSON is an open-ended value (event_details, metadata) as compact JSON text; null is NULL.
func openJSON(v json.RawMessage, b *builder, list string, i int, name string) *string {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return jsonText(v, b, list+"["+strconv.Itoa(i)+"]"+name)
}

// tagRows builds a row per conversation tag, from tags.tags or a plain array.
func tagRows(c *rawConversation, b *builder) ([]schemas.ConversationTag, error) {
	tags := c.Tags.tags
	if len(tags) == 0 {
		return nil, nil
	}
	list := "tags"
	if c.Tags.object {
		list = "tags.tags"
	}
	rows := make([]schemas.ConversationTag, len(tags))
	for i := range tags {
		t := &tags[i]
		tagID, bad := requiredID(t.ID)
		if bad != "" {
			return nil, &invalidError{id: b.convID, field: list + "[" + strconv.Itoa(i) + "].id", msg: bad}
		}
		rows[i] = schemas.ConversationTag{
			ConversationID: b.convID,
			TagID:          tagID,
			TagName:        t.Name,
			AppliedAt:      b.time(t.AppliedAt, field(list).elem(i, ".applied_at")),
			AppliedByType:  t.AppliedBy.Type,
			AppliedByID:    t.AppliedBy.ID.s,
		}
	}
	return rows, nil
}

// ratingRow builds the rating row. 1.x sends a rating object with every field null on unrated
// conversations: that is no rating, so a row exists only when a rating or a remark was sent.
func ratingRow(c *rawConversation, b *builder) *schemas.ConversationRating {
	r := c.ConversationRating
	if r == nil || (!r.Rating.valid && r.Rating.bad == "" && r.Remark == nil) {
		return nil
	}
	row := &schemas.ConversationRating{
		ConversationID: b.convID,
		Rating:         b.rating(r.Rating, field("conversation_rating.rating")),
		Remark:         r.Remark,
		CreatedAt:      b.time(r.CreatedAt, field("conversation_rating.created_at")),
		UpdatedAt:      b.time(r.UpdatedAt, field("conversation_rating.updated_at")),
		TeammateType:   r.Teammate.Type,
		TeammateID:     r.Teammate.ID.s,
	}
	// The rated customer: contact (2.x), else customer (1.x).
	who := r.Contact
	if who == nil {
		who = r.Customer
	}
	if who != nil {
		row.CustomerType = who.Type
		row.CustomerID = who.ID.s
		row.CustomerExternalID = who.ExternalID.s
	}
	return row
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
