package terraform_test

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// policyPaths parses a Vault policy into path → sorted capabilities.
func policyPaths(name, text string) (map[string][]string, error) {
	f, diags := hclsyntax.ParseConfig([]byte(text), name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse policy %s: %s", name, diags.Error())
	}
	out := map[string][]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "path" || len(b.Labels) != 1 {
			return nil, fmt.Errorf("%s: unexpected block %s %v", name, b.Type, b.Labels)
		}
		attr, ok := b.Body.Attributes["capabilities"]
		if !ok {
			return nil, fmt.Errorf("%s: path %q has no capabilities", name, b.Labels[0])
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: path %q: %s", name, b.Labels[0], diags.Error())
		}
		var caps []string
		for it := v.ElementIterator(); it.Next(); {
			_, c := it.Element()
			caps = append(caps, c.AsString())
		}
		slices.Sort(caps)
		out[b.Labels[0]] = caps
	}
	return out, nil
}

// TestVaultPolicyMatchesKeyrotation: the vault module's policy, with its
// defaults, grants exactly what keyrotation/README.md says a job needs, and
// those defaults are keyrotation's own --kv-mount and --kv-prefix defaults.
func TestVaultPolicyMatchesKeyrotation(t *testing.T) {
	m, err := loadModule("modules/vault")
	if err != nil {
		t.Fatal(err)
	}

	config, err := os.ReadFile("../keyrotation/cmd/keyrotation/config.go")
	if err != nil {
		t.Fatalf("read keyrotation's defaults: %v", err)
	}
	defaults := map[string]string{}
	for variable, field := range map[string]string{"kv_mount": "KVMount", "keyrotation_prefix": "KVPrefix"} {
		match := regexp.MustCompile(field + `:\s+"([^"]*)"`).FindSubmatch(config)
		if match == nil {
			t.Fatalf("keyrotation/cmd/keyrotation/config.go: no default for %s", field)
		}
		defaults[variable] = string(match[1])
		v, ok := m.config.Variables[variable]
		if !ok {
			t.Fatalf("modules/vault has no variable %s", variable)
		}
		if got := fmt.Sprint(v.Default); got != string(match[1]) {
			t.Errorf("modules/vault %s defaults to %q, keyrotation's %s to %q", variable, got, field, match[1])
		}
	}

	expr, ok := m.locals()["keyrotation_policy"]
	if !ok {
		t.Fatal("modules/vault has no local keyrotation_policy")
	}
	vars := map[string]cty.Value{}
	for k, v := range defaults {
		vars[k] = cty.StringVal(v)
	}
	v, diags := expr.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}})
	if diags.HasErrors() {
		t.Fatalf("evaluate the policy: %s", diags.Error())
	}
	got, err := policyPaths("modules/vault", v.AsString())
	if err != nil {
		t.Fatal(err)
	}

	readme, err := os.ReadFile("../keyrotation/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "The Vault policy a job needs")
	if !ok {
		t.Fatal(`keyrotation/README.md: no "The Vault policy a job needs" section`)
	}
	_, block, ok := strings.Cut(after, "```hcl\n")
	if !ok {
		t.Fatal("keyrotation/README.md: no hcl block after the policy heading")
	}
	block, _, _ = strings.Cut(block, "```")
	want, err := policyPaths("keyrotation/README.md", block)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("keyrotation/README.md: the policy block grants nothing")
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("policy: got %v, want %v (keyrotation/README.md)", got, want)
	}
}
