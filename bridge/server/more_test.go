package server

import (
	"bytes"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/bridge"
	"github.com/idstack/idstack/bridge/ory"
)

// csrfToken reads the CSRF token of a page of the bridge's own.
func csrfToken(t *testing.T, html string) string {
	t.Helper()
	const field = `name="csrf_token" value="`
	i := strings.Index(html, field)
	if i < 0 {
		t.Fatalf("no CSRF token in\n%s", html)
	}
	token := html[i+len(field):]
	return token[:strings.Index(token, `"`)]
}

// formAction returns the form-action sources of a CSP.
func formAction(csp string) []string {
	for _, d := range strings.Split(csp, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "form-action "); ok {
			return strings.Fields(v)
		}
	}
	return nil
}

func TestLogoutPageFormActionAllowsTheClientsPostLogoutRedirect(t *testing.T) {
	f := newFixture(t)
	resp := f.do(httptest.NewRequest(http.MethodGet, PathLogout+"?logout_challenge="+challenge, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d", resp.StatusCode)
	}
	got := formAction(resp.Header.Get("Content-Security-Policy"))
	want := []string{"'self'", "http://kratos.test", "http://127.0.0.1:5555"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("form-action %v, want %v (the app's origin, where Hydra redirects after the POST)", got, want)
	}
}

func TestLogoutRefusesForgedForms(t *testing.T) {
	f := newFixture(t)
	resp := f.do(httptest.NewRequest(http.MethodGet, PathLogout+"?logout_challenge="+challenge, nil))
	cookie, token := resp.Cookies()[0], csrfToken(t, body(t, resp))
	const other = "T3RoZXJDaGFsbGVuZ2VWYWx1ZTAxMjM"
	f.hydra.Logouts[other] = bridge.LogoutRequest{Challenge: other, ClientID: "app"}
	form := func(ch, tok, action string) url.Values {
		return url.Values{"logout_challenge": {ch}, "csrf_token": {tok}, "action": {action}}
	}
	for name, req := range map[string]*http.Request{
		"no cookie":                postForm(PathLogout, form(challenge, token, "accept"), nil),
		"no token":                 postForm(PathLogout, url.Values{"logout_challenge": {challenge}, "action": {"accept"}}, cookie),
		"wrong token":              postForm(PathLogout, form(challenge, "forged", "accept"), cookie),
		"token of another request": postForm(PathLogout, form(other, token, "accept"), cookie),
		"forged cancel":            postForm(PathLogout, form(challenge, "forged", "cancel"), cookie),
	} {
		if resp := f.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %d, want 403", name, resp.StatusCode)
		}
	}
	if len(f.hydra.LoggedOut) != 0 || len(f.kratos.Ended) != 0 {
		t.Fatalf("a forged form logged out: Hydra %v, Kratos %v", f.hydra.LoggedOut, f.kratos.Ended)
	}
	if resp := f.do(postForm(PathLogout, form(challenge, token, "accept"), cookie)); resp.StatusCode != http.StatusSeeOther || len(f.hydra.LoggedOut) != 1 {
		t.Fatalf("the real form: got %d, logged out %v", resp.StatusCode, f.hydra.LoggedOut)
	}
}

func TestErrorPageShowsTheKratosError(t *testing.T) {
	f := newFixture(t)
	f.kratos.Errors = map[string]bridge.FlowError{flowID: {ID: flowID, Code: 400, Status: "Bad Request",
		Reason: `Requested return_to URL "https://evil.test/" is not allowed.`, Message: "The request was malformed or contained invalid parameters"}}
	resp := f.do(httptest.NewRequest(http.MethodGet, PathError+"?id="+flowID, nil))
	html := body(t, resp)
	for _, want := range []string{"The request was malformed or contained invalid parameters", "Requested return_to URL &#34;https://evil.test/&#34; is not allowed.", "400 Bad Request"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(html, want) {
			t.Errorf("got %d, page lacks %s:\n%s", resp.StatusCode, want, html)
		}
	}
	generic := texts["en"]["kratos_error"]
	tests := []struct {
		name, query string
		status      int
	}{
		{"no id", "", http.StatusOK},
		{"unknown id", "?id=11111111-1111-4111-8111-111111111111", http.StatusOK},
		{"malformed id", "?id=../../admin", http.StatusBadRequest},
		{"stub id", "?id=stub:500", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.do(httptest.NewRequest(http.MethodGet, PathError+tt.query, nil))
			html := body(t, resp)
			if resp.StatusCode != tt.status || !strings.Contains(html, generic) || strings.Contains(html, "kratos-error") {
				t.Errorf("got %d, want %d and the generic page:\n%s", resp.StatusCode, tt.status, html)
			}
		})
	}
}

func TestUpstreamTransportErrorsLogNoChallenge(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused from now on
	c := &http.Client{Timeout: 5 * time.Second}
	var logs bytes.Buffer
	s, err := New(Config{ReturnTo: bridge.AllowList{"*.idstack.test"}, CSRF: bridge.CSRF{Key: []byte("0123456789abcdef0123456789abcdef")}},
		ory.NewKratos(down.URL, down.URL, c), ory.NewHydra(down.URL, c), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		PathConsent + "?consent_challenge=" + challenge,
		PathLogout + "?logout_challenge=" + challenge,
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusBadGateway {
			t.Errorf("%s: got %d, want 502", path, rec.Code)
		}
	}
	if out := logs.String(); strings.Count(out, "request failed") != 2 || strings.Contains(out, challenge) || strings.Contains(out, "_challenge=") {
		t.Errorf("logs:\n%s", out)
	}
}

func TestFailLogsTheRequestID(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	f.srv.log = slog.New(slog.NewJSONHandler(&logs, nil))
	req := httptest.NewRequest(http.MethodGet, PathConsent+"?consent_challenge=AAAAAAAAAAAAAAAAAAAAAAAA", nil)
	f.do(req.WithContext(WithRequestID(req.Context(), "req-42")))
	if out := logs.String(); !strings.Contains(out, `"msg":"request failed"`) || !strings.Contains(out, `"request_id":"req-42"`) {
		t.Errorf("log lacks the request id:\n%s", out)
	}
}

func TestReadyIs503WhileHydraIsDown(t *testing.T) {
	f := newFixture(t)
	f.hydra.Down = true
	resp := f.do(httptest.NewRequest(http.MethodGet, PathReady, nil))
	if text := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(text, "hydra") || strings.Contains(text, "kratos") {
		t.Fatalf("got %d %q with Hydra down and Kratos up, want 503 naming Hydra only", resp.StatusCode, text)
	}
}

func TestHSTSAndSecureCookiesOnlyUnderTLS(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			f := newFixture(t)
			s, err := New(Config{ReturnTo: f.srv.cfg.ReturnTo, CSRF: f.srv.cfg.CSRF, TLS: tls}, f.kratos, f.hydra, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(s)
			if tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			resp, err := srv.Client().Get(srv.URL + PathConsent + "?consent_challenge=" + challenge)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tls {
				t.Errorf("HSTS sent: %v, want %v", got, tls)
			}
			cookies := resp.Cookies()
			if len(cookies) != 1 || cookies[0].Name != bridge.CSRFCookie || cookies[0].Secure != tls {
				t.Errorf("cookies %+v, want the CSRF cookie with Secure %v", cookies, tls)
			}
		})
	}
}

// Kratos' TOTP setup in settings: the QR code is a data: URL, the secret a
// text node with a label. Both must reach the page as Kratos sent them.
func TestSettingsShowsTheTOTPQRCodeAndSecret(t *testing.T) {
	f := newFixture(t)
	const (
		settingsID = "7b0e3c51-0b5e-4d7e-9d6a-1f2f3a4b5c6d"
		qr         = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
		secret     = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	)
	f.kratos.Flows[settingsID] = bridge.Flow{ID: settingsID, Kind: bridge.FlowSettings, Action: "http://kratos.test/self-service/settings?flow=" + settingsID, Method: "POST",
		Nodes: []bridge.Node{
			{Group: "default", Type: "input", Name: "csrf_token", InputType: "hidden", Value: "kratos-csrf"},
			{Group: "totp", Type: "text", Text: secret, Label: &bridge.Message{ID: 1050017, Text: "This is your authenticator app secret. Use it if you can not scan the QR code."}},
			{Group: "totp", Type: "img", Href: qr, Label: &bridge.Message{ID: 1050005, Text: "Authenticator app QR code"}},
			{Group: "totp", Type: "input", Name: "totp_code", InputType: "text", Required: true, Label: &bridge.Message{ID: 1070006, Text: "Verify code"}},
			{Group: "totp", Type: "input", Name: "method", InputType: "submit", Value: "totp", Label: &bridge.Message{ID: 1070003, Text: "Save"}},
			// Not an image: the template's URL filter must still apply.
			{Group: "totp", Type: "img", Href: "data:text/html;base64,PHNjcmlwdD4="},
		}}
	// Attribute values come entity-escaped ("+" as &#43;), as browsers read them.
	page := html.UnescapeString(body(t, f.do(httptest.NewRequest(http.MethodGet, PathSettings+"?flow="+settingsID, nil))))
	for _, want := range []string{
		`<img src="` + qr + `" alt="Authenticator app QR code">`,
		`<code>` + secret + `</code>`, "Use it if you can not scan the QR code.",
		`name="totp_code"`, `name="method" value="totp"`, `<img src="#ZgotmplZ"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "data:text/html") {
		t.Error("a data: URL that is no image reached the page")
	}
}

// A session Kratos withholds until a second factor must not send the home
// page to the login page, which finds the session and sends it back.
func TestHomeAsksForTheSecondFactor(t *testing.T) {
	f := newFixture(t)
	f.kratos.AAL1Only = map[string]bool{"ory_kratos_session=s2": true}
	req := httptest.NewRequest(http.MethodGet, PathHome, nil)
	req.Header.Set("Cookie", "ory_kratos_session=s2")
	resp := f.do(req)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != PathLogin+"?aal=aal2" {
		t.Errorf("got %d to %q, want 303 to %s?aal=aal2", resp.StatusCode, loc, PathLogin)
	}
}
