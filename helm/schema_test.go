package helm_test

import (
	"strings"
	"testing"
)

// set writes value at a dotted path in vals, creating maps on the way.
func set(vals map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	m := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

// TestBadValuesRefused: a wrong value fails at install with a message that
// names the value, either from values.schema.json or from a template's
// `required`. Each case starts from a values file that renders.
func TestBadValuesRefused(t *testing.T) {
	tests := []struct {
		name, chart, base string
		path              string
		value             any
		want              []string // substrings of the error
	}{
		{"umbrella defaults", umbrella, "defaults", "", nil, []string{"idstack-region", "/region", "name"}},
		{"region name not a DNS label", umbrella, "minimal", "region.name", "EU West", []string{"/region/name", "does not match pattern"}},
		{"misspelled top-level key", umbrella, "minimal", "regoin", map[string]any{"name": "eu"}, []string{"additional properties 'regoin' not allowed"}},
		{"issuer not a URL", umbrella, "minimal", "global.issuer", "auth.example.com", []string{"/global/issuer", "does not match pattern"}},
		{"primary not a bool", umbrella, "minimal", "region.primary", "yes", []string{"/region/primary", "want boolean"}},
		{"database secret missing", umbrella, "minimal", "database.existingSecret", "", []string{"database.existingSecret is required"}},
		{"vault role missing in the primary", umbrella, "production", "keyrotation.vault.role", "", []string{"vault.role is required"}},
		{"secondary region generating kratos secrets", umbrella, "minimal", "kratos.secrets.existingSecret", "", []string{"kratos.secrets.existingSecret is required in a secondary region"}},
		{"secondary region generating hydra secrets", umbrella, "minimal", "hydra.secrets.existingSecret", "", []string{"hydra.secrets.existingSecret is required in a secondary region"}},
		{"component value checked through the umbrella", umbrella, "minimal", "kratos.migration.mode", "sometimes", []string{"kratos:", "/migration/mode", "value must be one of"}},
		{"kratos defaults", "kratos", "defaults", "", nil, []string{"is required"}},
		{"hydra defaults", "hydra", "defaults", "", nil, []string{"is required"}},
		{"bridge defaults", "bridge", "defaults", "", nil, []string{"region.name is required"}},
		{"keyrotation defaults", "keyrotation", "defaults", "", nil, []string{"is required"}},
		{"hydra janitor batch above limit", "hydra", "minimal", "janitor.batchSize", 200000, []string{"janitor.batchSize must not be greater than janitor.limit"}},
		{"kratos migration mode", "kratos", "minimal", "migration.mode", "always", []string{"/migration/mode", "value must be one of 'job'"}},
		{"kratos zero replicas", "kratos", "minimal", "replicaCount", 0, []string{"/replicaCount", "minimum"}},
		{"kratos smtp missing", "kratos", "minimal", "courier.smtp.connectionURI", "", []string{"courier.smtp: set connectionURI or existingSecret"}},
		{"kratos smtp credentials in values", "kratos", "minimal", "courier.smtp.connectionURI", "smtp://user:pw@mail:25/", []string{"/courier/smtp/connectionURI"}},
		{"hydra issuer missing", "hydra", "minimal", "global.issuer", "", []string{"global.issuer is required"}},
		{"hydra janitor schedule", "hydra", "minimal", "janitor.schedule", "every hour", []string{"/janitor/schedule", "does not match pattern"}},
		{"hydra ttl not a duration", "hydra", "minimal", "ttl.access_token", "one hour", []string{"/ttl/access_token"}},
		{"bridge remember-for not a duration", "bridge", "minimal", "rememberFor", "30 days", []string{"/rememberFor", "does not match pattern"}},
		{"bridge upstream timeout zero", "bridge", "minimal", "upstreamTimeout", "0s", []string{"/upstreamTimeout"}},
		{"bridge shutdown timeout zero", "bridge", "minimal", "shutdownTimeout", "0", []string{"/shutdownTimeout"}},
		{"bridge misspelled setting", "bridge", "minimal", "returnTO", []any{"x"}, []string{"additional properties 'returnTO' not allowed"}},
		{"bridge return-to as a URL", "bridge", "minimal", "returnTo", []any{"https://app.example.com"}, []string{"/returnTo/0", "does not match pattern"}},
		{"bridge return-to for a whole TLD", "bridge", "minimal", "returnTo", []any{"*.test"}, []string{"/returnTo/0", "does not match pattern"}},
		{"bridge return-to with a path", "bridge", "minimal", "returnTo", []any{"app.example.com/cb"}, []string{"/returnTo/0", "does not match pattern"}},
		{"bridge form-action that ends the directive", "bridge", "minimal", "formActions", []any{"https://a.test; script-src *"}, []string{"/formActions/0", "does not match pattern"}},
		{"bridge form-action with a semicolon in the path", "bridge", "minimal", "formActions", []any{"https://a.test/x;y"}, []string{"/formActions/0", "does not match pattern"}},
		{"bridge form-action without scheme", "bridge", "minimal", "formActions", []any{"kratos.example.com"}, []string{"/formActions/0", "does not match pattern"}},
		{"bridge claim mapping unknown claim", "bridge", "minimal", "claimMapping", map[string]any{"groups": "groups"}, []string{"/claimMapping", "additional properties 'groups' not allowed"}},
		{"bridge claim mapping bad trait path", "bridge", "minimal", "claimMapping", map[string]any{"given_name": "name first"}, []string{"/claimMapping/given_name", "does not match pattern"}},
		{"bridge external TLS not a bool", "bridge", "minimal", "externalTLS", "yes", []string{"/externalTLS", "want boolean"}},
		{"keyrotation alg", "keyrotation", "minimal", "policy.sets", []any{map[string]any{"name": "hydra.jwt.access-token", "alg": "HS256"}}, []string{"/policy/sets/0/alg", "value must be one of"}},
		{"keyrotation vault address", "keyrotation", "minimal", "vault.address", "vault:8200", []string{"/vault/address", "does not match pattern"}},
		{"keyrotation policy duration", "keyrotation", "minimal", "policy.lead", "2 hours", []string{"/policy/lead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := readValues(t, tt.chart, tt.base)
			if tt.path != "" {
				set(vals, tt.path, tt.value)
			}
			_, err := render(t, loadChart(t, tt.chart), vals)
			if err == nil {
				t.Fatalf("render succeeded, want an error naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestGoodValuesAccepted: values the components accept are not refused by
// a schema stricter than the component.
func TestGoodValuesAccepted(t *testing.T) {
	tests := []struct {
		name, chart, path string
		value             any
	}{
		{"bridge remember-for 0 (forever)", "bridge", "rememberFor", "0"},
		{"bridge remember-for 0s", "bridge", "rememberFor", "0s"},
		{"bridge remember-for compound", "bridge", "rememberFor", "1h30m"},
		{"bridge upstream timeout in ms", "bridge", "upstreamTimeout", "1500ms"},
		{"bridge shutdown timeout fractional", "bridge", "shutdownTimeout", "0.5s"},
		{"bridge return-to host with a port", "bridge", "returnTo", []any{"localhost:8080", "*.idstack.test:443"}},
		{"bridge form-action wildcards and a path", "bridge", "formActions", []any{"http://*.idstack.test:*", "https://kratos.example.com/.ory/kratos"}},
		{"bridge claim mapping", "bridge", "claimMapping", map[string]any{"given_name": "profile.given-name", "name": "full_name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := readValues(t, tt.chart, "minimal")
			set(vals, tt.path, tt.value)
			if _, err := render(t, loadChart(t, tt.chart), vals); err != nil {
				t.Errorf("%s=%v refused: %v", tt.path, tt.value, err)
			}
		})
	}
}
