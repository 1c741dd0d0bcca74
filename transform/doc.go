// Package transform flattens one conversation, as GET /conversations/{id} returns it, into the rows of
// the four exported tables (see package schemas). It is pure: no I/O, no clock, no shared state, so
// callers may run Conversation on many goroutines at once.
//
// # Shapes
//
// Intercom's 1.x and 2.x APIs name several fields differently. The shape is detected field by field,
// never from a version flag: the body names no version. A non-null 2.x field decides over its 1.x
// counterpart (the assignee ids even when null), and both land in the same columns:
//
//   - first message: source (2.x), else conversation_message (1.x).
//   - assignee: admin_assignee_id and team_assignee_id (2.x) decide whenever either key is present, even
//     as null; otherwise assignee (1.x) {type, id}: admin, or no type at all (1.x documents the assignee
//     as an admin), fills admin_assignee_id; team fills team_assignee_id; nobody_admin and any other type
//     leave both NULL.
//   - first customer reply: first_contact_reply (2.x), else customer_first_reply (1.x).
//   - rating customer: conversation_rating.contact (2.x), else .customer (1.x).
//   - contacts: contacts (2.x: {"contacts":[...]} or a plain array) whenever sent, else 1.x customers
//     followed by user when user's id is not among them (normally it is the first customer).
//   - attachments: source.attachments (2.x) or conversation_message.attachments (1.x, name and url
//     only), and each part's attachments.
//   - 2.x only, NULL in 1.x rows: teammates ({"admins":[...]}; the spec's "teammates" key is read too),
//     sla_applied, statistics (with the per-team first response times as list columns, and the docs'
//     older last_closed_by object when last_closed_by_id is not sent), ai_agent (its content_sources a
//     list column), linked_objects, company (id, company_id and name; the rest is the company's
//     profile), channel, the message's and parts' author.from_ai_agent / author.is_ai_answer, parts'
//     state, tags (a list column on the part), event_details and metadata (JSON text: open-ended
//     objects) and app_package_code, the rating's updated_at and contact.external_id.
//   - 1.x only: the user's user_id (the contact's external_id), name and email; the assignee's name and
//     email; state, when not sent, is open or closed as open says.
//   - Anything else (topics, the company's profile, Preview's scorecards, ...) has no column;
//     source_json keeps it. Unknown fields are ignored so that API additions never break an export.
//     TestRealCorpus lists what has no column and why.
//
// # Values
//
//   - Ids (conversation, message, part, tag, author, assignee, assigned_to, rating customer and teammate,
//     external_id) are JSON strings or integers. Integers keep their exact digits (ids beyond 2^53
//     exist); a float, boolean, object or array where an id belongs is an error.
//   - The conversation id is required: missing, null or "" is an error. So are a part's or a tag's id,
//     since they key their rows; the error names the element's index.
//   - Assignee ids null, "", 0 and "0" mean unassigned and become NULL.
//   - Timestamps are Unix seconds sent as JSON numbers (fractions truncated towards zero), numeric
//     strings, ISO 8601 strings (RFC 3339, without a zone read as UTC, or a date alone), null, or ""
//     (treated as null). Values <= 0 or >= 4102444800 (2100-01-01) are
//     sentinels and become NULL in every timestamp column: Intercom sends waiting_since 64654125776,
//     "2000 years in the future", for "not waiting". Times are in UTC.
//   - The conversation's created_at is required because it decides the partition (Record.Date, its
//     UTC day): missing, null, "", unreadable or a sentinel is an error.
//   - A bad secondary value costs that value, not the conversation: a timestamp, duration or integer
//     (count, rating, attachment size) that is a scalar but cannot be read, or a rating beyond 32 bits,
//     becomes NULL and Convert returns a Warning naming the field; source_json keeps the value as sent.
//     Ids, created_at and structural damage (an object where a number goes, a list that is no list)
//     still reject.
//   - Booleans are JSON true, false or null; anything else ("open": "yes") is an error.
//   - Counts and the rating are integers, sent as numbers or numeric strings; a rating must fit 32 bits
//     but is not range-checked, so an unexpected scale is exported rather than dropped.
//   - event_details and metadata are kept as compact JSON text of whatever value was sent; null is NULL.
//   - Strings sent as null become NULL; "" stays "" (assignee ids aside). Strings are kept as sent,
//     HTML included; message_type keeps 1.x's "conversation_message" where the API sends it.
//   - custom_attributes is stored as compact JSON text of the object; absent or null is NULL, and any
//     other JSON type is an error.
//   - statistics durations (time_to_*, median_time_to_reply) are seconds sent like timestamps (fractions
//     truncated, numeric strings, null) and kept as sent, zero included: no sentinel rule. Its *_at
//     fields are timestamps under the sentinel rule; last_closed_by_id is an id.
//   - Lists (contacts, teammate ids, attachments) are NULL when absent or null, empty when sent as [].
//     Teammates without an id are dropped, since a list of ids has no room for them. attachment_count
//     is the number of attachments, 0 when none were sent.
//   - source_json is the input as received, with the whitespace between tokens removed and invalid
//     UTF-8 replaced by U+FFFD, nothing else: numbers, escapes and key order are as sent. The
//     conversation's leaves out its part list (the key conversation_parts.conversation_parts and its
//     array, with one comma), and each part's row has that part's own JSON: nothing is stored twice and
//     putting the parts back gives the input. (Should the list not be found exactly where encoding/json
//     found it, in odd inputs, the conversation keeps its whole JSON and parts none.) Both are kept
//     unless Options.OmitSourceJSON.
//   - A value of the wrong JSON type anywhere in a decoded field is an error, for instance
//     conversation_parts or conversation_rating not being an object.
//
// # Rows
//
//   - Parts come from conversation_parts.conversation_parts, in API order. part_type is an open set kept
//     as sent. assigned_to is {type, id} (2.x), a plain id (1.x: type is then NULL, not guessed) or null
//     (both NULL). redacted exists only in 2.x and is NULL in 1.x rows. A null body is NULL.
//   - Tags come from tags.tags, or from tags itself when it is a plain array.
//   - A rating row exists only when conversation_rating.rating or .remark is non-null: 1.x sends an
//     all-null rating object on every unrated conversation.
//   - The API returns at most the 500 newest parts. parts_included says whether the object had a part
//     list at all (list and search items have none: their parts are unknown, not missing).
//     parts_exported_count is the number received, NULL without a list; parts_total_count is
//     statistics.count_conversation_parts when non-null, else conversation_parts.total_count when
//     non-null, else NULL, raised (with a warning) to the parts received when it says fewer;
//     parts_truncated is included and total > exported.
//
// # Errors
//
// Every error wraps ErrInvalidConversation (and the decoder's error, when there is one) and reads
// `conversation "<id>": <field path>: <what was wrong>`, the path in the input's JSON names with list
// indexes in brackets (conversation_parts.conversation_parts[3].created_at). One problem is reported
// even when there are several, and a conversation that fails yields no rows at all, never a partial
// record. JSON keys match case-insensitively, as encoding/json does.
package transform
