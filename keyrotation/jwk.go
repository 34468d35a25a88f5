package keyrotation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// JWK is a JSON Web Key, private or public.
type JWK = jose.JSONWebKey

// Signing algorithms keyrotation generates keys for.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// GenerateKey makes a signing key for alg (RSA of bits for RS256, P-256 for
// ES256). Its kid is its RFC 7638 thumbprint; alg and use are set.
func GenerateKey(alg string, bits int) (JWK, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, bits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return JWK{}, fmt.Errorf("generate key: unsupported alg %q", alg)
	}
	if err != nil {
		return JWK{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	k := JWK{Key: priv, Algorithm: alg, Use: "sig"}
	kid, err := Thumbprint(k)
	if err != nil {
		return JWK{}, err
	}
	k.KeyID = kid
	return k, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of k's public part,
// base64url without padding.
func Thumbprint(k JWK) (string, error) {
	pub := k.Public()
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// isPublic reports whether k has no private part.
func isPublic(k JWK) bool { return k.IsPublic() }

// PublicOnly returns k without its private parts.
func PublicOnly(k JWK) JWK { return k.Public() }

// MarshalJWK encodes k as JSON.
func MarshalJWK(k JWK) ([]byte, error) { return json.Marshal(k) }

// ParseJWK decodes a JSON Web Key and checks that its kid is its thumbprint.
func ParseJWK(data []byte) (JWK, error) {
	var k JWK
	if err := json.Unmarshal(data, &k); err != nil {
		return JWK{}, fmt.Errorf("parse jwk: %w", err)
	}
	if !k.Valid() {
		return JWK{}, fmt.Errorf("parse jwk: invalid key")
	}
	want, err := Thumbprint(k)
	if err != nil {
		return JWK{}, err
	}
	if k.KeyID != want {
		return JWK{}, fmt.Errorf("parse jwk: kid %q is not the key's thumbprint %q", k.KeyID, want)
	}
	return k, nil
}
