//go:build integration

package bridge_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	ory "github.com/ory/client-go"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/infratest"
)

// agent is a cookie-keeping HTTP client that stops at the relying party's
// callback (which nothing serves: the test reads the code from the URL).
type agent struct {
	t        testing.TB
	top      infra.Topology
	c        *http.Client
	callback string
}

func newAgent(t testing.TB, top infra.Topology, callback string) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{t: t, top: top, callback: callback}
	c := top.HTTPClient(15 * time.Second)
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) || len(via) > 20 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	a.c = c
	return a
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
// the test goroutine.
func (a *agent) getE(u string) (*http.Response, string, error) {
	resp, err := a.c.Get(u)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func (a *agent) postE(u string, form url.Values) (*http.Response, string, error) {
	resp, err := a.c.PostForm(u, form)
	if err != nil {
		return nil, "", fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// form is the first HTML form on a page: its action and fields.
type form struct {
	action string
	fields url.Values
}

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
	for _, f := range parseForms(t, page) {
		if _, ok := f.fields[field]; ok {
			return f
		}
	}
	t.Fatalf("no form with %s on page:\n%.3000s", field, page)
	return form{}
}

// parseForms returns every form on a page with its inputs (not buttons).
func parseForms(t *testing.T, page string) []form {
	t.Helper()
	forms, err := parseFormsE(page)
	if err != nil {
		t.Fatal(err)
	}
	return forms
}

// formWithE is formWith without failing the test.
func formWithE(page, field string) (form, error) {
	forms, err := parseFormsE(page)
	if err != nil {
		return form{}, err
	}
	for _, f := range forms {
		if _, ok := f.fields[field]; ok {
			return f, nil
		}
	}
	return form{}, fmt.Errorf("no form with %s", field)
}

func parseFormsE(page string) ([]form, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, err
	}
	var forms []form
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			cur := len(forms) - 1
			switch {
			case n.Data == "form":
				forms = append(forms, form{action: attr["action"], fields: url.Values{}})
			case n.Data == "input" && cur >= 0 && attr["name"] != "" && attr["type"] != "checkbox":
				forms[cur].fields.Set(attr["name"], attr["value"])
			case n.Data == "input" && cur >= 0 && attr["type"] == "checkbox" && hasAttr(n, "checked"):
				forms[cur].fields.Add(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

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

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
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

	var lastIDToken string
	wantVerified := false
	login := func(a *agent, register bool) (code string, consentShown bool) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		state, nonce := "state-"+randomEmail(), "nonce-"+randomEmail()
		resp, page := a.get(oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
		if !strings.Contains(resp.Request.URL.Path, "/login") {
			t.Fatalf("expected the bridge's login page, got %s", resp.Request.URL)
		}
		if register {
			// Follow the page's link to registration: it keeps the login challenge.
			href := link(t, page, "/self-service/registration/browser")
			if !strings.Contains(href, "login_challenge=") {
				t.Fatalf("the registration link drops the login challenge: %s", href)
			}
			regResp, regPage := a.get(href)
			if !strings.HasSuffix(regResp.Request.URL.Path, "/registration") {
				t.Fatalf("expected the bridge's registration page, got %s", regResp.Request.URL)
			}
			f := parseForm(t, regPage)
			f.fields.Set("traits.email", email)
			f.fields.Set("password", password)
			f.fields.Set("traits.name.first", "Ada")
			f.fields.Set("traits.name.last", "Lovelace")
			f.fields.Set("method", "password")
			resp, page = a.post(f.action, f.fields)
		} else {
			f := parseForm(t, page)
			f.fields.Set("identifier", email)
			f.fields.Set("password", password)
			f.fields.Set("method", "password")
			resp, page = a.post(f.action, f.fields)
		}
		if strings.Contains(resp.Request.URL.Path, "/consent") {
			consentShown = true
			f := parseForm(t, page)
			f.fields.Set("action", "accept")
			u, _ := url.Parse(f.action)
			resp, page = a.post(resp.Request.URL.ResolveReference(u).String(), f.fields)
		}
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, callback) {
			t.Fatalf("flow ended at %s (%d), not the callback:\n%.1500s", resp.Request.URL, resp.StatusCode, page)
		}
		u, _ := url.Parse(loc)
		if u.Query().Get("state") != state {
			t.Fatal("state mismatch")
		}
		code = u.Query().Get("code")
		tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("token exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		lastIDToken = raw
		idt, err := provider.Verifier(&oidc.Config{ClientID: oc.ClientID}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		if idt.Nonce != nonce {
			t.Fatal("nonce mismatch")
		}
		var claims struct {
			Email         string `json:"email"`
			EmailVerified *bool  `json:"email_verified"`
			Name          string `json:"name"`
			GivenName     string `json:"given_name"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Email != email || claims.EmailVerified == nil || *claims.EmailVerified != wantVerified || claims.Name != "Ada Lovelace" || claims.GivenName != "Ada" {
			t.Fatalf("claims %+v", claims)
		}
		return code, consentShown
	}

	first := newAgent(t, top, callback)
	if _, shown := login(first, true); !shown {
		t.Fatal("a new client's first login must show consent")
	}
	// A fresh browser signs in again; consent was remembered.
	second := newAgent(t, top, callback)
	if _, shown := login(second, false); shown {
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
		f.fields.Set("action", "deny")
		resp, _ = first.post(resp.Request.URL.ResolveReference(mustURL(t, f.action)).String(), f.fields)
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
		f.fields.Set("action", "accept")
		resp, _ = second.post(resp.Request.URL.ResolveReference(mustURL(t, f.action)).String(), f.fields)
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
		f.fields.Set("email", email)
		f.fields.Set("method", "code")
		sent, page := a.post(f.action, f.fields)
		// Registration mailed a code too, maybe late: take the mail that
		// names this flow.
		flow := sent.Request.URL.Query().Get("flow")
		f = formWith(t, page, "code")
		f.fields.Set("code", mailedCode(t, top, email, flow))
		f.fields.Set("method", "code")
		f.fields.Del("email")
		resp, page := a.post(f.action, f.fields)
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
		f.fields.Set("email", email)
		f.fields.Set("method", "code")
		resp, page := a.post(f.action, f.fields)
		if !strings.HasSuffix(resp.Request.URL.Path, "/recovery") {
			t.Fatalf("after asking for a code: %s", resp.Request.URL)
		}
		code := mailedCode(t, top, email, "recover")
		f = formWith(t, page, "code")
		f.fields.Set("code", code)
		f.fields.Set("method", "code")
		f.fields.Del("email") // posting the address again would ask for a new code
		resp, page = a.post(f.action, f.fields)
		if !strings.HasSuffix(resp.Request.URL.Path, "/settings") {
			t.Fatalf("a valid recovery code led to %s:\n%.1500s", resp.Request.URL, page)
		}
		const newPassword = "a brand new passphrase 99"
		f = formWith(t, page, "password")
		f.fields.Set("password", newPassword)
		f.fields.Set("method", "password")
		resp, page = a.post(f.action, f.fields)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-id="1050001"`) {
			t.Fatalf("settings: %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, page)
		}
		// A fresh browser signs in with the new password and lands on the
		// bridge's signed-in page.
		b := newAgent(t, top, callback)
		_, page = b.get(bridgeURL + "/login")
		f = formWith(t, page, "identifier")
		f.fields.Set("identifier", email)
		f.fields.Set("password", newPassword)
		f.fields.Set("method", "password")
		resp, page = b.post(f.action, f.fields)
		if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
			t.Fatalf("sign-in with the new password ended at %s:\n%.1500s", resp.Request.URL, page)
		}
	})
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
