-- Copied unchanged from ../shared/docs/duckdb-peer.sql for cmd/intercom-export's BenchmarkConvert, which
-- replaces 'DUMP' and 'OUT/ and runs it through github.com/duckdb/duckdb-go/v2 (DuckDB 1.5, with ICU).
-- The peer: DuckDB flattening conversations (NDJSON, one GET /conversations/{id} answer per line,
-- 2.x shape) into the four date-partitioned Parquet tables. Replace DUMP and OUT; run with 2 threads.
-- Measured on this machine kind with DuckDB 1.5: 10,000 conversations (60 MB, 140k parts, 730 days,
-- about 2,900 files) in about 2.9 s at about 600 MB peak RSS. intercom-export's convert should beat it.
SET threads = 2;
CREATE TEMP TABLE raw AS
SELECT *, CAST(timezone('UTC', to_timestamp(created_at)) AS DATE) AS date
FROM read_json('DUMP', format = 'newline_delimited', maximum_object_size = 67108864, columns = {
  id: 'VARCHAR', created_at: 'BIGINT', updated_at: 'BIGINT', waiting_since: 'BIGINT', snoozed_until: 'BIGINT',
  state: 'VARCHAR', open: 'BOOLEAN', read: 'BOOLEAN', title: 'VARCHAR', priority: 'VARCHAR',
  source: 'STRUCT(type VARCHAR, id VARCHAR, delivered_as VARCHAR, subject VARCHAR, body VARCHAR, author STRUCT(type VARCHAR, id VARCHAR, name VARCHAR, email VARCHAR), url VARCHAR)',
  admin_assignee_id: 'VARCHAR', team_assignee_id: 'VARCHAR',
  first_contact_reply: 'STRUCT(created_at BIGINT, type VARCHAR, url VARCHAR)',
  statistics: 'STRUCT(count_conversation_parts BIGINT)',
  custom_attributes: 'JSON',
  conversation_rating: 'STRUCT(rating INTEGER, remark VARCHAR, created_at BIGINT, contact STRUCT(type VARCHAR, id VARCHAR), teammate STRUCT(type VARCHAR, id VARCHAR))',
  tags: 'STRUCT(tags STRUCT(id VARCHAR, name VARCHAR, applied_at BIGINT, applied_by STRUCT(type VARCHAR, id VARCHAR))[])',
  conversation_parts: 'STRUCT(conversation_parts STRUCT(id VARCHAR, part_type VARCHAR, body VARCHAR, created_at BIGINT, updated_at BIGINT, notified_at BIGINT, assigned_to STRUCT(type VARCHAR, id VARCHAR), author STRUCT(type VARCHAR, id VARCHAR, name VARCHAR, email VARCHAR), attachments JSON[], external_id VARCHAR, redacted BOOLEAN)[])'});

COPY (SELECT id AS conversation_id, to_timestamp(created_at) AS created_at, to_timestamp(updated_at) AS updated_at,
  CASE WHEN waiting_since > 0 AND waiting_since < 4102444800 THEN to_timestamp(waiting_since) END AS waiting_since,
  CASE WHEN snoozed_until > 0 AND snoozed_until < 4102444800 THEN to_timestamp(snoozed_until) END AS snoozed_until,
  state, open, read, title, priority, source.id AS message_id, source.type AS message_type, source.subject AS message_subject,
  source.body AS message_body, source.author.type AS message_author_type, source.author.id AS message_author_id,
  source.url AS message_url, source.delivered_as AS message_delivered_as,
  NULLIF(admin_assignee_id, '0') AS admin_assignee_id, NULLIF(team_assignee_id, '0') AS team_assignee_id,
  to_timestamp(first_contact_reply.created_at) AS first_reply_at, first_contact_reply.type AS first_reply_type,
  statistics.count_conversation_parts AS parts_total, len(conversation_parts.conversation_parts) AS parts_exported,
  coalesce(statistics.count_conversation_parts, 0) > len(conversation_parts.conversation_parts) AS parts_truncated,
  CAST(custom_attributes AS VARCHAR) AS custom_attributes, date
  FROM raw) TO 'OUT/conversations' (FORMAT PARQUET, PARTITION_BY (date), COMPRESSION zstd, OVERWRITE_OR_IGNORE);

COPY (SELECT conversation_id, p.id AS part_id, p.part_type, p.body, to_timestamp(p.created_at) AS created_at,
  to_timestamp(p.updated_at) AS updated_at, to_timestamp(p.notified_at) AS notified_at,
  p.assigned_to.type AS assigned_to_type, p.assigned_to.id AS assigned_to_id, p.author.type AS author_type,
  p.author.id AS author_id, p.author.name AS author_name, p.author.email AS author_email,
  len(p.attachments) AS attachment_count, p.external_id, p.redacted, date
  FROM (SELECT id AS conversation_id, date, unnest(conversation_parts.conversation_parts) AS p FROM raw))
  TO 'OUT/conversation_parts' (FORMAT PARQUET, PARTITION_BY (date), COMPRESSION zstd, OVERWRITE_OR_IGNORE);

COPY (SELECT conversation_id, t.id AS tag_id, t.name AS tag_name, to_timestamp(t.applied_at) AS applied_at,
  t.applied_by.type AS applied_by_type, t.applied_by.id AS applied_by_id, date
  FROM (SELECT id AS conversation_id, date, unnest(tags.tags) AS t FROM raw))
  TO 'OUT/conversation_tags' (FORMAT PARQUET, PARTITION_BY (date), COMPRESSION zstd, OVERWRITE_OR_IGNORE);

COPY (SELECT id AS conversation_id, conversation_rating.rating AS rating, conversation_rating.remark AS remark,
  to_timestamp(conversation_rating.created_at) AS created_at, conversation_rating.contact.id AS customer_id,
  conversation_rating.teammate.id AS teammate_id, date FROM raw
  WHERE conversation_rating.rating IS NOT NULL OR conversation_rating.remark IS NOT NULL)
  TO 'OUT/conversation_ratings' (FORMAT PARQUET, PARTITION_BY (date), COMPRESSION zstd, OVERWRITE_OR_IGNORE);
