package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
)

// loadDDL runs `schema --format duckdb --dir out` in db, statement by statement: base views, then
// the metric views.
func loadDDL(t *testing.T, db *sql.DB, out string, extra ...string) {
	t.Helper()
	var ddl, e bytes.Buffer
	if code := run(context.Background(), append([]string{"schema", "--format", "duckdb", "--dir", out}, extra...),
		func(string) string { return "" }, &ddl, &e); code != exitOK {
		t.Fatalf("schema exited %d: %s", code, e.String())
	}
	// One connection: USE (with --dataset) is the session's.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range strings.Split(ddl.String(), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) != "" {
			if _, err := conn.ExecContext(context.Background(), stmt); err != nil {
				t.Fatalf("%v\n%s", err, stmt)
			}
		}
	}
}

// Every metric view runs over a generated workspace's export, with one row per conversation, admin
// and team.
func TestMetricViewsRunOverAnExport(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(144, 40)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	db := openDuckDB(t)
	loadDDL(t, db, out)
	for view, want := range map[string]int{"conversation_metrics": 40, "admin_metrics": len(intercomtest.AdminIDs()), "team_metrics": len(intercomtest.TeamIDs())} {
		if got := scalar(t, db, "SELECT count(*) FROM "+view); got != fmt.Sprint(want) {
			t.Errorf("%s has %s rows, want %d", view, got, want)
		}
	}
	// Sanity that holds whatever the data: closes come after creation, the last after the first,
	// closed conversations are attributed to at most one admin.
	for what, q := range map[string]string{
		"last close before first": "SELECT count(*) FROM conversation_metrics WHERE last_close_at < first_close_at",
		"closed twice":            "SELECT (SELECT sum(conversations_closed) FROM admin_metrics) > (SELECT count(*) FROM conversation_metrics WHERE state = 'closed')::INT",
		"names missing":           "SELECT count(*) FROM conversation_metrics WHERE admin_assignee_id IS NOT NULL AND admin_assignee_name IS NULL",
	} {
		if got := scalar(t, db, q); got != "0" && got != "false" {
			t.Errorf("%s: %s", what, got)
		}
	}
	if got := scalar(t, db, "SELECT sum(conversations_closed) FROM admin_metrics"); got == "0" {
		t.Error("no admin closed any conversation")
	}

	// With --dataset, everything lands in that schema, and the metric views read from any session.
	loadDDL(t, db, out, "--dataset", "intercom")
	if got := scalar(t, db, "SELECT count(*) FROM intercom.conversation_metrics JOIN intercom.admin_metrics ON admin_id = last_closed_by_id"); got == "0" {
		t.Error("the metric views of --dataset intercom join nothing")
	}

	// The README's DuckDB section, as written, on this database.
	for _, stmt := range readmeDuckDB(t) {
		if _, err := db.Exec(stmt); err != nil {
			t.Errorf("README's DuckDB section: %v\n%s", err, stmt)
		}
	}
}

// A workspace that never tags, rates or replies still gets every view: DuckDB fails a glob that
// matches no file, so each partition keeps an empty file for a table without rows there.
func TestViewsReadAWorkspaceThatNeverTagsRatesOrReplies(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(146, 0)
	const t0 = 1741939200 // 2025-03-14T08:00:00Z
	customer := intercomtest.Author{Type: "user", ID: "5f00000000000000000000c2", Name: "Bob"}
	var ids []string
	for k := range 2 {
		c := intercomtest.Conversation{ID: ws.NewID(), State: "open", Open: true, CreatedAt: t0 + int64(k)*86400, UpdatedAt: t0 + int64(k)*86400 + 60}
		c.Message = intercomtest.Message{Type: "conversation", ID: "m" + c.ID, DeliveredAs: "customer_initiated", Body: "<p>Hello?</p>", Author: customer}
		c.Contacts = []intercomtest.Contact{{Type: "user", ID: customer.ID}}
		ws.Add(c)
		ids = append(ids, c.ID)
	}
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	for _, table := range []string{"conversation_parts", "conversation_tags", "conversation_ratings"} {
		if files, _ := filepath.Glob(filepath.Join(out, table, "*", "*.parquet")); len(files) != 2 {
			t.Errorf("%s: %d files, want an empty one in each of the 2 partitions: %v", table, len(files), files)
		}
	}
	db := openDuckDB(t)
	loadDDL(t, db, out)
	for view, want := range map[string]string{
		"conversations": "2", "conversation_parts": "0", "conversation_tags": "0", "conversation_ratings": "0",
		"conversation_metrics": "2", "admin_metrics": fmt.Sprint(len(intercomtest.AdminIDs())), "team_metrics": fmt.Sprint(len(intercomtest.TeamIDs())),
	} {
		if got := scalar(t, db, "SELECT count(*) FROM "+view); got != want {
			t.Errorf("%s has %s rows, want %s", view, got, want)
		}
	}
	got := query(t, db, "SELECT conversation_id, count_customer_replies, time_to_first_admin_response, rating FROM conversation_metrics ORDER BY conversation_id")
	want := [][]string{{ids[0], "0", "NULL", "NULL"}, {ids[1], "0", "NULL", "NULL"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conversation_metrics:\n got %v\nwant %v", got, want)
	}
	if got := scalar(t, db, "SELECT count(*) FROM admin_metrics WHERE conversations_closed <> 0"); got != "0" {
		t.Errorf("%s admins closed a conversation in a workspace where none was closed", got)
	}
}

// readmeDuckDB returns the statements of the sql blocks of the README's DuckDB section.
func readmeDuckDB(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## DuckDB\n")
	if !ok {
		t.Fatal("README.md has no DuckDB section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	if !strings.Contains(section, "intercom-export schema --format duckdb --dir ") {
		t.Error("the README's DuckDB section does not load the DDL of `schema --format duckdb`")
	}
	var stmts []string
	for _, block := range strings.Split(section, "```sql\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		for _, stmt := range strings.Split(block, ";\n") {
			if strings.TrimSpace(stripComments(stmt)) != "" {
				stmts = append(stmts, stmt)
			}
		}
	}
	if len(stmts) < 4 {
		t.Fatalf("%d statements in the README's DuckDB section", len(stmts))
	}
	return stmts
}

// handConversations are five conversations whose metrics are worked out by hand in
// TestMetricViewsEqualHandComputedValues.
func handConversations(ws *intercomtest.Workspace, t0 int64) (ids []string) {
	customer := intercomtest.Author{Type: "user", ID: "5f00000000000000000000c1", Name: "Alice"}
	jane := intercomtest.Author{Type: "admin", ID: "814860", Name: "Jane Doe"}
	jose := intercomtest.Author{Type: "admin", ID: "814861", Name: "José Álvarez"}
	li := intercomtest.Author{Type: "admin", ID: "814862", Name: "李小龙"}
	zoe := intercomtest.Author{Type: "admin", ID: "814863", Name: "Zoë O'Brien"}
	operator := intercomtest.Author{Type: "bot", ID: "815309", Name: "Operator"}
	fin := intercomtest.Author{Type: "bot", ID: "815310", Name: "Fin"}
	// Comments and notes have words; a close, an assignment or a reopen has none unless withWords says.
	part := func(k int, typ string, at int64, who intercomtest.Author) intercomtest.Part {
		p := intercomtest.Part{ID: fmt.Sprint(900000 + k), PartType: typ, CreatedAt: t0 + at, UpdatedAt: t0 + at, NotifiedAt: t0 + at, Author: who}
		if typ == "comment" || typ == "note" {
			p.Body = "<p>x</p>"
		}
		return p
	}
	withWords := func(p intercomtest.Part) intercomtest.Part { p.Body = "<p>Thanks!</p>"; return p }
	add := func(c intercomtest.Conversation) {
		c.ID = ws.NewID()
		c.CreatedAt, c.Open = t0, c.State != "closed"
		c.UpdatedAt = c.CreatedAt + 20000
		c.Message = intercomtest.Message{Type: "conversation", ID: "m" + c.ID, DeliveredAs: "customer_initiated", Body: "<p>Help</p>", Author: customer}
		c.Contacts = []intercomtest.Contact{{Type: "user", ID: customer.ID}}
		ws.Add(c)
		ids = append(ids, c.ID)
	}
	four := 4
	// A: answered, closed, reopened by the customer's reply (one open part with the reply as its
	// body, as Intercom records it), answered, and replied to and closed in one part; rated 4.
	add(intercomtest.Conversation{State: "closed", AdminAssigneeID: jose.ID, Tags: []intercomtest.Tag{{ID: "7522907", Name: "VIP", AppliedAt: t0 + 70, AppliedBy: jose}},
		Rating: &intercomtest.Rating{Rating: &four, CreatedAt: t0 + 1300, Customer: customer, Teammate: jose},
		Parts: []intercomtest.Part{part(1, "comment", 60, customer), part(2, "comment", 300, jane), part(3, "close", 400, jane),
			withWords(part(4, "open", 1000, customer)), part(6, "comment", 1100, jose), withWords(part(7, "close", 1200, jose))}})
	// B: a bot answers, assigns to a team and closes it.
	assigned := part(3, "assignment", 20, operator)
	assigned.AssignedTo = &intercomtest.Assignee{Type: "team", ID: "5017691"}
	add(intercomtest.Conversation{State: "closed", TeamAssigneeID: "5017691",
		Parts: []intercomtest.Part{part(1, "comment", 5, customer), part(2, "comment", 10, fin), assigned, part(4, "close", 30, operator)}})
	// C: an internal note before the first reply, which is a message with quick-reply buttons; the
	// customer picks one. Still open.
	add(intercomtest.Conversation{State: "open", AdminAssigneeID: li.ID,
		Parts: []intercomtest.Part{part(1, "note", 50, li), withWords(part(2, "quick_reply", 500, li)), withWords(part(3, "quick_reply", 600, customer))}})
	// D: nobody answered.
	add(intercomtest.Conversation{State: "open", Parts: []intercomtest.Part{part(1, "comment", 10, customer)}})
	// E: 520 parts, of which the API withholds the oldest 20: the first reply, the first close and
	// the reopen among them. Closed last by Jane at the end.
	parts := []intercomtest.Part{part(0, "comment", 100, zoe), part(1, "close", 200, zoe), part(2, "open", 300, customer)}
	for k := 3; k < 519; k++ {
		parts = append(parts, part(k, "comment", 1000+int64(k), customer))
	}
	parts = append(parts, part(519, "close", 10000, jane))
	add(intercomtest.Conversation{State: "closed", AdminAssigneeID: jane.ID, Parts: parts})
	return ids
}

func TestMetricViewsEqualHandComputedValues(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(145, 0)
	const t0 = 1741939200 // 2025-03-14T08:00:00Z
	ids := handConversations(ws, t0)
	srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer srv.Close()
	out := t.TempDir()
	exportRun(t, srv, out, exitOK)
	db := openDuckDB(t)
	loadDDL(t, db, out)

	cols := "time_to_first_admin_response, first_admin_response_by_id, time_to_first_close, first_closed_by_id, time_to_last_close, " +
		"last_closed_by_id, last_closed_by_name, closed_by_bot, count_reopens, count_assignments, count_admin_replies, " +
		"count_customer_replies, count_notes, rating, admin_assignee_name, team_assignee_name, metrics_source"
	want := map[string][]string{
		// A: first reply 300 s by Jane, first close 400 s by Jane, last close 1200 s by José; one
		// reopen, the customer's second message; José's reply-and-close is his second reply.
		ids[0]: {"300", "814860", "400", "814860", "1200", "814861", "José Álvarez", "false", "1", "0", "3", "2", "0", "4", "José Álvarez", "NULL", "parts"},
		// B: Fin's and Operator's parts are no admin's: no first response; closed by a bot.
		ids[1]: {"NULL", "NULL", "30", "815309", "30", "815309", "NULL", "true", "0", "1", "0", "1", "0", "NULL", "NULL", "Support", "parts"},
		// C: the note is not a reply: the first response is the quick reply at 500 s, and the
		// customer's pick is a reply of theirs; open, never closed.
		ids[2]: {"500", "814862", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "0", "0", "1", "1", "1", "NULL", "李小龙", "NULL", "parts"},
		// D: unanswered and open.
		ids[3]: {"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "0", "0", "0", "1", "0", "NULL", "NULL", "NULL", "parts"},
		// E: the first reply (100 s), first close (200 s) and reopen were withheld: Intercom's
		// statistics supply them, without who; the last close is among the parts that arrived. Reply
		// counts are of the 500 parts that arrived.
		ids[4]: {"100", "NULL", "200", "NULL", "10000", "814860", "Jane Doe", "false", "1", "0", "0", "499", "0", "NULL", "Jane Doe", "NULL", "statistics"},
	}
	for id, w := range want {
		got := query(t, db, "SELECT "+cols+" FROM conversation_metrics WHERE conversation_id = ?", id)
		if len(got) != 1 || !reflect.DeepEqual(got[0], w) {
			t.Errorf("conversation %s:\n got %v\nwant %v\n(%s)", id, got, w, cols)
		}
	}

	// Per admin: the closed conversations each closed last. José: A; Jane: E; nobody else.
	wantAdmins := [][]string{
		{"814860", "1", "100", "10000", "NULL"},
		{"814861", "1", "300", "1200", "4"},
		{"814862", "0", "NULL", "NULL", "NULL"},
		{"814863", "0", "NULL", "NULL", "NULL"},
		{"814864", "0", "NULL", "NULL", "NULL"},
		{"814865", "0", "NULL", "NULL", "NULL"},
	}
	if got := query(t, db, `SELECT admin_id, conversations_closed, median_time_to_first_response, median_time_to_last_close, average_rating
		FROM admin_metrics ORDER BY admin_id`); !reflect.DeepEqual(got, wantAdmins) {
		t.Errorf("admin_metrics:\n got %v\nwant %v", got, wantAdmins)
	}
	// Per team: Support has B, closed by a bot after 30 s, never answered by an admin.
	wantTeams := [][]string{{"5017691", "Support", "1", "NULL", "30"}, {"5017692", "Billing", "0", "NULL", "NULL"}, {"5017693", "Tier 2 🛠", "0", "NULL", "NULL"}}
	if got := query(t, db, `SELECT team_id, name, conversations_closed, median_time_to_first_response, median_time_to_last_close
		FROM team_metrics ORDER BY team_id`); !reflect.DeepEqual(got, wantTeams) {
		t.Errorf("team_metrics:\n got %v\nwant %v", got, wantTeams)
	}
}

// The metric views run over the real corpus (../shared/realcorpus: Intercom's API examples and SDK
// fixtures, converted), one row per conversation; a customer's reply that reopened a conversation,
// an open part with words, counts as a reply.
func TestMetricViewsOverTheRealCorpus(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "realcorpus", "*.ndjson"))
	if len(files) == 0 {
		t.Skip("the real-data corpus is not here (../shared/realcorpus beside the repository): skipping")
	}
	out := t.TempDir()
	convertRun(t, exitOK, append([]string{"--out", out}, files...)...)
	db := openDuckDB(t)
	loadDDL(t, db, out)
	if got, want := scalar(t, db, "SELECT count(*) FROM conversation_metrics"), scalar(t, db, "SELECT count(*) FROM conversations"); got != want || got == "0" {
		t.Errorf("conversation_metrics has %s rows, conversations %s", got, want)
	}
	reopenedByReply := scalar(t, db, `SELECT count(DISTINCT conversation_id) FROM conversation_parts
		WHERE part_type = 'open' AND author_type = 'user' AND body <> ''`)
	if reopenedByReply == "0" {
		t.Fatal("the corpus has no customer reply recorded as an open part: the check below would check nothing")
	}
	if got := scalar(t, db, `SELECT count(*) FROM conversation_metrics WHERE count_customer_replies = 0 AND conversation_id IN (
		SELECT conversation_id FROM conversation_parts WHERE part_type = 'open' AND author_type = 'user' AND body <> '')`); got != "0" {
		t.Errorf("%s of the %s conversations a customer's reply reopened count no customer reply", got, reopenedByReply)
	}
	for _, view := range []string{"admin_metrics", "team_metrics"} {
		scalar(t, db, "SELECT count(*) FROM "+view)
	}
}
