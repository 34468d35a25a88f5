// Package scenario is the catalogue of chaos scenarios, as data: each names
// its faults with their timing, whether key rotation runs through it, and
// the SLO that decides it. The catalogue is built for a topology and a
// seed: the seed picks which replica or region a fault hits, so a report's
// seed replays the same run.
package scenario

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/stack"
)

// Timed is a fault with its timing: injected At after the warm-up, healed
// For later.
type Timed struct {
	At, For time.Duration
	Fault   fault.Fault
}

// Scenario is one experiment.
type Scenario struct {
	Name        string
	Description string
	Faults      []Timed
	SLO         chaos.SLO
	// Short marks the scenarios of the short suite CI runs.
	Short bool
	// PrimaryAt, when set, is the site whose database member must be the
	// primary when the warm-up starts: the runner switches it over there
	// first if another member leads (fault.PlacePrimary), so that the
	// faults hit what the scenario's exemptions expect.
	PrimaryAt string
}

// Duration is how long the faults take, from the first injection to the
// last heal.
func (s Scenario) Duration() time.Duration {
	var d time.Duration
	for _, f := range s.Faults {
		d = max(d, f.At+f.For)
	}
	return d
}

// Plan prints the scenario's schedule.
func (s Scenario) Plan() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", s.Name, s.Description)
	if s.PrimaryAt != "" {
		fmt.Fprintf(&b, "  before: the database primary at %s\n", s.PrimaryAt)
	}
	for _, f := range s.Faults {
		fmt.Fprintf(&b, "  +%-5s %-12s %-40s for %s\n", f.At, f.Fault.Name(), f.Fault.Target(), f.For)
	}
	fmt.Fprintf(&b, "  slo: success >= %.1f%%, unavailable <= %s, recovery <= %s", 100*s.SLO.MinSuccess, s.SLO.MaxUnavailable, s.SLO.MaxRecovery)
	if len(s.SLO.Exempt) > 0 {
		fmt.Fprintf(&b, " (outage expected in %s)", strings.Join(s.SLO.Exempt, ", "))
	}
	if len(s.SLO.Tolerate) > 0 {
		fmt.Fprintf(&b, "; tolerates known defect %s", strings.Join(s.SLO.Tolerate, ", "))
	}
	b.WriteString("\n")
	return b.String()
}

// The SLOs, each written from what a person signing in needs, not from a
// measured run.
var (
	// sloReplica: a replica dying while its peer lives is invisible to
	// users. The edge retries a request the dead replica never answered on
	// its peer (conn-failure, empty-response) and takes it out of the pool
	// within a second, so at most one login in 200 may fail (over a
	// scenario's 100–160 logins that is none), and no region may go
	// longer than 1 s without service: what a person notices as a page
	// that hangs. The path probes resolve that window (every 0.4 s per
	// region); logins, rarer, are held to it too, so one failed login
	// fails it. After the restart the replica rejoins within its health
	// checks (rise 2 × 1 s), 5 s.
	sloReplica = chaos.SLO{MinSuccess: 0.995, MaxUnavailable: time.Second, MaxRecovery: 5 * time.Second}
	// sloPause: a frozen replica beside a live peer holds the requests it
	// had until the edge's 5 s server timeout; GETs are then retried on the
	// peer, writes fail (the replica may still do them), and two failed
	// health checks (1 s apart) take it out. At most one login in 200 may
	// fail, and no region may go longer without a login than that
	// timeout and a second: 6 s.
	sloPause = chaos.SLO{MinSuccess: 0.995, MaxUnavailable: 6 * time.Second, MaxRecovery: 5 * time.Second}
	// sloFailover: a whole service or region down costs the global edge's
	// failover: its health check (fall 2 × 1 s) and the requests in flight
	// there, which fail. A person retrying once within 15 s gets in; four
	// logins in five succeed over the scenario outside the region taken
	// down; 10 s after heal the region serves again.
	sloFailover = chaos.SLO{MinSuccess: 0.80, MaxUnavailable: 15 * time.Second, MaxRecovery: 10 * time.Second}
	// sloSlow: a slow WAN makes logins slower, not failed: a login whose
	// database round trips each take 200 ms more must still finish within
	// the edges' timeouts, so 19 in 20 succeed. A login then takes about
	// 10 s (some 40 sequential round trips), so no window shorter than two
	// probe operations at their 15 s bound can be resolved: 30 s.
	sloSlow = chaos.SLO{MinSuccess: 0.95, MaxUnavailable: 30 * time.Second, MaxRecovery: 5 * time.Second}
	// sloDatabase: with the only PostgreSQL node down, nobody can sign in
	// and nothing pretends otherwise: no success floor and no window are
	// judged (every region exempt). What users need is that nothing
	// acknowledged is lost (the invariants) and that logins work again
	// within 10 s of the database coming back.
	sloDatabase = chaos.SLO{MinSuccess: 0, MaxUnavailable: 0, MaxRecovery: 10 * time.Second}
	// sloStandby: a standby or a consensus member dying is invisible to
	// users: the primary keeps a quorum (another standby acknowledges its
	// commits; two etcd members of three elect and keep the lock), so it
	// is judged as a replica's death.
	sloStandby = sloReplica
	// sloDatabaseFailover: when the primary dies, freezes or is cut off,
	// nobody can write until its leader lock expires (Patroni's ttl, 20
	// s, the least Patroni 4 allows), a standby of the synchronous quorum
	// wins the next loop (2 s) and promotes, the routers see it after two
	// checks, and the app tier's pools reconnect: every region fails
	// together. A person shown an error and retrying within what managed
	// databases promise for the same failure (Aurora about 30 s, RDS
	// Multi-AZ 60–120 s) gets in: no region may go longer than 45 s
	// without a login, and 10 s after the heal (the old primary back as
	// a standby) nothing fails any more. The fault lasts a minute, longer
	// than the window, so only a failover can meet it. One 45 s window in
	// a scenario of 80 s (warm-up 8 s, fault 60 s, settle 12 s) leaves
	// 35/80 of the logins: the floor, 40 %, binds only on failures
	// outside such a window.
	sloDatabaseFailover = chaos.SLO{MinSuccess: 0.40, MaxUnavailable: 45 * time.Second, MaxRecovery: 10 * time.Second}
	// sloSwitchover: a planned switchover (maintenance) stops the old
	// primary cleanly, promotes the candidate at once, and the routers
	// follow within two checks; requests in flight on the old primary
	// fail, and the first commits on the new one wait until a standby
	// follows it. Planned maintenance must not be felt more than an
	// unplanned failover of the edge, so the user need is sloFailover's:
	// a person retrying once within 15 s gets in, and 10 s after it ends
	// nothing fails. One such window in the switchover's scenario of 30 s
	// (warm-up 8 s, the switchover's 10 s, settle 12 s) leaves half the
	// logins; the floor, 40 %, binds only on failures outside it. A
	// rolling restart (65 s) has one such window, at its primary's turn.
	sloSwitchover = chaos.SLO{MinSuccess: 0.40, MaxUnavailable: 15 * time.Second, MaxRecovery: 10 * time.Second}
	// sloRotation is sloReplica for scenarios whose keys rotate: rotation
	// must be invisible to users. They tolerate Hydra's kid-at-authorize
	// defect (see chaos), which a promotion can show on a code issued just
	// before it and which idstack cannot prevent from outside Hydra, only
	// for tokens that fit it exactly (package check).
	sloRotation = withTolerate(sloReplica, chaos.DefectHydraKidAtAuthorize)
)

func withTolerate(s chaos.SLO, defects ...string) chaos.SLO {
	s.Tolerate = append([]string(nil), defects...)
	return s
}

// Strict drops every tolerated defect: a known upstream defect then closes
// the gate like any other failed check.
func Strict(all []Scenario) []Scenario {
	out := append([]Scenario(nil), all...)
	for i := range out {
		out[i].SLO.Tolerate = nil
	}
	return out
}

// Catalogue returns every scenario for topology t, the seed choosing the
// replicas and regions hit.
func Catalogue(t infra.Topology, seed int64) []Scenario {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x1d57ac))
	replica := func(svc string) int { return 1 + rng.IntN(max(t.Replicas[svc], 1)) }
	region := func() string { return t.Regions[rng.IntN(len(t.Regions))] }
	all := func(svc string) []int {
		var out []int
		for i := 1; i <= t.Replicas[svc]; i++ {
			out = append(out, i)
		}
		return out
	}
	primary := t.Primary()
	other := t.Regions[len(t.Regions)-1]
	rotate := func() *fault.Rotate { return &fault.Rotate{Every: 2 * time.Second} }
	const hold = 12 * time.Second

	kill := func(svc string) Scenario {
		r := region()
		return Scenario{
			Name:        "kill-" + svc + "-replica",
			Description: fmt.Sprintf("SIGKILL one %s replica in %s; its peer and the edge carry on", svc, r),
			Faults:      []Timed{{0, hold, fault.Kill{Service: svc, Region: r, Replicas: []int{replica(svc)}}}},
			SLO:         sloReplica,
		}
	}
	out := []Scenario{
		kill(infra.ServiceHydra),
		kill(infra.ServiceKratos),
		kill(infra.ServiceBridge),
		{
			Name:        "region-loses-hydra",
			Description: fmt.Sprintf("every Hydra replica in %s dies: the global edge fails over to another region", primary),
			Faults:      []Timed{{0, hold, fault.Kill{Service: infra.ServiceHydra, Region: primary, Replicas: all(infra.ServiceHydra)}}},
			SLO:         withExempt(sloFailover, primary),
		},
		{
			Name:        "pause-kratos",
			Description: "one Kratos replica freezes for 10 s (SIGSTOP): open connections hang",
			Faults:      []Timed{{0, 10 * time.Second, fault.Pause{Service: infra.ServiceKratos, Region: region(), Replica: replica(infra.ServiceKratos)}}},
			SLO:         sloPause,
		},
		{
			Name:        "cut-region",
			Description: fmt.Sprintf("%s is cut off the WAN: no database, no Vault, no peers; the global edge fails over", other),
			Faults:      []Timed{{0, hold, fault.CutRegion{Region: other}}},
			SLO:         withExempt(sloFailover, other),
		},
		{
			Name:        "slow-wan",
			Description: "200 ms ±50 ms latency on every region's WAN link",
			Faults:      []Timed{{0, hold, fault.SlowWAN{Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}}},
			SLO:         sloSlow,
		},
		{
			Name:        "kill-cockroach-node",
			Description: "SIGKILL one CockroachDB node of three: the cluster keeps serving",
			Faults:      []Timed{{0, hold, fault.KillRole{Role: stack.RoleDatabase, Node: 1 + rng.IntN(3), Needs: infra.DatabaseCockroach}}},
			SLO:         sloReplica,
		},
		{
			Name:        "scheduled-rotation",
			Description: "the key rotation job pre-publishes and promotes ID-token keys at test cadence under load",
			Faults:      []Timed{{0, 20 * time.Second, rotate()}},
			SLO:         sloRotation,
			Short:       true,
		},
		{
			Name:        "vault-down-during-rotation",
			Description: "Vault stops mid-rotation: logins go on, rotation resumes and converges after heal",
			Faults: []Timed{
				{0, 20 * time.Second, rotate()},
				{4 * time.Second, 8 * time.Second, fault.KillRole{Role: stack.RoleVault}},
			},
			SLO: sloRotation,
		},
		{
			Name:        "emergency-revoke",
			Description: "the signing key is revoked under load: the standby signs at once, the revoked kid disappears",
			// The rotation leaves a published standby (its first steps
			// promote a key due from earlier scenarios and pre-publish the
			// next); the revoke comes once that standby has been out for
			// the lead (6 s at test cadence), as a scheduled rotation
			// guarantees in production, so verifiers have it cached when
			// it takes over.
			Faults: []Timed{{0, 4 * time.Second, rotate()}, {12 * time.Second, time.Second, &fault.Revoke{}}},
			SLO:    sloRotation,
		},
		{
			Name:        "kill-during-rotation",
			Description: "a Hydra replica dies while keys rotate",
			Faults: []Timed{
				{0, 20 * time.Second, rotate()},
				{6 * time.Second, hold, fault.Kill{Service: infra.ServiceHydra, Region: region(), Replicas: []int{replica(infra.ServiceHydra)}}},
			},
			SLO:   sloRotation,
			Short: true,
		},
	}
	out = append(out, databaseScenarios(t, rng)...)
	// The short suite: one replica kill, one failover of the edge and one
	// of the database besides the rotations marked above.
	for i := range out {
		switch out[i].Name {
		case "kill-kratos-replica", "region-loses-hydra", "kill-db-primary":
			out[i].Short = true
		}
	}
	return out
}

// databaseScenarios are the database faults, for t's tier: on a single
// PostgreSQL node the primary's death is a total outage, judged for what
// it loses; on the Patroni tier every fault has a failover to survive.
// The scenarios that need Patroni are reported as not run elsewhere.
// They hit whichever member leads when they start, and judge every
// region alike; only cut-primary-site, whose cut region is exempt, first
// places the primary there (a switchover, before its warm-up).
func databaseScenarios(t infra.Topology, rng *rand.Rand) []Scenario {
	// Down longer than the failover SLO's window, so that only a
	// failover, never the heal, can bring logins back within it (and
	// longer than the leader lock's ttl: a member restarted within it
	// takes its lock back).
	const down = time.Minute
	other := t.Regions[len(t.Regions)-1]
	killPrimary := Scenario{
		Name:        "kill-db-primary",
		Description: "SIGKILL the database primary and keep it down 60 s: a standby takes over; the old primary rejoins as a standby",
		Faults:      []Timed{{0, down, &fault.KillPrimary{}}},
		SLO:         sloDatabaseFailover,
	}
	if t.Database != infra.DatabasePatroni {
		// Nothing fails over: the outage lasts until the heal, so its
		// length proves nothing more past a few seconds, and a minute
		// down left the pools 15 s to recover (over the 10 s bound).
		killPrimary.Faults = []Timed{{0, 8 * time.Second, &fault.KillPrimary{}}}
		killPrimary.Description = "SIGKILL the only database node, start it 8 s later: nothing committed may be lost"
		killPrimary.SLO = withExempt(sloDatabase, append([]string{"global"}, t.Regions...)...)
	}
	sites := max(len(t.DatabaseSites()), infra.MinDatabaseSites)
	out := []Scenario{
		killPrimary,
		{
			Name:        "kill-db-standby",
			Description: "SIGKILL one database standby for 12 s: the other keeps the synchronous quorum",
			Faults:      []Timed{{0, 12 * time.Second, &fault.KillStandby{Pick: rng.IntN(sites - 1)}}},
			SLO:         sloStandby,
		},
		{
			Name:        "kill-etcd-member",
			Description: "SIGKILL one etcd member of three for 12 s: the other two keep the consensus quorum",
			Faults:      []Timed{{0, 12 * time.Second, fault.KillRole{Role: stack.RoleConsensus, Node: 1 + rng.IntN(sites), Needs: infra.DatabasePatroni}}},
			SLO:         sloStandby,
		},
		{
			Name:        "pause-db-primary",
			Description: "the database primary freezes for 60 s: a standby takes over; resumed, the old primary demotes itself",
			Faults:      []Timed{{0, down, &fault.PausePrimary{}}},
			SLO:         sloDatabaseFailover,
		},
		{
			Name:        "cut-primary-site",
			Description: fmt.Sprintf("%s, which holds the database primary, is cut off the WAN for 60 s: a member elsewhere takes over; the isolated one demotes itself", other),
			Faults:      []Timed{{0, down, &fault.CutPrimarySite{Site: other}}},
			SLO:         withExempt(sloDatabaseFailover, other),
			PrimaryAt:   other,
		},
		{
			Name:        "switchover",
			Description: "a planned switchover under load to a standby in another region (maintenance)",
			// Judged for 10 s from the request: the switchover (a few
			// seconds) and the pools reconnecting after it.
			Faults: []Timed{{0, 10 * time.Second, &fault.Switchover{}}},
			SLO:    sloSwitchover,
		},
		{
			Name:        "rolling-restart-db",
			Description: "every database member restarted one at a time, the primary last (an upgrade)",
			// Three restarts, each waited out until every member streams
			// (about 15 s each here); the heal waits for the last.
			Faults: []Timed{{0, 45 * time.Second, &fault.RollingRestart{Grace: 30 * time.Second}}},
			SLO:    sloSwitchover,
		},
	}
	if len(t.Regions) < 2 {
		// One region: no other site for the primary to move to or be
		// cut in; the witnesses hold no services to judge.
		out = slices.DeleteFunc(out, func(s Scenario) bool { return s.Name == "cut-primary-site" || s.Name == "switchover" })
	}
	return out
}

func withExempt(s chaos.SLO, regions ...string) chaos.SLO {
	s.Exempt = append([]string(nil), regions...)
	sort.Strings(s.Exempt)
	return s
}

// Suites by name.
const (
	SuiteDefault = "default"
	SuiteShort   = "short"
)

// Select returns the scenarios of a suite, or the named ones.
func Select(all []Scenario, suite string, names []string) ([]Scenario, error) {
	if len(names) > 0 {
		var out []Scenario
		for _, n := range names {
			found := false
			for _, s := range all {
				if s.Name == n {
					out, found = append(out, s), true
				}
			}
			if !found {
				return nil, fmt.Errorf("unknown scenario %q (idstack-chaos list shows them)", n)
			}
		}
		return out, nil
	}
	switch suite {
	case SuiteDefault, "":
		return all, nil
	case SuiteShort:
		var out []Scenario
		for _, s := range all {
			if s.Short {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown suite %q, want %s or %s", suite, SuiteDefault, SuiteShort)
}
