package terraform_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// chartDir is the chart the region module deploys, relative to terraform/.
const chartDir = "../helm/idstack-region"

// moduleDirs lists every module and environment under terraform/.
func moduleDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, parent := range []string{"modules", "environments"} {
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatalf("read %s: %v", parent, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(parent, e.Name()))
			}
		}
	}
	for _, want := range []string{"modules/region", "modules/vault", "modules/cockroach", "environments/example"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("terraform/%s is missing", want)
		}
	}
	return dirs
}

// check runs every check that needs no chart on one directory.
func check(t *testing.T, dir string) problems {
	t.Helper()
	m, err := loadModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	var p problems
	p = append(p, checkVariables(m)...)
	p = append(p, checkOutputs(m)...)
	p = append(p, checkVersions(m)...)
	p = append(p, checkModuleCalls(m)...)
	return p
}

func report(t *testing.T, p problems) {
	t.Helper()
	for _, msg := range p {
		t.Error(msg)
	}
}

// TestModules: every variable typed and described, every output described,
// Terraform and every provider pinned in versions.tf, every module call
// passing exactly the called module's variables, a README naming every
// input and output.
func TestModules(t *testing.T) {
	for _, dir := range moduleDirs(t) {
		t.Run(dir, func(t *testing.T) {
			report(t, check(t, dir))
			m, err := loadModule(dir)
			if err != nil {
				t.Fatal(err)
			}
			report(t, checkReadme(m))
		})
	}
}

// TestExampleWiresTheChart: every region of the example environment deploys
// helm/idstack-region with values that exist in its values.yaml (and its
// schema), sets every contract key, and has its own provider aliases. It
// fails, never skips, while the chart is missing.
func TestExampleWiresTheChart(t *testing.T) {
	env, err := loadModule("environments/example")
	if err != nil {
		t.Fatal(err)
	}
	report(t, checkChartWiring(env, chartDir))
}

// TestExampleHasThreeRegions: the example calls the region module once per
// region, eu-west, us-east and ap-northeast, and makes exactly one primary.
func TestExampleHasThreeRegions(t *testing.T) {
	env, err := loadModule("environments/example")
	if err != nil {
		t.Fatal(err)
	}
	ctx := evalContext(env)
	var names []string
	primaries := 0
	for _, b := range env.blocks("module") {
		attr, ok := b.Body.Attributes["name"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("module %q: name: %s", b.Labels[0], diags.Error())
		}
		names = append(names, v.AsString())
		pa, ok := b.Body.Attributes["primary"]
		if !ok {
			t.Fatalf("module %q: no primary", b.Labels[0])
		}
		pv, diags := pa.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("module %q: primary: %s", b.Labels[0], diags.Error())
		}
		if pv.True() {
			primaries++
		}
	}
	slices.Sort(names)
	if want := []string{"ap-northeast", "eu-west", "us-east"}; !slices.Equal(names, want) {
		t.Errorf("regions: got %v, want %v", names, want)
	}
	if primaries != 1 {
		t.Errorf("primary regions: got %d, want 1", primaries)
	}
}
