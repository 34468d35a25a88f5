package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
)

func load(t *testing.T, name string) chaos.History {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var h chaos.History
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func find(t *testing.T, checks []chaos.CheckResult, name string) chaos.CheckResult {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q", name)
	return chaos.CheckResult{}
}

var slo = chaos.SLO{MinSuccess: 0.85, MaxUnavailable: 10 * time.Second, MaxRecovery: 5 * time.Second}

// TestRecordedHistories runs the checks on recorded histories, including
// ones that MUST fail.
func TestRecordedHistories(t *testing.T) {
	for _, tc := range []struct {
		file       string
		failing    string // the one check that must fail ("" for none)
		detailPart string
	}{
		{"failover.json", "", ""},
		{"revoked.json", "", ""},
		{"lost-registration.json", NoLostRegistration, "b@example.com"},
		{"unpublished-kid.json", NoPrematureKey, "rogue signed a token"},
		{"premature-promotion.json", NoPrematureKey, "lead is 10s"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := Judge(load(t, tc.file), slo)
			for _, c := range r.Checks {
				wantOK := c.Name != tc.failing
				if tc.file == "premature-promotion.json" && c.Name == TokensVerify {
					wantOK = false // the cached verifier saw the premature key too
				}
				if c.OK != wantOK {
					t.Errorf("%s: ok = %v, want %v (%s)", c.Name, c.OK, wantOK, c.Detail)
				}
			}
			if tc.failing != "" {
				if r.Passed {
					t.Error("the run passed")
				}
				if c := find(t, r.Checks, tc.failing); !strings.Contains(c.Detail, tc.detailPart) {
					t.Errorf("detail %q does not name %q", c.Detail, tc.detailPart)
				}
			} else if !r.Passed {
				t.Errorf("the run failed: %+v", r.Checks)
			}
		})
	}
}

func TestMeasurements(t *testing.T) {
	h := load(t, "failover.json")
	m := Measure(h)
	// eu: logins every 2 s for 40 s, failing at 12, 14 (starts); last OK
	// ends at 10.3, the next at 16.3.
	if got, want := m.Unavailable["eu"], 6*time.Second; got != want {
		t.Errorf("eu unavailable %s, want %s", got, want)
	}
	if m.Unavailable["us"] != 0 || m.Recovery["us"] != 0 {
		t.Errorf("us: unavailable %s, recovery %s; want 0", m.Unavailable["us"], m.Recovery["us"])
	}
	// The failures ended before heal: nothing to recover from after it.
	if m.Recovery["eu"] != 0 {
		t.Errorf("eu recovery %s, want 0", m.Recovery["eu"])
	}
	if m.Attempts != 40 || m.Failures != 2 {
		t.Errorf("attempts %d failures %d", m.Attempts, m.Failures)
	}
	if p := m.Latency[chaos.PhaseBefore]; p.N != 10 || p.P50 != 300*time.Millisecond {
		t.Errorf("before: %+v", p)
	}
}

func TestRecoveryCountsFailuresAfterHeal(t *testing.T) {
	h := load(t, "failover.json")
	at := func(s int) time.Time { return h.Start.Add(time.Duration(s) * time.Second) }
	var evs []chaos.Event
	for s := 0; s < 40; s += 2 {
		evs = append(evs, chaos.Event{Probe: chaos.ProbeHTTPLogin, Region: "eu", Start: at(s), Latency: time.Second, OK: s < 10 || s >= 26})
	}
	h.Events = evs
	// Healed at 20; failures go on until the one starting at 24; the first
	// success after it starts at 26 and ends at 27.
	if got, want := Measure(h).Recovery["eu"], 7*time.Second; got != want {
		t.Errorf("recovery %s, want %s", got, want)
	}
	r := Judge(h, slo)
	if c := find(t, r.Checks, SLORecovery); c.OK {
		t.Errorf("a 7 s recovery passed a 5 s SLO: %s", c.Detail)
	}
	if c := find(t, r.Checks, SLOUnavailable); c.OK {
		t.Errorf("a 17 s outage passed a 10 s SLO: %s", c.Detail)
	}
	slo2 := slo
	slo2.Exempt = []string{"eu"}
	if c := find(t, Judge(h, slo2).Checks, SLOUnavailable); !c.OK {
		t.Errorf("an exempt region failed the window SLO: %s", c.Detail)
	}
}

// A probe that timed out tells of the moment it was attempted, not of the
// 30 s it waited: a browser sign-in started in the outage and given up after
// heal must not stretch the outage or the recovery.
func TestTimedOutProbesCountWhenAttempted(t *testing.T) {
	h := load(t, "failover.json")
	at := func(s int) time.Time { return h.Start.Add(time.Duration(s) * time.Second) }
	var evs []chaos.Event
	for s := 0; s < 40; s += 2 {
		evs = append(evs, chaos.Event{Probe: chaos.ProbeHTTPLogin, Region: "eu", Start: at(s), Latency: time.Second, OK: s < 10 || s >= 22})
	}
	// Attempted at 16, in the outage; gave up at 46, long after heal (20).
	evs = append(evs, chaos.Event{Probe: chaos.ProbeBrowserLogin, Region: "eu", Start: at(16), Latency: 30 * time.Second})
	h.Events = evs
	m := Measure(h)
	// The HTTP failures attempted after heal end with the one at 20; the
	// first success after it ends at 23.
	if got, want := m.Recovery["eu"], 3*time.Second; got != want {
		t.Errorf("recovery %s, want %s", got, want)
	}
	// Last success ends at 9, next at 23.
	if got, want := m.Unavailable["eu"], 14*time.Second; got != want {
		t.Errorf("unavailable %s, want %s", got, want)
	}
}

// A token whose kid names the old key while the new key signed it fails
// its own check, not "every token verifies"; a scenario that tolerates
// Hydra's kid-at-authorize defect passes with the check marked known, and
// one that does not (idstack-chaos --strict) fails.
func TestKidMismatchIsKnownDefect(t *testing.T) {
	h := load(t, "failover.json")
	at := h.Healed.Add(-time.Second)
	h.Events = append(h.Events, chaos.Event{Probe: chaos.ProbeVerify, Region: "eu", Start: at, Kid: "old-kid", SignedBy: "new-kid",
		Err: "kid names another key than the one that signed: kid old-kid, signed by new-kid"})
	tolerant := slo
	tolerant.Tolerate = []string{chaos.DefectHydraKidAtAuthorize}

	r := Judge(h, tolerant)
	if !r.Passed {
		t.Fatalf("tolerated defect failed the scenario: %+v", r.Checks)
	}
	c := find(t, r.Checks, KidNamesSigner)
	if c.Known != chaos.DefectHydraKidAtAuthorize || !strings.Contains(c.Detail, "signed by new-kid") {
		t.Errorf("got %+v, want the mismatch named and marked known", c)
	}
	if v := find(t, r.Checks, TokensVerify); !v.OK {
		t.Errorf("the mismatch was counted as a failed verification too: %s", v.Detail)
	}

	strict := Judge(h, slo)
	if strict.Passed || find(t, strict.Checks, KidNamesSigner).OK {
		t.Error("without the toleration the mismatch must fail the scenario")
	}
}

// The success-rate SLO leaves out a region taken down on purpose, unless
// every region is.
func TestSuccessLeavesOutExemptRegions(t *testing.T) {
	m := chaos.Measurements{SuccessRate: 0.7, Attempts: 100, Failures: 30, ByRegion: map[string]chaos.Counts{
		"eu": {Attempts: 40, Failures: 30}, "us": {Attempts: 30}, "global": {Attempts: 30},
	}}
	s := chaos.SLO{MinSuccess: 0.8, Exempt: []string{"eu"}}
	if c := SLO(m, s)[0]; !c.OK || !strings.Contains(c.Detail, "100.00% of 60 logins") {
		t.Errorf("got %+v, want 100%% of the 60 logins outside eu", c)
	}
	s.Exempt = []string{"eu", "global", "us"}
	if c := SLO(m, s)[0]; c.OK {
		t.Errorf("with every region exempt, got %+v, want the 70%% of all to fail", c)
	}
	s.Exempt = nil
	if c := SLO(m, s)[0]; c.OK {
		t.Errorf("with no region exempt, got %+v, want 70%% to fail", c)
	}
}
