package keyrotation_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/keyrotation"
)

func TestDefaultPolicyIsValid(t *testing.T) {
	if err := keyrotation.DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyValidationNamesTheSetting(t *testing.T) {
	tests := []struct {
		name   string
		change func(*keyrotation.Policy)
		field  string
	}{
		{"no sets", func(p *keyrotation.Policy) { p.Sets = nil }, "sets"},
		{"empty set name", func(p *keyrotation.Policy) { p.Sets[0].Name = "" }, "sets[0].name"},
		{"duplicate set", func(p *keyrotation.Policy) { p.Sets[1].Name = p.Sets[0].Name }, "sets[1].name"},
		{"bad alg", func(p *keyrotation.Policy) { p.Sets[0].Alg = "HS256" }, "sets[0].alg"},
		{"small rsa", func(p *keyrotation.Policy) { p.Sets[1].RSABits = 1024 }, "sets[1].rsa-bits"},
		{"lead under cache ttl + skew", func(p *keyrotation.Policy) { p.Lead = p.VerifierCacheTTL }, "lead"},
		{"overlap under token lifetime + skew", func(p *keyrotation.Policy) { p.Overlap = p.MaxTokenLifetime }, "overlap"},
		{"cadence under lead", func(p *keyrotation.Policy) { p.Cadence = time.Hour }, "cadence"},
		{"negative skew", func(p *keyrotation.Policy) { p.Skew = -time.Second }, "skew"},
		{"tiny lease", func(p *keyrotation.Policy) { p.LeaseTTL = time.Second }, "lease-ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := keyrotation.DefaultPolicy()
			tt.change(&p)
			err := p.Validate()
			if !errors.Is(err, keyrotation.ErrInvalidPolicy) {
				t.Fatalf("got %v, want ErrInvalidPolicy", err)
			}
			if !strings.Contains(err.Error(), ": "+tt.field+": ") {
				t.Errorf("got %q, want it to name %q", err, tt.field)
			}
		})
	}
}

func TestGeneratedKeysAreWellFormed(t *testing.T) {
	for _, tt := range []struct {
		alg  string
		bits int
		kty  string
	}{{keyrotation.ES256, 0, "EC"}, {keyrotation.RS256, 2048, "RSA"}} {
		k, err := keyrotation.GenerateKey(tt.alg, tt.bits)
		if err != nil {
			t.Fatal(err)
		}
		if k.Algorithm != tt.alg || k.Use != "sig" || k.IsPublic() {
			t.Errorf("%s: alg %s use %s public %v", tt.alg, k.Algorithm, k.Use, k.IsPublic())
		}
		data, _ := keyrotation.MarshalJWK(k)
		if !strings.Contains(string(data), `"kty":"`+tt.kty+`"`) {
			t.Errorf("%s: %s", tt.alg, data)
		}
		back, err := keyrotation.ParseJWK(data)
		if err != nil || back.KeyID != k.KeyID {
			t.Fatalf("%s: round trip: %v", tt.alg, err)
		}
		pub := keyrotation.PublicOnly(k)
		pubData, _ := keyrotation.MarshalJWK(pub)
		if strings.Contains(string(pubData), `"d":`) {
			t.Errorf("%s: public JWK carries its private part", tt.alg)
		}
		if kid, _ := keyrotation.Thumbprint(pub); kid != k.KeyID {
			t.Errorf("%s: kid %s is not the public key's thumbprint %s", tt.alg, k.KeyID, kid)
		}
	}
}

// RFC 7638 section 3.1's example key and thumbprint.
func TestThumbprintMatchesRFC7638(t *testing.T) {
	data := `{"kty":"RSA","e":"AQAB","alg":"RS256","use":"sig","kid":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`
	k, err := keyrotation.ParseJWK([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if k.KeyID != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("got %s", k.KeyID)
	}
}

func TestParseJWKRejectsAKidThatIsNotTheThumbprint(t *testing.T) {
	k, _ := keyrotation.GenerateKey(keyrotation.ES256, 0)
	k.KeyID = "attacker-chosen"
	data, _ := keyrotation.MarshalJWK(k)
	if _, err := keyrotation.ParseJWK(data); err == nil {
		t.Fatal("accepted a kid that is not the thumbprint")
	}
}

func FuzzParseJWK(f *testing.F) {
	k, _ := keyrotation.GenerateKey(keyrotation.ES256, 0)
	good, _ := keyrotation.MarshalJWK(k)
	f.Add(good)
	f.Add([]byte(`{"kty":"RSA","e":"AQAB","n":"AA"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := keyrotation.ParseJWK(data)
		if err != nil {
			return
		}
		kid, err := keyrotation.Thumbprint(k)
		if err != nil || kid != k.KeyID {
			t.Fatalf("accepted key whose kid %q is not its thumbprint %q", k.KeyID, kid)
		}
	})
}
