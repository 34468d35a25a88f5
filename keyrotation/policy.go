package keyrotation

import (
	"fmt"
	"time"
)

// Default key sets: Hydra's ID-token and JWT access-token sets.
const (
	SetIDToken     = "hydra.openid.id-token"
	SetAccessToken = "hydra.jwt.access-token"
)

// SetPolicy is how one set's keys are made.
type SetPolicy struct {
	Name    string `json:"name"`
	Alg     string `json:"alg"`      // RS256 or ES256
	RSABits int    `json:"rsa-bits"` // RS256 only
}

// Policy is a rotation schedule and its safety margins.
type Policy struct {
	Sets []SetPolicy `json:"sets"`
	// Cadence is how long a key signs before the standby replaces it.
	Cadence time.Duration `json:"cadence"`
	// Lead is how long a key is served in every region before it may sign.
	Lead time.Duration `json:"lead"`
	// Overlap is how long a key stays served after it stops signing.
	Overlap time.Duration `json:"overlap"`
	// Skew is the clock skew allowed between Hydra, verifiers and this job.
	Skew time.Duration `json:"skew"`
	// VerifierCacheTTL is the longest time a verifier caches the JWKS.
	VerifierCacheTTL time.Duration `json:"verifier_cache_ttl"`
	// MaxTokenLifetime is the longest lifetime of a token Hydra signs (its
	// TTL settings and every client's lifespans).
	MaxTokenLifetime time.Duration `json:"max_token_lifetime"`
	// LeaseTTL bounds how long a crashed run blocks the next one.
	LeaseTTL time.Duration `json:"lease_ttl"`
}

// DefaultPolicy rotates every 30 days with RSA 3072 keys for both sets,
// assuming verifiers cache the JWKS for at most 1 h and tokens live 1 h.
func DefaultPolicy() Policy {
	return Policy{
		Sets: []SetPolicy{
			{Name: SetIDToken, Alg: RS256, RSABits: 3072},
			{Name: SetAccessToken, Alg: RS256, RSABits: 3072},
		},
		Cadence:          30 * 24 * time.Hour,
		Lead:             2 * time.Hour,
		Overlap:          2 * time.Hour,
		Skew:             5 * time.Minute,
		VerifierCacheTTL: time.Hour,
		MaxTokenLifetime: time.Hour,
		LeaseTTL:         5 * time.Minute,
	}
}

// Validate checks the policy before anything runs; errors name the setting.
func (p Policy) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPolicy, field, fmt.Sprintf(format, args...))
	}
	if len(p.Sets) == 0 {
		return bad("sets", "at least one key set is required")
	}
	seen := map[string]bool{}
	for i, s := range p.Sets {
		field := fmt.Sprintf("sets[%d]", i)
		if s.Name == "" {
			return bad(field+".name", "must not be empty")
		}
		if seen[s.Name] {
			return bad(field+".name", "%q appears twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Alg {
		case RS256:
			if s.RSABits < 2048 || s.RSABits > 8192 || s.RSABits%1024 != 0 {
				return bad(field+".rsa-bits", "%d, want a multiple of 1024 from 2048 to 8192", s.RSABits)
			}
		case ES256:
		default:
			return bad(field+".alg", "%q, want RS256 or ES256", s.Alg)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"skew", p.Skew}, {"verifier-cache-ttl", p.VerifierCacheTTL}, {"max-token-lifetime", p.MaxTokenLifetime}} {
		if d.v < 0 {
			return bad(d.name, "%s is negative", d.v)
		}
	}
	if min := p.VerifierCacheTTL + p.Skew; p.Lead < min {
		return bad("lead", "%s is shorter than verifier-cache-ttl + skew = %s: a verifier could see a token signed by a key it cannot know yet", p.Lead, min)
	}
	if min := p.MaxTokenLifetime + p.Skew; p.Overlap < min {
		return bad("overlap", "%s is shorter than max-token-lifetime + skew = %s: a valid token could be rejected before it expires", p.Overlap, min)
	}
	if p.Cadence < p.Lead {
		return bad("cadence", "%s is shorter than lead %s: the standby could never be ready in time", p.Cadence, p.Lead)
	}
	if p.LeaseTTL < 30*time.Second {
		return bad("lease-ttl", "%s, want at least 30s (a third of it must outlast any single Vault or Hydra call)", p.LeaseTTL)
	}
	return nil
}

// Set returns the policy of set name.
func (p Policy) Set(name string) (SetPolicy, bool) {
	for _, s := range p.Sets {
		if s.Name == name {
			return s, true
		}
	}
	return SetPolicy{}, false
}
