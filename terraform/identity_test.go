package terraform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// attrTraversal returns the traversal an attribute of body refers to, as
// "root.a.b[key]", or "" when it is not a plain reference.
func attrTraversal(body *hclsyntax.Body, name string) string {
	attr, ok := body.Attributes[name]
	if !ok {
		return ""
	}
	return traversalString(attr.Expr)
}

func traversalString(expr hcl.Expression) string {
	if expr == nil {
		return ""
	}
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		return ""
	}
	out := trav.RootName()
	for _, step := range trav[1:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			out += "." + s.Name
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				out += fmt.Sprintf("[%q]", s.Key.AsString())
			} else {
				out += fmt.Sprintf("[%s]", s.Key.GoString())
			}
		}
	}
	return out
}

// objectItem returns the value expression of key in an object constructor.
func objectItem(expr hcl.Expression, key string) hclsyntax.Expression {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	for _, item := range obj.Items {
		if hcl.ExprAsKeyword(item.KeyExpr) == key {
			return item.ValueExpr
		}
	}
	return nil
}

// partialContext is evalContext with every variable unknown: locals that
// depend on variables evaluate too, with unknown parts.
func partialContext(m *module) *hcl.EvalContext {
	ctx := evalContext(m)
	ctx.Variables["var"] = cty.DynamicVal
	evalLocals(ctx, m, func(cty.Value) bool { return true })
	return ctx
}

// TestKeyrotationIdentity: Vault's Kubernetes auth role in each region is
// bound to the ServiceAccount and namespace the chart gives the key-rotation
// job there, and the job logs in to that region's mount with that role.
//   - the vault module binds each role to its region's service_account and
//     namespace, and its default service_account is the region module's
//     default keyrotation_service_account, which is also the name the
//     keyrotation chart gives the account by default (<release>-keyrotation,
//     with the region module's default release_name);
//   - the region module hands the chart that name
//     (keyrotation.serviceAccount.name) and its namespace;
//   - the example passes the vault module, per region, the namespace and
//     ServiceAccount it passes that region's module call, and each region's
//     call logs in at its own auth mount, with the vault module's role and
//     audience.
func TestKeyrotationIdentity(t *testing.T) {
	vaultMod, err := loadModule("modules/vault")
	if err != nil {
		t.Fatal(err)
	}
	regionMod, err := loadModule("modules/region")
	if err != nil {
		t.Fatal(err)
	}
	env, err := loadModule("environments/example")
	if err != nil {
		t.Fatal(err)
	}

	// The vault module's role.
	var role *hclsyntax.Block
	for _, b := range vaultMod.blocks("resource") {
		if b.Labels[0] == "vault_kubernetes_auth_backend_role" {
			role = b
		}
	}
	if role == nil {
		t.Fatal("modules/vault: no vault_kubernetes_auth_backend_role")
	}
	for attr, want := range map[string]string{
		"bound_service_account_names":      "each.value.service_account",
		"bound_service_account_namespaces": "each.value.namespace",
	} {
		tuple, ok := role.Body.Attributes[attr]
		var got []string
		if ok {
			if tc, isTuple := tuple.Expr.(*hclsyntax.TupleConsExpr); isTuple {
				for _, e := range tc.Exprs {
					got = append(got, traversalString(e))
				}
			}
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("modules/vault role %s: got %v, want [%s]", attr, got, want)
		}
	}
	if got := attrTraversal(role.Body, "for_each"); got != "var.regions" {
		t.Errorf("modules/vault role for_each: got %q, want var.regions", got)
	}

	// Defaults agree: vault's service_account, the region module's
	// keyrotation_service_account, the chart's <release>-<chart name>.
	var vaultDefault string
	for _, b := range vaultMod.blocks("variable") {
		if b.Labels[0] != "regions" {
			continue
		}
		_, defaults, diags := typeexpr.TypeConstraintWithDefaults(b.Body.Attributes["type"].Expr)
		if diags.HasErrors() || defaults == nil || defaults.Children[""] == nil {
			t.Fatalf("modules/vault regions: no defaults in its type: %s", diags.Error())
		}
		if v, ok := defaults.Children[""].DefaultValues["service_account"]; ok && v.Type() == cty.String {
			vaultDefault = v.AsString()
		}
	}
	regionDefault := fmt.Sprint(regionMod.config.Variables["keyrotation_service_account"].Default)
	releaseDefault := fmt.Sprint(regionMod.config.Variables["release_name"].Default)
	data, err := os.ReadFile(filepath.Join("..", "helm", "keyrotation", "Chart.yaml"))
	if err != nil {
		t.Fatalf("read the keyrotation chart: %v", err)
	}
	var meta struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	chartDefault := releaseDefault + "-" + meta.Name
	if vaultDefault != regionDefault || regionDefault != chartDefault {
		t.Errorf("default ServiceAccount: modules/vault %q, modules/region %q, the keyrotation chart's with release %q: %q; want one name", vaultDefault, regionDefault, releaseDefault, chartDefault)
	}

	// The region module hands the chart the account's name.
	var release *hclsyntax.Block
	for _, b := range regionMod.blocks("resource") {
		if b.Labels[0] == "helm_release" {
			release = b
		}
	}
	if release == nil {
		t.Fatal("modules/region: no helm_release")
	}
	keys, _ := chartValues(regionMod, release)
	var saName string
	for _, k := range keys {
		if slices.Equal(k.path, []string{"keyrotation", "serviceAccount", "name"}) && k.expr != nil {
			saName = traversalString(k.expr)
		}
	}
	if saName != "var.keyrotation_service_account" {
		t.Errorf("modules/region: chart value keyrotation.serviceAccount.name is %q, want var.keyrotation_service_account", saName)
	}
	if got := attrTraversal(release.Body, "namespace"); got != "local.namespace" {
		t.Errorf("modules/region: helm_release namespace is %q, want local.namespace", got)
	}

	// The example: each region's call against the vault module's entry.
	ctx := partialContext(env)
	var vaultRegions cty.Value
	var regionCalls []*hclsyntax.Block
	for _, b := range env.blocks("module") {
		src, _ := b.Body.Attributes["source"].Expr.Value(nil)
		switch filepath.Base(src.AsString()) {
		case "vault":
			v, diags := b.Body.Attributes["regions"].Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("module %q regions: %s", b.Labels[0], diags.Error())
			}
			vaultRegions = v
		case "region":
			regionCalls = append(regionCalls, b)
		}
	}
	if vaultRegions == cty.NilVal || !vaultRegions.CanIterateElements() {
		t.Fatal("environments/example: no call of the vault module with regions")
	}
	var vaultNames, callNames []string
	for it := vaultRegions.ElementIterator(); it.Next(); {
		k, _ := it.Element()
		vaultNames = append(vaultNames, k.AsString())
	}
	eval := func(b *hclsyntax.Block, name string) cty.Value {
		attr, ok := b.Body.Attributes[name]
		if !ok {
			return cty.NilVal
		}
		v, diags := attr.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Errorf("module %q %s: %s", b.Labels[0], name, diags.Error())
			return cty.NilVal
		}
		return v
	}
	for _, b := range regionCalls {
		nameVal := eval(b, "name")
		if nameVal == cty.NilVal || !nameVal.IsKnown() {
			t.Errorf("module %q: name cannot be resolved here", b.Labels[0])
			continue
		}
		name := nameVal.AsString()
		callNames = append(callNames, name)
		if !slices.Contains(vaultNames, name) {
			continue // reported below
		}
		var entry cty.Value
		if vaultRegions.Type().IsObjectType() {
			entry = vaultRegions.GetAttr(name)
		} else {
			entry = vaultRegions.Index(cty.StringVal(name))
		}
		for call, vaultAttr := range map[string]string{"keyrotation_service_account": "service_account", "namespace": "namespace"} {
			got := eval(b, call)
			if got == cty.NilVal {
				got = cty.StringVal(fmt.Sprint(regionMod.config.Variables[call].Default))
			}
			want := entry.GetAttr(vaultAttr)
			if !got.IsKnown() || !want.IsKnown() {
				t.Errorf("module %q: %s and module vault's regions[%q].%s cannot be resolved here", b.Labels[0], call, name, vaultAttr)
				continue
			}
			if !got.RawEquals(want) {
				t.Errorf("module %q: %s is %#v, but the vault module binds region %q's role to %s %#v", b.Labels[0], call, got, name, vaultAttr, want)
			}
		}
		vaultArg, ok := b.Body.Attributes["vault"]
		if !ok {
			t.Errorf("module %q: no vault", b.Labels[0])
			continue
		}
		for key, want := range map[string]string{
			"auth_mount":     fmt.Sprintf("module.vault.kubernetes_auth_mounts[%q]", name),
			"role":           "module.vault.kubernetes_role",
			"token_audience": "module.vault.kubernetes_auth_audience",
			"kv_mount":       "module.vault.kv_mount",
			"kv_prefix":      "module.vault.keyrotation_prefix",
		} {
			if got := traversalString(objectItem(vaultArg.Expr, key)); got != want {
				t.Errorf("module %q: vault.%s is %q, want %s", b.Labels[0], key, got, want)
			}
		}
	}
	slices.Sort(vaultNames)
	slices.Sort(callNames)
	if !slices.Equal(vaultNames, callNames) {
		t.Errorf("regions: the vault module has %v, the region module is called for %v", vaultNames, callNames)
	}
}
