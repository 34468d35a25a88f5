// Package rp is a relying party: a small OAuth2/OIDC web app that signs its
// users in through idstack with the authorization code flow, PKCE, state
// and nonce; verifies the ID token (signature against the JWKS, issuer,
// audience, nonce, expiry); calls userinfo; and logs out through the
// issuer (RP-initiated logout).
//
// It is the app the browser flows of package flows log in to, and the demo
// app of the local topology. It keeps no server-side state: the login in
// progress and the signed-in session live in sealed cookies, so any replica
// serves any request.
package rp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Paths the app serves.
const (
	PathHome      = "/"
	PathLogin     = "/login"
	PathCallback  = "/callback"
	PathLogout    = "/logout"
	PathLoggedOut = "/logged-out"
	PathAlive     = "/health/alive"
	PathReady     = "/health/ready"
)

// Cookie names.
const (
	cookieAuth    = "rp_auth"    // the login in progress: state, nonce, PKCE verifier
	cookieSession = "rp_session" // the signed-in user
	cookieLogout  = "rp_logout"  // the logout in progress: its state
)

// Config configures an App.
type Config struct {
	// Issuer is the OpenID provider's issuer URL (discovery starts there).
	Issuer string
	// ClientID and ClientSecret are the app's OAuth2 client credentials.
	ClientID, ClientSecret string
	// BaseURL is where browsers reach the app, e.g. http://127.0.0.1:8080;
	// the redirect URI is BaseURL+/callback.
	BaseURL string
	// Scopes to ask for; openid is always asked.
	Scopes []string
	// AuthURLs optionally maps a region to the authorization endpoint of
	// that region's own host, so /login?region=us signs in through us.
	AuthURLs map[string]string
	// CookieSecret seals the app's cookies (32 bytes or more, the same on
	// every replica).
	CookieSecret []byte
	// HTTPClient makes discovery, token, JWKS and userinfo calls. It must
	// have a timeout.
	HTTPClient *http.Client
	// OnLogin, when set, is told of every completed login (for tests and
	// probes, which read the tokens from it).
	OnLogin func(Login)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Login is a completed sign-in.
type Login struct {
	// Probe is the caller's tag from /login?probe=..., to match a login to
	// the browser flow that made it.
	Probe   string
	Region  string
	Subject string
	Claims  map[string]any
	// Userinfo is what the userinfo endpoint returned for the access token.
	Userinfo    map[string]any
	IDToken     string
	AccessToken string
	Expiry      time.Time
	At          time.Time
	// CodeAt is when the callback brought the code; ExchangeStart and
	// ExchangeEnd bound its exchange (where the provider signed the token).
	CodeAt, ExchangeStart, ExchangeEnd time.Time
}

// Validate names the first wrong field.
func (c Config) Validate() error {
	for _, u := range []struct{ name, v string }{{"issuer", c.Issuer}, {"base-url", c.BaseURL}} {
		p, err := url.Parse(u.v)
		if u.v == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	for r, u := range c.AuthURLs {
		if p, err := url.Parse(u); r == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("auth-urls: %q=%q is not region=URL", r, u)
		}
	}
	if c.ClientID == "" {
		return errors.New("client-id: required")
	}
	if len(c.CookieSecret) < 32 {
		return errors.New("cookie-secret: 32 bytes or more, the same on every replica")
	}
	if c.HTTPClient == nil || c.HTTPClient.Timeout <= 0 {
		return errors.New("http client: required, with a timeout")
	}
	return nil
}

// App is the relying party's HTTP handler.
type App struct {
	cfg    Config
	seal   sealer
	secure bool
	mux    *http.ServeMux

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, then kept
	endSess  string
}

// New returns the app. It discovers the provider lazily, so it starts
// while the issuer is still coming up and recovers when it returns.
func New(cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	s, err := newSealer(cfg.CookieSecret)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, seal: s, secure: strings.HasPrefix(cfg.BaseURL, "https://"), mux: http.NewServeMux()}
	a.mux.HandleFunc("GET "+PathHome+"{$}", a.handleHome)
	a.mux.HandleFunc("GET "+PathLogin, a.handleLogin)
	a.mux.HandleFunc("GET "+PathCallback, a.handleCallback)
	a.mux.HandleFunc("POST "+PathLogout, a.handleLogout)
	a.mux.HandleFunc("GET "+PathLoggedOut, a.handleLoggedOut)
	a.mux.HandleFunc("GET "+PathAlive, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	a.mux.HandleFunc("GET "+PathReady, a.handleReady)
	return a, nil
}

// RedirectURL is the app's OAuth2 redirect URI.
func (a *App) RedirectURL() string { return strings.TrimSuffix(a.cfg.BaseURL, "/") + PathCallback }

// PostLogoutURL is the app's post-logout redirect URI.
func (a *App) PostLogoutURL() string { return strings.TrimSuffix(a.cfg.BaseURL, "/") + PathLoggedOut }

// ServeHTTP serves the app with its security headers.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	a.mux.ServeHTTP(w, r)
}

// discover returns the provider, discovering it once it answers.
func (a *App) discover(ctx context.Context) (*oidc.Provider, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider != nil {
		return a.provider, a.endSess, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.cfg.HTTPClient), a.cfg.Issuer)
	if err != nil {
		return nil, "", fmt.Errorf("discover %s: %w", a.cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, "", fmt.Errorf("discover %s: %w", a.cfg.Issuer, err)
	}
	a.provider, a.endSess = p, meta.EndSession
	return p, meta.EndSession, nil
}

func (a *App) oauth2Config(p *oidc.Provider, region string) (oauth2.Config, error) {
	c := oauth2.Config{
		ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: a.RedirectURL(), Scopes: a.cfg.Scopes,
	}
	if region != "" {
		u, ok := a.cfg.AuthURLs[region]
		if !ok {
			return c, fmt.Errorf("unknown region %q", region)
		}
		c.Endpoint.AuthURL = u
	}
	return c, nil
}

// authState is the login in progress, sealed in cookieAuth.
type authState struct {
	State, Nonce, Verifier string
	Region, Probe          string
}

// session is the signed-in user, sealed in cookieSession.
type session struct {
	Subject  string
	Region   string
	Claims   map[string]any
	Userinfo map[string]any
	IDToken  string
	CSRF     string
}

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, _, err := a.discover(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, "issuer_unavailable", err.Error())
		return
	}
	region, probe := q.Get("region"), q.Get("probe")
	if len(probe) > 128 {
		a.fail(w, http.StatusBadRequest, "invalid_request", "probe: longer than 128 characters")
		return
	}
	oc, err := a.oauth2Config(p, region)
	if err != nil {
		a.fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	st := authState{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Region: region, Probe: probe}
	if err := a.setCookie(w, cookieAuth, st, 15*time.Minute); err != nil {
		a.fail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	for _, k := range []string{"prompt", "max_age", "ui_locales"} {
		if v := q.Get(k); v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	http.Redirect(w, r, oc.AuthCodeURL(st.State, opts...), http.StatusFound)
}

func (a *App) handleCallback(w http.ResponseWriter, r *http.Request) {
	codeAt := a.cfg.Now()
	q := r.URL.Query()
	var st authState
	if err := a.readCookie(r, cookieAuth, &st); err != nil {
		a.fail(w, http.StatusBadRequest, "invalid_request", "no login in progress in this browser: "+err.Error())
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		a.fail(w, http.StatusBadRequest, "invalid_state", "state does not match the login this browser started")
		return
	}
	a.clearCookie(w, cookieAuth)
	if e := q.Get("error"); e != "" {
		// The provider's answer, such as access_denied after a denied consent.
		a.fail(w, http.StatusForbidden, e, q.Get("error_description"))
		return
	}
	ctx := oidc.ClientContext(r.Context(), a.cfg.HTTPClient)
	p, _, err := a.discover(ctx)
	if err != nil {
		a.fail(w, http.StatusBadGateway, "issuer_unavailable", err.Error())
		return
	}
	oc, err := a.oauth2Config(p, st.Region)
	if err != nil {
		a.fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	exchangeStart := a.cfg.Now()
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	exchangeEnd := a.cfg.Now()
	if err != nil {
		a.fail(w, http.StatusBadGateway, "token_exchange_failed", err.Error())
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, Now: a.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		a.fail(w, http.StatusBadGateway, "invalid_id_token", err.Error())
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		a.fail(w, http.StatusBadGateway, "invalid_id_token", "nonce does not match")
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		a.fail(w, http.StatusBadGateway, "invalid_id_token", err.Error())
		return
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		a.fail(w, http.StatusBadGateway, "userinfo_failed", err.Error())
		return
	}
	if ui.Subject != idt.Subject {
		a.fail(w, http.StatusBadGateway, "userinfo_failed", "userinfo names another subject")
		return
	}
	userinfo := map[string]any{}
	if err := ui.Claims(&userinfo); err != nil {
		a.fail(w, http.StatusBadGateway, "userinfo_failed", err.Error())
		return
	}
	sess := session{Subject: idt.Subject, Region: st.Region, Claims: claims, Userinfo: userinfo, IDToken: raw, CSRF: random()}
	if err := a.setCookie(w, cookieSession, sess, 12*time.Hour); err != nil {
		a.fail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	if a.cfg.OnLogin != nil {
		a.cfg.OnLogin(Login{
			Probe: st.Probe, Region: st.Region, Subject: idt.Subject, Claims: claims, Userinfo: userinfo,
			IDToken: raw, AccessToken: tok.AccessToken, Expiry: tok.Expiry, At: a.cfg.Now(),
			CodeAt: codeAt, ExchangeStart: exchangeStart, ExchangeEnd: exchangeEnd,
		})
	}
	http.Redirect(w, r, PathHome, http.StatusSeeOther)
}

func (a *App) handleHome(w http.ResponseWriter, r *http.Request) {
	var sess session
	if err := a.readCookie(r, cookieSession, &sess); err != nil {
		render(w, http.StatusOK, "home", nil)
		return
	}
	render(w, http.StatusOK, "home", map[string]any{
		"Session": sess, "Claims": sorted(sess.Claims), "Userinfo": sorted(sess.Userinfo),
	})
}

func (a *App) handleLogout(w http.ResponseWriter, r *http.Request) {
	var sess session
	if err := a.readCookie(r, cookieSession, &sess); err != nil {
		http.Redirect(w, r, PathHome, http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
		a.fail(w, http.StatusForbidden, "invalid_request", "the logout form's token does not match this session")
		return
	}
	_, end, err := a.discover(r.Context())
	if err != nil {
		a.fail(w, http.StatusBadGateway, "issuer_unavailable", err.Error())
		return
	}
	a.clearCookie(w, cookieSession)
	state := random()
	if err := a.setCookie(w, cookieLogout, state, 15*time.Minute); err != nil {
		a.fail(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	q := url.Values{"id_token_hint": {sess.IDToken}, "post_logout_redirect_uri": {a.PostLogoutURL()}, "state": {state}}
	http.Redirect(w, r, end+"?"+q.Encode(), http.StatusSeeOther)
}

func (a *App) handleLoggedOut(w http.ResponseWriter, r *http.Request) {
	var state string
	if err := a.readCookie(r, cookieLogout, &state); err != nil || subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(state)) != 1 {
		a.fail(w, http.StatusBadRequest, "invalid_state", "this browser started no such logout")
		return
	}
	a.clearCookie(w, cookieLogout)
	render(w, http.StatusOK, "loggedout", nil)
}

func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	if _, _, err := a.discover(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

func (a *App) fail(w http.ResponseWriter, status int, code, desc string) {
	render(w, status, "error", map[string]string{"Code": code, "Description": desc})
}

func (a *App) setCookie(w http.ResponseWriter, name string, v any, ttl time.Duration) error {
	val, err := a.seal.seal(name, v, ttl, a.cfg.Now())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: val, Path: "/", MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

func (a *App) readCookie(r *http.Request, name string, v any) error {
	c, err := r.Cookie(name)
	if err != nil {
		return ErrBadCookie
	}
	return a.seal.open(name, c.Value, v, a.cfg.Now())
}

func (a *App) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// claim is one row of a claims table.
type claim struct{ Name, Value string }

func sorted(m map[string]any) []claim {
	out := make([]claim, 0, len(m))
	for k, v := range m {
		out = append(out, claim{k, fmt.Sprint(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// The pages: plain HTML, no script, no style sheet. Elements the browser
// flows look for carry ids.
var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>idstack demo app</title></head><body>{{end}}
{{define "home"}}{{template "head"}}<h1>idstack demo app</h1>
{{with .}}<p id="signed-in">Signed in as <strong data-claim="sub">{{.Session.Subject}}</strong>{{with .Session.Region}} through region {{.}}{{end}}.</p>
<h2>ID token claims</h2><dl id="claims">{{range .Claims}}<dt>{{.Name}}</dt><dd data-claim="{{.Name}}">{{.Value}}</dd>{{end}}</dl>
<h2>Userinfo</h2><dl id="userinfo">{{range .Userinfo}}<dt>{{.Name}}</dt><dd data-userinfo="{{.Name}}">{{.Value}}</dd>{{end}}</dl>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.Session.CSRF}}"><button type="submit" id="logout">Sign out</button></form>
{{else}}<p id="signed-out">Not signed in.</p><p><a id="login" href="/login">Sign in</a></p>{{end}}
</body></html>{{end}}
{{define "loggedout"}}{{template "head"}}<h1 id="logged-out">Signed out</h1><p><a href="/">Home</a></p></body></html>{{end}}
{{define "error"}}{{template "head"}}<h1>Sign-in did not complete</h1><p id="error" data-error="{{.Code}}">{{.Code}}{{with .Description}}: {{.}}{{end}}</p><p><a href="/">Home</a></p></body></html>{{end}}
`))

func render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, name, data)
}
