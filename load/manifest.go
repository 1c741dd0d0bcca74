package load

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/intercom-export/intercom-export/schemas"
)

// Manifest is the record of one run, written to `_intercom_export/runs/<run-id>.json` when the run
// commits. Warehouse loads read it to replace exactly the partitions the run touched.
type Manifest struct {
	RunID   string `json:"run_id"`
	Command string `json:"command"`
	// ToolVersion is the version of intercom-export that ran (release, commit, build date).
	ToolVersion string `json:"tool_version,omitempty"`
	// Status is success or partial for a run's last commit, checkpoint for the commits before it.
	Status string `json:"status"`
	// Segment numbers the commits of a run that checkpoints (1, 2, ...): each has a manifest of its
	// own, under run ids <run>, <run>-0002, ...; 0 for a run committed at once.
	Segment int `json:"segment,omitempty"`
	// Deletions is how this run learnt of deleted conversations: listed (GET /conversations/deleted),
	// snapshot (a full run removes what the API no longer lists), unavailable (the workspace's API
	// does not offer the listing) or failed (it did not answer; the next run asks again from the same
	// point). Empty for convert and for checkpoints.
	Deletions string `json:"deletions,omitempty"`
	// Admins and Teams say what the run did with those tables, which an export rewrites whole:
	// refreshed, unavailable (the workspace's API does not list them for this app) or failed (it did not
	// answer, or not with the list); in the last two cases the previous file stays. Empty for convert and
	// for checkpoints.
	Admins string `json:"admins,omitempty"`
	Teams  string `json:"teams,omitempty"`
	// Warnings lists what the run had to do without, in words.
	Warnings   []string  `json:"warnings,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Until bounds a run by updated_at (Unix seconds, excluded); such a run leaves the bookmark alone.
	Until      *int64 `json:"until,omitempty"`
	APIVersion string `json:"api_version,omitempty"`
	// Mode is full, incremental or since.
	Mode string `json:"mode,omitempty"`
	// BookmarkUsed is where an incremental run started (Unix seconds); null for a full run.
	BookmarkUsed *int64 `json:"bookmark_used"`
	// BookmarkNew is where the next incremental run starts.
	BookmarkNew int64 `json:"bookmark_new"`

	Counts ManifestCounts `json:"counts"`
	// Tables lists, per table, the partitions this run rewrote or removed.
	Tables map[string][]PartitionChange `json:"tables"`
	// Deleted lists the conversations removed because Intercom deleted them or, in a full run, no
	// longer lists them.
	Deleted []DeletedConversation `json:"deleted"`
	// Failures lists the conversations this run could not export; the next run tries them again.
	Failures []Failure `json:"failures"`
}

// ManifestCounts sums up a run. The commands fill in what they counted; the row counts come from the
// commit's files (see addFiles), so they always agree with Tables.
type ManifestCounts struct {
	Listed    int64 `json:"listed"`
	Retrieved int64 `json:"retrieved"`
	Skipped   int64 `json:"skipped_unchanged"`
	// Conversations, Parts, Tags and Ratings are the rows this run wrote of its own conversations
	// (the rest of a rewritten file being other conversations' rows, kept).
	Conversations int64 `json:"conversations"`
	Parts         int64 `json:"parts"`
	Tags          int64 `json:"tags"`
	Ratings       int64 `json:"ratings"`
	Truncated     int64 `json:"truncated"`
	NotFound      int64 `json:"deleted_while_running"`
	APICalls      int64 `json:"api_calls"`
	// Superseded counts inputs that lost to a newer-or-equal version of the same id in the same run;
	// Stale, inputs older than what the folder held. Neither was written.
	Superseded int64 `json:"superseded"`
	Stale      int64 `json:"stale"`
	// Warnings counts values written as NULL (a timestamp or number that could not be read) or
	// corrected (a part count below the parts present), each logged with its field; the conversations
	// were exported.
	Warnings int64 `json:"warnings"`
	// Rows is, per table, the rows in the files this run published and in the files they replaced or
	// removed: the sums of Tables' added.rows and removed.rows.
	Rows map[string]TableRows `json:"rows"`
}

// TableRows is a table's row counts in one run's manifest.
type TableRows struct {
	Written int64 `json:"written"`
	Removed int64 `json:"removed"`
}

// PartitionChange is what happened to one partition of one table: the file added and the one removed.
// A rewritten partition has both (with the same path: the new file replaced the old one in place).
// Date is the partition's value: YYYY-MM-DD, or YYYY-MM in a folder partitioned by month.
type PartitionChange struct {
	Date    string        `json:"date,omitempty"` // empty for admins and teams, which are one file each
	Added   *ManifestFile `json:"added,omitempty"`
	Removed *ManifestFile `json:"removed,omitempty"`
}

// ManifestFile is a file and its row count.
type ManifestFile struct {
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes,omitempty"`
}

// DeletedConversation is a conversation removed from the folder.
type DeletedConversation struct {
	ConversationID string `json:"conversation_id"`
	Date           string `json:"date"`
}

// Failure is a conversation that could not be exported, and why.
type Failure struct {
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
}

// partitionValue is the partition column's value in the file's folder name.
func (f File) partitionValue() string {
	if f.Partition == "" {
		return "" // a whole table's file
	}
	if _, v, ok := strings.Cut(f.Partition, "="); ok {
		return v
	}
	return f.Date.String()
}

// addFiles records the files of a commit.
func (m *Manifest) addFiles(files []File) {
	// The tables and counts are derived here, from the files, and nowhere else; a retried Commit
	// starts over rather than adding up twice.
	m.Tables = map[string][]PartitionChange{}
	c := &m.Counts
	c.Conversations, c.Parts, c.Tags, c.Ratings = 0, 0, 0, 0
	c.Rows = map[string]TableRows{}
	own := map[string]*int64{schemas.TableConversations: &c.Conversations, schemas.TableConversationParts: &c.Parts,
		schemas.TableConversationTags: &c.Tags, schemas.TableConversationRatings: &c.Ratings}
	for _, t := range append(Tables[:], WholeTables...) {
		m.Tables[t] = []PartitionChange{}
		c.Rows[t] = TableRows{}
	}
	for _, f := range files {
		pc := PartitionChange{Date: f.partitionValue()}
		rows := c.Rows[f.Table]
		if f.Existed {
			pc.Removed = &ManifestFile{Path: f.Path, Rows: f.PreviousRows()}
			rows.Removed += pc.Removed.Rows
		}
		if !f.Removed {
			pc.Added = &ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes}
			rows.Written += f.Rows
		}
		c.Rows[f.Table] = rows
		m.Tables[f.Table] = append(m.Tables[f.Table], pc)
		if n := own[f.Table]; n != nil {
			*n += f.Added
		}
	}
	for t := range m.Tables {
		slices.SortFunc(m.Tables[t], func(a, b PartitionChange) int { return cmp.Compare(a.Date, b.Date) })
	}
}
