package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/report"
	"github.com/idstack/idstack/chaos/runner"
)

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config)
		want   string
	}{
		{"target", func(c *config) { c.Target = "k8s" }, "target:"},
		{"suite", func(c *config) { c.Suite = "long" }, "suite:"},
		{"warmup", func(c *config) { c.Options.Warmup = 0 }, "warmup:"},
		{"login period", func(c *config) { c.Options.LoginEvery = time.Millisecond }, "login-every:"},
		{"session period", func(c *config) { c.Options.SessionEvery = -2 * time.Second }, "session-every:"},
		{"headroom", func(c *config) { c.Headroom = 0 }, "headroom:"},
		{"replicas", func(c *config) { c.Replicas = -1 }, "replicas:"},
		{"report dir", func(c *config) { c.ReportDir = "" }, "report-dir:"},
		{"replay file", func(c *config) { c.Replay = "/nonexistent/report.json" }, "replay:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			tt.change(&c)
			err := c.validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
	c := defaultConfig()
	if err := c.validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// A replay takes the seed and scenarios of the report it names.
func TestReplayReadsSeedAndScenarios(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r := chaos.SuiteResult{Seed: 1234, Results: []chaos.Result{
		{History: chaos.History{Scenario: "cut-region"}}, {History: chaos.History{Scenario: "slow-wan"}},
	}}
	if err := report.WriteJSON(f, r); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := defaultConfig()
	c.Replay = path
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.Seed != 1234 || c.Scenarios != "cut-region,slow-wan" {
		t.Errorf("got seed %d, scenarios %q, want 1234 and cut-region,slow-wan", c.Seed, c.Scenarios)
	}
}

func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitError},
		{[]string{"bogus"}, exitError},
		{[]string{"run", "--suite", "long"}, exitError},
		{[]string{"run", "--dry-run", "--suite", "short", "--seed", "3"}, exitPass},
		{[]string{"list"}, exitPass},
		{[]string{"render"}, exitError},
	}
	for _, tt := range tests {
		if got := Run(ctx, tt.args); got != tt.want {
			t.Errorf("Run(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}

// The verdict's exit codes: a failed scenario closes the gate (1); a heal
// that failed too; a steady state not met is an error (2), and so is a
// scenario named on the command line that could not run; a scenario of a
// suite that cannot run on the target leaves the verdict to the others.
func TestVerdictExitCodes(t *testing.T) {
	pass := chaos.Result{History: chaos.History{Scenario: "a"}, Passed: true}
	fail := chaos.Result{History: chaos.History{Scenario: "b"}}
	notRun := chaos.Result{History: chaos.History{Scenario: "kill-cockroach-node"}, NotRun: "needs a CockroachDB cluster; this stack runs postgres"}
	tests := []struct {
		name  string
		res   chaos.SuiteResult
		err   error
		named bool
		want  int
	}{
		{"every scenario passed", chaos.SuiteResult{Results: []chaos.Result{pass}, Passed: true}, nil, false, exitPass},
		{"one failed", chaos.SuiteResult{Results: []chaos.Result{pass, fail}}, nil, false, exitFailed},
		{"a heal failed", chaos.SuiteResult{Results: []chaos.Result{fail}}, fmt.Errorf("x: %w", runner.ErrHealFailed), false, exitFailed},
		{"steady state not met", chaos.SuiteResult{Results: []chaos.Result{pass}}, fmt.Errorf("x: %w", runner.ErrSteadyState), false, exitError},
		{"a failed scenario, then the steady state not met", chaos.SuiteResult{Results: []chaos.Result{fail, {History: chaos.History{Scenario: "c"}, Aborted: "aborted: steady state not met"}}}, fmt.Errorf("c: %w", runner.ErrSteadyState), false, exitFailed},
		{"a suite's scenario not run", chaos.SuiteResult{Results: []chaos.Result{pass, notRun}, Passed: true}, nil, false, exitPass},
		{"a named scenario not run", chaos.SuiteResult{Results: []chaos.Result{notRun}}, nil, true, exitError},
		{"a named scenario not run beside one that passed", chaos.SuiteResult{Results: []chaos.Result{pass, notRun}, Passed: true}, nil, true, exitError},
	}
	for _, tt := range tests {
		if got := exitCode(verdictError(tt.res, tt.err, tt.named)); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}
