package report

import (
	"fmt"
	"time"

	"github.com/idstack/idstack/chaos"
)

// t0 is when the synthetic suite starts.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// Text the user provided that carries URLs; the HTML may contain these and
// no other.
const (
	fixtureTarget = "https://staging.idstack.example"
	fixtureDetail = "eu-west recovered 26.0s after heal, SLO 20s; <script>alert(1)</script> runbook https://runbook.idstack.example/recovery?a=1&b=2"
)

// loginTraffic is what the login probes recorded: an HTTP login per region
// every 2s and a browser login every 5s over [0, end) seconds; fail says
// which of them failed and with what error ("" for a success).
func loginTraffic(regions []string, start time.Time, end float64, fail func(region string, s float64, p chaos.ProbeKind) string) []chaos.Event {
	var events []chaos.Event
	for s := 0.0; s < end; s++ {
		for i, region := range regions {
			for _, p := range []chaos.ProbeKind{chaos.ProbeHTTPLogin, chaos.ProbeBrowserLogin} {
				if p == chaos.ProbeHTTPLogin && int(s)%2 != 0 || p == chaos.ProbeBrowserLogin && int(s)%5 != 0 {
					continue
				}
				// Latency varies deterministically between about 80ms and 400ms
				// (browser logins are slower).
				lat := time.Duration(80+(int(s)*37+i*53)%120) * time.Millisecond
				if p == chaos.ProbeBrowserLogin {
					lat = lat*2 + 100*time.Millisecond
				}
				e := chaos.Event{Probe: p, Region: region, Start: start.Add(time.Duration(s * float64(time.Second))), Latency: lat, OK: true,
					Subject: fmt.Sprintf("user-%s-%d", region, int(s)), Kid: "k1"}
				if err := fail(region, s, p); err != "" {
					e.OK, e.Err, e.Subject, e.Kid = false, err, "", ""
					e.Latency = 5 * time.Second
				}
				events = append(events, e)
			}
		}
	}
	return events
}

// verifyTraffic is a token verification per region every 10s from
// t0+from to t0+to; fail says which failed.
func verifyTraffic(regions []string, from, to float64, fail func(region string, s float64) string) []chaos.Event {
	var events []chaos.Event
	for s := from; s < to; s += 10 {
		for _, region := range regions {
			e := chaos.Event{Probe: chaos.ProbeVerify, Region: region, Start: at(s), Latency: 4 * time.Millisecond, OK: true,
				Kid: "k1", Token: fmt.Sprintf("jti-%s-%d", region, int(s))}
			if err := fail(region, s); err != "" {
				e.OK, e.Err = false, err
			}
			events = append(events, e)
		}
	}
	return events
}

var (
	regions  = []string{"eu-west", "us-east"}
	versions = map[string]string{"bridge": "v0.4.0", "hydra": "v2.3.0", "kratos": "v1.3.1"}
)

// fixture is a suite of four scenarios: one that passes (a node killed,
// a few failures), one that fails (a region cut on purpose recovers too
// slowly, failed checks), one aborted before its fault and one not run.
func fixture() chaos.SuiteResult {
	never := func(string, float64) string { return "" }

	// kill-node: hydra in eu-west is killed at 30s and restarted at 60s; a
	// few logins in eu-west fail just after the kill.
	pass := chaos.History{
		Scenario: "kill-node", Seed: 42, Versions: versions, Regions: regions,
		Start: t0, FaultsStart: at(30), Healed: at(60), End: at(120),
		Events: append(loginTraffic(regions, t0, 120, func(region string, s float64, p chaos.ProbeKind) string {
			if region == "eu-west" && s >= 30 && s < 36 && p == chaos.ProbeHTTPLogin {
				return "POST /self-service/login: 502 Bad Gateway"
			}
			return ""
		}), verifyTraffic(regions, 3, 120, never)...),
		Faults: []chaos.FaultWindow{{Fault: "kill-node", Target: "hydra-eu-west-1", Start: at(30), End: at(60)}},
		Keys:   []chaos.KeySighting{{Kid: "k1"}}, // published before the run
	}

	// kill-region: eu-west is cut off on purpose from 30s to 90s; its
	// logins fail until 115s (too slow a recovery), two token verifications
	// fail, and keys rotate in the middle: k0 revoked, k2 published.
	failing := chaos.History{
		Scenario: "kill-region", Seed: 42, Versions: versions, Regions: regions,
		Start: at(200), FaultsStart: at(230), Healed: at(290), End: at(340),
		Events: append(loginTraffic(regions, at(200), 140, func(region string, s float64, p chaos.ProbeKind) string {
			if region == "eu-west" && s >= 30 && s < 115 {
				return "dial tcp 10.1.0.7:443: connect: connection refused"
			}
			return ""
		}), verifyTraffic(regions, 203, 340, func(region string, s float64) string {
			if region == "us-east" && (s == 253 || s == 263) {
				return `kid "k2" not in cached JWKS`
			}
			return ""
		})...),
		Faults: []chaos.FaultWindow{
			{Fault: "kill-region", Target: "eu-west", Start: at(230), End: at(290)},
			{Fault: "rotate-keys", Target: "vault", Start: at(245), End: at(246), Err: "promote k2: vault sealed <again>"},
		},
		Keys:        []chaos.KeySighting{{Kid: "k0"}, {Kid: "k1", Published: at(215)}, {Kid: "k2", Published: at(247)}},
		KeyLead:     10 * time.Second,
		Revoked:     []string{"k0"},
		HealthAfter: []string{"https://bridge.eu-west.idstack.example/health"},
	}

	// partition-cockroach: aborted before its fault, us-east does not work.
	aborted := chaos.History{
		Scenario: "partition-cockroach", Seed: 7, Versions: versions, Regions: regions,
		Start: at(400), End: at(410),
		Events: loginTraffic(regions, at(400), 10, func(region string, s float64, p chaos.ProbeKind) string {
			if region == "us-east" {
				return "bridge /health: 503"
			}
			return ""
		}),
	}

	slo := chaos.SLO{MinSuccess: 0.95, MaxUnavailable: 30 * time.Second, MaxRecovery: 20 * time.Second}
	cut := slo
	cut.MinSuccess, cut.Exempt = 0.8, []string{"eu-west"}
	return chaos.SuiteResult{
		Suite: "nightly", Seed: 42, Target: fixtureTarget, Versions: versions,
		Start: t0, End: at(410), Passed: false,
		Results: []chaos.Result{
			{
				History: pass, SLO: slo, Passed: true,
				Measurements: chaos.Measurements{
					SuccessRate: rate(pass), Attempts: attempts(pass), Failures: failures(pass),
					Unavailable: map[string]time.Duration{"eu-west": 8 * time.Second, "us-east": 0},
					Recovery:    map[string]time.Duration{"eu-west": 0, "us-east": 0},
					Latency: map[chaos.Phase]chaos.Percentiles{
						chaos.PhaseBefore: {N: 84, P50: 140 * time.Millisecond, P95: 390 * time.Millisecond, P99: 480 * time.Millisecond},
						chaos.PhaseDuring: {N: 78, P50: 150 * time.Millisecond, P95: 410 * time.Millisecond, P99: 495 * time.Millisecond},
						chaos.PhaseAfter:  {N: 168, P50: 138 * time.Millisecond, P95: 388 * time.Millisecond, P99: 470 * time.Millisecond},
					},
				},
				Checks: []chaos.CheckResult{
					{Name: "login-success", OK: true, Detail: "98.21% >= 95.00%"},
					{Name: "unavailability", OK: true, Detail: "worst 8.0s (eu-west) <= 30s"},
					{Name: "no-lost-registrations", OK: true, Detail: "0 of 12 missing"},
				},
			},
			{
				History: failing, SLO: cut, Passed: false,
				Measurements: chaos.Measurements{
					SuccessRate: rate(failing), Attempts: attempts(failing), Failures: failures(failing),
					Unavailable: map[string]time.Duration{"eu-west": 88 * time.Second, "us-east": 0},
					Recovery:    map[string]time.Duration{"eu-west": 26 * time.Second, "us-east": 0},
					Latency: map[chaos.Phase]chaos.Percentiles{
						chaos.PhaseBefore: {N: 84, P50: 141 * time.Millisecond, P95: 392 * time.Millisecond, P99: 481 * time.Millisecond},
						chaos.PhaseDuring: {N: 42, P50: 162 * time.Millisecond, P95: 420 * time.Millisecond, P99: 499 * time.Millisecond},
						chaos.PhaseAfter:  {N: 196, P50: 139 * time.Millisecond, P95: 389 * time.Millisecond, P99: 472 * time.Millisecond},
					},
				},
				Checks: []chaos.CheckResult{
					{Name: "login-success", OK: false, Detail: "69.39% < 80.00%"},
					{Name: "unavailability", OK: true, Detail: "worst 0s outside eu-west (exempt) <= 30s"},
					{Name: "recovery", OK: false, Detail: fixtureDetail},
					{Name: "token-verify", OK: false, Detail: "2 tokens rejected\nfirst: jti-us-east-253 kid k2"},
				},
			},
			{
				History: aborted, SLO: slo, Passed: false,
				Aborted: "aborted: steady state did not hold: us-east logins failing before any fault | bridge /health: 503",
				Measurements: chaos.Measurements{
					SuccessRate: rate(aborted), Attempts: attempts(aborted), Failures: failures(aborted),
				},
			},
			{
				// A fault the target cannot inject: not run, neither passed nor failed.
				History: chaos.History{Scenario: "seal-vault", Seed: 42}, SLO: slo,
				NotRun: "fault seal-vault is not available on target local",
			},
		},
	}
}

// attempts counts the logins of h.
func attempts(h chaos.History) int {
	n := 0
	for _, e := range h.Events {
		if isLogin(e.Probe) {
			n++
		}
	}
	return n
}

// failures counts the failed logins of h.
func failures(h chaos.History) int {
	n := 0
	for _, e := range h.Events {
		if isLogin(e.Probe) && !e.OK {
			n++
		}
	}
	return n
}

// rate is the login success rate of h.
func rate(h chaos.History) float64 {
	return float64(attempts(h)-failures(h)) / float64(attempts(h))
}
