package helm_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kratosConfig is the kratos.yml the kratos chart renders from the minimal
// values after edit.
func kratosConfig(t *testing.T, edit func(map[string]any)) map[string]any {
	t.Helper()
	cm, ok := find[*corev1.ConfigMap](renderObjects(t, "kratos", "minimal", edit), "eu-kratos-config")
	if !ok {
		t.Fatal("no ConfigMap eu-kratos-config")
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["kratos.yml"]), &cfg); err != nil {
		t.Fatalf("kratos.yml: %v", err)
	}
	return cfg
}

// TestKratosTOTP: the second factor the bridge renders is on by default,
// its issuer defaults to the region's domain, and both can be set.
func TestKratosTOTP(t *testing.T) {
	totp := func(cfg map[string]any) (enabled any, issuer any) {
		m := cfg["selfservice"].(map[string]any)["methods"].(map[string]any)["totp"].(map[string]any)
		return m["enabled"], m["config"].(map[string]any)["issuer"]
	}
	if enabled, issuer := totp(kratosConfig(t, nil)); enabled != true || issuer != "idstack.example.com" {
		t.Errorf("default: enabled %v, issuer %v; want on, with the region's domain", enabled, issuer)
	}
	enabled, issuer := totp(kratosConfig(t, func(v map[string]any) {
		set(v, "totp.enabled", false)
		set(v, "totp.issuer", "Example Corp")
	}))
	if enabled != false || issuer != "Example Corp" {
		t.Errorf("set: enabled %v, issuer %v", enabled, issuer)
	}
}
