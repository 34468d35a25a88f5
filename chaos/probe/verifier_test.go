package probe

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func rsaKey(t *testing.T, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

// sign makes an ID token signed by key whose header names kid.
func sign(t *testing.T, key jose.JSONWebKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwksServer publishes keys and counts fetches.
func jwksServer(t *testing.T, keys ...jose.JSONWebKey) (*httptest.Server, *atomic.Int32) {
	var fetches atomic.Int32
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv, &fetches
}

func TestVerifier(t *testing.T) {
	old, current, rogue := rsaKey(t, "old"), rsaKey(t, "current"), rsaKey(t, "rogue")
	srv, fetches := jwksServer(t, old, current)
	now := time.Unix(1_800_000_000, 0)
	v := &Verifier{JWKSURL: srv.URL, Issuer: "https://issuer.test/", Audience: "app", TTL: time.Minute,
		HTTP: &http.Client{Timeout: 5 * time.Second}, Now: func() time.Time { return now }}
	good := map[string]any{"iss": "https://issuer.test/", "aud": []string{"app"}, "exp": now.Add(time.Hour).Unix(), "jti": "j1"}

	tests := []struct {
		name    string
		raw     string
		wantErr error
		wantMis *KidMismatch
	}{
		{name: "signed by the key it names", raw: sign(t, current, "current", good)},
		{name: "audience as a string", raw: sign(t, old, "old", map[string]any{"iss": "https://issuer.test/", "aud": "app", "exp": now.Add(time.Hour).Unix()})},
		{name: "kid of the old key, signed by the current one (Hydra's kid-at-authorize)", raw: sign(t, current, "old", good),
			wantErr: ErrKidMismatch, wantMis: &KidMismatch{Kid: "old", SignedBy: "current"}},
		{name: "kid of the old key, signed by the current one, expired: the expiry is the error", raw: sign(t, current, "old", map[string]any{"iss": "https://issuer.test/", "aud": "app", "exp": now.Add(-time.Second).Unix()})},
		{name: "kid of the old key, signed by the current one, for another audience", raw: sign(t, current, "old", map[string]any{"iss": "https://issuer.test/", "aud": "other", "exp": now.Add(time.Hour).Unix()})},
		{name: "kid of the old key, signed by the current one, another issuer", raw: sign(t, current, "old", map[string]any{"iss": "https://evil.test/", "aud": "app", "exp": now.Add(time.Hour).Unix()})},
		{name: "unknown kid", raw: sign(t, rogue, "rogue", good), wantErr: ErrUnknownKid},
		{name: "a published kid, signed by no published key", raw: sign(t, rogue, "current", good)},
		{name: "wrong issuer", raw: sign(t, current, "current", map[string]any{"iss": "https://evil.test/", "aud": "app", "exp": now.Add(time.Hour).Unix()})},
		{name: "wrong audience", raw: sign(t, current, "current", map[string]any{"iss": "https://issuer.test/", "aud": "other", "exp": now.Add(time.Hour).Unix()})},
		{name: "expired", raw: sign(t, current, "current", map[string]any{"iss": "https://issuer.test/", "aud": "app", "exp": now.Add(-time.Second).Unix()})},
		{name: "not a JWT", raw: "a.b.c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := v.Verify(context.Background(), tt.raw)
			shouldFail := tt.name != "signed by the key it names" && tt.name != "audience as a string"
			if (err != nil) != shouldFail {
				t.Fatalf("got error %v, want failure %v", err, shouldFail)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			var m *KidMismatch
			if errors.As(err, &m) != (tt.wantMis != nil) || (m != nil && *m != *tt.wantMis) {
				t.Errorf("got mismatch %+v, want %+v", m, tt.wantMis)
			}
		})
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetched the JWKS %d times within its TTL, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	if _, _, err := v.Verify(context.Background(), sign(t, current, "current", map[string]any{"iss": "https://issuer.test/", "aud": "app", "exp": now.Add(time.Hour).Unix()})); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetched %d times after the TTL ran out, want 2", n)
	}
}
