//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/report"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
)

// TestGateShortSuite is the short suite as CI runs it, for real: the CLI
// brings a stack of its own up, runs every scenario of the short suite
// (a replica kill, a regional failover, a scheduled rotation, a kill during
// rotation, the database primary's death) under password, session and
// Chromium logins, registrations and database writes
// at the calibrated load, writes the report, removes the stack and exits 0
// only when every SLO and invariant held. Every probe kind must have
// succeeded in every scenario, so a dead probe cannot pass.
func TestGateShortSuite(t *testing.T) {
	root := infratest.Root(t)
	dir := filepath.Join(root, ".cache", "chaos-short")
	os.RemoveAll(dir)
	state := t.TempDir()
	const name = "idstack-chaos"
	t.Cleanup(func() { // the CLI removes its stack; this only catches a crash
		s := infratest.Connect(t, infratest.WithName(name), infratest.WithBasePort(5230))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s.Down(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	code := Run(ctx, []string{"run", "--up", "--name", name, "--base-port", "5230", "--root", root, "--state-dir", state,
		"--suite", "short", "--seed", "1", "--report-dir", dir})

	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("exit %d and no report: %v", code, err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if code != exitPass {
		md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
		t.Fatalf("exit %d, want %d; report:\n%s", code, exitPass, md)
	}
	if r.Seed != 1 || len(r.Results) != 5 || !r.Passed {
		t.Fatalf("seed %d, %d results, passed %v; want seed 1, 5 results, passed", r.Seed, len(r.Results), r.Passed)
	}
	if l := r.Load; l == nil || l.FullPerSecond <= 0 || l.SessionPerSecond <= 0 || l.PathPerSecond <= 0 || l.PathEvery <= 0 || l.Utilisation <= 0 || l.Utilisation > l.Headroom {
		t.Errorf("load %+v: want measured capacities and a plan within the headroom", l)
	}
	for _, res := range r.Results {
		kinds := map[chaos.ProbeKind]int{}
		for _, e := range res.History.Events {
			if e.OK {
				kinds[e.Probe]++
			}
		}
		for _, k := range []chaos.ProbeKind{chaos.ProbeHTTPLogin, chaos.ProbeSessionLogin, chaos.ProbePath, chaos.ProbeBrowserLogin, chaos.ProbeRegister, chaos.ProbeVerify, chaos.ProbeWrite} {
			if kinds[k] == 0 {
				t.Errorf("%s: no successful %s probe", res.History.Scenario, k)
			}
		}
		if len(res.History.Faults) == 0 {
			t.Errorf("%s: no fault window recorded", res.History.Scenario)
		}
		if res.Steady == nil || !res.Steady.OK || res.CPU == nil || res.CPU.Machine <= 0 {
			t.Errorf("%s: steady state %+v, CPU %+v: want both measured", res.History.Scenario, res.Steady, res.CPU)
		}
		t.Logf("%s: %d logins, %.1f%% ok, unavailable %v, recovery %v", res.History.Scenario,
			res.Measurements.Attempts, 100*res.Measurements.SuccessRate, res.Measurements.Unavailable, res.Measurements.Recovery)
	}
	for _, n := range []string{"report.html", "report.md"} {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", n, err)
		}
	}
	// Nothing of the run's stack is left.
	if _, err := stack.ReadState(state, name); err == nil {
		t.Error("the stack's state is still there after the run")
	}
}
