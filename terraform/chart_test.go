package terraform_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// contractKeys are the values the region module must set: the contract
// between terraform/modules/region and helm/idstack-region (issue #8).
var contractKeys = []string{
	"region.name", "region.domain", "region.primary", "global.issuer",
	"database.existingSecret", "database.certificatesSecret",
	"kratos.secrets.existingSecret", "hydra.secrets.existingSecret",
	"keyrotation.vault.address", "keyrotation.vault.role", "keyrotation.vault.mount",
	"kratos.enabled", "hydra.enabled", "bridge.enabled", "keyrotation.enabled",
}

// chart is a chart's values.yaml and values.schema.json, parsed, and its
// local (file://) dependencies by name: Helm hands the values under a
// dependency's name to that subchart, so a key the parent's values.yaml does
// not list may still be one of the subchart's.
type chart struct {
	dir    string
	values map[string]any
	schema map[string]any // nil when the chart has no schema
	deps   map[string]*chart
}

func loadChart(dir string) (*chart, error) {
	valuesPath := filepath.Join(dir, "values.yaml")
	data, err := os.ReadFile(valuesPath)
	if err != nil {
		return nil, fmt.Errorf("read the chart's values: %w", err)
	}
	c := &chart{dir: dir}
	if err := yaml.Unmarshal(data, &c.values); err != nil {
		return nil, fmt.Errorf("parse %s: %w", valuesPath, err)
	}
	if c.values == nil {
		return nil, fmt.Errorf("%s is empty", valuesPath)
	}
	schemaPath := filepath.Join(dir, "values.schema.json")
	if data, err := os.ReadFile(schemaPath); err == nil {
		if err := json.Unmarshal(data, &c.schema); err != nil {
			return nil, fmt.Errorf("parse %s: %w", schemaPath, err)
		}
	}
	chartPath := filepath.Join(dir, "Chart.yaml")
	data, err = os.ReadFile(chartPath)
	if err != nil {
		return nil, fmt.Errorf("read the chart: %w", err)
	}
	var meta struct {
		Dependencies []struct {
			Name       string `yaml:"name"`
			Alias      string `yaml:"alias"`
			Repository string `yaml:"repository"`
		} `yaml:"dependencies"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("parse %s: %w", chartPath, err)
	}
	c.deps = map[string]*chart{}
	for _, d := range meta.Dependencies {
		rel, ok := strings.CutPrefix(d.Repository, "file://")
		if !ok {
			continue
		}
		sub, err := loadChart(filepath.Join(dir, rel))
		if err != nil {
			return nil, fmt.Errorf("dependency %s of %s: %w", d.Name, dir, err)
		}
		name := d.Name
		if d.Alias != "" {
			name = d.Alias
		}
		c.deps[name] = sub
	}
	return c, nil
}

// has reports whether path (a.b.c) names a key of values.yaml, or of a
// local subchart's values.yaml under its name; where the chart has a schema,
// also whether the schema allows it.
func (c *chart) has(path []string) error {
	// The parent's schema validates the parent's whole values, subcharts'
	// sections included.
	if err := c.schemaAllows(path); err != nil {
		return err
	}
	err := c.inValues(path)
	if err == nil || len(path) < 2 {
		return err
	}
	sub, ok := c.deps[path[0]]
	if !ok {
		return err
	}
	if subErr := sub.has(path[1:]); subErr != nil {
		return fmt.Errorf("%w, nor is %s in its subchart (%v)", err, strings.Join(path[1:], "."), subErr)
	}
	return nil
}

// inValues reports whether path is a key of the chart's own values.yaml.
func (c *chart) inValues(path []string) error {
	_, err := c.valueAt(path)
	return err
}

// valueAt returns the default values.yaml holds at path.
func (c *chart) valueAt(path []string) (any, error) {
	var node any = c.values
	for i, key := range path {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a map in %s/values.yaml", strings.Join(path[:i], "."), c.dir)
		}
		if node, ok = m[key]; !ok {
			return nil, fmt.Errorf("%s is not in %s/values.yaml", strings.Join(path[:i+1], "."), c.dir)
		}
	}
	return node, nil
}

// at returns what the chart holds at path, found as has finds it: the
// values.yaml default (the chart's own, or a local subchart's under its
// name) and the schemas that describe the key (the parent's, then the
// subchart's), where they do.
func (c *chart) at(path []string) (any, []map[string]any) {
	var schemas []map[string]any
	if s := c.schemaAt(path); s != nil {
		schemas = append(schemas, s)
	}
	if v, err := c.valueAt(path); err == nil {
		return v, schemas
	}
	if sub, ok := c.deps[path[0]]; ok && len(path) >= 2 {
		v, subSchemas := sub.at(path[1:])
		return v, append(schemas, subSchemas...)
	}
	return nil, schemas
}

// schemaAt returns the schema of the key at path, nil where the schema does
// not describe it; a local "$ref" (#/definitions/...) is followed.
func (c *chart) schemaAt(path []string) map[string]any {
	schema := c.deref(c.schema)
	for _, key := range path {
		if schema == nil {
			return nil
		}
		props, _ := schema["properties"].(map[string]any)
		next, _ := props[key].(map[string]any)
		schema = c.deref(next)
	}
	return schema
}

func (c *chart) deref(schema map[string]any) map[string]any {
	for range 10 {
		ref, ok := schema["$ref"].(string)
		if !ok {
			return schema
		}
		var node any = c.schema
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := node.(map[string]any)
			node = m[part]
		}
		schema, _ = node.(map[string]any)
	}
	return schema
}

// schemaAllows follows path through the schema's properties as far as they
// go; a key missing where additionalProperties is false is refused.
func (c *chart) schemaAllows(path []string) error {
	schema := c.deref(c.schema)
	for i, key := range path {
		if schema == nil {
			return nil
		}
		props, _ := schema["properties"].(map[string]any)
		next, ok := props[key].(map[string]any)
		if !ok {
			if ap, set := schema["additionalProperties"].(bool); set && !ap {
				return fmt.Errorf("%s is not allowed by %s/values.schema.json", strings.Join(path[:i+1], "."), c.dir)
			}
			return nil
		}
		schema = c.deref(next)
	}
	return nil
}

// valueKey is one leaf the helm_release's values set: its key path and the
// expression it is set to (nil for set / set_sensitive / set_list, whose
// values Helm parses itself).
type valueKey struct {
	path []string
	expr hclsyntax.Expression
}

// chartValues returns every key path the helm_release's values set: the
// object given to yamlencode (inline or through a local), and the names in
// set / set_sensitive / set_list.
func chartValues(m *module, release *hclsyntax.Block) ([]valueKey, problems) {
	var p problems
	var paths []valueKey
	locals := m.locals()
	if attr, ok := release.Body.Attributes["values"]; ok {
		tuple, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			p.addRange(attr.SrcRange, "helm_release values must be a list of yamlencode({...})")
		} else {
			for _, item := range tuple.Exprs {
				call, ok := item.(*hclsyntax.FunctionCallExpr)
				if !ok || call.Name != "yamlencode" || len(call.Args) != 1 {
					p.addRange(item.Range(), "helm_release values: each item must be yamlencode(...) so its keys can be checked")
					continue
				}
				obj := resolveObject(call.Args[0], locals)
				if obj == nil {
					p.addRange(call.Args[0].Range(), "helm_release values: yamlencode's argument must be an object, inline or a local")
					continue
				}
				keyPaths(obj, nil, &paths, &p)
			}
		}
	}
	for _, name := range []string{"set", "set_sensitive", "set_list"} {
		if attr, ok := release.Body.Attributes[name]; ok {
			items, diags := hcl.ExprList(attr.Expr)
			if diags.HasErrors() {
				p.addRange(attr.SrcRange, "helm_release %s must be a list", name)
				continue
			}
			for _, item := range items {
				obj, ok := item.(*hclsyntax.ObjectConsExpr)
				if !ok {
					p.addRange(item.Range(), "helm_release %s: each item must be { name = ..., value = ... }", name)
					continue
				}
				for _, kv := range obj.Items {
					if hcl.ExprAsKeyword(kv.KeyExpr) != "name" {
						continue
					}
					v, diags := kv.ValueExpr.Value(nil)
					if diags.HasErrors() || !v.Type().Equals(cty.String) {
						p.addRange(kv.ValueExpr.Range(), "helm_release %s: name must be a literal string", name)
						continue
					}
					paths = append(paths, valueKey{path: strings.Split(v.AsString(), ".")})
				}
			}
		}
		for _, blk := range release.Body.Blocks {
			if blk.Type == name {
				p.addRange(blk.DefRange(), "helm_release %s blocks are helm provider 2.x syntax; 3.x takes a list attribute", name)
			}
		}
	}
	return paths, p
}

// resolveObject follows local.NAME to its object constructor.
func resolveObject(expr hclsyntax.Expression, locals map[string]hclsyntax.Expression) *hclsyntax.ObjectConsExpr {
	for range 10 {
		switch e := expr.(type) {
		case *hclsyntax.ObjectConsExpr:
			return e
		case *hclsyntax.ScopeTraversalExpr:
			if len(e.Traversal) != 2 || e.Traversal.RootName() != "local" {
				return nil
			}
			attr, ok := e.Traversal[1].(hcl.TraverseAttr)
			if !ok {
				return nil
			}
			if expr, ok = locals[attr.Name]; !ok {
				return nil
			}
		default:
			return nil
		}
	}
	return nil
}

// keyPaths collects the leaf key paths of an object constructor; an
// object-valued key recurses, anything else is a leaf.
func keyPaths(obj *hclsyntax.ObjectConsExpr, prefix []string, out *[]valueKey, p *problems) {
	for _, item := range obj.Items {
		key := hcl.ExprAsKeyword(item.KeyExpr)
		if key == "" {
			v, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || !v.Type().Equals(cty.String) {
				p.addRange(item.KeyExpr.Range(), "chart values: key under %q is not a literal", strings.Join(prefix, "."))
				continue
			}
			key = v.AsString()
		}
		path := append(append([]string(nil), prefix...), key)
		if inner, ok := item.ValueExpr.(*hclsyntax.ObjectConsExpr); ok {
			keyPaths(inner, path, out, p)
			continue
		}
		*out = append(*out, valueKey{path: path, expr: item.ValueExpr})
	}
}

// evalContext evaluates what an environment can know without providers:
// path.module/root/cwd and every local that needs nothing else.
func evalContext(m *module) *hcl.EvalContext {
	dir := cty.StringVal(m.dir)
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"path":  cty.ObjectVal(map[string]cty.Value{"module": dir, "root": dir, "cwd": dir}),
		"local": cty.EmptyObjectVal,
	}}
	evalLocals(ctx, m, func(v cty.Value) bool { return v.IsWhollyKnown() })
	return ctx
}

// evalLocals sets ctx's local object to every local of m that evaluates
// without error and that keep accepts, to a fixed point (a local may name
// another).
func evalLocals(ctx *hcl.EvalContext, m *module, keep func(cty.Value) bool) {
	locals := m.locals()
	known := map[string]cty.Value{}
	for range len(locals) + 1 {
		grew := false
		for name, expr := range locals {
			if _, done := known[name]; done {
				continue
			}
			if v, diags := expr.Value(ctx); !diags.HasErrors() && keep(v) {
				known[name] = v
				grew = true
			}
		}
		ctx.Variables["local"] = cty.ObjectVal(known)
		if !grew {
			return
		}
	}
}

// checkChartWiring checks an environment's calls of the region module:
//   - each passes chart_path, which resolves to chartDir;
//   - the region module deploys var.chart_path with helm_release, and every
//     key its values set exists in chartDir/values.yaml (and its schema);
//   - the values set every contract key;
//   - each call gets its own kubernetes and helm provider aliases.
func checkChartWiring(env *module, chartDir string) problems {
	var p problems
	c, err := loadChart(chartDir)
	if err != nil {
		p.add(tfconfig.SourcePos{Filename: chartDir}, "%v: the region module deploys this chart (helm/idstack-region, issue #7), so the wiring cannot be checked until it exists", err)
		return p
	}
	wantDir, err := filepath.Abs(chartDir)
	if err != nil {
		p.add(tfconfig.SourcePos{Filename: chartDir}, "%v", err)
		return p
	}
	ctx := evalContext(env)
	checked := map[string]bool{}
	aliases := map[string]string{} // "kubernetes.eu_west" → module name
	calls := 0
	for _, b := range env.blocks("module") {
		name := b.Labels[0]
		src, _ := b.Body.Attributes["source"]
		if src == nil {
			continue
		}
		sv, diags := src.Expr.Value(nil)
		if diags.HasErrors() || !sv.Type().Equals(cty.String) || filepath.Base(sv.AsString()) != "region" {
			continue
		}
		calls++
		source := filepath.Join(env.dir, sv.AsString())

		attr, ok := b.Body.Attributes["chart_path"]
		if !ok {
			p.addRange(b.DefRange(), "module %q: no chart_path", name)
		} else if v, diags := attr.Expr.Value(ctx); diags.HasErrors() || !v.Type().Equals(cty.String) {
			p.addRange(attr.SrcRange, "module %q: chart_path cannot be resolved here (use path.module and literals): %s", name, diags.Error())
		} else if got, err := filepath.Abs(v.AsString()); err != nil || got != wantDir {
			p.addRange(attr.SrcRange, "module %q: chart_path resolves to %s, want the chart at %s", name, v.AsString(), chartDir)
		}

		if pa, ok := b.Body.Attributes["providers"]; !ok {
			p.addRange(b.DefRange(), "module %q: no providers map: each region needs its own kubernetes and helm alias", name)
		} else if pairs, diags := hcl.ExprMap(pa.Expr); diags.HasErrors() {
			p.addRange(pa.SrcRange, "module %q: providers is not a map", name)
		} else {
			given := map[string]bool{}
			for _, kv := range pairs {
				key := hcl.ExprAsKeyword(kv.Key)
				given[key] = true
				if key != "kubernetes" && key != "helm" {
					continue
				}
				trav, diags := hcl.AbsTraversalForExpr(kv.Value)
				if diags.HasErrors() || len(trav) != 2 {
					p.addRange(kv.Value.Range(), "module %q: %s must be an aliased provider (%s.<region>)", name, key, key)
					continue
				}
				ref := trav.RootName() + "." + trav[1].(hcl.TraverseAttr).Name
				if other, dup := aliases[ref]; dup {
					p.addRange(kv.Value.Range(), "module %q: %s is also given to module %q; each region needs its own", name, ref, other)
				}
				aliases[ref] = name
			}
			for _, want := range []string{"kubernetes", "helm"} {
				if !given[want] {
					p.addRange(pa.SrcRange, "module %q: providers has no %s", name, want)
				}
			}
		}

		if checked[source] {
			continue
		}
		checked[source] = true
		p = append(p, checkRegionModule(source, c)...)
	}
	if calls == 0 {
		p.add(tfconfig.SourcePos{Filename: env.dir}, "no call of the region module")
	}
	return p
}

// checkRegionModule checks the region module's helm_release against the chart.
func checkRegionModule(dir string, c *chart) problems {
	var p problems
	m, err := loadModule(dir)
	if err != nil {
		p.add(tfconfig.SourcePos{Filename: dir}, "%v", err)
		return p
	}
	var releases []*hclsyntax.Block
	for _, b := range m.blocks("resource") {
		if b.Labels[0] == "helm_release" {
			releases = append(releases, b)
		}
	}
	if len(releases) != 1 {
		p.add(tfconfig.SourcePos{Filename: dir}, "want exactly one helm_release, found %d", len(releases))
		return p
	}
	release := releases[0]
	if attr, ok := release.Body.Attributes["chart"]; !ok {
		p.addRange(release.DefRange(), "helm_release has no chart")
	} else if trav, diags := hcl.AbsTraversalForExpr(attr.Expr); diags.HasErrors() || len(trav) != 2 ||
		trav.RootName() != "var" || trav[1].(hcl.TraverseAttr).Name != "chart_path" {
		p.addRange(attr.SrcRange, "helm_release chart must be var.chart_path, the path the environment passes")
	}
	keys, vp := chartValues(m, release)
	p = append(p, vp...)
	set := map[string]bool{}
	for _, k := range keys {
		set[strings.Join(k.path, ".")] = true
		if err := c.has(k.path); err != nil {
			p.addRange(release.DefRange(), "helm_release values: %v", err)
			continue
		}
		if err := checkLeaf(m, c, k); err != nil {
			p.addRange(release.DefRange(), "helm_release values: %v", err)
		}
	}
	for _, key := range contractKeys {
		if !set[key] {
			p.addRange(release.DefRange(), "helm_release values do not set the contract key %s", key)
		}
	}
	return p
}

// checkLeaf checks what a key is set to, where that can be known here:
//   - a key the chart holds as a map of keys of its own (e.g. ingress,
//     keyrotation.vault) must be set key by key, as an object constructor,
//     not to an expression (var.x, merge(...)) whose keys cannot be checked;
//   - a value whose type is known here (a literal, a template, a variable or
//     an attribute of one, either branch of a conditional) must have a type
//     the chart's schema allows or, where no schema gives the key a type, the
//     type of its values.yaml default.
func checkLeaf(m *module, c *chart, k valueKey) error {
	name := strings.Join(k.path, ".")
	def, schemas := c.at(k.path)
	if inner, ok := def.(map[string]any); ok && len(inner) > 0 {
		return fmt.Errorf("%s is a map of keys in the chart (%s): set it as an object of those keys, so each can be checked", name, strings.Join(sortedKeys(inner), ", "))
	}
	if k.expr == nil {
		return nil
	}
	want := schemaTypes(schemas)
	source := "values.schema.json"
	if want == nil {
		want = yamlType(def)
		source = "its values.yaml default"
	}
	if want == nil {
		return nil
	}
	for _, ty := range exprTypes(m, k.expr) {
		got := jsonType(ty)
		if got == "" {
			continue
		}
		if !want[got] && !(got == "number" && want["integer"]) {
			return fmt.Errorf("%s is set to a value of type %s, the chart wants %s (%s)", name, typeexpr.TypeString(ty), strings.Join(sortedKeys(want), " or "), source)
		}
	}
	return nil
}

// schemaTypes returns the JSON types every schema given allows, nil when
// none of them says.
func schemaTypes(schemas []map[string]any) map[string]bool {
	var out map[string]bool
	for _, s := range schemas {
		var types []string
		switch t := s["type"].(type) {
		case string:
			types = []string{t}
		case []any:
			for _, v := range t {
				if str, ok := v.(string); ok {
					types = append(types, str)
				}
			}
		}
		if len(types) == 0 {
			continue
		}
		allowed := map[string]bool{}
		for _, t := range types {
			if out == nil || out[t] || (t == "number" && out["integer"]) || (t == "integer" && out["number"]) {
				allowed[t] = true
			}
		}
		out = allowed
	}
	return out
}

// yamlType is the JSON type of a values.yaml default; nil for null.
func yamlType(v any) map[string]bool {
	switch v.(type) {
	case bool:
		return map[string]bool{"boolean": true}
	case string:
		return map[string]bool{"string": true}
	case int, int64, uint64, float64:
		return map[string]bool{"number": true}
	case []any:
		return map[string]bool{"array": true}
	case map[string]any:
		return map[string]bool{"object": true}
	}
	return nil
}

// jsonType is the JSON type yamlencode gives a value of type ty; "" when it
// is not known here.
func jsonType(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "string"
	case ty == cty.Bool:
		return "boolean"
	case ty == cty.Number:
		return "number"
	case ty.IsListType(), ty.IsSetType(), ty.IsTupleType():
		return "array"
	case ty.IsMapType(), ty.IsObjectType():
		return "object"
	}
	return ""
}

// Functions whose result type does not depend on their arguments.
var funcTypes = map[string]cty.Type{
	"format": cty.String, "join": cty.String, "lower": cty.String, "upper": cty.String,
	"replace": cty.String, "trimsuffix": cty.String, "trimprefix": cty.String, "trimspace": cty.String,
	"jsonencode": cty.String, "yamlencode": cty.String, "base64encode": cty.String,
	"tostring": cty.String, "tobool": cty.Bool, "tonumber": cty.Number,
}

// exprTypes returns the types expr may have, as far as they are known
// without evaluating it: none for references to resources, locals or
// module outputs.
func exprTypes(m *module, expr hclsyntax.Expression) []cty.Type {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return []cty.Type{e.Val.Type()}
	case *hclsyntax.TemplateExpr:
		return []cty.Type{cty.String}
	case *hclsyntax.TemplateWrapExpr:
		return exprTypes(m, e.Wrapped)
	case *hclsyntax.ConditionalExpr:
		return append(exprTypes(m, e.TrueResult), exprTypes(m, e.FalseResult)...)
	case *hclsyntax.ParenthesesExpr:
		return exprTypes(m, e.Expression)
	case *hclsyntax.TupleConsExpr:
		return []cty.Type{cty.List(cty.DynamicPseudoType)}
	case *hclsyntax.FunctionCallExpr:
		if ty, ok := funcTypes[e.Name]; ok {
			return []cty.Type{ty}
		}
	case *hclsyntax.ScopeTraversalExpr:
		if ty, ok := varType(m, e.Traversal); ok {
			return []cty.Type{ty}
		}
	}
	return nil
}

// varType resolves var.NAME[.attr|[key]]... through the variable's type
// constraint.
func varType(m *module, trav hcl.Traversal) (cty.Type, bool) {
	if len(trav) < 2 || trav.RootName() != "var" {
		return cty.NilType, false
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return cty.NilType, false
	}
	var ty cty.Type
	found := false
	for _, b := range m.blocks("variable") {
		if b.Labels[0] != attr.Name {
			continue
		}
		te, ok := b.Body.Attributes["type"]
		if !ok {
			return cty.NilType, false
		}
		t, _, diags := typeexpr.TypeConstraintWithDefaults(te.Expr)
		if diags.HasErrors() {
			return cty.NilType, false
		}
		ty, found = t, true
	}
	if !found {
		return cty.NilType, false
	}
	for _, step := range trav[2:] {
		var key string
		switch s := step.(type) {
		case hcl.TraverseAttr:
			key = s.Name
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				key = s.Key.AsString()
			}
		default:
			return cty.NilType, false
		}
		switch {
		case ty.IsObjectType() && key != "" && ty.HasAttribute(key):
			ty = ty.AttributeType(key)
		case ty.IsMapType(), ty.IsListType(), ty.IsSetType():
			ty = ty.ElementType()
		default:
			return cty.NilType, false
		}
	}
	if ty == cty.DynamicPseudoType {
		return cty.NilType, false
	}
	return ty, true
}
