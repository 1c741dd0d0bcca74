package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intercom-export/intercom-export/extract/intercomtest"
	"github.com/intercom-export/intercom-export/load"
)

// Both API generations: the export writes admins and teams, and DuckDB puts a name on every admin and
// team id the conversations and parts name.
func TestAdminsAndTeamsNameEveryID(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"2.16", "2.0", "1.4"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ws := intercomtest.NewWorkspace(141, 30)
			srv := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
			defer srv.Close()
			out := t.TempDir()
			exportRun(t, srv, out, exitOK, "--api-version", version)
			if m := readManifest(t, out); m.Admins != "refreshed" || m.Teams != "refreshed" || len(m.Tables["admins"]) != 1 {
				t.Errorf("manifest: admins %q, teams %q, admins files %+v", m.Admins, m.Teams, m.Tables["admins"])
			}
			db := openDuckDB(t)
			admins := "read_parquet('" + filepath.Join(out, "admins", "data.parquet") + "')"
			teams := "read_parquet('" + filepath.Join(out, "teams", "data.parquet") + "')"
			if got := scalar(t, db, "SELECT string_agg(admin_id, ',' ORDER BY admin_id) FROM "+admins); got != strings.Join(intercomtest.AdminIDs(), ",") {
				t.Errorf("admins %s, want %v", got, intercomtest.AdminIDs())
			}
			if got := scalar(t, db, "SELECT string_agg(team_id, ',' ORDER BY team_id) FROM "+teams); got != strings.Join(intercomtest.TeamIDs(), ",") {
				t.Errorf("teams %s, want %v", got, intercomtest.TeamIDs())
			}
			// A team's members and an admin's teams are the same relation, seen from both sides.
			if got := scalar(t, db, `SELECT count(*) FROM (SELECT a.admin_id, unnest(a.team_ids) AS team_id FROM `+admins+` a)
				FULL JOIN (SELECT t.team_id, unnest(t.admin_ids) AS admin_id FROM `+teams+` t) USING (admin_id, team_id)
				WHERE admin_id IS NULL OR team_id IS NULL`); got != "0" {
				t.Errorf("%s memberships differ between admins.team_ids and teams.admin_ids", got)
			}
			if got := scalar(t, db, "SELECT name FROM "+admins+" WHERE admin_id = '814860'"); got != "Jane Doe" {
				t.Errorf("admin 814860 is %q", got)
			}
			conv := table(out, "conversations")
			parts := table(out, "conversation_parts")
			for what, q := range map[string]string{
				"assigned admins": `SELECT count(*), count(a.name) FROM ` + conv + ` c LEFT JOIN ` + admins + ` a ON a.admin_id = c.admin_assignee_id WHERE c.admin_assignee_id IS NOT NULL`,
				"assigned teams":  `SELECT count(*), count(t.name) FROM ` + conv + ` c LEFT JOIN ` + teams + ` t ON t.team_id = c.team_assignee_id WHERE c.team_assignee_id IS NOT NULL`,
				"admin authors":   `SELECT count(*), count(a.name) FROM ` + parts + ` p LEFT JOIN ` + admins + ` a ON a.admin_id = p.author_id WHERE p.author_type = 'admin'`,
				"team assignees":  `SELECT count(*), count(t.name) FROM ` + parts + ` p LEFT JOIN ` + teams + ` t ON t.team_id = p.assigned_to_id WHERE p.assigned_to_type = 'team'`,
			} {
				row := query(t, db, q)[0]
				if what == "team assignees" && strings.HasPrefix(version, "1.") {
					continue // 1.x sends assigned_to as a bare id, without its type
				}
				if row[0] == "0" || row[0] != row[1] {
					t.Errorf("%s: %s ids, %s of them named", what, row[0], row[1])
				}
			}
		})
	}
}

// A forbidden or missing admins or teams endpoint costs its table's refresh, with a warning: the
// previous file stays, the run succeeds. In 1.x the admins list stands in for a missing GET /teams.
func TestAdminsAndTeamsAreSideEndpoints(t *testing.T) {
	t.Parallel()
	ws := intercomtest.NewWorkspace(142, 12)
	out := t.TempDir()
	good := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken})
	defer good.Close()
	exportRun(t, good, out, exitOK)
	before := map[string][]byte{}
	for _, tbl := range load.WholeTables {
		data, err := os.ReadFile(filepath.Join(out, tbl, "data.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		before[tbl] = data
	}

	refusing := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, AdminsStatus: http.StatusForbidden, TeamsStatus: http.StatusNotFound})
	defer refusing.Close()
	_, stderr := exportRun(t, refusing, out, exitOK)
	m := readManifest(t, out)
	if m.Admins != "unavailable" || m.Teams != "unavailable" || len(m.Warnings) != 2 || !strings.Contains(stderr, "the previous admins file stays") {
		t.Errorf("admins %q, teams %q, warnings %q\n%s", m.Admins, m.Teams, m.Warnings, tail(stderr, 2000))
	}
	for _, tbl := range load.WholeTables {
		if data, _ := os.ReadFile(filepath.Join(out, tbl, "data.parquet")); string(data) != string(before[tbl]) {
			t.Errorf("%s changed although its endpoint refused", tbl)
		}
		if len(m.Tables[tbl]) != 0 {
			t.Errorf("the manifest lists %s files: %+v", tbl, m.Tables[tbl])
		}
	}

	old := intercomtest.NewServer(ws, intercomtest.Options{Token: testToken, TeamsStatus: http.StatusNotFound})
	defer old.Close()
	exportRun(t, old, out, exitOK, "--api-version", "1.4")
	if m := readManifest(t, out); m.Admins != "refreshed" || m.Teams != "refreshed" || strings.Contains(strings.Join(m.Warnings, " "), "teams") {
		t.Errorf("1.x without GET /teams: admins %q, teams %q, warnings %q", m.Admins, m.Teams, m.Warnings)
	}
	db := openDuckDB(t)
	if got := scalar(t, db, "SELECT string_agg(team_id || ':' || len(admin_ids), ',' ORDER BY team_id) FROM read_parquet('"+filepath.Join(out, "teams", "data.parquet")+"')"); got != "5017691:3,5017692:2,5017693:1" {
		t.Errorf("teams from the 1.x admins list: %s", got)
	}
}
