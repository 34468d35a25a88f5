package config

import "github.com/idstack/idstack/infra"

// Hydra renders hydra.yml for region r. The issuer is global, so every
// region signs tokens that verify everywhere; the public URL (the endpoints
// discovery advertises) is the region's own name.
func Hydra(t infra.Topology, s Secrets, r string) File {
	ui := loginURL(t, r)
	cfg := map[string]any{
		"dsn": DSN(t, s, "hydra"),
		"serve": map[string]any{
			"public":  map[string]any{"host": "0.0.0.0", "port": HydraPublicPort},
			"admin":   map[string]any{"host": "0.0.0.0", "port": HydraAdminPort},
			"cookies": map[string]any{"same_site_mode": "Lax", "domain": t.CookieDomain()},
		},
		"urls": map[string]any{
			"self": map[string]any{
				"issuer": t.IssuerURL(),
				"public": t.PublicURL(infra.HostHydra, r) + "/",
				"admin":  t.AdminURL(infra.HostHydra, r) + "/",
			},
			"login":                ui + "/login",
			"registration":         ui + "/registration",
			"consent":              ui + "/consent",
			"logout":               ui + "/logout",
			"error":                ui + "/error",
			"post_logout_redirect": ui + "/logged-out",
		},
		"secrets":    map[string]any{"system": []string{s.HydraSystem}},
		"strategies": map[string]any{"access_token": "jwt"},
		"oidc": map[string]any{
			"subject_identifiers": map[string]any{"supported_types": []string{"public"}},
		},
		"ttl": map[string]any{
			"access_token":          "1h",
			"id_token":              "1h",
			"refresh_token":         "720h",
			"auth_code":             "10m",
			"login_consent_request": "30m",
		},
		"log": map[string]any{"level": "warn", "format": "json", "leak_sensitive_values": false},
	}
	return File{Path: HydraConfigPath, Mode: 0o444, Data: marshalYAML("Hydra, region "+r, cfg)}
}
