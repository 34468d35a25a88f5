package bridge

import (
	"net/http"
	"net/http/httptest"
	"reflect"
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
