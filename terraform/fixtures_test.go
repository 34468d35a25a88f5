package terraform_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// fixtureChart stands in for helm/idstack-region: the contract keys only.
const fixtureChart = "testdata/chart/idstack-region"

// TestCheckerPassesGoodFixtures: the fixtures under testdata/good pass every
// check, so the bad ones below fail for their one defect only.
func TestCheckerPassesGoodFixtures(t *testing.T) {
	for _, dir := range []string{"testdata/good/child", "testdata/good/caller", "testdata/good/region", "testdata/good/env"} {
		t.Run(dir, func(t *testing.T) { report(t, check(t, dir)) })
	}
	t.Run("chart wiring", func(t *testing.T) {
		env, err := loadModule("testdata/good/env")
		if err != nil {
			t.Fatal(err)
		}
		report(t, checkChartWiring(env, fixtureChart))
	})
}

// TestCheckerCatchesBadFixtures: each fixture under testdata/bad has one
// defect, and the checks must report exactly that one.
func TestCheckerCatchesBadFixtures(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"variable without description", "variable-no-description", `variable "name" has no description`},
		{"variable without type", "variable-no-type", `variable "name" has no type`},
		{"output without description", "output-no-description", `output "name" has no description`},
		{"module call with unknown argument", "module-unknown-argument", `module "child": unknown argument "bogus"`},
		{"module call missing a required variable", "module-missing-required", `module "child": required variable "name"`},
		{"provider without upper bound", "provider-unpinned", `provider "random" version ">= 3.7" is not pinned`},
		{"provider used but not required", "provider-not-required", `provider "vault" is used but not in required_providers`},
		{"no required_version", "no-required-version", `does not set required_version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, filepath.Join("testdata/bad", tt.dir))
			expectOne(t, got, tt.want)
		})
	}
}

// TestCheckerCatchesBadChartWiring: chart values neither the chart nor its
// subchart has, a value the chart's schema refuses, a map of the chart's set
// to an expression whose keys cannot be checked, a value of the wrong type,
// a chart path that is not
// the chart, two regions sharing a provider alias, and a missing chart each
// fail the wiring check.
func TestCheckerCatchesBadChartWiring(t *testing.T) {
	tests := []struct {
		name  string
		env   string
		chart string
		want  string
	}{
		{"values key the chart lacks", "testdata/bad/chart-unknown-key/env", fixtureChart, "bridge.replicas is not in"},
		{"values key the subchart lacks", "testdata/bad/chart-subchart-key/env", fixtureChart, "nor is vault.kvMountt in its subchart"},
		{"values key the schema refuses", "testdata/bad/chart-schema-refuses/env", fixtureChart, "legacy is not allowed by"},
		{"a map of the chart's set to an expression", "testdata/bad/chart-map-expression/env", fixtureChart, "ingress is a map of keys in the chart"},
		{"value of the wrong type", "testdata/bad/chart-wrong-type/env", fixtureChart, "region.primary is set to a value of type string, the chart wants boolean"},
		{"chart_path elsewhere", "testdata/bad/chart-wrong-path", fixtureChart, `module "one": chart_path resolves to`},
		{"two regions on one alias", "testdata/bad/chart-shared-alias", fixtureChart, "is also given to module"},
		{"chart missing", "testdata/good/env", "testdata/chart/missing", "the wiring cannot be checked until it exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := loadModule(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			expectOne(t, checkChartWiring(env, tt.chart), tt.want)
		})
	}
}

// expectOne fails unless got is exactly one problem that contains want.
func expectOne(t *testing.T, got problems, want string) {
	t.Helper()
	if len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("got %d problems %q, want exactly one containing %q", len(got), got, want)
	}
}
