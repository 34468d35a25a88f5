package terraform_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
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
	var node any = c.values
	for i, key := range path {
		m, ok := node.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not a map in %s/values.yaml", strings.Join(path[:i], "."), c.dir)
		}
		if node, ok = m[key]; !ok {
			return fmt.Errorf("%s is not in %s/values.yaml", strings.Join(path[:i+1], "."), c.dir)
		}
	}
	return nil
}

// schemaAllows follows path through the schema's properties as far as they
// go; a key missing where additionalProperties is false is refused.
func (c *chart) schemaAllows(path []string) error {
	schema := c.schema
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
		schema = next
	}
	return nil
}

// chartValues returns every key path the helm_release's values set: the
// object given to yamlencode (inline or through a local), and the names in
// set / set_sensitive / set_list.
func chartValues(m *module, release *hclsyntax.Block) ([][]string, problems) {
	var p problems
	var paths [][]string
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
					paths = append(paths, strings.Split(v.AsString(), "."))
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
func keyPaths(obj *hclsyntax.ObjectConsExpr, prefix []string, out *[][]string, p *problems) {
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
		*out = append(*out, path)
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
	locals := m.locals()
	known := map[string]cty.Value{}
	for range len(locals) + 1 {
		grew := false
		for name, expr := range locals {
			if _, done := known[name]; done {
				continue
			}
			if v, diags := expr.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
				known[name] = v
				grew = true
			}
		}
		ctx.Variables["local"] = cty.ObjectVal(known)
		if !grew {
			break
		}
	}
	return ctx
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
	paths, vp := chartValues(m, release)
	p = append(p, vp...)
	set := map[string]bool{}
	for _, path := range paths {
		set[strings.Join(path, ".")] = true
		if err := c.has(path); err != nil {
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
