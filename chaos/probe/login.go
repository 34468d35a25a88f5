package probe

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/idstack/idstack/internal/webagent"
)

// Client is the OAuth2 client the HTTP probes sign in with.
type Client struct {
	ID, Secret, RedirectURL string
	// AuthURL maps a region (Global for the global name) to the
	// authorization endpoint the probe starts at.
	AuthURL map[string]string
	// TokenURL is the issuer's token endpoint.
	TokenURL string
}

// Tokens is what a login got, and when its code came back and was
// exchanged (Hydra signs the ID token in the exchange).
type Tokens struct {
	Subject string
	IDToken string
	Kid     string

	CodeAt, ExchangeStart, ExchangeEnd time.Time
}

// ErrLogin wraps every way an HTTP login fails.
var ErrLogin = errors.New("login failed")

// ErrPasswordAsked is a session login that was asked for the password:
// the stack forgot the session it had (or never remembered it).
var ErrPasswordAsked = errors.New("asked for the password again")

// Login signs email in over HTTP the way a browser does: authorization
// request, the bridge's login form, consent when asked, then the code
// exchanged with PKCE at the token endpoint. It returns the ID token.
func Login(ctx context.Context, hc *http.Client, c Client, region, email, password string) (Tokens, error) {
	return login(ctx, newAgent(hc, c.RedirectURL), c, region, email, password)
}

func login(ctx context.Context, a *webagent.Agent, c Client, region, email, password string) (Tokens, error) {
	fl, err := startAuthorization(ctx, a, c, region)
	if err != nil {
		return Tokens{}, err
	}
	p := fl.page
	if !fl.atCallback() {
		f, err := formWith(p.Text, "identifier")
		if err != nil {
			return Tokens{}, fmt.Errorf("%w: login page (%s): %v", ErrLogin, p.Describe(), err)
		}
		f.Fields.Set("identifier", email)
		f.Fields.Set("password", password)
		f.Fields.Set("method", "password")
		if fl.page, err = a.Submit(ctx, p.URL(), f); err != nil {
			return Tokens{}, fmt.Errorf("%w: submit: %v", ErrLogin, err)
		}
	}
	return fl.finish(ctx, a)
}

// authorization is one authorization request in progress: its client,
// PKCE verifier and state, and the last page it reached.
type authorization struct {
	oc       oauth2.Config
	c        Client
	verifier string
	state    string
	page     webagent.Page
}

func startAuthorization(ctx context.Context, a *webagent.Agent, c Client, region string) (*authorization, error) {
	auth, ok := c.AuthURL[region]
	if !ok {
		return nil, fmt.Errorf("%w: no authorization endpoint for region %q", ErrLogin, region)
	}
	fl := &authorization{c: c, verifier: oauth2.GenerateVerifier(), state: rand.Text(), oc: oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURL,
		Endpoint: oauth2.Endpoint{AuthURL: auth, TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "email"}}}
	p, err := a.Get(ctx, fl.oc.AuthCodeURL(fl.state, oauth2.S256ChallengeOption(fl.verifier), oauth2.SetAuthURLParam("nonce", rand.Text())))
	if err != nil {
		return nil, fmt.Errorf("%w: open: %v", ErrLogin, err)
	}
	fl.page = p
	return fl, nil
}

func (fl *authorization) atCallback() bool {
	loc := fl.page.Location()
	return loc != "" && strings.HasPrefix(loc, fl.c.RedirectURL)
}

// finish accepts consent when asked, reads the code off the callback and
// exchanges it.
func (fl *authorization) finish(ctx context.Context, a *webagent.Agent) (Tokens, error) {
	p := fl.page
	if p.Location() == "" && strings.HasSuffix(p.URL().Path, "/consent") {
		cf, err := formWith(p.Text, "consent_challenge")
		if err != nil {
			return Tokens{}, fmt.Errorf("%w: consent page (%s): %v", ErrLogin, p.Describe(), err)
		}
		cf.Fields.Set("action", "accept")
		if p, err = a.Submit(ctx, p.URL(), cf); err != nil {
			return Tokens{}, fmt.Errorf("%w: consent: %v", ErrLogin, err)
		}
	}
	if !strings.HasPrefix(p.Location(), fl.c.RedirectURL) {
		return Tokens{}, fmt.Errorf("%w: ended at %s, not the callback (%s)", ErrLogin, p.URL().Redacted(), p.Describe())
	}
	codeAt := time.Now()
	back, err := url.Parse(p.Location())
	if err != nil || back.Query().Get("state") != fl.state {
		return Tokens{}, fmt.Errorf("%w: callback state mismatch", ErrLogin)
	}
	if e := back.Query().Get("error"); e != "" {
		return Tokens{}, fmt.Errorf("%w: %s: %s", ErrLogin, e, back.Query().Get("error_description"))
	}
	exchangeStart := time.Now()
	tok, err := fl.oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, a.HTTP), back.Query().Get("code"), oauth2.VerifierOption(fl.verifier))
	exchangeEnd := time.Now()
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: token exchange: %v", ErrLogin, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	sub, kid, err := peek(raw)
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: id token: %v", ErrLogin, err)
	}
	return Tokens{Subject: sub, IDToken: raw, Kid: kid, CodeAt: codeAt, ExchangeStart: exchangeStart, ExchangeEnd: exchangeEnd}, nil
}

// Session is an HTTP client that signed in once with a password and keeps
// its cookies: every Authorize after that is an OAuth2 authorization that
// Hydra and Kratos answer from the sessions they remember, through the
// same edge, bridge, Kratos and Hydra as a password login, with no
// password to hash. It is not safe for concurrent use (the flows' CSRF
// cookies live in its jar): give each concurrent probe its own.
type Session struct {
	a      *webagent.Agent
	c      Client
	region string
	email  string
}

// NewSession signs email in through region and returns the session.
func NewSession(ctx context.Context, hc *http.Client, c Client, region, email, password string) (*Session, error) {
	s := &Session{a: newAgent(hc, c.RedirectURL), c: c, region: region, email: email}
	if _, err := login(ctx, s.a, c, region, email, password); err != nil {
		return nil, err
	}
	return s, nil
}

// Authorize runs one authorization on the session and returns its
// tokens. It fails with ErrPasswordAsked when the stack shows the login
// form instead of remembering the session.
func (s *Session) Authorize(ctx context.Context) (Tokens, error) {
	fl, err := startAuthorization(ctx, s.a, s.c, s.region)
	if err != nil {
		return Tokens{}, err
	}
	if !fl.atCallback() {
		if _, err := formWith(fl.page.Text, "identifier"); err == nil {
			return Tokens{}, fmt.Errorf("%w: %w (%s)", ErrLogin, ErrPasswordAsked, fl.page.Describe())
		}
	}
	return fl.finish(ctx, s.a)
}

// ErrNotSignedIn is a path probe whose bridge did not show the session's
// user signed in.
var ErrNotSignedIn = errors.New("the bridge did not show the user signed in")

// Reach is the path probe (chaos.ProbePath) of the session's region: the
// bridge's home page with the session's cookies, which the bridge answers
// by asking Kratos for the session, then the JWKS of the region's Hydra.
// It hashes no password and writes nothing, and it sets no flow cookie,
// so it may run beside an Authorize on the same session.
func (s *Session) Reach(ctx context.Context, bridge string) error {
	p, err := s.a.Get(ctx, strings.TrimSuffix(bridge, "/")+"/")
	if err != nil {
		return fmt.Errorf("bridge home: %w", err)
	}
	if p.Status() != http.StatusOK || p.URL().Path != "/" || !strings.Contains(p.Text, s.email) {
		return fmt.Errorf("bridge home: %w (%s)", ErrNotSignedIn, p.Describe())
	}
	jwks := strings.TrimSuffix(s.c.AuthURL[s.region], "/oauth2/auth") + "/.well-known/jwks.json"
	q, err := s.a.Get(ctx, jwks)
	if err != nil {
		return fmt.Errorf("hydra jwks: %w", err)
	}
	if q.Status() != http.StatusOK || !strings.Contains(q.Text, `"keys"`) {
		return fmt.Errorf("hydra jwks: %s", q.Describe())
	}
	return nil
}

// peek reads a JWT's subject and key id without verifying it (the
// verifier does that, with its own key cache).
func peek(raw string) (sub, kid string, err error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return "", "", err
	}
	if len(jws.Signatures) != 1 {
		return "", "", fmt.Errorf("%d signatures", len(jws.Signatures))
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return "", "", err
	}
	return claims.Sub, jws.Signatures[0].Header.KeyID, nil
}

// Register signs email up on a bridge's own registration page (no OAuth2
// client): acknowledged when the bridge shows the new user signed in.
func Register(ctx context.Context, hc *http.Client, bridge, email, password string) error {
	a := newAgent(hc, "")
	p, err := a.Get(ctx, bridge+"/registration")
	if err != nil {
		return err
	}
	f, err := formWith(p.Text, "traits.email")
	if err != nil {
		return fmt.Errorf("registration page (%s): %w", p.Describe(), err)
	}
	f.Fields.Set("traits.email", email)
	f.Fields.Set("password", password)
	f.Fields.Set("method", "password")
	start := time.Now()
	if p, err = a.Submit(ctx, p.URL(), f); err != nil {
		return fmt.Errorf("submit after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	if p.Status() != http.StatusOK || p.URL().Path != "/" || !strings.Contains(p.Text, email) {
		return fmt.Errorf("registration ended at %s", p.Describe())
	}
	return nil
}
