package config

import (
	_ "embed"
	"fmt"

	"github.com/idstack/idstack/infra"
)

// Paths inside the Kratos and Hydra containers.
const (
	KratosConfigPath = "/etc/idstack/kratos.yml"
	KratosSchemaPath = "/etc/idstack/identity.schema.json"
	HydraConfigPath  = "/etc/idstack/hydra.yml"
)

//go:embed identity.schema.json
var identitySchema []byte

// IdentitySchema is the default identity schema: an email (the password
// identifier, verifiable and recoverable by email code) and a name.
func IdentitySchema() []byte { return identitySchema }

// loginURL is the bridge's base URL in region r.
func loginURL(t infra.Topology, r string) string { return t.PublicURL(infra.HostLogin, r) }

// allowedReturnURLs lists every bridge origin, global and per region, so a
// flow started in one region may return to another.
func allowedReturnURLs(t infra.Topology) []string {
	urls := []string{loginURL(t, "") + "/"}
	for _, r := range t.Regions {
		urls = append(urls, loginURL(t, r)+"/")
	}
	return urls
}

// Kratos renders kratos.yml for region r.
func Kratos(t infra.Topology, s Secrets, r string) File {
	ui := loginURL(t, r)
	cfg := map[string]any{
		"version": "v1.3.1",
		"dsn":     DSN(t, s, "kratos"),
		"serve": map[string]any{
			"public": map[string]any{
				"base_url": t.PublicURL(infra.HostKratos, r) + "/",
				"host":     "0.0.0.0",
				"port":     KratosPublicPort,
				"cors":     map[string]any{"enabled": false},
			},
			"admin": map[string]any{
				"base_url": t.AdminURL(infra.HostKratos, r) + "/",
				"host":     "0.0.0.0",
				"port":     KratosAdminPort,
			},
		},
		"selfservice": map[string]any{
			"default_browser_return_url": ui + "/",
			"allowed_return_urls":        allowedReturnURLs(t),
			"methods": map[string]any{
				"password": map[string]any{
					"enabled": true,
					// No internet here: with the breach check on, every
					// registration waits for a network time-out.
					"config": map[string]any{"haveibeenpwned_enabled": false},
				},
				"code":    map[string]any{"enabled": true},
				"profile": map[string]any{"enabled": true},
				"link":    map[string]any{"enabled": false},
				// A second factor: settings links an authenticator app,
				// login?aal=aal2 asks for its code.
				"totp": map[string]any{"enabled": true, "config": map[string]any{"issuer": "idstack"}},
			},
			"flows": map[string]any{
				"error":    map[string]any{"ui_url": ui + "/error"},
				"settings": map[string]any{"ui_url": ui + "/settings", "privileged_session_max_age": "15m", "required_aal": "highest_available"},
				"recovery": map[string]any{"enabled": true, "ui_url": ui + "/recovery", "use": "code"},
				"verification": map[string]any{
					"enabled": true, "ui_url": ui + "/verification", "use": "code",
					"after": map[string]any{"default_browser_return_url": ui + "/"},
				},
				"logout": map[string]any{"after": map[string]any{"default_browser_return_url": ui + "/login"}},
				"login":  map[string]any{"ui_url": ui + "/login", "lifespan": "10m"},
				"registration": map[string]any{
					"enabled":                true,
					"ui_url":                 ui + "/registration",
					"lifespan":               "10m",
					"enable_legacy_one_step": true,
					"after": map[string]any{
						"password": map[string]any{"hooks": []any{map[string]any{"hook": "session"}}},
					},
				},
			},
		},
		"log":     map[string]any{"level": "warning", "format": "json", "leak_sensitive_values": false},
		"secrets": map[string]any{"cookie": []string{s.KratosCookie}, "cipher": []string{s.KratosCipher}},
		"ciphers": map[string]any{"algorithm": "xchacha20-poly1305"},
		"hashers": map[string]any{"algorithm": "bcrypt", "bcrypt": map[string]any{"cost": 12}},
		"identity": map[string]any{
			"default_schema_id": "default",
			"schemas":           []any{map[string]any{"id": "default", "url": "file://" + KratosSchemaPath}},
		},
		"courier": map[string]any{
			"smtp": map[string]any{
				"connection_uri": fmt.Sprintf("smtp://%s:%d/?disable_starttls=true", MailHost, t.Ports().SMTP()),
				"from_address":   "no-reply@" + t.Domain,
				"from_name":      "idstack",
			},
		},
		"cookies": map[string]any{"domain": t.CookieDomain(), "path": "/", "same_site": "Lax"},
		"session": map[string]any{
			"lifespan": "24h",
			"cookie":   map[string]any{"domain": t.CookieDomain(), "path": "/", "same_site": "Lax"},
		},
		// Kratos accepts Hydra's login challenge itself; the bridge passes
		// login_challenge through every flow.
		"oauth2_provider": map[string]any{"url": t.AdminURL(infra.HostHydra, r)},
	}
	return File{Path: KratosConfigPath, Mode: 0o444, Data: marshalYAML("Kratos, region "+r, cfg)}
}
