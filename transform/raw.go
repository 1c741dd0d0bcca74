package transform

import "encoding/json"

// The raw types hold a conversation as decoded, both API generations at once: for each meaning, one
// field per generation. The fast decoder (decode.go) fills them exactly as encoding/json does.

type rawConversation struct {
	ID           id        `json:"id"`
	CreatedAt    timestamp `json:"created_at"`
	UpdatedAt    timestamp `json:"updated_at"`
	WaitingSince timestamp `json:"waiting_since"`
	SnoozedUntil timestamp `json:"snoozed_until"`
	State        *string   `json:"state"`
	Open         boolean   `json:"open"`
	Read         boolean   `json:"read"`
	Title        *string   `json:"title"`
	Priority     *string   `json:"priority"`

	Source              *rawMessage `json:"source"`               // 2.x
	ConversationMessage *rawMessage `json:"conversation_message"` // 1.x

	AdminAssigneeID id        `json:"admin_assignee_id"` // 2.x
	TeamAssigneeID  id        `json:"team_assignee_id"`  // 2.x
	Assignee        *rawActor `json:"assignee"`          // 1.x

	FirstContactReply  *rawReply `json:"first_contact_reply"`  // 2.x
	CustomerFirstReply *rawReply `json:"customer_first_reply"` // 1.x

	Contacts  contactList  `json:"contacts"`  // 2.x
	Customers []rawContact `json:"customers"` // 1.x
	User      *rawContact  `json:"user"`      // 1.x
	Teammates teammateList `json:"teammates"` // 2.x

	SLAApplied          *rawSLA     `json:"sla_applied"`
	AIAgentParticipated boolean     `json:"ai_agent_participated"`
	AIAgent             *rawAIAgent `json:"ai_agent"`

	Statistics         *rawStatistics  `json:"statistics"`
	CustomAttributes   json.RawMessage `json:"custom_attributes"`
	ConversationRating *rawRating      `json:"conversation_rating"`
	Tags               tagList         `json:"tags"`
	ConversationParts  *rawPartList    `json:"conversation_parts"`

	Company       *rawCompany       `json:"company"`    // 2.x
	CompanyID     id                `json:"company_id"` // 2.x (Preview SDKs)
	Channel       *rawChannel       `json:"channel"`    // 2.16+
	LinkedObjects *rawLinkedObjects `json:"linked_objects"`
}

type rawMessage struct {
	Type        *string   `json:"type"`
	ID          id        `json:"id"`
	DeliveredAs *string   `json:"delivered_as"`
	Subject     *string   `json:"subject"`
	Body        *string   `json:"body"`
	URL         *string   `json:"url"`
	Author      rawAuthor `json:"author"`
	Redacted    boolean   `json:"redacted"`
	// nil when absent or null, empty when sent as []: encoding/json keeps the two apart.
	Attachments []rawAttachment `json:"attachments"`
}

type rawAttachment struct {
	Type        *string `json:"type"`
	Name        *string `json:"name"`
	URL         *string `json:"url"`
	ContentType *string `json:"content_type"`
	Filesize    integer `json:"filesize"`
	Width       integer `json:"width"`
	Height      integer `json:"height"`
}

// rawContact is a 2.x contact reference, or a 1.x user or customer (which may carry user_id, the
// external id, and a name and email).
type rawContact struct {
	Type       *string `json:"type"`
	ID         id      `json:"id"`
	ExternalID id      `json:"external_id"`
	UserID     id      `json:"user_id"` // 1.x
	Name       *string `json:"name"`    // 1.x
	Email      *string `json:"email"`   // 1.x
}

type rawSLA struct {
	Name   *string `json:"sla_name"`
	Status *string `json:"sla_status"`
}

type rawAIAgent struct {
	SourceType      *string            `json:"source_type"`
	SourceTitle     *string            `json:"source_title"`
	LastAnswerType  *string            `json:"last_answer_type"`
	ResolutionState *string            `json:"resolution_state"`
	Rating          integer            `json:"rating"`
	RatingRemark    *string            `json:"rating_remark"`
	ContentSources  *rawContentSources `json:"content_sources"`
	CreatedAt       timestamp          `json:"created_at"`
	UpdatedAt       timestamp          `json:"updated_at"`
}

type rawContentSources struct {
	ContentSources []rawContentSource `json:"content_sources"`
}

type rawContentSource struct {
	ContentType *string `json:"content_type"`
	Title       *string `json:"title"`
	URL         *string `json:"url"`
	Locale      *string `json:"locale"`
}

// rawActor is any {type, id, ...} reference: an assignee, rating customer or teammate, a tag's
// applier, the admin who last closed.
type rawActor struct {
	Type       *string `json:"type"`
	ID         id      `json:"id"`
	Name       *string `json:"name"`
	Email      *string `json:"email"`
	ExternalID id      `json:"external_id"`
}

// rawAuthor is a message's or part's author; 2.14+ says whether the AI agent wrote it. It repeats
// rawActor's fields rather than embedding it, which would put "rawActor" into decoding errors' paths.
type rawAuthor struct {
	Type        *string `json:"type"`
	ID          id      `json:"id"`
	Name        *string `json:"name"`
	Email       *string `json:"email"`
	FromAIAgent boolean `json:"from_ai_agent"`
	IsAIAnswer  boolean `json:"is_ai_answer"`
}

type rawReply struct {
	CreatedAt timestamp `json:"created_at"`
	Type      *string   `json:"type"`
	URL       *string   `json:"url"`
}

type rawStatistics struct {
	TimeToAssignment           duration          `json:"time_to_assignment"`
	TimeToAdminReply           duration          `json:"time_to_admin_reply"`
	TimeToFirstClose           duration          `json:"time_to_first_close"`
	TimeToLastClose            duration          `json:"time_to_last_close"`
	MedianTimeToReply          duration          `json:"median_time_to_reply"`
	FirstContactReplyAt        timestamp         `json:"first_contact_reply_at"`
	FirstAssignmentAt          timestamp         `json:"first_assignment_at"`
	FirstAdminReplyAt          timestamp         `json:"first_admin_reply_at"`
	FirstCloseAt               timestamp         `json:"first_close_at"`
	LastAssignmentAt           timestamp         `json:"last_assignment_at"`
	LastAssignmentAdminReplyAt timestamp         `json:"last_assignment_admin_reply_at"`
	LastContactReplyAt         timestamp         `json:"last_contact_reply_at"`
	LastAdminReplyAt           timestamp         `json:"last_admin_reply_at"`
	LastCloseAt                timestamp         `json:"last_close_at"`
	LastClosedByID             id                `json:"last_closed_by_id"`
	CountReopens               integer           `json:"count_reopens"`
	CountAssignments           integer           `json:"count_assignments"`
	CountConversationParts     integer           `json:"count_conversation_parts"`
	HandlingTime               duration          `json:"handling_time"`
	AdjustedHandlingTime       duration          `json:"adjusted_handling_time"`
	TeamFirstResponse          []rawTeamResponse `json:"assigned_team_first_response_time_by_team"`
	TeamFirstResponseOffice    []rawTeamResponse `json:"assigned_team_first_response_time_in_office_hours"`
	LastClosedBy               *rawActor         `json:"last_closed_by"` // the docs' older spelling
}

type rawTeamResponse struct {
	TeamID       id       `json:"team_id"`
	TeamName     *string  `json:"team_name"`
	ResponseTime duration `json:"response_time"`
}

type rawRating struct {
	Rating    integer   `json:"rating"`
	Remark    *string   `json:"remark"`
	CreatedAt timestamp `json:"created_at"`
	Contact   *rawActor `json:"contact"`  // 2.x
	Customer  *rawActor `json:"customer"` // 1.x
	Teammate  rawActor  `json:"teammate"`
	UpdatedAt timestamp `json:"updated_at"`
}

type rawPartList struct {
	Parts      []rawPart `json:"conversation_parts"`
	TotalCount integer   `json:"total_count"`
}

type rawPart struct {
	ID             id              `json:"id"`
	PartType       *string         `json:"part_type"`
	Body           *string         `json:"body"`
	CreatedAt      timestamp       `json:"created_at"`
	UpdatedAt      timestamp       `json:"updated_at"`
	NotifiedAt     timestamp       `json:"notified_at"`
	AssignedTo     assignedTo      `json:"assigned_to"`
	Author         rawAuthor       `json:"author"`
	ExternalID     id              `json:"external_id"`
	Redacted       boolean         `json:"redacted"`
	State          *string         `json:"state"`
	Attachments    []rawAttachment `json:"attachments"`
	Tags           tagList         `json:"tags"`
	EventDetails   json.RawMessage `json:"event_details"`
	AppPackageCode *string         `json:"app_package_code"`
	Metadata       json.RawMessage `json:"metadata"`
}

type rawTag struct {
	ID        id        `json:"id"`
	Name      *string   `json:"name"`
	AppliedAt timestamp `json:"applied_at"`
	AppliedBy rawActor  `json:"applied_by"`
}

type rawCompany struct {
	ID        id      `json:"id"`
	CompanyID id      `json:"company_id"`
	Name      *string `json:"name"`
}

type rawChannel struct {
	Initial *string `json:"initial"`
	Current *string `json:"current"`
}

type rawLinkedObjects struct {
	Data       []rawLinkedObject `json:"data"`
	TotalCount integer           `json:"total_count"`
	HasMore    boolean           `json:"has_more"`
}

type rawLinkedObject struct {
	Type     *string `json:"type"`
	ID       id      `json:"id"`
	Category *string `json:"category"`
}
