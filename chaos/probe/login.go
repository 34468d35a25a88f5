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
)

// Client is the OAuth2 client the HTTP probes sign in with.
type Client struct {
	ID, Secret, RedirectURL string
	// AuthURL maps a region ("" for the global name) to the authorization
	// endpoint the probe starts at.
	AuthURL map[string]string
	// TokenURL is the issuer's token endpoint.
	TokenURL string
}

// Tokens is what a login got.
type Tokens struct {
	Subject string
	IDToken string
	Kid     string
}

// ErrLogin wraps every way an HTTP login fails.
var ErrLogin = errors.New("login failed")

// Login signs email in over HTTP the way a browser does: authorization
// request, the bridge's login form, consent when asked, then the code
// exchanged with PKCE at the token endpoint. It returns the ID token.
func Login(ctx context.Context, hc *http.Client, c Client, region, email, password string) (Tokens, error) {
	auth, ok := c.AuthURL[region]
	if !ok {
		return Tokens{}, fmt.Errorf("%w: no authorization endpoint for region %q", ErrLogin, region)
	}
	oc := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURL,
		Endpoint: oauth2.Endpoint{AuthURL: auth, TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "email"}}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	a := newAgent(hc, c.RedirectURL)
	p, err := a.get(ctx, oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", rand.Text())))
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: open: %v", ErrLogin, err)
	}
	f, err := formWith(p.body, "identifier")
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: login page (%d at %s): %v", ErrLogin, p.status, p.url.Path, err)
	}
	f.fields.Set("identifier", email)
	f.fields.Set("password", password)
	f.fields.Set("method", "password")
	if p, err = a.post(ctx, p.url, f); err != nil {
		return Tokens{}, fmt.Errorf("%w: submit: %v", ErrLogin, err)
	}
	if p.location == "" && strings.HasSuffix(p.url.Path, "/consent") {
		cf, err := formWith(p.body, "consent_challenge")
		if err != nil {
			return Tokens{}, fmt.Errorf("%w: consent page: %v", ErrLogin, err)
		}
		cf.fields.Set("action", "accept")
		if p, err = a.post(ctx, p.url, cf); err != nil {
			return Tokens{}, fmt.Errorf("%w: consent: %v", ErrLogin, err)
		}
	}
	if !strings.HasPrefix(p.location, c.RedirectURL) {
		return Tokens{}, fmt.Errorf("%w: ended at %s (%d), not the callback", ErrLogin, p.url.Redacted(), p.status)
	}
	back, err := url.Parse(p.location)
	if err != nil || back.Query().Get("state") != state {
		return Tokens{}, fmt.Errorf("%w: callback state mismatch", ErrLogin)
	}
	if e := back.Query().Get("error"); e != "" {
		return Tokens{}, fmt.Errorf("%w: %s: %s", ErrLogin, e, back.Query().Get("error_description"))
	}
	tok, err := oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, hc), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: token exchange: %v", ErrLogin, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	sub, kid, err := peek(raw)
	if err != nil {
		return Tokens{}, fmt.Errorf("%w: id token: %v", ErrLogin, err)
	}
	return Tokens{Subject: sub, IDToken: raw, Kid: kid}, nil
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
	p, err := a.get(ctx, bridge+"/registration")
	if err != nil {
		return err
	}
	f, err := formWith(p.body, "traits.email")
	if err != nil {
		return fmt.Errorf("registration page (%d at %s): %w", p.status, p.url.Path, err)
	}
	f.fields.Set("traits.email", email)
	f.fields.Set("password", password)
	f.fields.Set("method", "password")
	start := time.Now()
	if p, err = a.post(ctx, p.url, f); err != nil {
		return fmt.Errorf("submit after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	if p.status != http.StatusOK || p.url.Path != "/" || !strings.Contains(p.body, email) {
		return fmt.Errorf("registration ended at %s (%d)", p.url.Path, p.status)
	}
	return nil
}
