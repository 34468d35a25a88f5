//go:build integration

package bridge_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	ory "github.com/ory/client-go"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/idstack/idstack/bridge"
	bridgeory "github.com/idstack/idstack/bridge/ory"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/internal/webagent"
	"github.com/idstack/idstack/internal/webform"
)

// agent is a browser (internal/webagent) that stops at the relying
// party's callback (which nothing serves: the test reads the code from the
// URL), with helpers that fail the test.
type agent struct {
	t   testing.TB
	top infra.Topology
	web *webagent.Agent
	c   *http.Client
}

func newAgent(t testing.TB, top infra.Topology, callback string) *agent {
	web := webagent.New(top.HTTPClient(15*time.Second), callback)
	return &agent{t: t, top: top, web: web, c: web.HTTP}
}

func (a *agent) get(u string) (*http.Response, string) {
	a.t.Helper()
	resp, page, err := a.getE(u)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, page
}

func (a *agent) post(u string, form url.Values) (*http.Response, string) {
	a.t.Helper()
	resp, page, err := a.postE(u, form)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, page
}

// getE and postE return errors instead of failing the test, for use off
// the test goroutine. The response's body is read and closed.
func (a *agent) getE(u string) (*http.Response, string, error) {
	p, err := a.web.Get(context.Background(), u)
	return p.Resp, p.Text, err
}

func (a *agent) postE(u string, form url.Values) (*http.Response, string, error) {
	p, err := a.web.PostForm(context.Background(), u, form)
	return p.Resp, p.Text, err
}

// form is an HTML form as a browser would submit it (internal/webform).
type form = webform.Form

func parseForm(t *testing.T, page string) form {
	t.Helper()
	forms := parseForms(t, page)
	if len(forms) == 0 {
		t.Fatalf("no form on page:\n%.2000s", page)
	}
	return forms[0]
}

// formWith returns the first form that has an input named field.
func formWith(t *testing.T, page, field string) form {
	t.Helper()
	f, err := webform.With(page, field)
	if err != nil {
		t.Fatalf("%v:\n%.3000s", err, page)
	}
	return f
}

// parseForms returns every form on a page with its inputs (not buttons).
func parseForms(t *testing.T, page string) []form {
	t.Helper()
	forms, err := webform.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	return forms
}

// formWithE is formWith without failing the test.
func formWithE(page, field string) (form, error) { return webform.With(page, field) }

// link returns the first <a href> on page that contains part.
func link(t *testing.T, page, part string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "href" && strings.Contains(a.Val, part) && found == "" {
					found = a.Val
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == "" {
		t.Fatalf("no link to %s on page", part)
	}
	return found
}

func randomEmail() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "user-" + hex.EncodeToString(b) + "@example.com"
}

// TestOAuth2LoginThroughTheBridge signs up and in through the bridge with
// real Kratos and Hydra: authorization code with PKCE, consent, tokens; the
// ID token is verified with go-oidc (signature, issuer, audience, nonce)
// and carries the claims of the granted scopes.
func TestOAuth2LoginThroughTheBridge(t *testing.T) {
	s, _ := infratest.Establish(t, infratest.WithName("idstack-br"), infratest.WithBasePort(4830))
	top := s.Topology
	ctx := oidc.ClientContext(context.Background(), top.HTTPClient(15*time.Second))
	region := top.Primary()
	callback := "http://app.idstack.test:4830/callback"

	// An OAuth2 client, as the relying party registers it.
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: top.AdminURL(infra.HostHydra, region)}}
	cfg.HTTPClient = top.HTTPClient(10 * time.Second)
	api := ory.NewAPIClient(cfg)
	c := ory.NewOAuth2Client()
	c.SetClientName("Demo App")
	c.SetGrantTypes([]string{"authorization_code", "refresh_token"})
	c.SetResponseTypes([]string{"code"})
	c.SetRedirectUris([]string{callback})
	c.SetPostLogoutRedirectUris([]string{callback + "/logged-out"})
	c.SetScope("openid email profile offline_access")
	created, _, err := api.OAuth2API.CreateOAuth2Client(context.Background()).OAuth2Client(*c).Execute()
	if err != nil {
		t.Fatal(err)
	}

	provider, err := oidc.NewProvider(ctx, top.IssuerURL())
	if err != nil {
		t.Fatalf("discovery through the global issuer: %v", err)
	}
	oc := oauth2.Config{
		ClientID: created.GetClientId(), ClientSecret: created.GetClientSecret(),
		Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	email, password := randomEmail(), "correct horse battery staple 42"

	rp := relyingParty{ctx: ctx, provider: provider, oc: oc}
	var lastIDToken string
	wantVerified := false
	// login authorizes in a through the bridge, registering on the way
	// when asked (the login page's link, which must keep the challenge),
	// and checks the ID token's claims against the identity.
	login := func(a *agent, register bool) (consentShown bool) {
		t.Helper()
		az, resp, page := rp.begin(t, a)
		if !strings.Contains(resp.Request.URL.Path, "/login") {
			t.Fatalf("expected the bridge's login page, got %s", resp.Request.URL)
		}
		if register {
			href := link(t, page, "/self-service/registration/browser")
			if !strings.Contains(href, "login_challenge=") {
				t.Fatalf("the registration link drops the login challenge: %s", href)
			}
			regResp, regPage := a.get(href)
			if !strings.HasSuffix(regResp.Request.URL.Path, "/registration") {
				t.Fatalf("expected the bridge's registration page, got %s", regResp.Request.URL)
			}
			f := parseForm(t, regPage)
			f.Fields.Set("traits.email", email)
			f.Fields.Set("password", password)
			f.Fields.Set("traits.name.first", "Ada")
			f.Fields.Set("traits.name.last", "Lovelace")
			f.Fields.Set("method", "password")
			resp, page = a.post(f.Action, f.Fields)
		} else {
			f := parseForm(t, page)
			f.Fields.Set("identifier", email)
			f.Fields.Set("password", password)
			f.Fields.Set("method", "password")
			resp, page = a.post(f.Action, f.Fields)
		}
		claims, raw, consentShown := rp.complete(t, a, az, resp, page)
		lastIDToken = raw
		verified, present := claims["email_verified"].(bool)
		if claims["email"] != email || !present || verified != wantVerified || claims["name"] != "Ada Lovelace" || claims["given_name"] != "Ada" {
			t.Fatalf("claims %v, want email %s, email_verified %v, name Ada Lovelace, given_name Ada", claims, email, wantVerified)
		}
		return consentShown
	}

	first := newAgent(t, top, callback)
	if shown := login(first, true); !shown {
		t.Fatal("a new client's first login must show consent")
	}
	// A fresh browser signs in again; consent was remembered.
	second := newAgent(t, top, callback)
	if shown := login(second, false); shown {
		t.Fatal("a remembered consent was asked again")
	}

	t.Run("deny lands at the client with access_denied", func(t *testing.T) {
		// A second client, never consented to.
		c2 := ory.NewOAuth2Client()
		c2.SetClientName("Other App")
		c2.SetGrantTypes([]string{"authorization_code"})
		c2.SetResponseTypes([]string{"code"})
		c2.SetRedirectUris([]string{callback})
		c2.SetScope("openid email")
		other, _, err := api.OAuth2API.CreateOAuth2Client(context.Background()).OAuth2Client(*c2).Execute()
		if err != nil {
			t.Fatal(err)
		}
		oc2 := oc
		oc2.ClientID, oc2.ClientSecret, oc2.Scopes = other.GetClientId(), other.GetClientSecret(), []string{"openid", "email"}
		// The first agent still has its session: straight to consent.
		resp, page := first.get(oc2.AuthCodeURL("state-deny-0123456789", oidc.Nonce("nonce-deny-0123456789")))
		if !strings.Contains(resp.Request.URL.Path, "/consent") {
			t.Fatalf("expected consent, got %s", resp.Request.URL)
		}
		f := parseForm(t, page)
		f.Fields.Set("action", "deny")
		resp, _ = first.post(resp.Request.URL.ResolveReference(mustURL(t, f.Action)).String(), f.Fields)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("error") != "access_denied" {
			t.Fatalf("deny ended at %s", loc)
		}
	})

	t.Run("a tampered consent challenge is refused and nothing is accepted", func(t *testing.T) {
		bridgeURL := top.PublicURL(infra.HostLogin, region)
		for _, ch := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not<valid>", strings.Repeat("A", 5000)} {
			resp, _ := first.get(bridgeURL + "/consent?consent_challenge=" + url.QueryEscape(ch))
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("challenge %.20q: got %d, want a 4xx page", ch, resp.StatusCode)
			}
		}
	})

	t.Run("a Kratos error is shown by its id", func(t *testing.T) {
		a := newAgent(t, top, callback)
		resp, page := a.get(top.PublicURL(infra.HostKratos, region) + "/self-service/login/browser?return_to=" + url.QueryEscape("https://evil.example/"))
		if resp.Request.URL.Path != "/error" || !strings.Contains(page, "is not allowed") {
			t.Errorf("ended at %s (%d), want the bridge's error page with Kratos' reason:\n%.2000s", resp.Request.URL, resp.StatusCode, page)
		}
	})

	t.Run("logout ends the Hydra and the Kratos session", func(t *testing.T) {
		end := provider.Endpoint().AuthURL
		end = strings.Replace(end, "/oauth2/auth", "/oauth2/sessions/logout", 1)
		q := url.Values{"id_token_hint": {lastIDToken}, "post_logout_redirect_uri": {callback + "/logged-out"}, "state": {"logout-state-0123"}}
		resp, page := second.get(end + "?" + q.Encode())
		if !strings.Contains(resp.Request.URL.Path, "/logout") {
			t.Fatalf("expected the bridge's logout page, got %s", resp.Request.URL)
		}
		// The form's redirects end at the client: Chromium checks form-action
		// on each of them.
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, " http://app.idstack.test:4830") {
			t.Errorf("logout page CSP %q lacks the client's post-logout origin", csp)
		}
		f := parseForm(t, page)
		f.Fields.Set("action", "accept")
		resp, _ = second.post(resp.Request.URL.ResolveReference(mustURL(t, f.Action)).String(), f.Fields)
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, callback+"/logged-out") {
			t.Fatalf("logout ended at %s (%d)", loc, resp.StatusCode)
		}
		// The Kratos session is gone...
		who, _ := second.get(top.PublicURL(infra.HostKratos, region) + "/sessions/whoami")
		if who.StatusCode != http.StatusUnauthorized {
			t.Errorf("whoami after logout: %d, want 401", who.StatusCode)
		}
		// ...and so is Hydra's: a new authorization asks to sign in again.
		resp, _ = second.get(oc.AuthCodeURL("state-after-logout-0123", oidc.Nonce("nonce-after-logout-0123")))
		if !strings.Contains(resp.Request.URL.Path, "/login") {
			t.Errorf("after logout an authorization went to %s, want the login page", resp.Request.URL)
		}
	})

	t.Run("verification by e-mail code makes email_verified true", func(t *testing.T) {
		a := newAgent(t, top, callback)
		_, page := a.get(top.PublicURL(infra.HostLogin, region) + "/verification")
		f := formWith(t, page, "email")
		f.Fields.Set("email", email)
		f.Fields.Set("method", "code")
		sent, page := a.post(f.Action, f.Fields)
		// Registration mailed a code too, maybe late: take the mail that
		// names this flow.
		flow := sent.Request.URL.Query().Get("flow")
		f = formWith(t, page, "code")
		f.Fields.Set("code", mailedCode(t, top, email, flow))
		f.Fields.Set("method", "code")
		f.Fields.Del("email")
		resp, page := a.post(f.Action, f.Fields)
		if !strings.Contains(page, `data-id="1080002"`) {
			t.Fatalf("no success message after the code, at %s:\n%.1500s", resp.Request.URL, page)
		}
		// The next ID token says so: claims come from the identity at consent.
		wantVerified = true
		login(newAgent(t, top, callback), false)
	})

	t.Run("recovery by e-mail code, a new password in settings, then sign in with it", func(t *testing.T) {
		a := newAgent(t, top, callback)
		bridgeURL := top.PublicURL(infra.HostLogin, region)
		_, page := a.get(bridgeURL + "/recovery")
		f := formWith(t, page, "email")
		f.Fields.Set("email", email)
		f.Fields.Set("method", "code")
		resp, page := a.post(f.Action, f.Fields)
		if !strings.HasSuffix(resp.Request.URL.Path, "/recovery") {
			t.Fatalf("after asking for a code: %s", resp.Request.URL)
		}
		code := mailedCode(t, top, email, "recover")
		f = formWith(t, page, "code")
		f.Fields.Set("code", code)
		f.Fields.Set("method", "code")
		f.Fields.Del("email") // posting the address again would ask for a new code
		resp, page = a.post(f.Action, f.Fields)
		if !strings.HasSuffix(resp.Request.URL.Path, "/settings") {
			t.Fatalf("a valid recovery code led to %s:\n%.1500s", resp.Request.URL, page)
		}
		const newPassword = "a brand new passphrase 99"
		f = formWith(t, page, "password")
		f.Fields.Set("password", newPassword)
		f.Fields.Set("method", "password")
		resp, page = a.post(f.Action, f.Fields)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-id="1050001"`) {
			t.Fatalf("settings: %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, page)
		}
		// A fresh browser signs in with the new password and lands on the
		// bridge's signed-in page.
		b := newAgent(t, top, callback)
		_, page = b.get(bridgeURL + "/login")
		f = formWith(t, page, "identifier")
		f.Fields.Set("identifier", email)
		f.Fields.Set("password", newPassword)
		f.Fields.Set("method", "password")
		resp, page = b.post(f.Action, f.Fields)
		if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
			t.Fatalf("sign-in with the new password ended at %s:\n%.1500s", resp.Request.URL, page)
		}
	})

	// The subtests below sign up users of their own, through the bridge's
	// registration page, and drive OAuth2 logins with rp.
	bridgeURL := top.PublicURL(infra.HostLogin, region)
	kratosURL := top.PublicURL(infra.HostKratos, region)

	t.Run("claims per scope, and a name changed in settings shows in the next ID token", func(t *testing.T) {
		a := newAgent(t, top, callback)
		email := randomEmail()
		signedUp := time.Now()
		register(t, a, bridgeURL, email, password)

		claims, _ := rp.authorize(t, a, email, password)
		if claims["given_name"] != "Ada" || claims["family_name"] != "Lovelace" || claims["preferred_username"] != email {
			t.Errorf("profile claims %v, want given_name Ada, family_name Lovelace, preferred_username %s", claims, email)
		}
		updated := updatedAt(t, claims)
		if updated.Before(signedUp.Add(-time.Minute)) || updated.After(time.Now().Add(time.Minute)) {
			t.Errorf("updated_at %v, want about the sign-up at %v", updated, signedUp)
		}

		// With openid alone, the ID token names the subject and nothing else
		// of the identity.
		openid := rp
		openid.oc.Scopes = []string{oidc.ScopeOpenID}
		claims, _ = openid.authorize(t, a, email, password)
		if sub, _ := claims["sub"].(string); sub == "" {
			t.Errorf("no sub in %v", claims)
		}
		for _, c := range []string{"email", "email_verified", "name", "given_name", "family_name", "preferred_username", "updated_at"} {
			if v, ok := claims[c]; ok {
				t.Errorf("scope openid alone released %s: %v", c, v)
			}
		}

		_, page := a.get(bridgeURL + "/settings")
		f := formWith(t, page, "traits.name.first")
		f.Fields.Set("traits.name.first", "Augusta")
		f.Fields.Set("method", "profile")
		resp, page := a.post(f.Action, f.Fields)
		if !strings.Contains(page, `data-id="1050001"`) {
			t.Fatalf("profile settings: %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, page)
		}
		claims, _ = rp.authorize(t, a, email, password)
		if claims["given_name"] != "Augusta" || claims["name"] != "Augusta Lovelace" {
			t.Errorf("after the change: given_name %v, name %v, want Augusta, Augusta Lovelace", claims["given_name"], claims["name"])
		}
		if later := updatedAt(t, claims); later.Before(updated) {
			t.Errorf("updated_at went back from %v to %v", updated, later)
		}
	})

	t.Run("a first-party client skips consent", func(t *testing.T) {
		// The local bridge runs with --first-party naming this id; the client
		// itself does not skip consent, and a new user has remembered none:
		// only the bridge can skip it.
		c := ory.NewOAuth2Client()
		c.SetClientId(infra.FirstPartyTestID)
		c.SetClientName("First-Party App")
		c.SetGrantTypes([]string{"authorization_code"})
		c.SetResponseTypes([]string{"code"})
		c.SetRedirectUris([]string{callback})
		c.SetScope("openid email")
		created, _, err := api.OAuth2API.CreateOAuth2Client(context.Background()).OAuth2Client(*c).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if created.GetClientId() != infra.FirstPartyTestID || created.GetSkipConsent() {
			t.Fatalf("created client %s with skip_consent %v, want %s without", created.GetClientId(), created.GetSkipConsent(), infra.FirstPartyTestID)
		}
		fp := rp
		fp.oc.ClientID, fp.oc.ClientSecret, fp.oc.Scopes = created.GetClientId(), created.GetClientSecret(), []string{oidc.ScopeOpenID, "email"}

		a := newAgent(t, top, callback)
		email := randomEmail()
		register(t, a, bridgeURL, email, password)
		claims, shown := fp.authorize(t, a, email, password)
		if shown {
			t.Fatal("the bridge showed consent to a first-party client")
		}
		if claims["email"] != email {
			t.Errorf("email claim %v, want %s: the skipped consent grants the requested scopes", claims["email"], email)
		}
	})

	t.Run("a second factor: TOTP linked in settings, then a login at aal2", func(t *testing.T) {
		a := newAgent(t, top, callback)
		email := randomEmail()
		register(t, a, bridgeURL, email, password)

		// Settings shows the secret (a Kratos text node) beside its QR code.
		_, page := a.get(bridgeURL + "/settings")
		secret := codeText(t, page, "totp")
		f := formWith(t, page, "totp_code")
		f.Fields.Set("totp_code", totpCode(t, secret, time.Now()))
		f.Fields.Set("method", "totp")
		resp, page := a.post(f.Action, f.Fields)
		if !strings.Contains(page, `data-id="1050001"`) || !strings.Contains(page, `name="totp_unlink"`) {
			t.Fatalf("linking TOTP: %d at %s:\n%.2000s", resp.StatusCode, resp.Request.URL, page)
		}

		// A fresh browser signs in with the password. Kratos' whoami wants
		// the highest level the identity has set up (session.whoami.required_aal
		// defaults to highest_available), so Kratos asks for the code at once.
		b := newAgent(t, top, callback)
		resp, page = signIn(t, b, bridgeURL, email, password)
		if _, err := formWithE(page, "totp_code"); resp.Request.URL.Path != "/login" || err != nil {
			t.Fatalf("the password sign-in ended at %s, want the bridge's aal2 login page:\n%.2000s", resp.Request.URL, page)
		}
		if status, _ := assurance(t, b, kratosURL); status != http.StatusForbidden {
			t.Fatalf("whoami at aal1: %d, want 403 (session_aal2_required)", status)
		}
		// The home page asks for the code too, instead of sending the browser
		// to a login that finds the session and sends it back.
		resp, page = b.get(bridgeURL + "/")
		if _, err := formWithE(page, "totp_code"); resp.Request.URL.Path != "/login" || err != nil {
			t.Fatalf("the home page at aal1 ended at %s, want the aal2 login page:\n%.2000s", resp.Request.URL, page)
		}

		// The aal2 login as an application asks for it.
		resp, page = b.get(bridgeURL + "/login?aal=aal2")
		if resp.Request.URL.Path != "/login" {
			t.Fatalf("login?aal=aal2 ended at %s", resp.Request.URL)
		}
		f = formWith(t, page, "totp_code")
		f.Fields.Set("totp_code", totpCode(t, secret, time.Now()))
		f.Fields.Set("method", "totp")
		resp, page = b.post(f.Action, f.Fields)
		if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
			t.Fatalf("the TOTP code led to %s:\n%.2000s", resp.Request.URL, page)
		}
		if status, aal := assurance(t, b, kratosURL); status != http.StatusOK || aal != "aal2" {
			t.Errorf("whoami after the code: %d with %q, want 200 with aal2", status, aal)
		}

		// A browser signed in with the password only (aal1): whoami withholds
		// its session, yet the bridge's logout must end it.
		c := newAgent(t, top, callback)
		signIn(t, c, bridgeURL, email, password)
		if status, _ := assurance(t, c, kratosURL); status != http.StatusForbidden {
			t.Fatalf("whoami at aal1: %d, want 403", status)
		}
		admin := ory.NewConfiguration()
		admin.Servers = ory.ServerConfigurations{{URL: top.AdminURL(infra.HostKratos, region)}}
		admin.HTTPClient = top.HTTPClient(10 * time.Second)
		kratosAdmin := ory.NewAPIClient(admin)
		identityID := sessionIdentity(t, b, kratosURL)
		before := activeSessions(t, kratosAdmin, identityID)
		k := bridgeory.NewKratos(kratosURL, top.AdminURL(infra.HostKratos, region), top.HTTPClient(10*time.Second))
		if err := k.EndBrowserSession(context.Background(), cookieHeader(c, kratosURL)); err != nil {
			t.Fatalf("ending the aal1 session: %v", err)
		}
		if status, _ := assurance(t, c, kratosURL); status != http.StatusUnauthorized {
			t.Errorf("whoami after ending the aal1 session: %d, want 401", status)
		}
		if after := activeSessions(t, kratosAdmin, identityID); len(after) != len(before)-1 {
			t.Errorf("active sessions: %d before, %d after, want one fewer", len(before), len(after))
		}
		if status, _ := assurance(t, b, kratosURL); status != http.StatusOK {
			t.Errorf("the other browser's aal2 session: whoami %d, want 200 (only the cookie's session ends)", status)
		}
		if err := k.EndBrowserSession(context.Background(), cookieHeader(c, kratosURL)); !errors.Is(err, bridge.ErrNoSession) {
			t.Errorf("ending it again: got %v, want ErrNoSession", err)
		}
	})
}

// cookieHeader is the Cookie header a's browser sends to u.
func cookieHeader(a *agent, u string) string {
	a.t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		a.t.Fatal(err)
	}
	var parts []string
	for _, c := range a.c.Jar.Cookies(parsed) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// sessionIdentity is the identity id of a's Kratos session (whoami 200).
func sessionIdentity(t *testing.T, a *agent, kratosURL string) string {
	t.Helper()
	resp, body := a.get(kratosURL + "/sessions/whoami")
	var s struct {
		Identity struct {
			ID string `json:"id"`
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil || resp.StatusCode != http.StatusOK || s.Identity.ID == "" {
		t.Fatalf("whoami: %d %v", resp.StatusCode, err)
	}
	return s.Identity.ID
}

// activeSessions lists the identity's active sessions (Kratos admin API).
func activeSessions(t *testing.T, admin *ory.APIClient, identityID string) []ory.Session {
	t.Helper()
	ss, _, err := admin.IdentityAPI.ListIdentitySessions(context.Background(), identityID).Active(true).Execute()
	if err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	return ss
}

// mailedCode waits for the newest mail to addr whose subject or text
// contains word and returns the six-digit code in it.
func mailedCode(t *testing.T, top infra.Topology, addr, word string) string {
	t.Helper()
	c := top.HTTPClient(35 * time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(top.MailURL() + "/api/messages?wait=10s&to=" + url.QueryEscape(addr))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []struct {
			Subject, Text string
		}
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if strings.Contains(strings.ToLower(m.Subject), word) || strings.Contains(m.Text, word) {
				if code := sixDigits.FindString(m.Text); code != "" {
					return code
				}
			}
		}
	}
	t.Fatalf("no %q mail with a code to %s", word, addr)
	return ""
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// register signs a new identity (Ada Lovelace, of email) up through the
// bridge's registration page, without an OAuth2 login: a ends signed in,
// on the bridge's home page.
func register(t *testing.T, a *agent, bridgeURL, email, password string) {
	t.Helper()
	_, page := a.get(bridgeURL + "/registration")
	f := parseForm(t, page)
	f.Fields.Set("traits.email", email)
	f.Fields.Set("password", password)
	f.Fields.Set("traits.name.first", "Ada")
	f.Fields.Set("traits.name.last", "Lovelace")
	f.Fields.Set("method", "password")
	resp, page := a.post(f.Action, f.Fields)
	if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
		t.Fatalf("registration ended at %s (%d), not the signed-in page:\n%.1500s", resp.Request.URL, resp.StatusCode, page)
	}
}

// signIn submits the password form of the bridge's login page and returns
// where that ended.
func signIn(t *testing.T, a *agent, bridgeURL, email, password string) (*http.Response, string) {
	t.Helper()
	_, page := a.get(bridgeURL + "/login")
	f := formWith(t, page, "identifier")
	f.Fields.Set("identifier", email)
	f.Fields.Set("password", password)
	f.Fields.Set("method", "password")
	return a.post(f.Action, f.Fields)
}

// assurance asks Kratos' whoami, with a's cookies, for the session's
// authenticator assurance level; it returns the status and the level.
func assurance(t *testing.T, a *agent, kratosURL string) (status int, aal string) {
	t.Helper()
	resp, body := a.get(kratosURL + "/sessions/whoami")
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, ""
	}
	var s struct {
		AAL string `json:"authenticator_assurance_level"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return resp.StatusCode, s.AAL
}

// relyingParty is an OAuth2 client of Hydra as the tests drive it.
type relyingParty struct {
	ctx      context.Context // go-oidc's, with the topology's HTTP client
	provider *oidc.Provider
	oc       oauth2.Config
}

// authorization is what a relying party keeps between sending the browser
// to Hydra and the callback.
type authorization struct{ verifier, state, nonce string }

// begin sends a to Hydra's authorization endpoint (PKCE, state, nonce) and
// returns where that ended.
func (rp relyingParty) begin(t *testing.T, a *agent) (authorization, *http.Response, string) {
	t.Helper()
	az := authorization{verifier: oauth2.GenerateVerifier(), state: "state-" + randomEmail(), nonce: "nonce-" + randomEmail()}
	resp, page := a.get(rp.oc.AuthCodeURL(az.state, oidc.Nonce(az.nonce), oauth2.S256ChallengeOption(az.verifier)))
	return az, resp, page
}

// signInIfAsked fills and submits the bridge's password form when page is
// one (a login page), and returns where that ended; otherwise it returns
// resp and page as they are.
func signInIfAsked(a *agent, resp *http.Response, page, email, password string) (*http.Response, string) {
	f, err := formWithE(page, "password")
	if err != nil || !strings.HasSuffix(resp.Request.URL.Path, "/login") {
		return resp, page
	}
	if _, ok := f.Fields["identifier"]; ok {
		f.Fields.Set("identifier", email)
	}
	f.Fields.Set("password", password)
	f.Fields.Set("method", "password")
	return a.post(f.Action, f.Fields)
}

// complete finishes az from where the sign-in ended: it accepts consent
// when the bridge shows it, checks the callback's state, exchanges the code
// and verifies the ID token (signature, issuer, audience, nonce). It
// returns the token's claims, the raw token and whether consent was shown.
func (rp relyingParty) complete(t *testing.T, a *agent, az authorization, resp *http.Response, page string) (claims map[string]any, raw string, consentShown bool) {
	t.Helper()
	if strings.HasSuffix(resp.Request.URL.Path, "/consent") {
		consentShown = true
		f := parseForm(t, page)
		f.Fields.Set("action", "accept")
		resp, page = a.post(resp.Request.URL.ResolveReference(mustURL(t, f.Action)).String(), f.Fields)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), rp.oc.RedirectURL) {
		t.Fatalf("authorization ended at %s (%d), not the callback:\n%.1500s", resp.Request.URL, resp.StatusCode, page)
	}
	if loc.Query().Get("state") != az.state {
		t.Fatal("state mismatch")
	}
	tok, err := rp.oc.Exchange(rp.ctx, loc.Query().Get("code"), oauth2.VerifierOption(az.verifier))
	if err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	raw, _ = tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.oc.ClientID}).Verify(rp.ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != az.nonce {
		t.Fatal("nonce mismatch")
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims, raw, consentShown
}

// authorize runs an authorization code flow with PKCE in a, signed in to
// Kratos as email. Kratos asks for the password again when Hydra has no
// session of its own to skip the login with (its first login for this
// browser); authorize gives it. It accepts consent when the bridge shows
// it, and returns the verified ID token's claims and whether consent was
// shown.
func (rp relyingParty) authorize(t *testing.T, a *agent, email, password string) (claims map[string]any, consentShown bool) {
	t.Helper()
	az, resp, page := rp.begin(t, a)
	resp, page = signInIfAsked(a, resp, page, email, password)
	claims, _, consentShown = rp.complete(t, a, az, resp, page)
	return claims, consentShown
}

// updatedAt reads the updated_at claim (seconds since the epoch).
func updatedAt(t *testing.T, claims map[string]any) time.Time {
	t.Helper()
	s, ok := claims["updated_at"].(float64)
	if !ok {
		t.Fatalf("updated_at %v (%T), want a number", claims["updated_at"], claims["updated_at"])
	}
	return time.Unix(int64(s), 0)
}

// codeText returns the text of the first <code> in the form of Kratos'
// node group (class group-<group>): the bridge shows a text node, such as
// the TOTP secret, that way.
func codeText(t *testing.T, page, group string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var find func(n *html.Node, inGroup bool) string
	find = func(n *html.Node, inGroup bool) string {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "form":
				inGroup = slices.Contains(strings.Fields(attr(n, "class")), "group-"+group)
			case n.Data == "code" && inGroup && n.FirstChild != nil:
				return strings.TrimSpace(n.FirstChild.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if s := find(c, inGroup); s != "" {
				return s
			}
		}
		return ""
	}
	text := find(doc, false)
	if text == "" {
		t.Fatalf("no text in the %s form:\n%.3000s", group, page)
	}
	return text
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// totpCode is the RFC 6238 code of a base32 secret at time at: HMAC-SHA1
// of the 30-second step count, truncated to six digits (RFC 4226 §5.3).
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		t.Fatalf("TOTP secret %q: %v", secret, err)
	}
	var step [8]byte
	binary.BigEndian.PutUint64(step[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(step[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000)
}

// TestTOTPCodeMatchesRFC6238 checks totpCode against RFC 6238 Appendix B
// (SHA-1, the last six of its eight digits). It starts no servers.
func TestTOTPCodeMatchesRFC6238(t *testing.T) {
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for at, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		if got := totpCode(t, secret, time.Unix(at, 0)); got != want {
			t.Errorf("T=%d: got %s, want %s", at, got, want)
		}
	}
}
