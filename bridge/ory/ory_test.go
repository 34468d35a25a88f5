package ory

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/bridge"
)

const challenge = "Zm9vYmFyYmF6cXV4LWNoYWxsZW5nZQ"

func client() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

// serve answers path with status and body (JSON), and records the query.
func serve(t *testing.T, path string, status int, body any) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPostLogoutRedirects(t *testing.T) {
	registered := []string{"http://127.0.0.1:5555/logged-out", "https://app.test/bye"}
	tests := []struct {
		name, requestURL string
		want             []string
	}{
		{"none asked: all the client's", "http://hydra.test/oauth2/sessions/logout?id_token_hint=x", registered},
		{"asked and registered: only that one", "http://hydra.test/oauth2/sessions/logout?post_logout_redirect_uri=https%3A%2F%2Fapp.test%2Fbye", []string{"https://app.test/bye"}},
		{"asked, not registered: none", "http://hydra.test/oauth2/sessions/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.test%2F", nil},
		{"unparsable request URL", "http://hydra.test/%zz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := postLogoutRedirects(tt.requestURL, registered); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHydraLogoutCarriesThePostLogoutRedirect(t *testing.T) {
	srv := serve(t, "/admin/oauth2/auth/requests/logout", http.StatusOK, map[string]any{
		"challenge": challenge, "subject": "user-1",
		"request_url": "http://hydra.test/oauth2/sessions/logout?post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Flogged-out",
		"client":      map[string]any{"client_id": "app", "post_logout_redirect_uris": []string{"http://127.0.0.1:5555/logged-out", "https://app.test/bye"}},
	})
	got, err := NewHydra(srv.URL, client()).Logout(context.Background(), challenge)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "app" || !reflect.DeepEqual(got.PostLogoutRedirectURIs, []string{"http://127.0.0.1:5555/logged-out"}) {
		t.Errorf("got %+v, want client app with the one redirect it asked for", got)
	}
}

func TestKratosFlowErrorKeepsNoDebugDetails(t *testing.T) {
	id := "0451696c-5cda-4d51-9e5b-a6c9d4b2f14f"
	srv := serve(t, "/self-service/errors", http.StatusOK, map[string]any{"id": id, "error": map[string]any{
		"code": 400, "status": "Bad Request", "reason": `Requested return_to URL "https://evil.test" is not allowed.`,
		"message": "The request was malformed or contained invalid parameters", "debug": "stack trace at x.go:12",
	}})
	got, err := NewKratos(srv.URL, srv.URL, client()).FlowError(context.Background(), id)
	want := bridge.FlowError{ID: id, Code: 400, Status: "Bad Request", Reason: `Requested return_to URL "https://evil.test" is not allowed.`,
		Message: "The request was malformed or contained invalid parameters"}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	gone := serve(t, "/self-service/errors", http.StatusNotFound, map[string]any{"error": map[string]any{"code": 404}})
	if _, err := NewKratos(gone.URL, gone.URL, client()).FlowError(context.Background(), id); !errors.Is(err, bridge.ErrFlowGone) {
		t.Errorf("unknown id: got %v, want ErrFlowGone", err)
	}
}

func TestAnswersBecomeStatusErrors(t *testing.T) {
	srv := serve(t, "/admin/oauth2/auth/requests/consent", http.StatusServiceUnavailable, map[string]any{"error": "unavailable"})
	_, err := NewHydra(srv.URL, client()).Consent(context.Background(), challenge)
	var se *bridge.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
		t.Fatalf("got %v, want a StatusError with 503", err)
	}
}

func TestTransportErrorsCarryNoQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // connection refused from now on
	h := NewHydra(srv.URL, client())
	calls := map[string]func() error{
		"consent": func() error { _, err := h.Consent(context.Background(), challenge); return err },
		"logout":  func() error { _, err := h.Logout(context.Background(), challenge); return err },
		"accept":  func() error { _, err := h.AcceptLogout(context.Background(), challenge); return err },
		"login":   func() error { _, err := h.Login(context.Background(), challenge); return err },
	}
	for name, call := range calls {
		err := call()
		if err == nil || strings.Contains(err.Error(), challenge) || strings.Contains(err.Error(), "?") {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(err.Error(), "/admin/oauth2/auth/requests/") {
			t.Errorf("%s: %v, want the path kept", name, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://hydra:4445/admin/oauth2/auth/requests/consent?consent_challenge=abc": "http://hydra:4445/admin/oauth2/auth/requests/consent",
		"http://u:p@kratos/sessions/whoami?x=1#frag":                                 "http://kratos/sessions/whoami",
		"http://kratos/self-service/errors?":                                         "http://kratos/self-service/errors",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDroppedChallenge(t *testing.T) {
	for _, c := range []struct{ kept, requestURL, want string }{
		{"", "http://kratos.test/self-service/login/browser?login_challenge=" + challenge, challenge},
		{challenge, "http://kratos.test/self-service/login/browser?login_challenge=" + challenge, ""},
		{"", "http://kratos.test/self-service/login/browser", ""},
		{"", "%zz", ""},
	} {
		if got := droppedChallenge(c.kept, c.requestURL); got != c.want {
			t.Errorf("droppedChallenge(%q, %q) = %q, want %q", c.kept, c.requestURL, got, c.want)
		}
	}
}

func TestWhoamiTellsNoSessionFromASecondFactorRequired(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   any
		want   error
	}{
		{"no session", http.StatusUnauthorized, map[string]any{"error": map[string]any{"id": "session_inactive", "code": 401}}, bridge.ErrNoSession},
		{"aal2 required", http.StatusForbidden, map[string]any{"error": map[string]any{"id": "session_aal2_required", "code": 403},
			"redirect_browser_to": "http://kratos.test/self-service/login/browser?aal=aal2"}, bridge.ErrAAL2Required},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, "/sessions/whoami", tt.status, tt.body)
			_, err := NewKratos(srv.URL, srv.URL, client()).Whoami(context.Background(), "ory_kratos_session=x")
			if !errors.Is(err, tt.want) || !errors.Is(err, bridge.ErrNoSession) {
				t.Errorf("got %v, want %v (an ErrNoSession)", err, tt.want)
			}
			if tt.want == bridge.ErrNoSession && errors.Is(err, bridge.ErrAAL2Required) {
				t.Errorf("got %v, want no second factor asked", err)
			}
		})
	}
}

// stubLogout is Kratos' browser logout flow as v1.3.1 answers a JSON
// client: the flow for a cookie it knows, 204 for the matching token.
func stubLogout(t *testing.T, cookie, token string, submitStatus int) (*httptest.Server, *[]string) {
	t.Helper()
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Cookie") != cookie {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"id": "session_inactive", "code": 401}})
			return
		}
		switch r.URL.Path {
		case "/self-service/logout/browser":
			json.NewEncoder(w).Encode(map[string]any{"logout_token": token, "logout_url": "http://kratos.test/self-service/logout?token=" + token})
		case "/self-service/logout":
			if r.URL.Query().Get("token") != token || r.Header.Get("Accept") != "application/json" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.WriteHeader(submitStatus)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestEndBrowserSessionRunsTheLogoutFlowWithTheCookie(t *testing.T) {
	const cookie, token = "ory_kratos_session=x", "secret-logout-token-0123"
	tests := []struct {
		name         string
		cookie       string
		submitStatus int
		want         error
		wantCalls    int
	}{
		{name: "ended", cookie: cookie, submitStatus: http.StatusNoContent, wantCalls: 2},
		{name: "no cookie", want: bridge.ErrNoSession},
		{name: "no session for the cookie", cookie: "ory_kratos_session=other", want: bridge.ErrNoSession, wantCalls: 1},
		{name: "ended meanwhile", cookie: cookie, submitStatus: http.StatusUnauthorized, want: bridge.ErrNoSession, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := stubLogout(t, cookie, token, tt.submitStatus)
			err := NewKratos(srv.URL, srv.URL, client()).EndBrowserSession(context.Background(), tt.cookie)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if len(*calls) != tt.wantCalls {
				t.Errorf("got calls %v, want %d", *calls, tt.wantCalls)
			}
		})
	}
}

func TestEndBrowserSessionErrorsCarryNoLogoutToken(t *testing.T) {
	const cookie, token = "ory_kratos_session=x", "secret-logout-token-0123"
	srv, _ := stubLogout(t, cookie, token, http.StatusInternalServerError)
	err := NewKratos(srv.URL, srv.URL, client()).EndBrowserSession(context.Background(), cookie)
	var se *bridge.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusInternalServerError || strings.Contains(err.Error(), token) {
		t.Errorf("got %v, want a StatusError with 500 and no token", err)
	}
	srv.Close() // a transport error on the first call: the path kept, no query
	err = NewKratos(srv.URL, srv.URL, client()).EndBrowserSession(context.Background(), cookie)
	if err == nil || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "?") || strings.Contains(err.Error(), cookie) {
		t.Errorf("got %v", err)
	}
}
