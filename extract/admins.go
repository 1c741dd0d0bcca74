package extract

import (
	"context"
)

// Admins returns the answer of GET /admins: the workspace's teammates in one page (the endpoint has no
// pagination), and in 1.x its teams too. It is an optional endpoint: where the app may not list admins
// (403) or the API does not offer the list, the error wraps ErrUnavailable.
func (c *Client) Admins(ctx context.Context) ([]byte, error) {
	data, err := c.getJSON(ctx, c.endpoint("/admins"))
	return data, optionalEndpointError("GET /admins", err)
}

// Teams returns the answer of GET /teams, in one page. It is an optional endpoint, as Admins.
func (c *Client) Teams(ctx context.Context) ([]byte, error) {
	data, err := c.getJSON(ctx, c.endpoint("/teams"))
	return data, optionalEndpointError("GET /teams", err)
}
