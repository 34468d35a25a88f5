package ory

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/bridge"
)

var _ bridge.Hydra = (*Hydra)(nil)

// Hydra talks to Hydra's admin API.
type Hydra struct {
	adminURL string
	http     *http.Client
	admin    *ory.APIClient
}

// NewHydra returns a Hydra client; httpClient must have a timeout.
func NewHydra(adminURL string, httpClient *http.Client) *Hydra {
	return &Hydra{adminURL: adminURL, http: httpClient, admin: newAPI(adminURL, httpClient)}
}

// challengeError maps Hydra's answer for an unknown, expired or used
// challenge (404, 410, and 400 for one it cannot decode) to
// bridge.ErrUnknownChallenge.
func challengeError(op string, resp *http.Response, err error) error {
	switch status(resp) {
	case http.StatusNotFound, http.StatusGone, http.StatusBadRequest:
		return bridge.ErrUnknownChallenge
	}
	return upstreamError(op, resp, err)
}

// Login implements bridge.Hydra.
func (h *Hydra) Login(ctx context.Context, challenge string) (bridge.LoginRequest, error) {
	r, resp, err := h.admin.OAuth2API.GetOAuth2LoginRequest(ctx).LoginChallenge(challenge).Execute()
	if err != nil {
		return bridge.LoginRequest{}, challengeError("get login request", resp, err)
	}
	return bridge.LoginRequest{Challenge: challenge, ClientID: r.Client.GetClientId(), RedirectURIs: r.Client.RedirectUris}, nil
}

// Consent implements bridge.Hydra.
func (h *Hydra) Consent(ctx context.Context, challenge string) (bridge.ConsentRequest, error) {
	r, resp, err := h.admin.OAuth2API.GetOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).Execute()
	if err != nil {
		return bridge.ConsentRequest{}, challengeError("get consent request", resp, err)
	}
	out := bridge.ConsentRequest{
		Challenge: challenge, Subject: r.GetSubject(), Skip: r.GetSkip(),
		RequestedScopes: r.RequestedScope, Audience: r.RequestedAccessTokenAudience,
	}
	if c := r.Client; c != nil {
		out.ClientID, out.ClientName, out.ClientSkip, out.RedirectURIs = c.GetClientId(), c.GetClientName(), c.GetSkipConsent(), c.RedirectUris
	}
	return out, nil
}

// AcceptConsent implements bridge.Hydra.
func (h *Hydra) AcceptConsent(ctx context.Context, challenge string, a bridge.AcceptConsent) (string, error) {
	body := ory.AcceptOAuth2ConsentRequest{GrantScope: a.Scopes, GrantAccessTokenAudience: a.Audience}
	body.SetRemember(a.Remember)
	body.SetRememberFor(int64(a.RememberFor.Seconds()))
	body.SetSession(ory.AcceptOAuth2ConsentRequestSession{IdToken: a.IDToken})
	r, resp, err := h.admin.OAuth2API.AcceptOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).AcceptOAuth2ConsentRequest(body).Execute()
	if err != nil {
		return "", challengeError("accept consent", resp, err)
	}
	return r.RedirectTo, nil
}

// RejectConsent implements bridge.Hydra with access_denied.
func (h *Hydra) RejectConsent(ctx context.Context, challenge, reason string) (string, error) {
	body := ory.RejectOAuth2Request{}
	body.SetError("access_denied")
	body.SetErrorDescription(reason)
	r, resp, err := h.admin.OAuth2API.RejectOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).RejectOAuth2Request(body).Execute()
	if err != nil {
		return "", challengeError("reject consent", resp, err)
	}
	return r.RedirectTo, nil
}

// Logout implements bridge.Hydra.
func (h *Hydra) Logout(ctx context.Context, challenge string) (bridge.LogoutRequest, error) {
	r, resp, err := h.admin.OAuth2API.GetOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	if err != nil {
		return bridge.LogoutRequest{}, challengeError("get logout request", resp, err)
	}
	out := bridge.LogoutRequest{Challenge: challenge, Subject: r.GetSubject()}
	if c := r.Client; c != nil {
		out.ClientID, out.ClientName, out.ClientSkip = c.GetClientId(), c.GetClientName(), c.GetSkipLogoutConsent()
		out.PostLogoutRedirectURIs = postLogoutRedirects(r.GetRequestUrl(), c.PostLogoutRedirectUris)
	}
	return out, nil
}

// postLogoutRedirects is where Hydra may send the browser after a logout:
// the post_logout_redirect_uri of the request when the client registered
// it, nothing when it did not, and all the client's when none was asked.
func postLogoutRedirects(requestURL string, registered []string) []string {
	u, err := url.Parse(requestURL)
	if err != nil {
		return nil
	}
	asked := u.Query().Get("post_logout_redirect_uri")
	switch {
	case asked == "":
		return registered
	case slices.Contains(registered, asked):
		return []string{asked}
	}
	return nil
}

// AcceptLogout implements bridge.Hydra.
func (h *Hydra) AcceptLogout(ctx context.Context, challenge string) (string, error) {
	r, resp, err := h.admin.OAuth2API.AcceptOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	if err != nil {
		return "", challengeError("accept logout", resp, err)
	}
	return r.RedirectTo, nil
}

// RejectLogout implements bridge.Hydra.
func (h *Hydra) RejectLogout(ctx context.Context, challenge string) error {
	resp, err := h.admin.OAuth2API.RejectOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	if err != nil {
		return challengeError("reject logout", resp, err)
	}
	return nil
}

// Ready implements bridge.Hydra.
func (h *Hydra) Ready(ctx context.Context) error {
	return ready(ctx, h.http, h.adminURL)
}
