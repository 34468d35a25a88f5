package bridge

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClaimsByScope(t *testing.T) {
	id := Identity{
		ID:                "b0f4…",
		Traits:            map[string]any{"email": "Ada@Example.com", "name": map[string]any{"first": "Ada", "last": "Lovelace"}},
		VerifiedAddresses: []string{"ada@example.com"},
		UpdatedAt:         time.Unix(1700000000, 0),
	}
	m := DefaultClaimMapping()
	tests := []struct {
		name   string
		scopes []string
		want   map[string]any
	}{
		{"openid only releases nothing here (sub is Hydra's)", []string{"openid"}, map[string]any{}},
		{"email", []string{"openid", "email"}, map[string]any{"email": "Ada@Example.com", "email_verified": true}},
		{"profile", []string{"openid", "profile"}, map[string]any{
			"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
			"preferred_username": "Ada@Example.com", "updated_at": int64(1700000000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Claims(id, tt.scopes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	id.VerifiedAddresses = nil
	if got := m.Claims(id, []string{"email"}); got["email_verified"] != false {
		t.Errorf("unverified address: got %v", got)
	}
	custom := ClaimMapping{"given_name": "profile.given", "family_name": "missing"}
	id.Traits = map[string]any{"profile": map[string]any{"given": "Grace"}}
	if got := custom.Claims(id, []string{"profile"}); got["name"] != "Grace" || got["family_name"] != nil {
		t.Errorf("custom mapping: got %v", got)
	}
}

func TestCSRFBindsTokenToCookieAndSubject(t *testing.T) {
	c := CSRF{Key: []byte("0123456789abcdef0123456789abcdef")}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/consent", nil)
	tok, err := c.Token(rec, req, "challenge-1")
	if err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie attributes: %+v", cookie)
	}
	post := func(ck *http.Cookie) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/consent", nil)
		if ck != nil {
			r.AddCookie(ck)
		}
		return r
	}
	if err := c.Check(post(cookie), "challenge-1", tok); err != nil {
		t.Errorf("valid token refused: %v", err)
	}
	if err := c.Check(post(cookie), "challenge-2", tok); err == nil {
		t.Error("a token for another challenge was accepted")
	}
	if err := c.Check(post(nil), "challenge-1", tok); err == nil {
		t.Error("a token without its cookie was accepted")
	}
	other := &http.Cookie{Name: CSRFCookie, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	if err := c.Check(post(other), "challenge-1", tok); err == nil {
		t.Error("a token with another browser's cookie was accepted")
	}
}

func TestParseClaimMapping(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ClaimMapping
		wantErr string // in the error; "" for none
	}{
		{"custom paths", `{"email":"contact.email","given_name":"name.first"}`, ClaimMapping{"email": "contact.email", "given_name": "name.first"}, ""},
		{"empty object releases nothing", `{}`, ClaimMapping{}, ""},
		{"not JSON", `email=email`, nil, "JSON object"},
		{"null", `null`, nil, "null"},
		{"not an object of strings", `{"email":1}`, nil, "JSON object"},
		{"unknown claim", `{"email":"email","groups":"groups"}`, nil, `claim "groups"`},
		{"computed claim", `{"email_verified":"verified"}`, nil, `claim "email_verified"`},
		{"empty path", `{"email":""}`, nil, `claim "email": trait path ""`},
		{"bad path", `{"name":"name..first"}`, nil, `claim "name": trait path "name..first"`},
		{"path with spaces", `{"name":"full name"}`, nil, `claim "name"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClaimMapping(tt.in)
			if tt.wantErr == "" {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrBadClaimMapping) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want ErrBadClaimMapping naming %s", err, tt.wantErr)
			}
		})
	}
	if err := DefaultClaimMapping().Validate(); err != nil {
		t.Errorf("the default mapping: %v", err)
	}
}

// A mapping either is refused with ErrBadClaimMapping or maps only claims
// the bridge knows, each from a dotted trait path, and survives a round
// trip through JSON.
func FuzzParseClaimMapping(f *testing.F) {
	for _, s := range []string{`{"given_name":"name.first"}`, `{}`, `null`, `{"email":""}`, `{"sub":"id"}`, `[1]`, `{"name":"a..b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseClaimMapping(s)
		if err != nil {
			if !errors.Is(err, ErrBadClaimMapping) {
				t.Fatalf("%q: error %v is not ErrBadClaimMapping", s, err)
			}
			return
		}
		for c, path := range m {
			if !slices.Contains(MappedClaims, c) || !traitPath.MatchString(path) {
				t.Fatalf("%q: accepted claim %q from %q", s, c, path)
			}
		}
		b, _ := json.Marshal(m)
		again, err := ParseClaimMapping(string(b))
		if err != nil || len(again) != len(m) {
			t.Fatalf("%q: round trip %s gave %v, %v", s, b, again, err)
		}
	})
}
