package helm_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// bridgeEnv is the bridge container's environment, rendered from the
// minimal values after edit.
func bridgeEnv(t *testing.T, edit func(map[string]any)) map[string]string {
	t.Helper()
	dep, ok := find[*appsv1.Deployment](renderObjects(t, "bridge", "minimal", edit), "eu-bridge")
	if !ok {
		t.Fatal("no Deployment eu-bridge")
	}
	env := map[string]string{}
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	return env
}

// TestBridgeExternalTLS: BRIDGE_EXTERNAL_TLS is on when set, or when the
// ingress ends TLS with a tlsSecret.
func TestBridgeExternalTLS(t *testing.T) {
	tests := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"default", nil, "false"},
		{"set", map[string]any{"externalTLS": true}, "true"},
		{"ingress with a tlsSecret", map[string]any{"ingress.tlsSecret": "eu-west-tls"}, "true"},
		{"tlsSecret, ingress off", map[string]any{"ingress.tlsSecret": "eu-west-tls", "ingress.enabled": false}, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := bridgeEnv(t, func(v map[string]any) {
				for path, value := range tt.vals {
					set(v, path, value)
				}
			})
			if got := env["BRIDGE_EXTERNAL_TLS"]; got != tt.want {
				t.Errorf("BRIDGE_EXTERNAL_TLS: got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBridgeClaimMapping: claimMapping reaches the bridge as JSON; an empty
// map leaves the variable empty (the bridge's default mapping), never "{}"
// (which would map no claim).
func TestBridgeClaimMapping(t *testing.T) {
	if got := bridgeEnv(t, nil)["BRIDGE_CLAIM_MAPPING"]; got != "" {
		t.Errorf("default: got %q, want empty", got)
	}
	got := bridgeEnv(t, func(v map[string]any) {
		set(v, "claimMapping", map[string]any{"given_name": "profile.first", "email": "email"})
	})["BRIDGE_CLAIM_MAPPING"]
	if want := `{"email":"email","given_name":"profile.first"}`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
