package bridge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// CSRFCookie holds the per-browser CSRF secret of the bridge's own forms
// (consent, logout). Kratos' forms carry Kratos' own csrf_token node.
const CSRFCookie = "idstack_bridge_csrf"

// ErrCSRF is returned for a form whose token does not match.
var ErrCSRF = errors.New("csrf token mismatch")

// CSRF issues and checks form tokens bound to a browser cookie and to what
// the form acts on (a challenge), so a token can be used for nothing else.
type CSRF struct {
	Key    []byte // server secret, at least 32 bytes
	Secure bool   // set the Secure attribute (served over TLS)
}

// Token returns the token for a form about subject, setting the browser's
// CSRF cookie when it has none.
func (c CSRF) Token(w http.ResponseWriter, r *http.Request, subject string) (string, error) {
	seed := ""
	if ck, err := r.Cookie(CSRFCookie); err == nil && len(ck.Value) == 43 {
		seed = ck.Value
	} else {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		seed = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: CSRFCookie, Value: seed, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: c.Secure,
		})
	}
	return c.sign(seed, subject), nil
}

// Check verifies a submitted token against the cookie and subject.
func (c CSRF) Check(r *http.Request, subject, token string) error {
	ck, err := r.Cookie(CSRFCookie)
	if err != nil || len(ck.Value) != 43 {
		return ErrCSRF
	}
	if !hmac.Equal([]byte(c.sign(ck.Value, subject)), []byte(token)) {
		return ErrCSRF
	}
	return nil
}

func (c CSRF) sign(seed, subject string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte(seed))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
