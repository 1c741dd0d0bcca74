// Package schemas is the one place that names the exported tables, their columns and their types.
//
// Every nullable column is a pointer field without the `optional` tag: parquet-go writes trailing zero
// values of `optional` value types as non-NULL (shared/docs/parquet-notes.md, pitfall 2). Timestamps are
// TIMESTAMP(MICROS, UTC) because nanosecond timestamps are unreadable in Spark and Athena (pitfall 3).
// The partition key (`date`) is never a column inside the files: it lives in the folder name.
//
// The `doc` tag of each field says where the value comes from; `intercom-export schema` and the README's
// column reference are generated from it.
package schemas

import "time"

// Table names, as they appear in the output folder.
const (
	TableConversations       = "conversations"
	TableConversationParts   = "conversation_parts"
	TableConversationTags    = "conversation_tags"
	TableConversationRatings = "conversation_ratings"
)

// Conversation is one row per conversation.
type Conversation struct {
	ConversationID string     `parquet:"conversation_id" doc:"id"`
	CreatedAt      time.Time  `parquet:"created_at,timestamp(microsecond)" doc:"created_at"`
	UpdatedAt      *time.Time `parquet:"updated_at,timestamp(microsecond)" doc:"updated_at"`
	WaitingSince   *time.Time `parquet:"waiting_since,timestamp(microsecond)" doc:"waiting_since; NULL when not waiting (the year-4018 sentinel, zero or negative)"`
	SnoozedUntil   *time.Time `parquet:"snoozed_until,timestamp(microsecond)" doc:"snoozed_until; NULL unless snoozed"`
	State          *string    `parquet:"state,dict" doc:"state: open, closed or snoozed"`
	Open           *bool      `parquet:"open" doc:"open"`
	Read           *bool      `parquet:"read" doc:"read"`
	Title          *string    `parquet:"title" doc:"title (2.x only)"`
	Priority       *string    `parquet:"priority,dict" doc:"priority (2.x only)"`

	MessageID          *string `parquet:"message_id" doc:"source.id (2.x), conversation_message.id (1.x)"`
	MessageType        *string `parquet:"message_type,dict" doc:"source.type / conversation_message.type: conversation, email, twitter, ..."`
	MessageDeliveredAs *string `parquet:"message_delivered_as,dict" doc:"source.delivered_as / conversation_message.delivered_as"`
	MessageSubject     *string `parquet:"message_subject" doc:"source.subject / conversation_message.subject"`
	MessageBody        *string `parquet:"message_body" doc:"source.body / conversation_message.body (HTML)"`
	MessageURL         *string `parquet:"message_url" doc:"source.url / conversation_message.url"`
	MessageAuthorType  *string `parquet:"message_author_type,dict" doc:"source.author.type / conversation_message.author.type"`
	MessageAuthorID    *string `parquet:"message_author_id" doc:"source.author.id / conversation_message.author.id"`
	MessageAuthorName  *string `parquet:"message_author_name" doc:"source.author.name"`
	MessageAuthorEmail *string `parquet:"message_author_email" doc:"source.author.email"`
	MessageRedacted    *bool   `parquet:"message_redacted" doc:"source.redacted (2.x only)"`

	AdminAssigneeID *string `parquet:"admin_assignee_id" doc:"admin_assignee_id (2.x), assignee.id when assignee.type is admin (1.x); NULL when unassigned (null, 0, nobody_admin)"`
	TeamAssigneeID  *string `parquet:"team_assignee_id" doc:"team_assignee_id (2.x), assignee.id when assignee.type is team (1.x); NULL when unassigned"`

	FirstContactReplyAt   *time.Time `parquet:"first_contact_reply_at,timestamp(microsecond)" doc:"first_contact_reply.created_at (2.x), customer_first_reply.created_at (1.x)"`
	FirstContactReplyType *string    `parquet:"first_contact_reply_type,dict" doc:"first_contact_reply.type / customer_first_reply.type"`
	FirstContactReplyURL  *string    `parquet:"first_contact_reply_url" doc:"first_contact_reply.url / customer_first_reply.url"`

	PartsTotalCount    *int64 `parquet:"parts_total_count" doc:"statistics.count_conversation_parts (2.x), else conversation_parts.total_count"`
	PartsExportedCount int64  `parquet:"parts_exported_count" doc:"number of parts the API returned (at most 500)"`
	PartsTruncated     bool   `parquet:"parts_truncated" doc:"true when the API withheld older parts (parts_total_count > parts_exported_count)"`

	CustomAttributes *string `parquet:"custom_attributes" doc:"custom_attributes as a JSON string (2.x only)"`
}

// ConversationPart is one row per conversation part (message, note, assignment, state change, ...).
type ConversationPart struct {
	ConversationID string     `parquet:"conversation_id" doc:"the conversation's id"`
	PartID         string     `parquet:"part_id" doc:"conversation_parts[].id; unique only together with conversation_id"`
	PartType       *string    `parquet:"part_type,dict" doc:"part_type, an open set kept as sent (comment, note, assignment, close, ...)"`
	Body           *string    `parquet:"body" doc:"body (HTML)"`
	CreatedAt      *time.Time `parquet:"created_at,timestamp(microsecond)" doc:"created_at (may predate the conversation for imports)"`
	UpdatedAt      *time.Time `parquet:"updated_at,timestamp(microsecond)" doc:"updated_at"`
	NotifiedAt     *time.Time `parquet:"notified_at,timestamp(microsecond)" doc:"notified_at"`
	AssignedToType *string    `parquet:"assigned_to_type,dict" doc:"assigned_to.type (admin, team, bot, nobody_admin); NULL when the part changed no assignment"`
	AssignedToID   *string    `parquet:"assigned_to_id" doc:"assigned_to.id (2.x), or assigned_to itself when a plain id (1.x)"`
	AuthorType     *string    `parquet:"author_type,dict" doc:"author.type (admin, bot, user, lead, team, contact)"`
	AuthorID       *string    `parquet:"author_id" doc:"author.id"`
	AuthorName     *string    `parquet:"author_name" doc:"author.name"`
	AuthorEmail    *string    `parquet:"author_email" doc:"author.email"`
	ExternalID     *string    `parquet:"external_id" doc:"external_id"`
	Redacted       *bool      `parquet:"redacted" doc:"redacted (2.x only): the message was deleted"`
}

// ConversationTag is one row per tag applied to a conversation.
type ConversationTag struct {
	ConversationID string     `parquet:"conversation_id" doc:"the conversation's id"`
	TagID          string     `parquet:"tag_id" doc:"tags.tags[].id"`
	TagName        *string    `parquet:"tag_name,dict" doc:"tags.tags[].name"`
	AppliedAt      *time.Time `parquet:"applied_at,timestamp(microsecond)" doc:"tags.tags[].applied_at"`
	AppliedByType  *string    `parquet:"applied_by_type,dict" doc:"tags.tags[].applied_by.type"`
	AppliedByID    *string    `parquet:"applied_by_id" doc:"tags.tags[].applied_by.id"`
}

// ConversationRating is one row per rated conversation; conversations without a rating or remark have none.
type ConversationRating struct {
	ConversationID string     `parquet:"conversation_id" doc:"the conversation's id"`
	Rating         *int32     `parquet:"rating" doc:"conversation_rating.rating (1 to 5)"`
	Remark         *string    `parquet:"remark" doc:"conversation_rating.remark"`
	CreatedAt      *time.Time `parquet:"created_at,timestamp(microsecond)" doc:"conversation_rating.created_at"`
	CustomerType   *string    `parquet:"customer_type,dict" doc:"conversation_rating.contact.type (2.x), .customer.type (1.x)"`
	CustomerID     *string    `parquet:"customer_id" doc:"conversation_rating.contact.id (2.x), .customer.id (1.x)"`
	TeammateType   *string    `parquet:"teammate_type,dict" doc:"conversation_rating.teammate.type"`
	TeammateID     *string    `parquet:"teammate_id" doc:"conversation_rating.teammate.id"`
}

// Record is everything one conversation contributes to the four tables, and the partition it lands in.
// All of a conversation's rows share one partition, so replacing a conversation touches one folder per table.
type Record struct {
	Date         Date
	Conversation Conversation
	Parts        []ConversationPart
	Tags         []ConversationTag
	Rating       *ConversationRating
}

// ID is the conversation's id.
func (r *Record) ID() string { return r.Conversation.ConversationID }
