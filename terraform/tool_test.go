package terraform_test

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestToolLockMatchesVersions keeps versions.env the one place that pins
// Terraform: tool/go.mod (the lock make builds Terraform from when PATH has
// no terraform of that version) must require TERRAFORM_VERSION and replace
// each of Terraform's nested modules with TERRAFORM_NESTED_VERSION.
func TestToolLockMatchesVersions(t *testing.T) {
	env, err := os.ReadFile("../versions.env")
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, line := range strings.Split(string(env), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			pins[k] = v
		}
	}
	version, nested := pins["TERRAFORM_VERSION"], pins["TERRAFORM_NESTED_VERSION"]
	if version == "" || nested == "" {
		t.Fatalf("versions.env: TERRAFORM_VERSION %q, TERRAFORM_NESTED_VERSION %q: both must be set", version, nested)
	}

	data, err := os.ReadFile("tool/go.mod")
	if err != nil {
		t.Fatalf("read the lock: %v (run make terraform-lock)", err)
	}
	f, err := modfile.Parse("tool/go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, r := range f.Require {
		if r.Mod.Path == "github.com/hashicorp/terraform" {
			got = r.Mod.Version
		}
	}
	if got != version {
		t.Errorf("tool/go.mod requires terraform %q, versions.env says %q: run make terraform-lock", got, version)
	}
	if len(f.Replace) != 9 {
		t.Errorf("tool/go.mod replaces %d modules, want Terraform's 9 nested ones: run make terraform-lock", len(f.Replace))
	}
	for _, r := range f.Replace {
		if !strings.HasPrefix(r.Old.Path, "github.com/hashicorp/terraform/internal/") || r.New.Path != r.Old.Path || r.New.Version != nested {
			t.Errorf("tool/go.mod: replace %s => %s %s, want %s %s: run make terraform-lock", r.Old.Path, r.New.Path, r.New.Version, r.Old.Path, nested)
		}
	}
}
