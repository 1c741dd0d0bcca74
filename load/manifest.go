package load

import (
	"cmp"
	"slices"
	"time"
)

// Manifest is the record of one run, written to `_intercom_export/runs/<run-id>.json` when the run
// commits. Warehouse loads read it to replace exactly the partitions the run touched.
type Manifest struct {
	RunID      string    `json:"run_id"`
	Command    string    `json:"command"`
	Status     string    `json:"status"` // success or partial
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	APIVersion string    `json:"api_version,omitempty"`
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

// ManifestCounts sums up a run.
type ManifestCounts struct {
	Listed        int64 `json:"listed"`
	Retrieved     int64 `json:"retrieved"`
	Skipped       int64 `json:"skipped_unchanged"`
	Conversations int64 `json:"conversations"`
	Parts         int64 `json:"parts"`
	Tags          int64 `json:"tags"`
	Ratings       int64 `json:"ratings"`
	Truncated     int64 `json:"truncated"`
	NotFound      int64 `json:"deleted_while_running"`
	APICalls      int64 `json:"api_calls"`
}

// PartitionChange is what happened to one partition of one table: the file added and the one removed.
// A rewritten partition has both (with the same path: the new file replaced the old one in place).
type PartitionChange struct {
	Date    string        `json:"date"`
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

// addFiles records the files of a commit.
func (m *Manifest) addFiles(files []File) {
	if m.Tables == nil {
		m.Tables = map[string][]PartitionChange{}
	}
	for _, t := range Tables {
		if m.Tables[t] == nil {
			m.Tables[t] = []PartitionChange{}
		}
	}
	for _, f := range files {
		c := PartitionChange{Date: f.Date.String()}
		if f.Existed {
			c.Removed = &ManifestFile{Path: f.Path, Rows: f.PreviousRows()}
		}
		if !f.Removed {
			c.Added = &ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes}
		}
		m.Tables[f.Table] = append(m.Tables[f.Table], c)
	}
	for t := range m.Tables {
		slices.SortFunc(m.Tables[t], func(a, b PartitionChange) int { return cmp.Compare(a.Date, b.Date) })
	}
}
