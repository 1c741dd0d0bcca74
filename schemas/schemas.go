// Package schemas is the one place that names the exported tables, their columns and their types.
//
// Every nullable scalar column is a pointer field without the `optional` tag: parquet-go writes trailing
// zero values of `optional` value types as non-NULL (shared/docs/parquet-notes.md, pitfall 2). List
// columns are slices tagged `list,optional`: `list` gives the standard three-level LIST that DuckDB reads
// as T[] and Arrow as list<T>, and `optional` keeps "not sent" (nil, NULL) apart from "sent empty" ([]),
// which for slices parquet-go writes and reads back faithfully (TestListColumns pins it). Timestamps are
// TIMESTAMP(MICROS, UTC) because nanosecond timestamps are unreadable in Spark and Athena (pitfall 3).
// The partition key (`date`, or `month` with --partition month) is never a column inside the files: it
// lives in the folder name. Every row carries the conversation's UTC creation day as `created_date`
// instead (a DATE: days since the epoch in an int32, pitfall 1), set by the loader from Record.Date, so
// that queries filter and join on one column under either layout and readers prune row groups by it.
//
// `dict` marks the columns whose values repeat within a day: types and states, and the ids, names and
// emails of teammates and authors (a handful of admins write most parts). In a day of 1,900 parts it made
// the parts files 9% smaller; free text (bodies, titles) stays plain, since its values rarely repeat.
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
	TableAdmins              = "admins"
	TableTeams               = "teams"
)

// Conversation is one row per conversation.
type Conversation struct {
	ConversationID string     `parquet:"conversation_id" doc:"id"`
	CreatedDate    Date       `parquet:"created_date,date" doc:"the UTC day of the conversation's created_at, as in the partition folder; filter and join on it under either layout"`
	CreatedAt      time.Time  `parquet:"created_at,timestamp(microsecond)" doc:"created_at"`
	UpdatedAt      *time.Time `parquet:"updated_at,timestamp(microsecond)" doc:"updated_at"`
	WaitingSince   *time.Time `parquet:"waiting_since,timestamp(microsecond)" doc:"waiting_since; NULL when not waiting (the year-4018 sentinel, zero or negative)"`
	SnoozedUntil   *time.Time `parquet:"snoozed_until,timestamp(microsecond)" doc:"snoozed_until; NULL unless snoozed"`
	State          *string    `parquet:"state,dict" doc:"state: open, closed or snoozed; when not sent (1.x), open or closed as open says"`
	Open           *bool      `parquet:"open" doc:"open"`
	Read           *bool      `parquet:"read" doc:"read"`
	Title          *string    `parquet:"title" doc:"title (2.x only)"`
	Priority       *string    `parquet:"priority,dict" doc:"priority (2.x only)"`
	ChannelInitial *string    `parquet:"channel_initial,dict" doc:"channel.initial (2.16+): the channel the conversation started on"`
	ChannelCurrent *string    `parquet:"channel_current,dict" doc:"channel.current (2.16+)"`

	MessageID             *string `parquet:"message_id" doc:"source.id (2.x), conversation_message.id (1.x)"`
	MessageType           *string `parquet:"message_type,dict" doc:"source.type / conversation_message.type: conversation, email, twitter, ..."`
	MessageDeliveredAs    *string `parquet:"message_delivered_as,dict" doc:"source.delivered_as / conversation_message.delivered_as"`
	MessageSubject        *string `parquet:"message_subject" doc:"source.subject / conversation_message.subject"`
	MessageBody           *string `parquet:"message_body" doc:"source.body / conversation_message.body (HTML)"`
	MessageURL            *string `parquet:"message_url" doc:"source.url / conversation_message.url"`
	MessageAuthorType     *string `parquet:"message_author_type,dict" doc:"source.author.type / conversation_message.author.type"`
	MessageAuthorID       *string `parquet:"message_author_id" doc:"source.author.id / conversation_message.author.id"`
	MessageAuthorName     *string `parquet:"message_author_name" doc:"source.author.name"`
	MessageAuthorEmail    *string `parquet:"message_author_email" doc:"source.author.email"`
	MessageAuthorFromAI   *bool   `parquet:"message_author_from_ai_agent" doc:"source.author.from_ai_agent (2.14+): written by the AI agent"`
	MessageAuthorAIAnswer *bool   `parquet:"message_author_is_ai_answer" doc:"source.author.is_ai_answer (2.14+): an AI-generated answer"`
	MessageRedacted       *bool   `parquet:"message_redacted" doc:"source.redacted (2.x only)"`

	MessageAttachments []Attachment `parquet:"message_attachments,list,optional" doc:"source.attachments (2.x), conversation_message.attachments (1.x: name and url only); NULL when not sent"`

	AdminAssigneeID *string `parquet:"admin_assignee_id,dict" doc:"admin_assignee_id (2.x), assignee.id when assignee.type is admin (1.x); NULL when unassigned (null, 0, nobody_admin)"`
	TeamAssigneeID  *string `parquet:"team_assignee_id,dict" doc:"team_assignee_id (2.x), assignee.id when assignee.type is team (1.x); NULL when unassigned"`
	AssigneeName    *string `parquet:"assignee_name,dict" doc:"assignee.name (1.x only; 2.x sends ids alone)"`
	AssigneeEmail   *string `parquet:"assignee_email,dict" doc:"assignee.email (1.x only)"`

	TeammateIDs []string  `parquet:"teammate_ids,list,optional" doc:"teammates.admins[].id (2.x only; NULL when not sent)"`
	Contacts    []Contact `parquet:"contacts,list,optional" doc:"contacts.contacts[] (2.x), customers[] and user (1.x; type is user or lead there, external_id is user_id); NULL when not sent"`

	CompanyID         *string `parquet:"company_id,dict" doc:"company.id, else company_id (2.x only): the company's Intercom id"`
	CompanyExternalID *string `parquet:"company_external_id,dict" doc:"company.company_id (2.x only): the id the workspace gave the company"`
	CompanyName       *string `parquet:"company_name,dict" doc:"company.name (2.x only); the company's other attributes are its profile, in source_json"`

	FirstContactReplyAt   *time.Time `parquet:"first_contact_reply_at,timestamp(microsecond)" doc:"first_contact_reply.created_at (2.x), customer_first_reply.created_at (1.x)"`
	FirstContactReplyType *string    `parquet:"first_contact_reply_type,dict" doc:"first_contact_reply.type / customer_first_reply.type"`
	FirstContactReplyURL  *string    `parquet:"first_contact_reply_url" doc:"first_contact_reply.url / customer_first_reply.url"`

	SLAName   *string `parquet:"sla_name" doc:"sla_applied.sla_name (2.x only)"`
	SLAStatus *string `parquet:"sla_status,dict" doc:"sla_applied.sla_status: hit, missed, cancelled, active (2.x only)"`

	// statistics (2.x only): durations in seconds, times as timestamps.
	TimeToAssignment     *int64 `parquet:"time_to_assignment" doc:"statistics.time_to_assignment, seconds (2.x only)"`
	TimeToAdminReply     *int64 `parquet:"time_to_admin_reply" doc:"statistics.time_to_admin_reply, seconds (2.x only)"`
	TimeToFirstClose     *int64 `parquet:"time_to_first_close" doc:"statistics.time_to_first_close, seconds (2.x only)"`
	TimeToLastClose      *int64 `parquet:"time_to_last_close" doc:"statistics.time_to_last_close, seconds (2.x only)"`
	MedianTimeToReply    *int64 `parquet:"median_time_to_reply" doc:"statistics.median_time_to_reply, seconds (2.x only)"`
	HandlingTime         *int64 `parquet:"handling_time" doc:"statistics.handling_time, seconds (2.x only)"`
	AdjustedHandlingTime *int64 `parquet:"adjusted_handling_time" doc:"statistics.adjusted_handling_time, seconds (2.x only)"`

	TeamFirstResponseTimes              []TeamResponseTime `parquet:"team_first_response_times,list,optional" doc:"statistics.assigned_team_first_response_time_by_team[] (2.x only): each assigned team's first response, seconds; NULL when not sent"`
	TeamFirstResponseTimesInOfficeHours []TeamResponseTime `parquet:"team_first_response_times_in_office_hours,list,optional" doc:"statistics.assigned_team_first_response_time_in_office_hours[] (2.x only); NULL when not sent"`

	StatisticsFirstContactReplyAt *time.Time `parquet:"statistics_first_contact_reply_at,timestamp(microsecond)" doc:"statistics.first_contact_reply_at (2.x only; first_contact_reply_at comes from first_contact_reply)"`
	FirstAssignmentAt             *time.Time `parquet:"first_assignment_at,timestamp(microsecond)" doc:"statistics.first_assignment_at (2.x only)"`
	FirstAdminReplyAt             *time.Time `parquet:"first_admin_reply_at,timestamp(microsecond)" doc:"statistics.first_admin_reply_at (2.x only)"`
	FirstCloseAt                  *time.Time `parquet:"first_close_at,timestamp(microsecond)" doc:"statistics.first_close_at (2.x only)"`
	LastAssignmentAt              *time.Time `parquet:"last_assignment_at,timestamp(microsecond)" doc:"statistics.last_assignment_at (2.x only)"`
	LastAssignmentAdminReplyAt    *time.Time `parquet:"last_assignment_admin_reply_at,timestamp(microsecond)" doc:"statistics.last_assignment_admin_reply_at (2.x only)"`
	LastContactReplyAt            *time.Time `parquet:"last_contact_reply_at,timestamp(microsecond)" doc:"statistics.last_contact_reply_at (2.x only)"`
	LastAdminReplyAt              *time.Time `parquet:"last_admin_reply_at,timestamp(microsecond)" doc:"statistics.last_admin_reply_at (2.x only)"`
	LastCloseAt                   *time.Time `parquet:"last_close_at,timestamp(microsecond)" doc:"statistics.last_close_at (2.x only)"`
	LastClosedByID                *string    `parquet:"last_closed_by_id,dict" doc:"statistics.last_closed_by_id, else statistics.last_closed_by.id (the docs' older object): an admin id (2.x only)"`
	CountReopens                  *int64     `parquet:"count_reopens" doc:"statistics.count_reopens (2.x only)"`
	CountAssignments              *int64     `parquet:"count_assignments" doc:"statistics.count_assignments (2.x only)"`
	CountConversationParts        *int64     `parquet:"count_conversation_parts" doc:"statistics.count_conversation_parts as sent (2.x only; parts_total_count also falls back to total_count)"`

	PartsTotalCount    *int64 `parquet:"parts_total_count" doc:"statistics.count_conversation_parts (2.x), else conversation_parts.total_count; never below parts_exported_count"`
	PartsExportedCount *int64 `parquet:"parts_exported_count" doc:"number of parts the API returned (at most 500); NULL when parts were not included"`
	PartsIncluded      bool   `parquet:"parts_included" doc:"false when the object carried no part list at all (list and search items, webhooks): its parts are unknown, not missing"`
	PartsTruncated     bool   `parquet:"parts_truncated" doc:"true when the API withheld older parts (parts included, parts_total_count > parts_exported_count)"`

	AIAgentParticipated    *bool           `parquet:"ai_agent_participated" doc:"ai_agent_participated (2.x only)"`
	AIAgentSourceType      *string         `parquet:"ai_agent_source_type,dict" doc:"ai_agent.source_type (2.x only): essentials_plan_setup, profile, workflow, workflow_preview, fin_preview"`
	AIAgentSourceTitle     *string         `parquet:"ai_agent_source_title" doc:"ai_agent.source_title (2.x only)"`
	AIAgentLastAnswerType  *string         `parquet:"ai_agent_last_answer_type,dict" doc:"ai_agent.last_answer_type (2.x only); NULL when no answer was delivered"`
	AIAgentResolutionState *string         `parquet:"ai_agent_resolution_state,dict" doc:"ai_agent.resolution_state (2.x only); NULL when no answer was delivered"`
	AIAgentRating          *int32          `parquet:"ai_agent_rating" doc:"ai_agent.rating, 1 to 5 (2.x only)"`
	AIAgentRatingRemark    *string         `parquet:"ai_agent_rating_remark" doc:"ai_agent.rating_remark (2.x only)"`
	AIAgentContentSources  []ContentSource `parquet:"ai_agent_content_sources,list,optional" doc:"ai_agent.content_sources.content_sources[] (2.x only): what the AI agent's answers drew on; NULL when not sent"`
	AIAgentCreatedAt       *time.Time      `parquet:"ai_agent_created_at,timestamp(microsecond)" doc:"ai_agent.created_at (2.x only)"`
	AIAgentUpdatedAt       *time.Time      `parquet:"ai_agent_updated_at,timestamp(microsecond)" doc:"ai_agent.updated_at (2.x only)"`

	LinkedObjects           []LinkedObject `parquet:"linked_objects,list,optional" doc:"linked_objects.data[] (2.x only): linked tickets and conversations; NULL when not sent"`
	LinkedObjectsTotalCount *int64         `parquet:"linked_objects_total_count" doc:"linked_objects.total_count (2.x only)"`
	LinkedObjectsHasMore    *bool          `parquet:"linked_objects_has_more" doc:"linked_objects.has_more (2.x only): more links than listed"`

	CustomAttributes *string `parquet:"custom_attributes" doc:"custom_attributes as a JSON string (2.x only)" sql:"json"`
	SourceJSON       *string `parquet:"source_json" doc:"the conversation as retrieved, compact JSON, without its part list (each part's JSON is in conversation_parts.source_json): read fields without a column with DuckDB's JSON functions; NULL with --source-json=false" sql:"json"`

	// Lineage, as Airbyte, Fivetran and dlt add it: set by the run, not by the API (SetLineage).
	RunID      *string    `parquet:"run_id,dict" doc:"the export or convert run that wrote the row: the name of its manifest, _intercom_export/runs/<run_id>.json; a row keeps it until a later run rewrites its conversation. NULL in rows written before this column existed"`
	ExportedAt *time.Time `parquet:"exported_at,timestamp(microsecond)" doc:"when that run exported the conversation: the time its rows went to the loader, moments after it was retrieved (export) or read (convert); changes only when a run rewrites the conversation (a --full run rewrites all). NULL in rows written before this column existed"`
}

// Attachment is a file attached to a message or a part. Upload URLs expire after 30 minutes, so the
// metadata is what stays useful.
type Attachment struct {
	Type        *string `parquet:"type,dict"` // upload (2.x); NULL in 1.x
	Name        *string `parquet:"name"`
	URL         *string `parquet:"url"`
	ContentType *string `parquet:"content_type,dict"`
	Filesize    *int64  `parquet:"filesize"` // bytes
	Width       *int64  `parquet:"width"`    // pixels, images only
	Height      *int64  `parquet:"height"`
}

// Contact is a customer taking part in a conversation.
type Contact struct {
	Type       *string `parquet:"type,dict"` // contact (2.x), user or lead (1.x)
	ID         *string `parquet:"id"`
	ExternalID *string `parquet:"external_id"` // external_id (2.x), user_id (1.x)
	Name       *string `parquet:"name"`        // 1.x only
	Email      *string `parquet:"email"`       // 1.x only
}

// TeamResponseTime is an assigned team's first response time, in seconds.
type TeamResponseTime struct {
	TeamID       *string `parquet:"team_id,dict"`
	TeamName     *string `parquet:"team_name,dict"`
	ResponseTime *int64  `parquet:"response_time"`
}

// ContentSource is a source the AI agent's answers drew on (an article, a snippet, ...).
type ContentSource struct {
	ContentType *string `parquet:"content_type,dict"`
	Title       *string `parquet:"title"`
	URL         *string `parquet:"url"`
	Locale      *string `parquet:"locale,dict"`
}

// LinkedObject is a ticket or conversation linked to the conversation.
type LinkedObject struct {
	Type     *string `parquet:"type,dict"` // ticket or conversation
	ID       *string `parquet:"id"`
	Category *string `parquet:"category,dict"` // Customer, Back-office, Tracker (tickets)
}

// PartTag is a tag applied to one part (2.x: conversation_parts[].tags).
type PartTag struct {
	ID   *string `parquet:"id"`
	Name *string `parquet:"name,dict"`
}

// ConversationPart is one row per conversation part (message, note, assignment, state change, ...).
type ConversationPart struct {
	ConversationID string     `parquet:"conversation_id" doc:"the conversation's id"`
	CreatedDate    Date       `parquet:"created_date,date" doc:"the UTC day of the conversation's created_at, as in the partition folder; filter and join on it under either layout"`
	PartID         string     `parquet:"part_id" doc:"conversation_parts[].id; unique only together with conversation_id"`
	PartType       *string    `parquet:"part_type,dict" doc:"part_type, an open set kept as sent (comment, note, assignment, close, ...)"`
	Body           *string    `parquet:"body" doc:"body (HTML)"`
	CreatedAt      *time.Time `parquet:"created_at,timestamp(microsecond)" doc:"created_at (may predate the conversation for imports)"`
	UpdatedAt      *time.Time `parquet:"updated_at,timestamp(microsecond)" doc:"updated_at"`
	NotifiedAt     *time.Time `parquet:"notified_at,timestamp(microsecond)" doc:"notified_at"`
	AssignedToType *string    `parquet:"assigned_to_type,dict" doc:"assigned_to.type (admin, team, bot, nobody_admin); NULL when the part changed no assignment"`
	AssignedToID   *string    `parquet:"assigned_to_id,dict" doc:"assigned_to.id (2.x), or assigned_to itself when a plain id (1.x)"`
	AuthorType     *string    `parquet:"author_type,dict" doc:"author.type (admin, bot, user, lead, team, contact)"`
	AuthorID       *string    `parquet:"author_id,dict" doc:"author.id"`
	AuthorName     *string    `parquet:"author_name,dict" doc:"author.name"`
	AuthorEmail    *string    `parquet:"author_email,dict" doc:"author.email"`
	AuthorFromAI   *bool      `parquet:"author_from_ai_agent" doc:"author.from_ai_agent (2.14+): written by the AI agent"`
	AuthorAIAnswer *bool      `parquet:"author_is_ai_answer" doc:"author.is_ai_answer (2.14+): an AI-generated answer"`
	ExternalID     *string    `parquet:"external_id" doc:"external_id"`
	Redacted       *bool      `parquet:"redacted" doc:"redacted (2.x only): the message was deleted"`
	State          *string    `parquet:"state,dict" doc:"state (2.13+): the conversation's state when the part was created"`

	Attachments     []Attachment `parquet:"attachments,list,optional" doc:"attachments (1.x: name and url only); NULL when not sent"`
	AttachmentCount int64        `parquet:"attachment_count" doc:"number of attachments (0 when none or not sent)"`

	Tags           []PartTag `parquet:"tags,list,optional" doc:"tags[] (2.x): tags applied to this part, a list column rather than rows of conversation_tags (which are the conversation's); NULL when not sent"`
	EventDetails   *string   `parquet:"event_details" doc:"event_details (2.x) as a JSON string: what an event part changed (attribute and value, action and result, ...), an open-ended object" sql:"json"`
	AppPackageCode *string   `parquet:"app_package_code,dict" doc:"app_package_code (2.x): the app that created the part"`
	Metadata       *string   `parquet:"metadata" doc:"metadata (2.x) as a JSON string (quick_reply_uuid, ...); NULL when null or absent" sql:"json"`
	SourceJSON     *string   `parquet:"source_json" doc:"the part as retrieved, compact JSON; NULL with --source-json=false" sql:"json"`
	RunID          *string   `parquet:"run_id,dict" doc:"the run that wrote the row, as conversations.run_id"`
}

// ConversationTag is one row per tag applied to a conversation.
type ConversationTag struct {
	ConversationID string     `parquet:"conversation_id" doc:"the conversation's id"`
	CreatedDate    Date       `parquet:"created_date,date" doc:"the UTC day of the conversation's created_at, as in the partition folder; filter and join on it under either layout"`
	TagID          string     `parquet:"tag_id" doc:"tags.tags[].id"`
	TagName        *string    `parquet:"tag_name,dict" doc:"tags.tags[].name"`
	AppliedAt      *time.Time `parquet:"applied_at,timestamp(microsecond)" doc:"tags.tags[].applied_at"`
	AppliedByType  *string    `parquet:"applied_by_type,dict" doc:"tags.tags[].applied_by.type"`
	AppliedByID    *string    `parquet:"applied_by_id,dict" doc:"tags.tags[].applied_by.id"`
	RunID          *string    `parquet:"run_id,dict" doc:"the run that wrote the row, as conversations.run_id"`
}

// ConversationRating is one row per rated conversation; conversations without a rating or remark have none.
type ConversationRating struct {
	ConversationID     string     `parquet:"conversation_id" doc:"the conversation's id"`
	CreatedDate        Date       `parquet:"created_date,date" doc:"the UTC day of the conversation's created_at, as in the partition folder; filter and join on it under either layout"`
	Rating             *int32     `parquet:"rating" doc:"conversation_rating.rating (1 to 5)"`
	Remark             *string    `parquet:"remark" doc:"conversation_rating.remark"`
	CreatedAt          *time.Time `parquet:"created_at,timestamp(microsecond)" doc:"conversation_rating.created_at"`
	UpdatedAt          *time.Time `parquet:"updated_at,timestamp(microsecond)" doc:"conversation_rating.updated_at (2.x only)"`
	CustomerType       *string    `parquet:"customer_type,dict" doc:"conversation_rating.contact.type (2.x), .customer.type (1.x)"`
	CustomerID         *string    `parquet:"customer_id" doc:"conversation_rating.contact.id (2.x), .customer.id (1.x)"`
	CustomerExternalID *string    `parquet:"customer_external_id" doc:"conversation_rating.contact.external_id (2.x only)"`
	TeammateType       *string    `parquet:"teammate_type,dict" doc:"conversation_rating.teammate.type"`
	TeammateID         *string    `parquet:"teammate_id,dict" doc:"conversation_rating.teammate.id"`
	RunID              *string    `parquet:"run_id,dict" doc:"the run that wrote the row, as conversations.run_id"`
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

// Admin is one row per teammate of the workspace (GET /admins), the names behind admin_assignee_id,
// author_id and teammate_id. The table is small and refreshed whole on every export: one file,
// admins/data.parquet, without partitions.
type Admin struct {
	AdminID          string     `parquet:"admin_id" doc:"id: the id conversations name in admin_assignee_id, last_closed_by_id, teammate_ids, and parts' author_id and assigned_to_id"`
	Name             *string    `parquet:"name" doc:"name"`
	Email            *string    `parquet:"email" doc:"email"`
	EmailVerified    *bool      `parquet:"email_verified" doc:"email_verified (2.x only)"`
	JobTitle         *string    `parquet:"job_title" doc:"job_title"`
	AwayModeEnabled  *bool      `parquet:"away_mode_enabled" doc:"away_mode_enabled: away at the time of the export"`
	AwayModeReassign *bool      `parquet:"away_mode_reassign" doc:"away_mode_reassign: new replies go back to the default inbox while away"`
	HasInboxSeat     *bool      `parquet:"has_inbox_seat" doc:"has_inbox_seat: a paid inbox seat (2.x only)"`
	TeamIDs          []string   `parquet:"team_ids,list,optional" doc:"team_ids[]: the teams the admin is in (numbers in the API, strings here, as teams.team_id); NULL when not sent"`
	PrimaryTeamIDs   []string   `parquet:"primary_team_ids,list,optional" doc:"team_priority_level.primary_team_ids[] (2.x only); NULL when not sent"`
	SecondaryTeamIDs []string   `parquet:"secondary_team_ids,list,optional" doc:"team_priority_level.secondary_team_ids[] (2.x only); NULL when not sent"`
	AvatarURL        *string    `parquet:"avatar_url" doc:"avatar.image_url, or avatar when a plain URL"`
	SourceJSON       *string    `parquet:"source_json" doc:"the admin as listed, compact JSON; NULL with --source-json=false" sql:"json"`
	RunID            *string    `parquet:"run_id,dict" doc:"the export run that wrote the file (the name of its manifest in _intercom_export/runs/)"`
	ExportedAt       *time.Time `parquet:"exported_at,timestamp(microsecond)" doc:"when that run listed the admins"`
}

// Team is one row per team (GET /teams), the names behind team_assignee_id. Refreshed whole on every
// export: one file, teams/data.parquet.
type Team struct {
	TeamID             string     `parquet:"team_id" doc:"id: the id conversations name in team_assignee_id, and parts' assigned_to_id when assigned_to_type is team"`
	Name               *string    `parquet:"name" doc:"name"`
	AdminIDs           []string   `parquet:"admin_ids,list,optional" doc:"admin_ids[]: the team's members (numbers in the API, strings here, as admins.admin_id); NULL when not sent"`
	PrimaryAdminIDs    []string   `parquet:"primary_admin_ids,list,optional" doc:"admin_priority_level.primary_admin_ids[] (2.x only); NULL when not sent"`
	SecondaryAdminIDs  []string   `parquet:"secondary_admin_ids,list,optional" doc:"admin_priority_level.secondary_admin_ids[] (2.x only); NULL when not sent"`
	AssignmentLimit    *int64     `parquet:"assignment_limit" doc:"assignment_limit (2.x only): set when the team's distribution is load balanced"`
	DistributionMethod *string    `parquet:"distribution_method,dict" doc:"distribution_method (2.x only): round_robin, balanced, ..."`
	SourceJSON         *string    `parquet:"source_json" doc:"the team as listed, compact JSON; NULL with --source-json=false" sql:"json"`
	RunID              *string    `parquet:"run_id,dict" doc:"the export run that wrote the file (the name of its manifest in _intercom_export/runs/)"`
	ExportedAt         *time.Time `parquet:"exported_at,timestamp(microsecond)" doc:"when that run listed the teams"`
}
