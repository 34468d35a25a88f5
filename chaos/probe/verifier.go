package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrUnknownKid is returned for a token signed by a key the verifier's
// cached key set does not hold.
var ErrUnknownKid = errors.New("signed by a key the cached JWKS does not hold")

// ErrKidMismatch is returned for a token that another key of the cached
// set verifies than the one its kid names.
var ErrKidMismatch = errors.New("kid names another key than the one that signed")

// Verifier checks ID tokens the way a resource server does: against a
// JWKS it fetches at most once per TTL and otherwise serves from cache.
// It never refetches early on an unknown kid, so a key that signs before
// every verifier could have cached it shows up as a failure: the property
// key rotation's lead time exists to guarantee.
type Verifier struct {
	JWKSURL  string
	Issuer   string
	Audience string
	TTL      time.Duration
	HTTP     *http.Client
	Now      func() time.Time

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks raw's signature, issuer, audience and expiry; it returns
// the token's kid and jti whatever the outcome. A token whose kid names
// one published key while another published key signed it is judged in
// full with the key that signed it, and only when its issuer, audience
// and expiry hold is it reported as a *KidMismatch; otherwise the claim
// that failed is the error.
func (v *Verifier) Verify(ctx context.Context, raw string) (kid, jti string, err error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return "", "", fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return "", "", fmt.Errorf("%d signatures", len(jws.Signatures))
	}
	kid = jws.Signatures[0].Header.KeyID
	keys, err := v.cached(ctx)
	if err != nil {
		return kid, "", err
	}
	found := keys.Key(kid)
	if len(found) == 0 {
		return kid, "", fmt.Errorf("%w: %s", ErrUnknownKid, kid)
	}
	signedBy := kid
	payload, err := jws.Verify(found[0].Public())
	if err != nil {
		signedBy = ""
		for _, k := range keys.Keys {
			if k.KeyID == kid {
				continue
			}
			if p, e := jws.Verify(k.Public()); e == nil {
				payload, signedBy = p, k.KeyID
				break
			}
		}
		if signedBy == "" {
			return kid, "", fmt.Errorf("signature: %w", err)
		}
	}
	jti, err = v.claims(payload)
	if err != nil {
		return kid, jti, err
	}
	if signedBy != kid {
		return kid, jti, &KidMismatch{Kid: kid, SignedBy: signedBy}
	}
	return kid, jti, nil
}

// claims checks a verified payload's issuer, audience and expiry.
func (v *Verifier) claims(payload []byte) (jti string, err error) {
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
		Jti string          `json:"jti"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	if c.Iss != v.Issuer {
		return c.Jti, fmt.Errorf("issuer %q, want %q", c.Iss, v.Issuer)
	}
	if !audienceHas(c.Aud, v.Audience) {
		return c.Jti, fmt.Errorf("audience %s lacks %q", c.Aud, v.Audience)
	}
	if v.now().Unix() > c.Exp {
		return c.Jti, errors.New("expired")
	}
	return c.Jti, nil
}

// KidMismatch is a token whose kid header names one published key while
// another published key signed it.
type KidMismatch struct{ Kid, SignedBy string }

func (e *KidMismatch) Error() string {
	return fmt.Sprintf("%v: kid %s, signed by %s", ErrKidMismatch, e.Kid, e.SignedBy)
}

func (e *KidMismatch) Unwrap() error { return ErrKidMismatch }

func audienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, a := range many {
			if a == want {
				return true
			}
		}
	}
	return false
}

// cached returns the key set, fetched again only when older than TTL. A
// failed refresh keeps serving the old set (as resource servers do) and is
// retried on the next call.
func (v *Verifier) cached(ctx context.Context) (jose.JSONWebKeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.fetched.IsZero() && v.now().Sub(v.fetched) < v.TTL {
		return v.keys, nil
	}
	keys, err := FetchJWKS(ctx, v.HTTP, v.JWKSURL)
	if err != nil {
		if v.fetched.IsZero() {
			return keys, err
		}
		return v.keys, nil
	}
	v.keys, v.fetched = keys, v.now()
	return keys, nil
}

// FetchJWKS reads a JSON Web Key Set.
func FetchJWKS(ctx context.Context, hc *http.Client, u string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return set, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return set, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("jwks: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return set, fmt.Errorf("jwks: %w", err)
	}
	return set, nil
}
