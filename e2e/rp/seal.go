package rp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrBadCookie is returned for a cookie that is missing, tampered with,
// sealed under another key, or expired.
var ErrBadCookie = errors.New("missing, tampered or expired cookie")

// sealer encrypts and authenticates small values (AES-256-GCM), so the app
// keeps no server-side state: any replica can read what another one set.
// The cookie name is authenticated too, so a value cannot move between
// cookies.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (sealer, error) {
	if len(secret) < 32 {
		return sealer{}, fmt.Errorf("cookie secret: %d bytes, need at least 32", len(secret))
	}
	key := sha256.Sum256(secret)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead}, nil
}

// envelope carries a value and its expiry.
type envelope struct {
	Expires int64           `json:"exp"`
	Value   json.RawMessage `json:"v"`
}

func (s sealer) seal(name string, v any, ttl time.Duration, now time.Time) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(envelope{Expires: now.Add(ttl).Unix(), Value: raw})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s sealer) open(name, sealed string, v any, now time.Time) error {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return ErrBadCookie
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(name))
	if err != nil {
		return ErrBadCookie
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || now.Unix() > env.Expires {
		return ErrBadCookie
	}
	if err := json.Unmarshal(env.Value, v); err != nil {
		return ErrBadCookie
	}
	return nil
}
