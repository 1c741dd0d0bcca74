-- Metric views over the intercom-export tables, in the spirit of dbt_intercom's
-- intercom__conversation_metrics, intercom__admin_metrics and intercom__team_metrics.
-- They read the views conversations, conversation_parts, conversation_ratings, admins and teams
-- that `intercom-export schema --format duckdb` creates first (and prints this file after).
-- Durations are whole seconds, like Intercom's statistics (epoch_us, which needs no time zone). README.md, "Metrics", defines each one:
-- - bots: a reply or a close by a bot (author_type bot, or an AI agent answer) is never an admin's.
--   A close counts whoever made it, and closed_by_bot says when the last close was a bot's.
-- - notes: internal (part_type note), never a reply. Replies are comments, and reopens, closes,
--   assignments and quick replies that carry a body or an attachment.
-- - open conversations: close times and times to close are NULL until a close part exists.
--   The per admin and per team views count closed conversations only.
-- - truncated conversations (parts_truncated: the API returned only the newest 500 parts): the
--   last close is among the parts that arrived, but the first response, the first close and the
--   counts may not be. For them the first_* figures and count_reopens and count_assignments come
--   from Intercom's statistics when it sent them (metrics_source = statistics), and the reply
--   counts are lower bounds.

CREATE OR REPLACE VIEW conversation_metrics AS
WITH parts AS (
  SELECT
    p.conversation_id,
    p.created_date,
    p.part_id,
    p.part_type,
    p.created_at,
    p.author_type,
    p.author_id,
    -- an admin's reply: a message written by a teammate, not by a bot or the AI agent
    is_message AND p.author_type = 'admin'
      AND NOT coalesce(p.author_from_ai_agent, false) AND NOT coalesce(p.author_is_ai_answer, false) AS is_admin_reply,
    is_message AND p.author_type IN ('user', 'lead', 'contact') AS is_customer_reply,
    p.part_type = 'close' AS is_close,
    p.part_type IN ('open', 'note_and_reopen', 'assign_and_reopen') AS is_reopen,
    p.part_type IN ('assignment', 'away_mode_assignment', 'workflow_assignment', 'default_assignment',
      'assign_and_reopen', 'assign_and_unsnooze') AS is_assignment
  FROM (
    -- a message the other side reads: a comment, or a reopen, close, assignment or quick reply that
    -- carries words or a file. A customer's reply to a closed conversation is one part, of type open,
    -- with the reply as its body, and a teammate's reply-and-close one close part.
    SELECT *, part_type = 'comment' OR part_type IN ('open', 'close', 'assignment', 'assign_and_reopen', 'quick_reply')
      AND (nullif(body, '') IS NOT NULL OR coalesce(attachment_count, 0) > 0) AS is_message
    FROM conversation_parts
  ) p
),
facts AS (
  SELECT
    conversation_id,
    created_date,
    min(created_at) FILTER (WHERE is_admin_reply) AS first_admin_response_at,
    arg_min(author_id, created_at) FILTER (WHERE is_admin_reply) AS first_admin_response_by_id,
    min(created_at) FILTER (WHERE is_close) AS first_close_at,
    arg_min(author_id, created_at) FILTER (WHERE is_close) AS first_closed_by_id,
    max(created_at) FILTER (WHERE is_close) AS last_close_at,
    arg_max(author_id, created_at) FILTER (WHERE is_close) AS last_closed_by_id,
    arg_max(author_type, created_at) FILTER (WHERE is_close) AS last_closed_by_type,
    count(*) FILTER (WHERE is_reopen) AS count_reopens,
    count(*) FILTER (WHERE is_assignment) AS count_assignments,
    count(*) FILTER (WHERE is_admin_reply) AS count_admin_replies,
    count(*) FILTER (WHERE is_customer_reply) AS count_customer_replies,
    count(*) FILTER (WHERE part_type = 'note') AS count_notes
  FROM parts
  GROUP BY conversation_id, created_date
),
metrics AS (
  SELECT
    c.conversation_id,
    c.created_date,
    c.created_at,
    c.state,
    c.admin_assignee_id,
    c.team_assignee_id,
    c.parts_truncated,
    c.parts_included,
    -- incomplete: the oldest parts were withheld (truncated), or none came (a list item converted)
    c.parts_truncated OR NOT c.parts_included AS incomplete,
    c.first_admin_reply_at AS stat_first_admin_reply_at,
    c.first_close_at AS stat_first_close_at,
    c.last_close_at AS stat_last_close_at,
    c.last_closed_by_id AS stat_last_closed_by_id,
    c.count_reopens AS stat_count_reopens,
    c.count_assignments AS stat_count_assignments,
    f.* EXCLUDE (conversation_id, created_date)
  FROM conversations c
  LEFT JOIN facts f USING (conversation_id, created_date)
),
chosen AS (
  SELECT
    conversation_id,
    created_date,
    created_at,
    state,
    admin_assignee_id,
    team_assignee_id,
    parts_truncated,
    CASE WHEN incomplete THEN 'statistics' ELSE 'parts' END AS metrics_source,
    CASE WHEN incomplete THEN coalesce(stat_first_admin_reply_at, first_admin_response_at) ELSE first_admin_response_at END AS first_admin_response_at,
    -- who gave it or made it is known only when the time came from the parts
    CASE WHEN NOT incomplete OR stat_first_admin_reply_at IS NULL OR stat_first_admin_reply_at = first_admin_response_at
      THEN first_admin_response_by_id END AS first_admin_response_by_id,
    CASE WHEN incomplete THEN coalesce(stat_first_close_at, first_close_at) ELSE first_close_at END AS first_close_at,
    CASE WHEN NOT incomplete OR stat_first_close_at IS NULL OR stat_first_close_at = first_close_at
      THEN first_closed_by_id END AS first_closed_by_id,
    CASE WHEN incomplete THEN coalesce(last_close_at, stat_last_close_at) ELSE last_close_at END AS last_close_at,
    CASE WHEN incomplete AND last_close_at IS NULL THEN stat_last_closed_by_id ELSE last_closed_by_id END AS last_closed_by_id,
    CASE WHEN incomplete AND last_close_at IS NULL AND stat_last_closed_by_id IS NOT NULL THEN 'admin' ELSE last_closed_by_type END AS last_closed_by_type,
    CASE WHEN incomplete THEN coalesce(stat_count_reopens, count_reopens) ELSE coalesce(count_reopens, 0) END AS count_reopens,
    CASE WHEN incomplete THEN coalesce(stat_count_assignments, count_assignments) ELSE coalesce(count_assignments, 0) END AS count_assignments,
    CASE WHEN parts_included THEN coalesce(count_admin_replies, 0) END AS count_admin_replies,
    CASE WHEN parts_included THEN coalesce(count_customer_replies, 0) END AS count_customer_replies,
    CASE WHEN parts_included THEN coalesce(count_notes, 0) END AS count_notes
  FROM metrics
)
SELECT
  m.conversation_id,
  m.created_date,
  m.created_at,
  m.state,
  m.admin_assignee_id,
  a.name AS admin_assignee_name,
  m.team_assignee_id,
  t.name AS team_assignee_name,
  m.first_admin_response_at,
  m.first_admin_response_by_id,
  (epoch_us(m.first_admin_response_at) - epoch_us(m.created_at)) // 1000000 AS time_to_first_admin_response,
  m.first_close_at,
  m.first_closed_by_id,
  (epoch_us(m.first_close_at) - epoch_us(m.created_at)) // 1000000 AS time_to_first_close,
  m.last_close_at,
  m.last_closed_by_id,
  m.last_closed_by_type,
  closer.name AS last_closed_by_name,
  (epoch_us(m.last_close_at) - epoch_us(m.created_at)) // 1000000 AS time_to_last_close,
  m.last_closed_by_type = 'bot' AS closed_by_bot,
  m.count_reopens,
  m.count_assignments,
  m.count_admin_replies,
  m.count_customer_replies,
  m.count_notes,
  r.rating,
  r.remark AS rating_remark,
  m.parts_truncated,
  m.metrics_source
FROM chosen m
LEFT JOIN admins a ON a.admin_id = m.admin_assignee_id
LEFT JOIN teams t ON t.team_id = m.team_assignee_id
LEFT JOIN admins closer ON closer.admin_id = m.last_closed_by_id AND m.last_closed_by_type = 'admin'
LEFT JOIN conversation_ratings r ON r.conversation_id = m.conversation_id AND r.created_date = m.created_date;

-- Per admin: the closed conversations an admin closed last (a conversation closed by a bot, or by
-- nobody, is no admin's), as dbt_intercom attributes them. Every admin has a row, 0 when none.
CREATE OR REPLACE VIEW admin_metrics AS
SELECT
  a.admin_id,
  a.name,
  a.email,
  a.job_title,
  count(m.conversation_id) AS conversations_closed,
  median(m.time_to_first_admin_response) AS median_time_to_first_response,
  median(m.time_to_last_close) AS median_time_to_last_close,
  avg(m.rating) AS average_rating,
  avg(m.count_reopens) AS average_reopens
FROM admins a
LEFT JOIN conversation_metrics m
  ON m.last_closed_by_id = a.admin_id AND m.last_closed_by_type = 'admin' AND m.state = 'closed'
GROUP BY a.admin_id, a.name, a.email, a.job_title;

-- Per team: the closed conversations assigned to the team (team_assignee_id). Every team has a row.
CREATE OR REPLACE VIEW team_metrics AS
SELECT
  t.team_id,
  t.name,
  count(m.conversation_id) AS conversations_closed,
  median(m.time_to_first_admin_response) AS median_time_to_first_response,
  median(m.time_to_last_close) AS median_time_to_last_close,
  avg(m.rating) AS average_rating,
  avg(m.count_reopens) AS average_reopens
FROM teams t
LEFT JOIN conversation_metrics m ON m.team_assignee_id = t.team_id AND m.state = 'closed'
GROUP BY t.team_id, t.name;
