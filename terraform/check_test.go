// Package terraform_test checks idstack's Terraform modules without
// Terraform's providers, which these machines cannot download: every module
// is loaded with github.com/hashicorp/terraform-config-inspect and
// github.com/hashicorp/hcl/v2, and the checks below are what can be known
// from the configuration alone. The fixtures under testdata/bad prove that
// each check catches what it is meant to catch.
package terraform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"
)

// problems collects what a check found, each with a file:line position.
type problems []string

func (p *problems) add(pos tfconfig.SourcePos, format string, args ...any) {
	*p = append(*p, fmt.Sprintf("%s:%d: %s", pos.Filename, pos.Line, fmt.Sprintf(format, args...)))
}

func (p *problems) addRange(r hcl.Range, format string, args ...any) {
	p.add(tfconfig.SourcePos{Filename: r.Filename, Line: r.Start.Line}, format, args...)
}

// module is one Terraform module directory, loaded both ways.
type module struct {
	dir    string
	config *tfconfig.Module
	files  map[string]*hcl.File // by path, every .tf file of dir
}

// loadModule reads dir; HCL syntax errors are returned, not collected.
func loadModule(dir string) (*module, error) {
	cfg, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return nil, fmt.Errorf("load %s: %w", dir, diags.Err())
	}
	parser := hclparse.NewParser()
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("load %s: no .tf files", dir)
	}
	files := map[string]*hcl.File{}
	for _, path := range paths {
		f, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %s", path, diags.Error())
		}
		files[path] = f
	}
	return &module{dir: dir, config: cfg, files: files}, nil
}

// blocks returns every top-level block of the given type, in file order.
func (m *module) blocks(typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, path := range sortedKeys(m.files) {
		for _, b := range m.files[path].Body.(*hclsyntax.Body).Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

// locals returns every local value's expression by name.
func (m *module) locals() map[string]hclsyntax.Expression {
	out := map[string]hclsyntax.Expression{}
	for _, b := range m.blocks("locals") {
		for name, attr := range b.Body.Attributes {
			out[name] = attr.Expr
		}
	}
	return out
}

// checkVariables: every variable has a type and a description.
func checkVariables(m *module) problems {
	var p problems
	for _, name := range sortedKeys(m.config.Variables) {
		v := m.config.Variables[name]
		if strings.TrimSpace(v.Type) == "" {
			p.add(v.Pos, "variable %q has no type", name)
		}
		if strings.TrimSpace(v.Description) == "" {
			p.add(v.Pos, "variable %q has no description", name)
		}
	}
	return p
}

// checkOutputs: every output has a description.
func checkOutputs(m *module) problems {
	var p problems
	for _, name := range sortedKeys(m.config.Outputs) {
		o := m.config.Outputs[name]
		if strings.TrimSpace(o.Description) == "" {
			p.add(o.Pos, "output %q has no description", name)
		}
	}
	return p
}

// A constraint pins a provider when it bounds the version from above: an
// exact version, a pessimistic "~>", or an explicit "<" / "<=".
var pinned = regexp.MustCompile(`^\s*(=?\s*v?[0-9]+(\.[0-9]+)*(-[0-9A-Za-z.-]+)?|~>\s*[0-9].*|<=?\s*[0-9].*)\s*$`)

func isPinned(constraints []string) bool {
	for _, set := range constraints {
		for _, c := range strings.Split(set, ",") {
			if pinned.MatchString(c) {
				return true
			}
		}
	}
	return false
}

// checkVersions: versions.tf sets required_version and required_providers;
// every provider the module uses (resources, data sources, provider blocks,
// providers passed to module calls) has a source and a pinned version there.
func checkVersions(m *module) problems {
	var p problems
	versionsFile := filepath.Join(m.dir, "versions.tf")
	filePos := tfconfig.SourcePos{Filename: versionsFile, Line: 1}
	f, ok := m.files[versionsFile]
	if !ok {
		p.add(tfconfig.SourcePos{Filename: m.dir, Line: 0}, "no versions.tf")
	} else {
		var core, providers bool
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "terraform" {
				continue
			}
			_, core = b.Body.Attributes["required_version"]
			for _, inner := range b.Body.Blocks {
				providers = providers || inner.Type == "required_providers"
			}
		}
		if !core {
			p.add(filePos, "versions.tf does not set required_version: Terraform itself is not pinned")
		}
		if !providers {
			p.add(filePos, "versions.tf has no required_providers block")
		}
	}
	if len(m.config.RequiredCore) > 0 && !isPinned(m.config.RequiredCore) {
		p.add(filePos, "required_version %q has no upper bound", strings.Join(m.config.RequiredCore, ", "))
	}

	used := map[string]tfconfig.SourcePos{}
	for _, rs := range []map[string]*tfconfig.Resource{m.config.ManagedResources, m.config.DataResources} {
		for _, r := range rs {
			if _, seen := used[r.Provider.Name]; !seen {
				used[r.Provider.Name] = r.Pos
			}
		}
	}
	for _, b := range m.blocks("provider") {
		used[b.Labels[0]] = tfconfig.SourcePos{Filename: b.DefRange().Filename, Line: b.DefRange().Start.Line}
	}
	for _, b := range m.blocks("module") {
		if attr, ok := b.Body.Attributes["providers"]; ok {
			pairs, diags := hcl.ExprMap(attr.Expr)
			if diags.HasErrors() {
				p.addRange(attr.Expr.Range(), "module %q: providers is not a map", b.Labels[0])
				continue
			}
			for _, kv := range pairs {
				used[hcl.ExprAsKeyword(kv.Key)] = tfconfig.SourcePos{Filename: attr.SrcRange.Filename, Line: attr.SrcRange.Start.Line}
			}
		}
	}
	// tfconfig adds an empty requirement for every provider a resource uses;
	// what versions.tf declares is read from the blocks themselves.
	declared := map[string]bool{}
	for _, b := range m.blocks("terraform") {
		for _, inner := range b.Body.Blocks {
			if inner.Type == "required_providers" {
				for name := range inner.Body.Attributes {
					declared[name] = true
				}
			}
		}
	}
	for _, name := range sortedKeys(used) {
		if !declared[name] {
			p.add(used[name], "provider %q is used but not in required_providers", name)
		}
	}
	for _, name := range sortedKeys(m.config.RequiredProviders) {
		if !declared[name] {
			continue // reported above
		}
		req := m.config.RequiredProviders[name]
		if req.Source == "" {
			p.add(filePos, "provider %q has no source in required_providers", name)
		}
		if len(req.VersionConstraints) == 0 {
			p.add(filePos, "provider %q has no version constraint", name)
		} else if !isPinned(req.VersionConstraints) {
			p.add(filePos, "provider %q version %q is not pinned (no upper bound: use ~>, = or <)", name, strings.Join(req.VersionConstraints, ", "))
		}
	}
	return p
}

// Meta-arguments of a module block: not variables of the called module.
var moduleMetaArgs = map[string]bool{"source": true, "version": true, "providers": true, "count": true, "for_each": true, "depends_on": true}

// checkModuleCalls: every call of a local module passes every required
// variable of that module and nothing that is not one of its variables.
func checkModuleCalls(m *module) problems {
	var p problems
	for _, b := range m.blocks("module") {
		name := b.Labels[0]
		src, ok := b.Body.Attributes["source"]
		if !ok {
			p.addRange(b.DefRange(), "module %q has no source", name)
			continue
		}
		v, diags := src.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) {
			p.addRange(src.SrcRange, "module %q: source must be a literal string", name)
			continue
		}
		source := v.AsString()
		if !strings.HasPrefix(source, "./") && !strings.HasPrefix(source, "../") {
			p.addRange(src.SrcRange, "module %q: source %q is not a local path; only local modules can be checked here", name, source)
			continue
		}
		called, err := loadModule(filepath.Join(m.dir, source))
		if err != nil {
			p.addRange(src.SrcRange, "module %q: %v", name, err)
			continue
		}
		for _, arg := range sortedKeys(b.Body.Attributes) {
			if moduleMetaArgs[arg] {
				continue
			}
			if _, ok := called.config.Variables[arg]; !ok {
				p.addRange(b.Body.Attributes[arg].SrcRange, "module %q: unknown argument %q (%s has no such variable)", name, arg, source)
			}
		}
		for _, vname := range sortedKeys(called.config.Variables) {
			if !called.config.Variables[vname].Required {
				continue
			}
			if _, ok := b.Body.Attributes[vname]; !ok {
				p.addRange(b.DefRange(), "module %q: required variable %q of %s is not passed", name, vname, source)
			}
		}
		for _, blk := range b.Body.Blocks {
			p.addRange(blk.DefRange(), "module %q: unexpected block %q in a module call", name, blk.Type)
		}
	}
	return p
}

// checkReadme: the module's README.md names every input and every output.
func checkReadme(m *module) problems {
	var p problems
	path := filepath.Join(m.dir, "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		p.add(tfconfig.SourcePos{Filename: path}, "no README.md")
		return p
	}
	text := string(data)
	for _, name := range sortedKeys(m.config.Variables) {
		if !strings.Contains(text, "`"+name+"`") {
			p.add(tfconfig.SourcePos{Filename: path}, "README.md does not describe input `%s`", name)
		}
	}
	for _, name := range sortedKeys(m.config.Outputs) {
		if !strings.Contains(text, "`"+name+"`") {
			p.add(tfconfig.SourcePos{Filename: path}, "README.md does not describe output `%s`", name)
		}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
