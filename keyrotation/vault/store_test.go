package vault

import (
	"errors"
	"fmt"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/idstack/idstack/keyrotation"
)

func TestIssuerPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://hydra.idstack.test:4430/":    "hydra.idstack.test_4430",
		"https://auth.example.com/tenant/a/": "auth.example.com_tenant_a",
		"https://auth.example.com/../secret": "auth.example.com_.._secret",
		"":                                   "_",
	} {
		if got := IssuerPath(in); got != want {
			t.Errorf("IssuerPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyVaultErrors(t *testing.T) {
	sealed := &vault.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}
	cas := &vault.ResponseError{StatusCode: 400, Errors: []string{"check-and-set parameter did not match the current version"}}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"sealed", sealed, ErrSealed},
		{"cas", cas, keyrotation.ErrConflict},
		{"not found", fmt.Errorf("wrapped: %w", vault.ErrSecretNotFound), keyrotation.ErrNotFound},
	}
	for _, tt := range tests {
		if got := classify("op", tt.err); !errors.Is(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if classify("op", nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestConfigValidateNamesTheFlag(t *testing.T) {
	base := Config{Address: "http://vault:8200", Method: AuthToken, Token: "t", Timeout: 1}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no address", func(c *Config) { c.Address = "" }, "vault-addr"},
		{"no token", func(c *Config) { c.Token = "" }, "vault-token"},
		{"approle without role id", func(c *Config) { c.Method = AuthAppRole }, "vault-role-id"},
		{"approle without secret", func(c *Config) { c.Method, c.RoleID = AuthAppRole, "r" }, "vault-secret-id-file"},
		{"kubernetes without role", func(c *Config) { c.Method = AuthKubernetes }, "vault-role"},
		{"unknown method", func(c *Config) { c.Method = "ldap" }, "vault-auth"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "vault-timeout"},
	}
	for _, tt := range tests {
		c := base
		tt.change(&c)
		err := c.Validate()
		if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("%s: got %v, want an error starting with %s", tt.name, err, tt.want)
		}
	}
}
