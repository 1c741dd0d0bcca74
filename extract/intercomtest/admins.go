package intercomtest

import (
	"encoding/json"
	"net/http"
	"slices"
)

// teamMembers lists each team's admins; every admin of the workspace is in at least one team but
// 814864, who is in none, as teammates sometimes are.
var teamMembers = map[string][]string{
	"5017691": {"814860", "814861", "814862"},
	"5017692": {"814863", "814860"},
	"5017693": {"814865"},
}

// AdminIDs returns the ids GET /admins lists: every admin the generated conversations name.
func AdminIDs() []string {
	ids := make([]string, len(admins))
	for i, a := range admins {
		ids[i] = a.ID
	}
	return ids
}

// TeamIDs returns the ids GET /teams lists.
func TeamIDs() []string {
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	return ids
}

// numbers renders ids as JSON numbers, as the API sends team_ids and admin_ids.
func numbers(ids []string) []json.Number {
	out := make([]json.Number, len(ids))
	for i, id := range ids {
		out[i] = json.Number(id)
	}
	return out
}

func teamsOf(adminID string) []string {
	var out []string
	for _, t := range teams {
		if slices.Contains(teamMembers[t.ID], adminID) {
			out = append(out, t.ID)
		}
	}
	return out
}

// renderAdmin is one item of GET /admins. 2.x adds email_verified, has_inbox_seat, an avatar object
// and team_priority_level; 1.x sends the avatar as a plain URL, when at all.
func renderAdmin(i int, a Author, v version) map[string]any {
	m := map[string]any{
		"type": "admin", "id": a.ID, "name": a.Name, "email": a.Email,
		"away_mode_enabled": i == 3, "away_mode_reassign": i == 3,
		"team_ids": numbers(teamsOf(a.ID)),
	}
	if i%2 == 0 {
		m["job_title"] = "Support engineer"
	} else {
		m["job_title"] = nil
	}
	avatar := "https://static.intercomassets.com/avatars/" + a.ID + "/square_128/avatar.png"
	if !v.v2() {
		if i != 1 {
			m["avatar"] = avatar
		}
		return m
	}
	m["email_verified"] = i != 2
	m["has_inbox_seat"] = i != 5
	m["avatar"] = map[string]any{"type": "avatar", "image_url": avatar}
	primary := teamsOf(a.ID)
	if len(primary) > 1 {
		primary = primary[:1]
	}
	m["team_priority_level"] = map[string]any{"primary_team_ids": numbers(primary), "secondary_team_ids": []json.Number{}}
	return m
}

// renderTeam is one item of GET /teams; 1.x also lists it among the admins, with type team.
func renderTeam(i int, t Author, v version) map[string]any {
	members := teamMembers[t.ID]
	m := map[string]any{"type": "team", "id": t.ID, "name": t.Name, "admin_ids": numbers(members)}
	if !v.v2() {
		return m
	}
	m["admin_priority_level"] = map[string]any{"primary_admin_ids": numbers(members[:1]), "secondary_admin_ids": numbers(members[1:])}
	if v.atLeast(2, 14) {
		if i == 1 {
			m["assignment_limit"] = 10
			m["distribution_method"] = "load_balanced"
		} else {
			m["assignment_limit"] = nil
			m["distribution_method"] = "round_robin"
		}
	}
	return m
}

// listAdmins answers GET /admins: one page, no pagination. In 1.x the list carries the teams too.
func (s *Server) listAdmins(w http.ResponseWriter, v version) int {
	if st := s.opts.AdminsStatus; st != 0 {
		return s.refuse(w, st)
	}
	var items []map[string]any
	for i, a := range admins {
		items = append(items, renderAdmin(i, a, v))
	}
	if !v.v2() {
		for i, t := range teams {
			team := renderTeam(i, t, v)
			team["email"], team["away_mode_enabled"], team["away_mode_reassign"] = nil, false, false
			items = append(items, team)
		}
	}
	return s.writeJSON(w, http.StatusOK, map[string]any{"type": "admin.list", "admins": items})
}

// listTeams answers GET /teams: one page, no pagination.
func (s *Server) listTeams(w http.ResponseWriter, v version) int {
	if st := s.opts.TeamsStatus; st != 0 {
		return s.refuse(w, st)
	}
	items := []map[string]any{}
	for i, t := range teams {
		items = append(items, renderTeam(i, t, v))
	}
	return s.writeJSON(w, http.StatusOK, map[string]any{"type": "team.list", "teams": items})
}
