package main

import (
	"context"
	"errors"
	"time"

	"github.com/intercom-export/intercom-export/extract"
	"github.com/intercom-export/intercom-export/load"
	"github.com/intercom-export/intercom-export/schemas"
	"github.com/intercom-export/intercom-export/transform"
)

// sideStatus says what a run did with the admins and teams tables, for the manifest: refreshed (the
// list was read and the table rewritten whole), unavailable (the API does not offer the list to this
// app: 403, 404, 405), failed (it did not answer, or answered something that is not the list). In the
// last two cases the previous file stays as it was.
const (
	sideRefreshed   = "refreshed"
	sideUnavailable = "unavailable"
	sideFailed      = "failed"
)

// sideTables lists the admins and the teams and hands them, whole, to the run's last commit. Both are
// side endpoints, as the deletions listing: one that fails costs its own table's refresh, with a
// warning, never the run; only a cancelled run or a refused token (401) stops it. In 1.x the admins
// list also carries the teams, which stand in for GET /teams when that is not offered.
func (j *exportJob) sideTables(ctx context.Context) (admins, teams string, warnings []string, err error) {
	opts := transform.Options{OmitSourceJSON: !j.o.SourceJSON}
	runID := j.run.writer.RunID()
	var listedTeams []schemas.Team
	warn := func(table string, err error) (string, error) {
		status, why, stop := sideFailure(ctx, err)
		if stop {
			return "", err
		}
		msg := table + " " + why + "; the previous " + table + " file stays"
		j.log.Warn().Err(err).Str(table, status).Msg(msg)
		warnings = append(warnings, msg+" ("+err.Error()+")")
		return status, nil
	}

	body, err := j.client.Admins(ctx)
	var rows []schemas.Admin
	if err == nil {
		rows, listedTeams, err = transform.Admins(body, opts)
	}
	if err != nil {
		if admins, err = warn(schemas.TableAdmins, err); err != nil {
			return "", "", nil, err
		}
	} else {
		at := time.Now().UTC()
		for i := range rows {
			rows[i].RunID, rows[i].ExportedAt = &runID, &at
		}
		if err := load.ReplaceTable(j.run.writer, schemas.TableAdmins, rows); err != nil {
			return "", "", nil, err
		}
		admins = sideRefreshed
	}

	body, err = j.client.Teams(ctx)
	var teamRows []schemas.Team
	switch {
	case err == nil:
		teamRows, err = transform.Teams(body, opts)
	case errors.Is(err, extract.ErrUnavailable) && listedTeams != nil:
		j.log.Info().Err(err).Msg("teams taken from the admins list, which carries them in this API version")
		teamRows, err = listedTeams, nil
	}
	if err != nil {
		if teams, err = warn(schemas.TableTeams, err); err != nil {
			return "", "", nil, err
		}
		return admins, teams, warnings, nil
	}
	at := time.Now().UTC()
	for i := range teamRows {
		teamRows[i].RunID, teamRows[i].ExportedAt = &runID, &at
	}
	if err := load.ReplaceTable(j.run.writer, schemas.TableTeams, teamRows); err != nil {
		return "", "", nil, err
	}
	return admins, sideRefreshed, warnings, nil
}

// sideFailure classifies the failure of a side endpoint. A cancelled run and a refused token stop the
// run (a 401 is the token's, not the endpoint's); anything else costs the endpoint's data only.
func sideFailure(ctx context.Context, err error) (status, why string, stop bool) {
	switch {
	case ctx.Err() != nil, errors.Is(err, extract.ErrAuth) && !errors.Is(err, extract.ErrUnavailable):
		return "", "", true
	case errors.Is(err, extract.ErrUnavailable):
		return sideUnavailable, "are not listed by this workspace's API for this app (it may need the \"Read admins and teams\" permission)", false
	}
	return sideFailed, "could not be listed; the next run tries again", false
}
