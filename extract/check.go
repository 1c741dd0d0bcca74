package extract

import (
	"context"
	"encoding/json"
	"fmt"
)

// Me is the admin a token acts as, and its workspace: GET /me.
type Me struct {
	ID    string
	Name  string
	Email string
	App   struct {
		ID     string `json:"id_code"`
		Name   string `json:"name"`
		Region string `json:"region"`
	}
}

// Me asks who the token is: the cheapest request that proves a token, its region and the pinned version.
func (c *Client) Me(ctx context.Context) (Me, error) {
	data, err := c.getJSON(ctx, c.endpoint("/me"))
	if err != nil {
		return Me{}, fmt.Errorf("GET /me: %w", err)
	}
	var raw struct {
		ID    jsonID `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
		App   *struct {
			IDCode string `json:"id_code"`
			Name   string `json:"name"`
			Region string `json:"region"`
		} `json:"app"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Me{}, fmt.Errorf("decoding GET /me: %w", err)
	}
	me := Me{ID: string(raw.ID), Name: raw.Name, Email: raw.Email}
	if raw.App != nil {
		me.App.ID, me.App.Name, me.App.Region = raw.App.IDCode, raw.App.Name, raw.App.Region
	}
	return me, nil
}

// CanListConversations reads one page of one conversation: the permission every run needs.
func (c *Client) CanListConversations(ctx context.Context) error {
	_, err := c.getJSON(ctx, c.endpoint("/conversations?per_page=1"))
	return err
}

// CanListDeletions reads one page of the optional deletions listing; an error wrapping ErrUnavailable
// means the workspace's API does not offer it to this token.
func (c *Client) CanListDeletions(ctx context.Context) error {
	if !c.version.hasDeleted() {
		return fmt.Errorf("listing deleted conversations needs Intercom-Version 2.16 or later, not %s: %w", c.cfg.APIVersion, ErrUnavailable)
	}
	_, err := c.getJSON(ctx, c.endpoint("/conversations/deleted?per_page=1"))
	return optionalEndpointError("GET /conversations/deleted", err)
}
