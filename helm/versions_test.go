package helm_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelmVersionMatchesVersionsEnv: versions.env is the one place to
// change a pinned version; helm/go.mod's helm.sh/helm/v3 must follow it.
func TestHelmVersionMatchesVersionsEnv(t *testing.T) {
	env, err := os.ReadFile(filepath.Join("..", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^HELM_VERSION=(\S+)$`).FindSubmatch(env)
	if m == nil {
		t.Fatal("versions.env: no HELM_VERSION")
	}
	want := string(m[1])
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`(?m)^\s*helm\.sh/helm/v3 (\S+)`).FindSubmatch(mod)
	if got == nil {
		t.Fatal("helm/go.mod: no helm.sh/helm/v3 requirement")
	}
	if string(got[1]) != want {
		t.Errorf("helm/go.mod requires helm.sh/helm/v3 %s, versions.env says HELM_VERSION=%s (run: cd helm && go get helm.sh/helm/v3@%s && go mod tidy)", got[1], want, want)
	}
	goVersion := regexp.MustCompile(`(?m)^GO_VERSION=(\S+)$`).FindSubmatch(env)
	if goVersion != nil && !strings.Contains(string(mod), "\ngo "+string(goVersion[1])+"\n") {
		t.Errorf("helm/go.mod: go line is not %s (versions.env GO_VERSION)", goVersion[1])
	}
}
