package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Identity is what the bridge needs of a Kratos identity.
type Identity struct {
	ID                string
	Traits            map[string]any
	VerifiedAddresses []string // verifiable addresses Kratos marked verified
	UpdatedAt         time.Time
}

// ClaimMapping maps an OIDC claim to a trait path ("name.first").
type ClaimMapping map[string]string

// DefaultClaimMapping fits the default identity schema (email, name.first,
// name.last).
func DefaultClaimMapping() ClaimMapping {
	return ClaimMapping{
		"email":              "email",
		"given_name":         "name.first",
		"family_name":        "name.last",
		"preferred_username": "email",
	}
}

// MappedClaims are the claims a ClaimMapping can take from traits;
// email_verified and updated_at come from Kratos itself.
var MappedClaims = []string{"email", "family_name", "given_name", "name", "preferred_username"}

var traitPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// ErrBadClaimMapping is returned for a mapping that cannot be used.
var ErrBadClaimMapping = errors.New("bad claim mapping")

// ParseClaimMapping reads a JSON object of claim → trait path
// ({"given_name": "name.first"}) and validates it.
func ParseClaimMapping(s string) (ClaimMapping, error) {
	var m ClaimMapping
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("%w: want a JSON object of claim to trait path: %v", ErrBadClaimMapping, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: want a JSON object, got null", ErrBadClaimMapping)
	}
	return m, m.Validate()
}

// Validate names the first claim that is not one of MappedClaims or whose
// trait path is not dotted names ("name.first").
func (m ClaimMapping) Validate() error {
	claims := make([]string, 0, len(m))
	for c := range m {
		claims = append(claims, c)
	}
	slices.Sort(claims)
	for _, c := range claims {
		if !slices.Contains(MappedClaims, c) {
			return fmt.Errorf("%w: claim %q: not one the bridge maps (%s)", ErrBadClaimMapping, c, strings.Join(MappedClaims, ", "))
		}
		if !traitPath.MatchString(m[c]) {
			return fmt.Errorf("%w: claim %q: trait path %q: want dotted names, e.g. name.first", ErrBadClaimMapping, c, m[c])
		}
	}
	return nil
}

// scopeClaims lists the claims each scope releases (OIDC Core 5.4).
var scopeClaims = map[string][]string{
	"email":   {"email", "email_verified"},
	"profile": {"name", "given_name", "family_name", "preferred_username", "updated_at"},
}

// Claims returns the ID-token claims granted scopes release for id. sub is
// Hydra's (the login subject), so it is never set here.
func (m ClaimMapping) Claims(id Identity, granted []string) map[string]any {
	out := map[string]any{}
	for _, scope := range granted {
		for _, claim := range scopeClaims[scope] {
			switch claim {
			case "email_verified":
				if email, ok := out["email"].(string); ok {
					out[claim] = contains(id.VerifiedAddresses, strings.ToLower(email))
				}
			case "updated_at":
				if !id.UpdatedAt.IsZero() {
					out[claim] = id.UpdatedAt.Unix()
				}
			case "name":
				given, _ := lookup(id.Traits, m["given_name"]).(string)
				family, _ := lookup(id.Traits, m["family_name"]).(string)
				if v, ok := lookup(id.Traits, m["name"]).(string); ok && v != "" {
					out[claim] = v
				} else if n := strings.TrimSpace(given + " " + family); n != "" {
					out[claim] = n
				}
			default:
				if v := lookup(id.Traits, m[claim]); v != nil && v != "" {
					out[claim] = v
				}
			}
		}
	}
	return out
}

// lookup follows a dotted path through nested trait objects.
func lookup(traits map[string]any, path string) any {
	if path == "" {
		return nil
	}
	var cur any = traits
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
