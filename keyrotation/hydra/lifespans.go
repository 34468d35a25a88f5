package hydra

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"time"

	ory "github.com/ory/client-go"
)

// maxClientPages bounds the client listing (500 clients a page).
const maxClientPages = 200

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// LongestClientTokenLifespan returns the longest access- or ID-token
// lifespan any OAuth2 client overrides (0 when none does). Refresh-token
// lifespans do not count: refresh tokens are not signed with these keys.
func (a *Admin) LongestClientTokenLifespan(ctx context.Context) (time.Duration, error) {
	var longest time.Duration
	pageToken := ""
	for page := 0; page < maxClientPages; page++ {
		req := a.api.OAuth2API.ListOAuth2Clients(ctx).PageSize(500)
		if pageToken != "" {
			req = req.PageToken(pageToken)
		}
		clients, resp, err := req.Execute()
		if err != nil {
			return 0, apiError("list clients", resp, err)
		}
		for _, c := range clients {
			for _, v := range []ory.NullableString{
				c.AuthorizationCodeGrantAccessTokenLifespan, c.AuthorizationCodeGrantIdTokenLifespan,
				c.ClientCredentialsGrantAccessTokenLifespan, c.ImplicitGrantAccessTokenLifespan,
				c.ImplicitGrantIdTokenLifespan, c.JwtBearerGrantAccessTokenLifespan,
				c.RefreshTokenGrantAccessTokenLifespan, c.RefreshTokenGrantIdTokenLifespan,
			} {
				if s := v.Get(); s != nil && *s != "" {
					d, err := time.ParseDuration(*s)
					if err != nil {
						return 0, fmt.Errorf("client %s: lifespan %q: %w", c.GetClientId(), *s, err)
					}
					longest = max(longest, d)
				}
			}
		}
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if m == nil || len(clients) == 0 {
			return longest, nil
		}
		u, err := url.Parse(m[1])
		if err != nil {
			return 0, fmt.Errorf("list clients: next link: %w", err)
		}
		next := u.Query().Get("page_token")
		if next == "" || next == pageToken {
			return longest, nil
		}
		pageToken = next
	}
	return 0, fmt.Errorf("list clients: more than %d pages", maxClientPages)
}
