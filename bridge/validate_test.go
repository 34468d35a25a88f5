package bridge

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	good := []string{"0123456789abcdef", strings.Repeat("A", MaxChallengeLength), "abc-DEF_ghi.jkl~mno==", "eyJhbGciOiJkaXIiLCJlbmMi.OiJBMjU2R0NNIn0"}
	bad := []string{"", "short", strings.Repeat("A", MaxChallengeLength+1), "0123456789abcdef<script>", "0123456789abcdef\n", "0123456789 abcdef", "0123456789abcdef%00", "====0123456789abcdef"}
	for _, s := range good {
		if _, err := ParseChallenge(s); err != nil {
			t.Errorf("ParseChallenge(%.40q): %v", s, err)
		}
	}
	for _, s := range bad {
		if _, err := ParseChallenge(s); !errors.Is(err, ErrBadChallenge) {
			t.Errorf("ParseChallenge(%.40q): got %v, want ErrBadChallenge", s, err)
		}
	}
}

func TestParseFlowID(t *testing.T) {
	if _, err := ParseFlowID("0451696c-5cda-4d51-9e5b-a6c9d4b2f14f"); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"", "0451696C-5CDA-4D51-9E5B-A6C9D4B2F14F", "0451696c5cda4d519e5ba6c9d4b2f14f", "0451696c-5cda-4d51-9e5b-a6c9d4b2f14f/../x", "x"} {
		if _, err := ParseFlowID(s); !errors.Is(err, ErrBadFlowID) {
			t.Errorf("ParseFlowID(%q): got %v", s, err)
		}
	}
}

func TestReturnToAllowList(t *testing.T) {
	allow := AllowList{"app.idstack.test", "*.idstack.test"}
	tests := []struct {
		in string
		ok bool
	}{
		{"/settings", true},
		{"/login?return_to=x", true},
		{"http://app.idstack.test:4430/callback", true},
		{"https://login.eu.idstack.test/", true},
		{"http://idstack.test/", false}, // the suffix rule matches subdomains only
		{"https://evil.com/", false},
		{"https://app.idstack.test.evil.com/", false},
		{"https://evilidstack.test/", false},
		{"//evil.com/", false},
		{"/\\evil.com", false},
		{"\\\\evil.com", false},
		{"https://app.idstack.test@evil.com/", false},
		{"https://user:pw@app.idstack.test/", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"ftp://app.idstack.test/", false},
		{"http://app.idstack.test/\r\nSet-Cookie:x", false},
		{"relative/path", false},
		{"", false},
		{"https://APP.IDSTACK.TEST/x", true},
	}
	for _, tt := range tests {
		_, err := allow.Check(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q): got err %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{"0123456789abcdef", "a=b", "", strings.Repeat("x", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseChallenge(s)
		if err != nil {
			return
		}
		if got != s || len(s) > MaxChallengeLength || strings.ContainsAny(s, "&?#/% \"'<>\\") {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzParseFlowID(f *testing.F) {
	f.Add("0451696c-5cda-4d51-9e5b-a6c9d4b2f14f")
	f.Add("../../admin")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseFlowID(s); err == nil && len(s) != 36 {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/settings", "https://app.idstack.test/x", "//evil.com", "/\\evil", "https://a@evil.com"} {
		f.Add(s)
	}
	allow := AllowList{"app.idstack.test"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := allow.Check(s)
		if err != nil {
			return
		}
		// Whatever passes must resolve, against any page of ours, to a URL
		// on this host or on an allowed host.
		if strings.HasPrefix(got, "/") {
			if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\") {
				t.Fatalf("relative %q escapes the host", got)
			}
			return
		}
		u, perr := parseURL(got)
		if perr != nil || u.User != nil || !strings.EqualFold(u.Hostname(), "app.idstack.test") {
			t.Fatalf("accepted %q (host %v)", s, u)
		}
	})
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func TestAllowListValidate(t *testing.T) {
	good := []AllowList{{"login.idstack.test"}, {"*.idstack.test", "app.example.com"}, {"127.0.0.1"}, {"localhost"}, {"app.test:8443", "*.idstack.test:443"}}
	bad := map[string]AllowList{
		`"https://app.test"`:      {"https://app.test"},
		`"app.test:http"`:         {"app.test:http"},
		`"app.test:"`:             {"app.test:"},
		`"app.test/cb"`:           {"app.test/cb"},
		`"*.test"`:                {"*.test"},
		`"*"`:                     {"*"},
		`"a.*.test"`:              {"a.*.test"},
		`"-bad.test"`:             {"ok.test", "-bad.test"},
		`"user@app.test"`:         {"user@app.test"},
		`"app..test"`:             {"app..test"},
		"at least one allowed ho": nil,
	}
	for _, a := range good {
		if err := a.Validate(); err != nil {
			t.Errorf("%q: %v", a, err)
		}
	}
	for want, a := range bad {
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error naming %s", a, err, want)
		}
	}
	// An entry's port is ignored, like an address's.
	if _, err := (AllowList{"app.test:8443"}).Check("https://app.test/cb"); err != nil {
		t.Errorf("an entry with a port: %v", err)
	}
}
