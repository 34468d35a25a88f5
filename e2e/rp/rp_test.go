package rp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// provider is a minimal OpenID provider for unit tests: discovery, JWKS,
// an authorization endpoint that approves at once, token and userinfo. The
// real one (Hydra) is exercised by the e2e suite.
type provider struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	nonce map[string]string // code → nonce
	// tamper changes the ID token before it is signed.
	tamper func(c *jwt.Claims, extra map[string]any)
	// deny makes the authorization endpoint answer access_denied.
	deny bool
}

func newProvider(t *testing.T) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, nonce: map[string]string{}}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	iss := p.srv.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "userinfo_endpoint": iss + "/userinfo", "end_session_endpoint": iss + "/logout",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"state": {q.Get("state")}}
		if p.deny {
			v.Set("error", "access_denied")
		} else {
			code := "code-" + q.Get("state")[:8]
			p.nonce[code] = q.Get("nonce")
			v.Set("code", code)
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		nonce, ok := p.nonce[r.PostForm.Get("code")]
		if !ok || r.PostForm.Get("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		c := jwt.Claims{Issuer: iss, Subject: "user-1", Audience: jwt.Audience{"app"}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour)), IssuedAt: jwt.NewNumericDate(time.Now())}
		extra := map[string]any{"nonce": nonce, "email": "ada@example.com"}
		if p.tamper != nil {
			p.tamper(&c, extra)
		}
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
		idt, _ := jwt.Signed(sig).Claims(c).Claims(extra).Serialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "bearer", "expires_in": 3600, "id_token": idt})
	})
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": "user-1", "email": "ada@example.com"})
	})
	return p
}

// browser is a cookie-keeping client that follows redirects.
func browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func newApp(t *testing.T, p *provider, logins *[]Login) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	app, err := New(Config{
		Issuer: p.srv.URL, ClientID: "app", ClientSecret: "s", BaseURL: "http://" + srv.Listener.Addr().String(),
		CookieSecret: []byte(strings.Repeat("k", 32)), HTTPClient: &http.Client{Timeout: 5 * time.Second},
		OnLogin: func(l Login) { *logins = append(*logins, l) },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = app
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestLoginVerifiesTheIDTokenAndCallsUserinfo(t *testing.T) {
	p := newProvider(t)
	var logins []Login
	app := newApp(t, p, &logins)
	c := browserClient()
	resp, page := get(t, c, app.URL+"/login?probe=p1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="signed-in"`) || !strings.Contains(page, `data-claim="email">ada@example.com`) {
		t.Fatalf("got %d:\n%s", resp.StatusCode, page)
	}
	if len(logins) != 1 || logins[0].Probe != "p1" || logins[0].Subject != "user-1" || logins[0].Userinfo["email"] != "ada@example.com" || logins[0].AccessToken != "at-1" {
		t.Fatalf("logins %+v", logins)
	}
}

func TestBadAnswersAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(p *provider)
		status int
		code   string
	}{
		{"denied consent", func(p *provider) { p.deny = true }, http.StatusForbidden, "access_denied"},
		{"nonce replayed from another login", func(p *provider) {
			p.tamper = func(c *jwt.Claims, extra map[string]any) { extra["nonce"] = "another" }
		}, http.StatusBadGateway, "invalid_id_token"},
		{"token for another audience", func(p *provider) {
			p.tamper = func(c *jwt.Claims, extra map[string]any) { c.Audience = jwt.Audience{"someone-else"} }
		}, http.StatusBadGateway, "invalid_id_token"},
		{"token from another issuer", func(p *provider) {
			p.tamper = func(c *jwt.Claims, extra map[string]any) { c.Issuer = "http://evil.invalid" }
		}, http.StatusBadGateway, "invalid_id_token"},
		{"expired token", func(p *provider) {
			p.tamper = func(c *jwt.Claims, extra map[string]any) { c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Hour)) }
		}, http.StatusBadGateway, "invalid_id_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProvider(t)
			tc.setup(p)
			var logins []Login
			app := newApp(t, p, &logins)
			resp, page := get(t, browserClient(), app.URL+"/login")
			if resp.StatusCode != tc.status || !strings.Contains(page, `data-error="`+tc.code+`"`) {
				t.Fatalf("got %d, want %d with %s:\n%s", resp.StatusCode, tc.status, tc.code, page)
			}
			if len(logins) != 0 {
				t.Fatal("a refused login reached OnLogin")
			}
		})
	}
}

func TestCallbackNeedsTheStateThisBrowserStarted(t *testing.T) {
	p := newProvider(t)
	var logins []Login
	app := newApp(t, p, &logins)
	// No login started in this browser.
	resp, page := get(t, browserClient(), app.URL+"/callback?code=x&state=y")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `data-error="invalid_request"`) {
		t.Fatalf("no auth cookie: got %d:\n%s", resp.StatusCode, page)
	}
	// A login started, but the callback carries another state.
	c := browserClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get(t, c, app.URL+"/login")
	resp, page = get(t, c, app.URL+"/callback?code=x&state=forged")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `data-error="invalid_state"`) {
		t.Fatalf("forged state: got %d:\n%s", resp.StatusCode, page)
	}
}

func TestLogoutNeedsTheSessionsFormToken(t *testing.T) {
	p := newProvider(t)
	var logins []Login
	app := newApp(t, p, &logins)
	c := browserClient()
	get(t, c, app.URL+"/login")
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(app.URL+"/logout", url.Values{"csrf": {"forged"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged logout: got %d, want 403", resp.StatusCode)
	}
}

func TestSealedCookies(t *testing.T) {
	s, err := newSealer([]byte(strings.Repeat("x", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v, err := s.seal("a", "hello", time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := s.open("a", v, &got, now); err != nil || got != "hello" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	if err := s.open("b", v, &got, now); err != ErrBadCookie {
		t.Errorf("a value moved to another cookie: %v", err)
	}
	if err := s.open("a", v, &got, now.Add(2*time.Minute)); err != ErrBadCookie {
		t.Errorf("an expired value: %v", err)
	}
	other, _ := newSealer([]byte(strings.Repeat("y", 32)))
	if err := other.open("a", v, &got, now); err != ErrBadCookie {
		t.Errorf("another key: %v", err)
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a short secret was accepted")
	}
}

func FuzzOpenSealedCookie(f *testing.F) {
	s, _ := newSealer([]byte(strings.Repeat("x", 32)))
	v, _ := s.seal("a", authState{State: "s"}, time.Minute, time.Now())
	f.Add(v)
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, in string) {
		var st authState
		if err := s.open("a", in, &st, time.Now()); err != nil && err != ErrBadCookie {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func TestConfigNamesTheBadField(t *testing.T) {
	good := Config{Issuer: "http://i", BaseURL: "http://a", ClientID: "c", CookieSecret: []byte(strings.Repeat("k", 32)), HTTPClient: &http.Client{Timeout: time.Second}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mutate := range map[string]func(*Config){
		"issuer":        func(c *Config) { c.Issuer = "ftp://x" },
		"base-url":      func(c *Config) { c.BaseURL = "" },
		"client-id":     func(c *Config) { c.ClientID = "" },
		"cookie-secret": func(c *Config) { c.CookieSecret = nil },
		"auth-urls":     func(c *Config) { c.AuthURLs = map[string]string{"eu": "nope"} },
		"http client":   func(c *Config) { c.HTTPClient = &http.Client{} },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%s: got %v", field, err)
		}
	}
}
