// Package helm_test checks idstack's Helm charts with the Helm Go library
// (helm.sh/helm/v3, the version pinned in versions.env): lint, render with
// several values files, golden manifests, strict decoding into Kubernetes
// API types, pod hardening, the schemas, and generated secrets kept across
// upgrades.
package helm_test

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/downloader"
	"helm.sh/helm/v3/pkg/getter"
	"sigs.k8s.io/yaml"
)

// charts are the chart directories under helm/, umbrella last.
var charts = []string{"kratos", "hydra", "bridge", "keyrotation", "idstack-region"}

const (
	releaseName = "eu"
	namespace   = "idstack"
	umbrella    = "idstack-region"
)

// chartDir returns a directory holding the chart ready to install. The
// umbrella's file:// dependencies are packaged into a copy's charts/ by
// Helm's own dependency manager (what `helm dependency update` does).
func chartDir(t *testing.T, name string) string {
	t.Helper()
	if name != umbrella {
		return name
	}
	dir := filepath.Join(t.TempDir(), umbrella)
	if err := os.CopyFS(dir, os.DirFS(umbrella)); err != nil {
		t.Fatalf("copy %s: %v", umbrella, err)
	}
	// file:// paths are relative to the chart: point them at helm/.
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	chartYAML := filepath.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(chartYAML)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "file://../", "file://"+abs+"/"))
	if err := os.WriteFile(chartYAML, data, 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	settings := cli.New()
	m := &downloader.Manager{
		Out:              io.Discard,
		ChartPath:        dir,
		SkipUpdate:       true,
		Getters:          getter.All(settings),
		RepositoryConfig: filepath.Join(home, "repositories.yaml"),
		RepositoryCache:  filepath.Join(home, "cache"),
	}
	if err := m.Update(); err != nil {
		t.Fatalf("helm dependency update %s: %v", umbrella, err)
	}
	return dir
}

func loadChart(t *testing.T, name string) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir(t, name))
	if err != nil {
		t.Fatalf("load chart %s: %v", name, err)
	}
	return ch
}

// readValues reads testdata/values/<chart>/<name>.yaml (name "defaults": none).
func readValues(t *testing.T, chartName, name string) map[string]any {
	t.Helper()
	if name == "defaults" {
		return map[string]any{}
	}
	path := filepath.Join("testdata", "values", chartName, name+".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read values: %v", err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return vals
}

// valuesFiles lists the values files of a chart under testdata.
func valuesFiles(t *testing.T, chartName string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "values", chartName))
	if err != nil {
		t.Fatalf("values of %s: %v", chartName, err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) < 2 {
		t.Fatalf("%s: want at least two values files under testdata, got %v", chartName, names)
	}
	return names
}

// render is `helm template`: a client-only dry-run install, which validates
// the values against the schema and renders every template, hooks included.
func render(t *testing.T, ch *chart.Chart, vals map[string]any) (string, error) {
	t.Helper()
	inst := action.NewInstall(&action.Configuration{})
	inst.ClientOnly = true
	inst.DryRun = true
	inst.Replace = true
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.DisableHooks = false
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rel.Manifest)
	for _, h := range rel.Hooks {
		b.WriteString("\n---\n# Source: " + h.Path + "\n" + h.Manifest + "\n")
	}
	return b.String(), nil
}
