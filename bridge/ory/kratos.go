package ory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/bridge"
)

var _ bridge.Kratos = (*Kratos)(nil)

// Kratos talks to Kratos' public API (with the browser's cookies) and its
// admin API.
type Kratos struct {
	publicURL string
	http      *http.Client
	public    *ory.APIClient
	admin     *ory.APIClient
}

// NewKratos returns a Kratos client; httpClient must have a timeout.
func NewKratos(publicURL, adminURL string, httpClient *http.Client) *Kratos {
	return &Kratos{publicURL: strings.TrimSuffix(publicURL, "/"), http: httpClient, public: newAPI(publicURL, httpClient), admin: newAPI(adminURL, httpClient)}
}

// BrowserURL implements bridge.Kratos.
func (k *Kratos) BrowserURL(kind bridge.FlowKind) string {
	return k.publicURL + "/self-service/" + string(kind) + "/browser"
}

// Flow implements bridge.Kratos.
func (k *Kratos) Flow(ctx context.Context, kind bridge.FlowKind, id, cookie string) (bridge.Flow, error) {
	var (
		ui   ory.UiContainer
		resp *http.Response
		err  error
		f    = bridge.Flow{ID: id, Kind: kind}
	)
	api := k.public.FrontendAPI
	switch kind {
	case bridge.FlowLogin:
		var v *ory.LoginFlow
		v, resp, err = api.GetLoginFlow(ctx).Id(id).Cookie(cookie).Execute()
		if v != nil {
			ui, f.ReturnTo, f.LoginChallenge, f.Refresh = v.Ui, v.GetReturnTo(), v.GetOauth2LoginChallenge(), v.GetRefresh()
			f.DroppedChallenge = droppedChallenge(f.LoginChallenge, v.RequestUrl)
			f.AAL, f.ExpiresAt = string(v.GetRequestedAal()), v.ExpiresAt
		}
	case bridge.FlowRegistration:
		var v *ory.RegistrationFlow
		v, resp, err = api.GetRegistrationFlow(ctx).Id(id).Cookie(cookie).Execute()
		if v != nil {
			ui, f.ReturnTo, f.LoginChallenge, f.ExpiresAt = v.Ui, v.GetReturnTo(), v.GetOauth2LoginChallenge(), v.ExpiresAt
			f.DroppedChallenge = droppedChallenge(f.LoginChallenge, v.RequestUrl)
		}
	case bridge.FlowRecovery:
		var v *ory.RecoveryFlow
		v, resp, err = api.GetRecoveryFlow(ctx).Id(id).Cookie(cookie).Execute()
		if v != nil {
			ui, f.ReturnTo, f.ExpiresAt, f.State = v.Ui, v.GetReturnTo(), v.ExpiresAt, fmt.Sprint(v.State)
		}
	case bridge.FlowVerification:
		var v *ory.VerificationFlow
		v, resp, err = api.GetVerificationFlow(ctx).Id(id).Cookie(cookie).Execute()
		if v != nil {
			ui, f.ReturnTo, f.State = v.Ui, v.GetReturnTo(), fmt.Sprint(v.State)
		}
	case bridge.FlowSettings:
		var v *ory.SettingsFlow
		v, resp, err = api.GetSettingsFlow(ctx).Id(id).Cookie(cookie).Execute()
		if v != nil {
			ui, f.ReturnTo, f.ExpiresAt, f.State = v.Ui, v.GetReturnTo(), v.ExpiresAt, fmt.Sprint(v.State)
		}
	default:
		return bridge.Flow{}, fmt.Errorf("unknown flow kind %q", kind)
	}
	switch status(resp) {
	case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
		// Unknown, expired, or started by another browser (CSRF).
		return bridge.Flow{}, fmt.Errorf("%s flow: %w", kind, bridge.ErrFlowGone)
	}
	if err != nil {
		return bridge.Flow{}, upstreamError("get "+string(kind)+" flow", resp, err)
	}
	f.Action, f.Method = ui.Action, ui.Method
	f.Messages = messages(ui.Messages)
	for _, n := range ui.Nodes {
		f.Nodes = append(f.Nodes, node(n))
	}
	return f, nil
}

func messages(in []ory.UiText) []bridge.Message {
	out := make([]bridge.Message, 0, len(in))
	for _, m := range in {
		out = append(out, message(m))
	}
	return out
}

func message(m ory.UiText) bridge.Message {
	return bridge.Message{ID: m.Id, Type: m.Type, Text: m.Text, Context: m.Context}
}

// FlowError implements bridge.Kratos. It keeps Kratos' code, status,
// reason and message, never its debug details.
func (k *Kratos) FlowError(ctx context.Context, id string) (bridge.FlowError, error) {
	e, resp, err := k.public.FrontendAPI.GetFlowError(ctx).Id(id).Execute()
	if status(resp) == http.StatusNotFound {
		return bridge.FlowError{}, fmt.Errorf("error %s: %w", id, bridge.ErrFlowGone)
	}
	if err != nil {
		return bridge.FlowError{}, upstreamError("get flow error", resp, err)
	}
	out := bridge.FlowError{ID: e.Id}
	if code, ok := e.Error["code"].(float64); ok {
		out.Code = int(code)
	}
	out.Status, _ = e.Error["status"].(string)
	out.Reason, _ = e.Error["reason"].(string)
	out.Message, _ = e.Error["message"].(string)
	return out, nil
}

func node(n ory.UiNode) bridge.Node {
	out := bridge.Node{Group: n.Group, Type: n.Type, Messages: messages(n.Messages)}
	if n.Meta.Label != nil {
		l := message(*n.Meta.Label)
		out.Label = &l
	}
	a := n.Attributes
	switch {
	case a.UiNodeInputAttributes != nil:
		in := a.UiNodeInputAttributes
		out.Name, out.InputType, out.Disabled = in.Name, in.Type, in.Disabled
		out.Required = in.Required != nil && *in.Required
		out.Autocomplete = in.GetAutocomplete()
		if in.Value != nil {
			switch v := in.Value.(type) {
			case string:
				out.Value = v
			default:
				b, _ := json.Marshal(v)
				out.Value = strings.Trim(string(b), `"`)
			}
		}
	case a.UiNodeTextAttributes != nil:
		out.Text = a.UiNodeTextAttributes.Text.Text
	case a.UiNodeAnchorAttributes != nil:
		out.Href = a.UiNodeAnchorAttributes.Href
		l := message(a.UiNodeAnchorAttributes.Title)
		out.Label = &l
	case a.UiNodeImageAttributes != nil:
		out.Href = a.UiNodeImageAttributes.Src
	}
	return out
}

// Whoami implements bridge.Kratos.
func (k *Kratos) Whoami(ctx context.Context, cookie string) (bridge.Session, error) {
	if cookie == "" {
		return bridge.Session{}, bridge.ErrNoSession
	}
	s, resp, err := k.public.FrontendAPI.ToSession(ctx).Cookie(cookie).Execute()
	switch status(resp) {
	case http.StatusUnauthorized:
		return bridge.Session{}, bridge.ErrNoSession
	case http.StatusForbidden:
		// session_aal2_required: Kratos' only 403 on whoami.
		return bridge.Session{}, bridge.ErrAAL2Required
	}
	if err != nil {
		return bridge.Session{}, upstreamError("whoami", resp, err)
	}
	out := bridge.Session{ID: s.Id}
	if s.Identity != nil {
		out.Identity = identity(*s.Identity)
	}
	return out, nil
}

// Identity implements bridge.Kratos.
func (k *Kratos) Identity(ctx context.Context, id string) (bridge.Identity, error) {
	i, resp, err := k.admin.IdentityAPI.GetIdentity(ctx, id).Execute()
	if err != nil {
		return bridge.Identity{}, upstreamError("get identity", resp, err)
	}
	return identity(*i), nil
}

func identity(i ory.Identity) bridge.Identity {
	out := bridge.Identity{ID: i.Id}
	out.Traits, _ = i.Traits.(map[string]any)
	if i.UpdatedAt != nil {
		out.UpdatedAt = *i.UpdatedAt
	}
	for _, a := range i.VerifiableAddresses {
		if a.Verified {
			out.VerifiedAddresses = append(out.VerifiedAddresses, strings.ToLower(a.Value))
		}
	}
	return out
}

// EndBrowserSession implements bridge.Kratos. It runs Kratos' browser
// logout flow server-side with the browser's cookie. Kratos v1.3.1 finds the
// session of both steps without checking its AAL (whoami checks it, and
// answers 403 for an aal1 session of an identity with a second factor), and
// revokes the session of the cookie. Asked for JSON, the second step
// answers 204 instead of redirecting.
func (k *Kratos) EndBrowserSession(ctx context.Context, cookie string) error {
	if cookie == "" {
		return bridge.ErrNoSession
	}
	flow, resp, err := k.public.FrontendAPI.CreateBrowserLogoutFlow(ctx).Cookie(cookie).Execute()
	if status(resp) == http.StatusUnauthorized {
		return bridge.ErrNoSession
	}
	if err != nil {
		return upstreamError("create logout flow", resp, err)
	}
	// The token goes in the query; upstreamError never shows it.
	resp, err = k.public.FrontendAPI.UpdateLogoutFlow(ctx).Token(flow.LogoutToken).Cookie(cookie).Execute()
	if status(resp) == http.StatusUnauthorized {
		// The session ended between the two steps.
		return bridge.ErrNoSession
	}
	if err != nil {
		return upstreamError("update logout flow", resp, err)
	}
	return nil
}

// Ready implements bridge.Kratos.
func (k *Kratos) Ready(ctx context.Context) error {
	return ready(ctx, k.http, k.publicURL)
}

// droppedChallenge is the login_challenge of a flow's request URL when the
// flow itself has none (see bridge.Flow.DroppedChallenge), or "".
func droppedChallenge(kept, requestURL string) string {
	if kept != "" {
		return ""
	}
	u, err := url.Parse(requestURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("login_challenge")
}
