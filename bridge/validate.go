package bridge

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Input errors; handlers answer them with 400 and call nothing upstream.
var (
	ErrBadChallenge = errors.New("malformed challenge")
	ErrBadFlowID    = errors.New("malformed flow id")
	ErrBadReturnTo  = errors.New("return address not allowed")
)

// MaxChallengeLength bounds a Hydra challenge. Hydra v2 challenges are
// opaque, URL-safe tokens (encrypted flow state), a few hundred bytes long.
const MaxChallengeLength = 4096

var (
	challengePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+=*$`)
	uuidPattern      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	hostPattern      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// ParseChallenge checks a login, consent or logout challenge before any
// upstream call: URL-safe characters only, 16 to MaxChallengeLength long.
func ParseChallenge(s string) (string, error) {
	if len(s) < 16 || len(s) > MaxChallengeLength || !challengePattern.MatchString(s) {
		return "", fmt.Errorf("%w: %d bytes", ErrBadChallenge, len(s))
	}
	return s, nil
}

// ParseFlowID checks a Kratos flow id: a lowercase UUID.
func ParseFlowID(s string) (string, error) {
	if !uuidPattern.MatchString(s) {
		return "", fmt.Errorf("%w: want a UUID", ErrBadFlowID)
	}
	return s, nil
}

// AllowList decides which return addresses are allowed. An entry is a host
// ("login.idstack.test") or a suffix rule ("*.idstack.test", which matches
// subdomains, not the domain itself). Ports are ignored, in entries and in
// addresses; schemes must be http or https.
type AllowList []string

// Validate checks the entries: each a host name ("login.idstack.test") or
// a suffix rule of two labels or more ("*.idstack.test", never "*.test"),
// with an optional (ignored) port and without scheme or path. It names the
// first bad entry.
func (a AllowList) Validate() error {
	if len(a) == 0 {
		return errors.New("at least one allowed host is required")
	}
	for _, entry := range a {
		host, suffix := strings.CutPrefix(entryHost(entry), "*.")
		if !hostPattern.MatchString(host) {
			return fmt.Errorf("entry %q: want a host name or *.suffix, without scheme, port or path", entry)
		}
		if suffix && !strings.Contains(host, ".") {
			return fmt.Errorf("entry %q: a suffix rule needs two labels or more (*.example.com)", entry)
		}
	}
	return nil
}

// entryHost drops an entry's port.
func entryHost(entry string) string {
	if host, port, ok := strings.Cut(entry, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		return host
	}
	return entry
}

// Check returns the address when it is a relative path on this host
// ("/settings") or an absolute http(s) URL whose host the list allows.
// Anything that a browser could read as another host is refused:
// "//evil", "/\evil", userinfo, control characters, backslashes.
func (a AllowList) Check(raw string) (string, error) {
	if raw == "" || len(raw) > 2048 || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return "", ErrBadReturnTo
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return "", ErrBadReturnTo
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadReturnTo, err)
	}
	if u.User != nil || u.Opaque != "" {
		return "", ErrBadReturnTo
	}
	if !u.IsAbs() {
		if u.Host != "" || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
			return "", ErrBadReturnTo
		}
		return raw, nil
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", ErrBadReturnTo
	}
	host := strings.ToLower(u.Hostname())
	for _, entry := range a {
		entry = strings.ToLower(entryHost(entry))
		if suffix, ok := strings.CutPrefix(entry, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return u.String(), nil
			}
		} else if host == entry {
			return u.String(), nil
		}
	}
	return "", fmt.Errorf("%w: host %q", ErrBadReturnTo, host)
}
