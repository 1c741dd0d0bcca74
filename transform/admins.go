package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/intercom-export/intercom-export/schemas"
)

// ErrInvalidList is wrapped by the errors of Admins and Teams: the answer is not the list it should be.
// Those lists are small and refreshed whole, so a bad one is refused whole and the previous files stay.
var ErrInvalidList = errors.New("invalid list")

type rawAdmin struct {
	Type              *string         `json:"type"`
	ID                id              `json:"id"`
	Name              *string         `json:"name"`
	Email             *string         `json:"email"`
	EmailVerified     boolean         `json:"email_verified"`
	JobTitle          *string         `json:"job_title"`
	AwayModeEnabled   boolean         `json:"away_mode_enabled"`
	AwayModeReassign  boolean         `json:"away_mode_reassign"`
	HasInboxSeat      boolean         `json:"has_inbox_seat"`
	TeamIDs           []id            `json:"team_ids"`
	AdminIDs          []id            `json:"admin_ids"` // 1.x: the teams listed among the admins
	Avatar            json.RawMessage `json:"avatar"`
	TeamPriorityLevel *struct {
		Primary   []id `json:"primary_team_ids"`
		Secondary []id `json:"secondary_team_ids"`
	} `json:"team_priority_level"`
}

type rawTeam struct {
	ID                 id      `json:"id"`
	Name               *string `json:"name"`
	AdminIDs           []id    `json:"admin_ids"`
	AdminPriorityLevel *struct {
		Primary   []id `json:"primary_admin_ids"`
		Secondary []id `json:"secondary_admin_ids"`
	} `json:"admin_priority_level"`
	AssignmentLimit    integer `json:"assignment_limit"`
	DistributionMethod *string `json:"distribution_method"`
}

// Admins reads a GET /admins answer into admins rows. In 1.x the list also carries the teams (items
// of type team), returned as teams rows: they stand in for GET /teams where that is not offered.
func Admins(body []byte, opts Options) (admins []schemas.Admin, teams []schemas.Team, err error) {
	items, err := listItems(body, "admin.list", "admins")
	if err != nil {
		return nil, nil, err
	}
	admins = []schemas.Admin{}
	for i, item := range items {
		var a rawAdmin
		if err := json.Unmarshal(item, &a); err != nil {
			return nil, nil, fmt.Errorf("%w: admins[%d]: %w", ErrInvalidList, i, err)
		}
		if a.ID.s == nil || *a.ID.s == "" {
			return nil, nil, fmt.Errorf("%w: admins[%d] has no id", ErrInvalidList, i)
		}
		src := sourceText(item, opts)
		if a.Type != nil && *a.Type == "team" {
			teams = append(teams, schemas.Team{TeamID: *a.ID.s, Name: a.Name, AdminIDs: idList(a.AdminIDs), SourceJSON: src})
			continue
		}
		row := schemas.Admin{
			AdminID: *a.ID.s, Name: a.Name, Email: a.Email, EmailVerified: a.EmailVerified.b, JobTitle: a.JobTitle,
			AwayModeEnabled: a.AwayModeEnabled.b, AwayModeReassign: a.AwayModeReassign.b, HasInboxSeat: a.HasInboxSeat.b,
			TeamIDs: idList(a.TeamIDs), AvatarURL: avatarURL(a.Avatar), SourceJSON: src,
		}
		if p := a.TeamPriorityLevel; p != nil {
			row.PrimaryTeamIDs, row.SecondaryTeamIDs = idList(p.Primary), idList(p.Secondary)
		}
		admins = append(admins, row)
	}
	return admins, teams, nil
}

// Teams reads a GET /teams answer into teams rows.
func Teams(body []byte, opts Options) ([]schemas.Team, error) {
	items, err := listItems(body, "team.list", "teams")
	if err != nil {
		return nil, err
	}
	teams := []schemas.Team{}
	for i, item := range items {
		var t rawTeam
		if err := json.Unmarshal(item, &t); err != nil {
			return nil, fmt.Errorf("%w: teams[%d]: %w", ErrInvalidList, i, err)
		}
		if t.ID.s == nil || *t.ID.s == "" {
			return nil, fmt.Errorf("%w: teams[%d] has no id", ErrInvalidList, i)
		}
		if t.AssignmentLimit.bad != "" {
			return nil, fmt.Errorf("%w: teams[%d].assignment_limit: want an integer, got %s", ErrInvalidList, i, t.AssignmentLimit.bad)
		}
		row := schemas.Team{TeamID: *t.ID.s, Name: t.Name, AdminIDs: idList(t.AdminIDs), AssignmentLimit: t.AssignmentLimit.ptr(),
			DistributionMethod: t.DistributionMethod, SourceJSON: sourceText(item, opts)}
		if p := t.AdminPriorityLevel; p != nil {
			row.PrimaryAdminIDs, row.SecondaryAdminIDs = idList(p.Primary), idList(p.Secondary)
		}
		teams = append(teams, row)
	}
	return teams, nil
}

// listItems returns the items of a list answer {"type": listType, key: [...]}.
func listItems(body []byte, listType, key string) ([]json.RawMessage, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: want a %s object: %w", ErrInvalidList, listType, err)
	}
	var typ string
	if raw, ok := env["type"]; ok {
		json.Unmarshal(raw, &typ)
	}
	if typ != "" && typ != listType {
		return nil, fmt.Errorf("%w: want a %s, got type %q", ErrInvalidList, listType, typ)
	}
	raw, ok := env[key]
	if !ok {
		return nil, fmt.Errorf("%w: the %s has no %q", ErrInvalidList, listType, key)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: %s.%s: want an array: %w", ErrInvalidList, listType, key, err)
	}
	return items, nil
}

// idList keeps nil (not sent or null) apart from empty, as the list columns do.
func idList(ids []id) []string {
	if ids == nil {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, v := range ids {
		if v.s != nil {
			out = append(out, *v.s)
		}
	}
	return out
}

// avatarURL reads avatar as an object with image_url (2.x) or a plain URL (1.x clients show both).
func avatarURL(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil && s != "" {
		return &s
	}
	var obj struct {
		ImageURL *string `json:"image_url"`
	}
	if raw[0] == '{' && json.Unmarshal(raw, &obj) == nil && obj.ImageURL != nil && *obj.ImageURL != "" {
		return obj.ImageURL
	}
	return nil
}

func sourceText(item json.RawMessage, opts Options) *string {
	if opts.OmitSourceJSON {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, item); err != nil {
		return nil
	}
	s := buf.String()
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return &s
}
