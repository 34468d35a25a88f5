package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/bridge/fake"
	"github.com/idstack/idstack/bridge/server"
)

func valid() Config {
	c := Default()
	c.KratosPublicURL, c.KratosAdminURL, c.HydraAdminURL = "http://kratos.eu.idstack.test:4433", "http://kratos-admin:4434", "http://hydra-admin:4445"
	c.ReturnTo, c.FormActions, c.CSRFSecretFile = "*.idstack.test", "http://*.idstack.test:*", "/etc/idstack/bridge-csrf"
	return c
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // the field the error names; "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"valid with https, a path and a mapping", func(c *Config) {
			c.FormActions = "https://kratos.example.com/.ory/kratos, https://hydra.example.com:8443"
			c.ClaimMapping = `{"email":"contact.email"}`
			c.ReturnTo = "app.example.com, *.idstack.test"
		}, ""},
		{"missing kratos public", func(c *Config) { c.KratosPublicURL = "" }, "kratos-public-url"},
		{"kratos admin without scheme", func(c *Config) { c.KratosAdminURL = "kratos-admin:4434" }, "kratos-admin-url"},
		{"hydra admin other scheme", func(c *Config) { c.HydraAdminURL = "ftp://hydra" }, "hydra-admin-url"},
		{"listen address", func(c *Config) { c.ListenAddr = "4455" }, "listen-addr"},
		{"no return-to", func(c *Config) { c.ReturnTo = " , " }, "return-to"},
		{"return-to as a URL", func(c *Config) { c.ReturnTo = "https://app.example.com" }, "return-to"},
		{"return-to with a path", func(c *Config) { c.ReturnTo = "app.example.com/cb" }, "return-to"},
		{"return-to for a whole TLD", func(c *Config) { c.ReturnTo = "*.com" }, "return-to"},
		{"form-action without scheme", func(c *Config) { c.FormActions = "kratos.example.com" }, "form-actions"},
		{"form-action that ends the directive", func(c *Config) { c.FormActions = "https://a.test; script-src *" }, "form-actions"},
		{"form-action keyword", func(c *Config) { c.FormActions = "'unsafe-inline'" }, "form-actions"},
		{"claim mapping not JSON", func(c *Config) { c.ClaimMapping = "email=email" }, "claim-mapping"},
		{"claim mapping unknown claim", func(c *Config) { c.ClaimMapping = `{"groups":"groups"}` }, "claim-mapping"},
		{"no csrf secret", func(c *Config) { c.CSRFSecretFile = "" }, "csrf-secret-file"},
		{"tls cert without key", func(c *Config) { c.TLSCert = "/tls.crt" }, "tls-cert, tls-key"},
		{"zero upstream timeout", func(c *Config) { c.UpstreamTimeout = 0 }, "upstream-timeout"},
		{"negative shutdown timeout", func(c *Config) { c.ShutdownTimeout = -time.Second }, "shutdown-timeout"},
		{"negative remember-for", func(c *Config) { c.RememberFor = -time.Hour }, "remember-for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestClaimMappingFromFlagOrEnvironment(t *testing.T) {
	c := valid()
	if m, err := c.claims(); err != nil || m["given_name"] != "name.first" {
		t.Fatalf("default mapping: got %v, %v", m, err)
	}
	c.ClaimMapping = `{"given_name":"profile.given"}`
	if m, err := c.claims(); err != nil || len(m) != 1 || m["given_name"] != "profile.given" {
		t.Fatalf("got %v, %v; a mapping replaces the default", m, err)
	}
	// The environment reaches the same field: Run fails on its validation.
	t.Setenv("BRIDGE_CLAIM_MAPPING", `{"groups":"groups"}`)
	err := Run(context.Background(), []string{"--kratos-public-url", c.KratosPublicURL, "--kratos-admin-url", c.KratosAdminURL,
		"--hydra-admin-url", c.HydraAdminURL, "--return-to", c.ReturnTo, "--csrf-secret-file", c.CSRFSecretFile})
	if err == nil || !strings.HasPrefix(err.Error(), "claim-mapping:") || !strings.Contains(err.Error(), `"groups"`) {
		t.Fatalf("got %v, want a claim-mapping error naming the claim", err)
	}
}

func TestExternalTLSTurnsOnHSTS(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool // HSTS (and Secure cookies)
	}{
		{"plain HTTP", nil, nil, false},
		{"own certificate", []string{"--tls-cert", "/tls.crt", "--tls-key", "/tls.key"}, nil, true},
		{"flag", []string{"--external-tls"}, nil, true},
		{"environment", nil, map[string]string{"BRIDGE_EXTERNAL_TLS": "true"}, true},
		{"environment off", nil, map[string]string{"BRIDGE_EXTERNAL_TLS": "false"}, false},
		{"flag overrides environment", []string{"--external-tls=false"}, map[string]string{"BRIDGE_EXTERNAL_TLS": "1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := valid()
			args := append([]string{"--kratos-public-url", v.KratosPublicURL, "--kratos-admin-url", v.KratosAdminURL,
				"--hydra-admin-url", v.HydraAdminURL, "--return-to", v.ReturnTo, "--csrf-secret-file", v.CSRFSecretFile}, tt.args...)
			c, err := Parse(args, func(k string) (string, bool) { s, ok := tt.env[k]; return s, ok })
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			s, err := server.New(c.serverConfig([]byte(strings.Repeat("k", 32)), nil), &fake.Kratos{}, fake.NewHydra(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.PathAlive, nil))
			if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tt.want {
				t.Errorf("HSTS sent: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExternalTLSNotABoolean(t *testing.T) {
	_, err := Parse(nil, func(k string) (string, bool) { return "yes please", k == "BRIDGE_EXTERNAL_TLS" })
	if err == nil || !strings.Contains(err.Error(), "BRIDGE_EXTERNAL_TLS") {
		t.Fatalf("got %v, want an error naming BRIDGE_EXTERNAL_TLS", err)
	}
}

func TestRequestIDReachesTheServerLog(t *testing.T) {
	var got string
	h := requestLog(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = server.RequestID(r.Context())
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("X-Request-Id", "req-42")
	h.ServeHTTP(rec, req)
	if got != "req-42" || rec.Header().Get("X-Request-Id") != "req-42" {
		t.Errorf("got %q in the context, %q in the response, want req-42", got, rec.Header().Get("X-Request-Id"))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/login", nil))
	if len(got) != 16 {
		t.Errorf("a generated id: got %q, want 16 hex digits", got)
	}
}

func TestRequestLogOmitsTheQuery(t *testing.T) {
	var buf bytes.Buffer
	h := requestLog(slog.New(slog.NewJSONHandler(&buf, nil)), http.NotFoundHandler())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/consent?consent_challenge=secret-challenge-value", nil))
	if strings.Contains(buf.String(), "secret-challenge-value") || !strings.Contains(buf.String(), `"request_id"`) {
		t.Errorf("log line: %s", buf.String())
	}
}
