package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/idstack/idstack/bridge"
	"github.com/idstack/idstack/bridge/fake"
)

const (
	challenge = "Zm9vYmFyYmF6cXV4LWNoYWxsZW5nZQ"
	flowID    = "0451696c-5cda-4d51-9e5b-a6c9d4b2f14f"
)

type fixture struct {
	srv    *Server
	kratos *fake.Kratos
	hydra  *fake.Hydra
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	k := &fake.Kratos{
		PublicURL: "http://kratos.test",
		Flows: map[string]bridge.Flow{flowID: {ID: flowID, Kind: bridge.FlowLogin, Action: "http://kratos.test/self-service/login?flow=" + flowID, Method: "POST",
			Nodes: []bridge.Node{
				{Group: "default", Type: "input", Name: "csrf_token", InputType: "hidden", Value: "kratos-csrf"},
				{Group: "default", Type: "input", Name: "identifier", InputType: "email", Label: &bridge.Message{ID: 1070004, Text: "ID"}},
				{Group: "password", Type: "input", Name: "password", InputType: "password", Label: &bridge.Message{ID: 1070001, Text: "Password"}},
				{Group: "password", Type: "input", Name: "method", InputType: "submit", Value: "password", Label: &bridge.Message{ID: 1010001, Text: "Sign in"}},
			},
			Messages: []bridge.Message{{ID: 4000006, Type: "error", Text: "The provided credentials are invalid."}},
		}},
		Sessions:   map[string]bridge.Session{"ory_kratos_session=s1": {ID: "sess-1"}},
		Identities: map[string]bridge.Identity{"user-1": {ID: "user-1", Traits: map[string]any{"email": "ada@example.com"}, VerifiedAddresses: []string{"ada@example.com"}}},
	}
	h := fake.NewHydra()
	h.Consents[challenge] = bridge.ConsentRequest{Challenge: challenge, Subject: "user-1", ClientID: "app", ClientName: "The App",
		RequestedScopes: []string{"openid", "email"}, RedirectURIs: []string{"https://app.test/cb"}}
	h.Logouts[challenge] = bridge.LogoutRequest{Challenge: challenge, Subject: "user-1", ClientID: "app",
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:5555/logged-out"}}
	s, err := New(Config{
		ReturnTo: bridge.AllowList{"*.idstack.test"}, FormActions: []string{"http://kratos.test"},
		Claims: bridge.DefaultClaimMapping(), CSRF: bridge.CSRF{Key: []byte("0123456789abcdef0123456789abcdef")},
	}, k, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: s, kratos: k, hydra: h}
}

func (f *fixture) do(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{PathAlive, PathLogin + "?flow=" + flowID, PathConsent + "?consent_challenge=bad", "/nope"} {
		resp := f.do(httptest.NewRequest(http.MethodGet, path, nil))
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without TLS", path)
		}
	}
}

func TestLoginFlowRendersKratosNodesAndMessages(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil)
	req.Header.Set("Accept-Language", "ja,en;q=0.8")
	resp := f.do(req)
	html := body(t, resp)
	for _, want := range []string{
		`action="http://kratos.test/self-service/login?flow=` + flowID + `"`,
		`name="csrf_token" value="kratos-csrf"`, `name="password"`, `type="password"`,
		"認証情報が正しくありません。", // message 4000006 in Japanese
		`lang="ja"`, `href="/static/style.css"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("a page must load no script")
	}
}

func TestExpiredFlowRestartsKeepingTheLoginChallenge(t *testing.T) {
	f := newFixture(t)
	resp := f.do(httptest.NewRequest(http.MethodGet, PathLogin+"?flow=11111111-1111-4111-8111-111111111111&login_challenge="+challenge, nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d, want 303", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/self-service/login/browser" || loc.Query().Get("login_challenge") != challenge {
		t.Errorf("restart to %s", loc)
	}
}

// Kratos restarts an expired flow without Hydra's challenge (the new flow
// keeps only the old request URL): the bridge starts it again with the
// challenge, and the next page still says the first one expired.
func TestRestartedFlowGetsItsLoginChallengeBack(t *testing.T) {
	f := newFixture(t)
	restarted := f.kratos.Flows[flowID]
	restarted.Messages = []bridge.Message{{ID: 4010001, Type: "error", Text: "The login flow expired 0.02 minutes ago, please try again."}}
	restarted.DroppedChallenge = challenge
	f.kratos.Flows[flowID] = restarted

	resp := f.do(httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d, want 303", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/self-service/login/browser" || loc.Query().Get("login_challenge") != challenge {
		t.Errorf("restart to %s", loc)
	}
	var notice *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == noticeCookie {
			notice = c
		}
	}
	if notice == nil || notice.Value != "4010001" || !notice.HttpOnly {
		t.Fatalf("notice cookie %+v", notice)
	}

	// The fresh flow (with the challenge, no message of its own) shows the
	// carried notice once, in the reader's language, and clears it.
	fresh := f.kratos.Flows[flowID]
	fresh.Messages, fresh.DroppedChallenge, fresh.LoginChallenge = nil, "", challenge
	f.kratos.Flows[flowID] = fresh
	req := httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil)
	req.AddCookie(notice)
	req.Header.Set("Accept-Language", "ja")
	resp = f.do(req)
	page := body(t, resp)
	if !strings.Contains(page, `data-id="4010001"`) || !strings.Contains(page, "ログインの有効期限が切れました") {
		t.Errorf("the fresh page lacks the expiry notice:\n%.800s", page)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || c.Name == noticeCookie && c.MaxAge < 0
	}
	if !cleared {
		t.Error("the notice cookie is not cleared")
	}

	// A planted cookie can only name a restart notice.
	req = httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil)
	req.AddCookie(&http.Cookie{Name: noticeCookie, Value: "4000006"})
	if page := body(t, f.do(req)); strings.Contains(page, `data-id="4000006"`) {
		t.Error("a planted notice id was shown")
	}
}

func TestBadInputNeverReachesUpstream(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{
		PathLogin + "?flow=../../admin",
		PathLogin + "?login_challenge=%3Cscript%3E",
		PathLogin + "?return_to=https://evil.com/",
		PathLogin + "?return_to=//evil.com/",
		PathConsent + "?consent_challenge=" + strings.Repeat("A", 5000),
		PathConsent,
		PathLogout + "?logout_challenge=bad",
	} {
		resp := f.do(httptest.NewRequest(http.MethodGet, path, nil))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: got %d, want 400", path, resp.StatusCode)
		}
	}
	if f.hydra.Calls != 0 {
		t.Errorf("%d calls reached Hydra", f.hydra.Calls)
	}
}

func TestUnknownChallengeIs404(t *testing.T) {
	f := newFixture(t)
	resp := f.do(httptest.NewRequest(http.MethodGet, PathConsent+"?consent_challenge=AAAAAAAAAAAAAAAAAAAAAAAA", nil))
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("got %d, want 404", resp.StatusCode)
	}
}

// consentPage GETs the consent page and returns the CSRF cookie and token.
func consentPage(t *testing.T, f *fixture) (*http.Cookie, string) {
	t.Helper()
	resp := f.do(httptest.NewRequest(http.MethodGet, PathConsent+"?consent_challenge="+challenge, nil))
	html := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(html, "The App") {
		t.Fatalf("consent page: %d\n%s", resp.StatusCode, html)
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "https://app.test") {
		t.Error("the consent page's form-action must allow the client's redirect origin")
	}
	i := strings.Index(html, `name="csrf_token" value="`)
	token := html[i+len(`name="csrf_token" value="`):]
	token = token[:strings.Index(token, `"`)]
	return resp.Cookies()[0], token
}

func postForm(path string, form url.Values, cookie *http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return req
}

func TestConsentAcceptGrantsOnlyRequestedScopesWithClaims(t *testing.T) {
	f := newFixture(t)
	cookie, token := consentPage(t, f)
	form := url.Values{"consent_challenge": {challenge}, "csrf_token": {token}, "action": {"accept"},
		"grant_scope": {"openid", "email", "admin"}, "remember": {"true"}}
	resp := f.do(postForm(PathConsent, form, cookie))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d: %s", resp.StatusCode, body(t, resp))
	}
	got := f.hydra.Accepted[challenge]
	if strings.Join(got.Scopes, ",") != "openid,email" || !got.Remember {
		t.Errorf("accepted %+v, want openid,email remembered (admin was never requested)", got)
	}
	if got.IDToken["email"] != "ada@example.com" || got.IDToken["email_verified"] != true {
		t.Errorf("claims %v", got.IDToken)
	}
}

func TestConsentDenyAndCSRF(t *testing.T) {
	f := newFixture(t)
	cookie, token := consentPage(t, f)
	// A forged form (no cookie, or a wrong token) is refused and nothing
	// is accepted upstream.
	for name, req := range map[string]*http.Request{
		"no cookie":   postForm(PathConsent, url.Values{"consent_challenge": {challenge}, "csrf_token": {token}, "action": {"accept"}}, nil),
		"wrong token": postForm(PathConsent, url.Values{"consent_challenge": {challenge}, "csrf_token": {"forged"}, "action": {"accept"}}, cookie),
	} {
		if resp := f.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", name, resp.StatusCode)
		}
	}
	if len(f.hydra.Accepted) != 0 {
		t.Fatal("a forged form was accepted")
	}
	resp := f.do(postForm(PathConsent, url.Values{"consent_challenge": {challenge}, "csrf_token": {token}, "action": {"deny"}}, cookie))
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "access_denied") || len(f.hydra.Rejected) != 1 {
		t.Fatalf("deny: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestConsentSkippedForFirstPartyAndRemembered(t *testing.T) {
	for name, change := range map[string]func(*fixture){
		"hydra remembers": func(f *fixture) { c := f.hydra.Consents[challenge]; c.Skip = true; f.hydra.Consents[challenge] = c },
		"skip_consent": func(f *fixture) {
			c := f.hydra.Consents[challenge]
			c.ClientSkip = true
			f.hydra.Consents[challenge] = c
		},
		"first party": func(f *fixture) { f.srv.cfg.FirstParty = []string{"app"} },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			change(f)
			resp := f.do(httptest.NewRequest(http.MethodGet, PathConsent+"?consent_challenge="+challenge, nil))
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("got %d, want a redirect without a page", resp.StatusCode)
			}
			if _, ok := f.hydra.Accepted[challenge]; !ok {
				t.Fatal("not accepted")
			}
		})
	}
}

func TestLogoutConfirmAcceptEndsKratosSession(t *testing.T) {
	for _, tt := range []struct {
		name     string
		aal1Only bool // whoami withholds the session until a second factor
	}{
		{name: "aal1 session"},
		{name: "aal1 session of an identity with a second factor", aal1Only: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := f.do(httptest.NewRequest(http.MethodGet, PathLogout+"?logout_challenge="+challenge, nil))
			req := postForm(PathLogout, url.Values{"logout_challenge": {challenge}, "csrf_token": {csrfToken(t, body(t, resp))}, "action": {"accept"}}, resp.Cookies()[0])
			req.Header.Set("Cookie", req.Header.Get("Cookie")+"; ory_kratos_session=s1")
			// The fake keys sessions by the whole Cookie header; give it what it knows.
			f.kratos.Sessions[req.Header.Get("Cookie")] = bridge.Session{ID: "sess-1"}
			f.kratos.AAL1Only = map[string]bool{req.Header.Get("Cookie"): tt.aal1Only}
			out := f.do(req)
			if out.StatusCode != http.StatusSeeOther || !strings.Contains(out.Header.Get("Location"), "logout_verifier") {
				t.Fatalf("got %d %s", out.StatusCode, out.Header.Get("Location"))
			}
			if len(f.kratos.Ended) != 1 || f.kratos.Ended[0] != "sess-1" {
				t.Errorf("Kratos sessions ended: got %v, want [sess-1]", f.kratos.Ended)
			}
		})
	}
}

func TestLogoutWithoutAKratosSessionStillLeaves(t *testing.T) {
	f := newFixture(t)
	resp := f.do(httptest.NewRequest(http.MethodGet, PathLogout+"?logout_challenge="+challenge, nil))
	req := postForm(PathLogout, url.Values{"logout_challenge": {challenge}, "csrf_token": {csrfToken(t, body(t, resp))}, "action": {"accept"}}, resp.Cookies()[0])
	out := f.do(req)
	if out.StatusCode != http.StatusSeeOther || !strings.Contains(out.Header.Get("Location"), "logout_verifier") {
		t.Fatalf("got %d %s, want 303 to Hydra", out.StatusCode, out.Header.Get("Location"))
	}
	if len(f.kratos.Ended) != 0 {
		t.Errorf("Kratos sessions ended: got %v, want none", f.kratos.Ended)
	}
}

func TestReadyNeedsKratosAndHydra(t *testing.T) {
	f := newFixture(t)
	if resp := f.do(httptest.NewRequest(http.MethodGet, PathReady, nil)); resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d", resp.StatusCode)
	}
	f.kratos.Down = true
	if resp := f.do(httptest.NewRequest(http.MethodGet, PathReady, nil)); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %d with Kratos down", resp.StatusCode)
	}
}

func TestBodiesAreSizeLimited(t *testing.T) {
	f := newFixture(t)
	big := url.Values{"consent_challenge": {challenge}, "pad": {strings.Repeat("x", 100<<10)}}
	if resp := f.do(postForm(PathConsent, big, nil)); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("got %d for a 100 KiB body, want 400", resp.StatusCode)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	f := newFixture(t)
	m := NewMetrics()
	s, err := New(Config{CSRF: f.srv.cfg.CSRF, ReturnTo: f.srv.cfg.ReturnTo, Metrics: m}, f.kratos, f.hydra, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{PathLogin + "?flow=" + flowID, PathConsent + "?consent_challenge=x"} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathMetrics, nil))
	out := rec.Body.String()
	for _, want := range []string{
		`idstack_bridge_request_duration_seconds_count{code="200",method="GET",route="GET /login"} 1`,
		`idstack_bridge_request_duration_seconds_count{code="400",method="GET",route="GET /consent"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestLanguage(t *testing.T) {
	for header, want := range map[string]string{"": "en", "ja": "ja", "ja-JP,en;q=0.5": "ja", "en;q=0.9,ja;q=0.95": "ja", "ja;q=0,en": "en", "fr": "en"} {
		if got := language(header); got != want {
			t.Errorf("language(%q) = %s, want %s", header, got, want)
		}
	}
}

func BenchmarkConsentPage(b *testing.B) {
	f := newFixture(&testing.T{})
	req := httptest.NewRequest(http.MethodGet, PathConsent+"?consent_challenge="+challenge, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
	}
}

func BenchmarkLoginFlowPage(b *testing.B) {
	f := newFixture(&testing.T{})
	req := httptest.NewRequest(http.MethodGet, PathLogin+"?flow="+flowID, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
	}
}
