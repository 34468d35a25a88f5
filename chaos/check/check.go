// Package check turns a chaos history into a verdict: the invariants that
// must hold whatever the fault (no acknowledged registration lost, every
// token verifies for a verifier honouring the cache policy, no token signed
// by a key published for less than the lead time, every node healthy and
// every region serving after heal) and the measurements a scenario's SLO
// is judged on (success rate, unavailability window and recovery time per
// region, latency per phase).
package check

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
)

// Names of the checks.
const (
	NoLostRegistration = "no acknowledged registration lost"
	TokensVerify       = "every token verifies with a cached JWKS"
	NoPrematureKey     = "no token signed by a key published for less than the lead"
	HealthyAfterHeal   = "every node and URL healthy after heal"
	RegionsServeAfter  = "every region serves logins after heal"
	KidNamesSigner     = "every token's kid names the key that signed it"
	NoLostWrite        = "no acknowledged database write lost"
	SingleWriter       = "at most one database member accepted writes at a time"
	NoDuplicate        = "no identity created twice"
	SLOSuccess         = "slo: login success rate"
	SLOUnavailable     = "slo: unavailability window"
	SLORecovery        = "slo: recovery after heal"
	maxDetailsPerCheck = 5
)

func isLogin(e chaos.Event) bool { return e.IsLogin() }

// Invariants checks what must hold in every scenario.
func Invariants(h chaos.History) []chaos.CheckResult {
	return []chaos.CheckResult{
		lostRegistrations(h),
		duplicateIdentities(h),
		lostWrites(h),
		singleWriter(h),
		tokensVerify(h),
		kidNamesSigner(h),
		prematureKeys(h),
		healthyAfterHeal(h),
		regionsServeAfterHeal(h),
	}
}

func result(name string, problems []string, okDetail string) chaos.CheckResult {
	if len(problems) == 0 {
		return chaos.CheckResult{Name: name, OK: true, Detail: okDetail}
	}
	d := problems
	if len(d) > maxDetailsPerCheck {
		d = append(slices.Clone(d[:maxDetailsPerCheck]), fmt.Sprintf("and %d more", len(problems)-maxDetailsPerCheck))
	}
	return chaos.CheckResult{Name: name, OK: false, Detail: strings.Join(d, "; ")}
}

// Lost is Jepsen's set check for registrations: every address a
// registration was acknowledged for, less those the read-back after heal
// found. An address whose lookup failed, or that was never looked up,
// counts as lost, with the reason: an acknowledgement promises that it
// can be found.
func Lost(h chaos.History) []string {
	reads := map[string]chaos.RegistrationRead{}
	for _, r := range h.ReadBack {
		reads[r.Email] = r
	}
	var lost []string
	seen := map[string]bool{}
	for _, e := range h.Events {
		if e.Probe != chaos.ProbeRegister || !e.OK || seen[e.Email] {
			continue
		}
		seen[e.Email] = true
		r, ok := reads[e.Email]
		switch {
		case !ok:
			lost = append(lost, e.Email+" (never read back)")
		case r.Err != "":
			lost = append(lost, e.Email+" (lookup failed: "+r.Err+")")
		case !r.Found:
			lost = append(lost, e.Email)
		}
	}
	return lost
}

// Acknowledged lists the addresses registrations were acknowledged for, in
// the order they were, each once: what the runner reads back after heal.
func Acknowledged(events []chaos.Event) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range events {
		if e.Probe == chaos.ProbeRegister && e.OK && !seen[e.Email] {
			seen[e.Email] = true
			out = append(out, e.Email)
		}
	}
	return out
}

func lostRegistrations(h chaos.History) chaos.CheckResult {
	var problems []string
	for _, m := range Lost(h) {
		problems = append(problems, "acknowledged, then missing: "+m)
	}
	return result(NoLostRegistration, problems, fmt.Sprintf("%d acknowledged registrations, all present", len(Acknowledged(h.Events))))
}

func duplicateIdentities(h chaos.History) chaos.CheckResult {
	var problems []string
	if h.DuplicatesErr != "" {
		problems = append(problems, "could not look: "+h.DuplicatesErr)
	}
	for _, e := range h.Duplicates {
		problems = append(problems, "more than one identity for "+e)
	}
	if !h.DuplicatesRead && len(problems) == 0 {
		return result(NoDuplicate, nil, "not looked up (no database access on this target, or no registration)")
	}
	return result(NoDuplicate, problems, "one identity per registered address")
}

// AcknowledgedWrites lists the keys the writer probe's writes were
// acknowledged for: what the runner reads back after heal.
func AcknowledgedWrites(events []chaos.Event) []string {
	var out []string
	for _, e := range events {
		if e.Probe == chaos.ProbeWrite && e.OK {
			out = append(out, e.Key)
		}
	}
	return out
}

// lostWrites is the set check for the writer probe: every acknowledged
// write must be found after heal. When the read-back failed, every one
// counts as lost.
func lostWrites(h chaos.History) chaos.CheckResult {
	acked := AcknowledgedWrites(h.Events)
	if len(acked) == 0 {
		return result(NoLostWrite, nil, "no writer probe in this run")
	}
	var problems []string
	switch {
	case h.WritesErr != "":
		problems = append(problems, fmt.Sprintf("%d acknowledged writes could not be read back: %s", len(acked), h.WritesErr))
	case !h.WritesRead:
		problems = append(problems, fmt.Sprintf("%d acknowledged writes never read back", len(acked)))
	default:
		for _, k := range h.WritesMissing {
			problems = append(problems, "acknowledged, then missing: "+k)
		}
	}
	return result(NoLostWrite, problems, fmt.Sprintf("%d acknowledged writes, all present; %s", len(acked), writeGaps(h)))
}

// writeGaps says, per region, the longest time between two acknowledged
// writes: how long that region's route could not write.
func writeGaps(h chaos.History) string {
	last := map[string]time.Time{}
	gap := map[string]time.Duration{}
	evs := slices.Clone(h.Events)
	slices.SortStableFunc(evs, func(a, b chaos.Event) int { return a.End().Compare(b.End()) })
	for _, e := range evs {
		if e.Probe != chaos.ProbeWrite || !e.OK {
			continue
		}
		if t, ok := last[e.Region]; ok {
			gap[e.Region] = max(gap[e.Region], e.End().Sub(t))
		}
		last[e.Region] = e.End()
	}
	// A region whose writes never came back: the gap runs to the end.
	if !h.End.IsZero() {
		for r, t := range last {
			gap[r] = max(gap[r], h.End.Sub(t))
		}
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(gap)) {
		parts = append(parts, fmt.Sprintf("%s %s", r, gap[r].Round(100*time.Millisecond)))
	}
	return "longest gap between acknowledged writes: " + strings.Join(parts, ", ")
}

// singleWriter fails when two members acknowledged writes as primaries
// at once. A promotion starts a new WAL timeline, so each timeline has
// one primary: two servers acknowledging on one timeline, or a write
// acknowledged on a timeline older than one a write finished on before
// it started, mean a demoted or isolated member still took writes.
func singleWriter(h chaos.History) chaos.CheckResult {
	var writes []chaos.Event
	for _, e := range h.Events {
		if e.Probe == chaos.ProbeWrite && e.OK {
			writes = append(writes, e)
		}
	}
	if len(writes) == 0 {
		return result(SingleWriter, nil, "no writer probe in this run")
	}
	var problems []string
	owner := map[int]string{}
	for _, e := range writes {
		if o, ok := owner[e.Timeline]; ok && o != e.Server {
			problems = append(problems, fmt.Sprintf("timeline %d acknowledged by %s and by %s", e.Timeline, o, e.Server))
		}
		owner[e.Timeline] = e.Server
	}
	// The newest timeline known to be acknowledged before each instant:
	// writes by end time, compared with each write's start.
	ends := slices.Clone(writes)
	slices.SortFunc(ends, func(a, b chaos.Event) int { return a.End().Compare(b.End()) })
	starts := slices.Clone(writes)
	slices.SortFunc(starts, func(a, b chaos.Event) int { return a.Start.Compare(b.Start) })
	newest, i := 0, 0
	var newestEv chaos.Event
	for _, e := range starts {
		for ; i < len(ends) && ends[i].End().Before(e.Start); i++ {
			if ends[i].Timeline > newest {
				newest, newestEv = ends[i].Timeline, ends[i]
			}
		}
		if e.Timeline < newest {
			problems = append(problems, fmt.Sprintf("%s wrote %s on timeline %d after %s had acknowledged timeline %d",
				e.Server, e.Key, e.Timeline, newestEv.Server, newest))
		}
	}
	return result(SingleWriter, problems, fmt.Sprintf("%d acknowledged writes on %d timelines, one member each", len(writes), len(owner)))
}

// tokensVerify fails on every token the verifier rejected, but for those
// a key revoked on purpose signed before its revoke ended (a token it
// signed after is a failure like any other) and those whose only fault is a kid
// naming another published key than the one that signed (SignedBy: the
// verifier sets it only once that key's signature, the issuer, the
// audience and the expiry all held; kidNamesSigner judges those).
func tokensVerify(h chaos.History) chaos.CheckResult {
	n := 0
	var problems []string
	for _, e := range h.Events {
		if e.Probe != chaos.ProbeVerify {
			continue
		}
		n++
		if !e.OK && e.SignedBy == "" && !revokedBefore(h, e) {
			problems = append(problems, fmt.Sprintf("%s: token (kid %s) failed: %s", e.Start.Format(time.TimeOnly), short(e.Kid), e.Err))
		}
	}
	return result(TokensVerify, problems, fmt.Sprintf("%d tokens verified", n))
}

// revokedBefore says whether e's token was signed by a key revoked on
// purpose, before the revoke ended. A history without revocation instants
// (reports kept from before they were recorded) names the kids only.
func revokedBefore(h chaos.History, e chaos.Event) bool {
	signedAt := e.ExchangeEnd
	if signedAt.IsZero() {
		signedAt = e.Start
	}
	for _, r := range h.Revocations {
		if r.Kid == e.Kid && signedAt.Before(r.End) {
			return true
		}
	}
	return len(h.Revocations) == 0 && slices.Contains(h.Revoked, e.Kid)
}

// kidNamesSigner lists the tokens another published key signed than the
// one their kid names. A token fits chaos.DefectHydraKidAtAuthorize when
// the key that signed it was promoted while its code was out: the code
// came back before the promotion ended and its exchange ended after the
// promotion began. The check is Explained by the defect only when every
// such token fits it; one that does not is a failure no SLO tolerates.
func kidNamesSigner(h chaos.History) chaos.CheckResult {
	var fits, unexplained []string
	for _, e := range h.Events {
		if e.Probe != chaos.ProbeVerify || e.SignedBy == "" {
			continue
		}
		line := fmt.Sprintf("%s: token with kid %s was signed by %s", e.Start.Format(time.TimeOnly), short(e.Kid), short(e.SignedBy))
		if p, ok := promotedWhileCodeOut(h, e); ok {
			fits = append(fits, line+fmt.Sprintf(" (code back at %s, promotion %s–%s, exchanged by %s)",
				e.CodeAt.Format("15:04:05.000"), p.Start.Format("15:04:05.000"), p.End.Format("15:04:05.000"), e.ExchangeEnd.Format("15:04:05.000")))
			continue
		}
		unexplained = append(unexplained, line+" outside any promotion while its code was out")
	}
	r := result(KidNamesSigner, append(unexplained, fits...), "no token names another key than its signer")
	if len(unexplained) == 0 && len(fits) > 0 {
		r.Explained, r.Occurrences = chaos.DefectHydraKidAtAuthorize, len(fits)
	}
	return r
}

// promotedWhileCodeOut finds the promotion of e's signer that the
// defect explains: the code came back before the promotion's step ended
// (the instant Hydra switched lies somewhere in the step) and the exchange
// ended after it began, and the kid the token names is the key that
// signed before it: the one the previous promotion made active, or, for
// the scenario's first promotion, a key no promotion of the run made
// active (one that signed before the run).
func promotedWhileCodeOut(h chaos.History, e chaos.Event) (chaos.Promotion, bool) {
	if e.CodeAt.IsZero() || e.ExchangeEnd.IsZero() {
		return chaos.Promotion{}, false
	}
	for i, p := range h.Promotions {
		if p.Kid != e.SignedBy || !e.CodeAt.Before(p.End) || !e.ExchangeEnd.After(p.Start) {
			continue
		}
		if previousSigner(h.Promotions, i) == e.Kid {
			return p, true
		}
		if previousSigner(h.Promotions, i) == "" && !slices.ContainsFunc(h.Promotions, func(q chaos.Promotion) bool { return q.Kid == e.Kid }) {
			return p, true
		}
	}
	return chaos.Promotion{}, false
}

// previousSigner is the kid the promotion before promotions[i] (by time)
// made active, "" when there is none.
func previousSigner(promotions []chaos.Promotion, i int) string {
	prev, kid := time.Time{}, ""
	for j, q := range promotions {
		if j != i && !q.End.After(promotions[i].Start) && q.End.After(prev) {
			prev, kid = q.End, q.Kid
		}
	}
	return kid
}

// prematureKeys judges the key that actually signed each token (the
// verifier's SignedBy when the kid names another key), at the end of the
// exchange that signed it.
func prematureKeys(h chaos.History) chaos.CheckResult {
	published := map[string]time.Time{}
	for _, k := range h.Keys {
		published[k.Kid] = k.Published
	}
	var problems []string
	seen := map[string]bool{}
	n := 0
	for _, e := range h.Events {
		signer := cmp.Or(e.SignedBy, e.Kid)
		if e.Probe != chaos.ProbeVerify || signer == "" {
			continue
		}
		n++
		signedAt := e.ExchangeEnd
		if signedAt.IsZero() {
			signedAt = e.Start
		}
		at, ok := published[signer]
		switch {
		case !ok:
			if !seen[signer] {
				problems = append(problems, fmt.Sprintf("kid %s signed a token at %s but was never seen published", short(signer), signedAt.Format(time.TimeOnly)))
			}
			seen[signer] = true
		case at.IsZero(): // published before the run
		case signedAt.Sub(at) < h.KeyLead:
			if !seen[signer] {
				problems = append(problems, fmt.Sprintf("kid %s signed %s after it was published, lead is %s", short(signer), signedAt.Sub(at).Round(time.Millisecond), h.KeyLead))
			}
			seen[signer] = true
		}
	}
	return result(NoPrematureKey, problems, fmt.Sprintf("%d signed tokens, %d keys", n, len(h.Keys)))
}

func healthyAfterHeal(h chaos.History) chaos.CheckResult {
	return result(HealthyAfterHeal, h.HealthAfter, "all healthy")
}

func regionsServeAfterHeal(h chaos.History) chaos.CheckResult {
	var problems []string
	for _, r := range loginRegions(h) {
		ok := false
		for _, e := range h.Events {
			if isLogin(e) && e.Region == r && e.OK && !e.Start.Before(h.Healed) {
				ok = true
				break
			}
		}
		if !ok {
			problems = append(problems, "no successful login in "+r+" after heal")
		}
	}
	return result(RegionsServeAfter, problems, "every region signed someone in after heal")
}

// loginRegions lists the regions probed (h.Regions) and any other region
// a login names.
func loginRegions(h chaos.History) []string {
	set := map[string]bool{}
	for _, r := range h.Regions {
		set[r] = true
	}
	for _, e := range h.Events {
		if isLogin(e) {
			set[e.Region] = true
		}
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Measure computes a history's figures.
func Measure(h chaos.History) chaos.Measurements {
	m := chaos.Measurements{Unavailable: map[string]time.Duration{}, Recovery: map[string]time.Duration{}, Latency: map[chaos.Phase]chaos.Percentiles{}, ByRegion: map[string]chaos.Counts{}}
	byPhase := map[chaos.Phase][]time.Duration{}
	for _, e := range h.Events {
		if !isLogin(e) {
			continue
		}
		m.Attempts++
		c := m.ByRegion[e.Region]
		c.Attempts++
		if !e.OK {
			m.Failures++
			c.Failures++
			m.ByRegion[e.Region] = c
			continue
		}
		m.ByRegion[e.Region] = c
		p := h.PhaseOf(e.Start)
		byPhase[p] = append(byPhase[p], e.Latency)
	}
	if m.Attempts > 0 {
		m.SuccessRate = float64(m.Attempts-m.Failures) / float64(m.Attempts)
	}
	for p, d := range byPhase {
		m.Latency[p] = chaos.PercentilesOf(d)
	}
	// A region's window and recovery are the worse of two instruments':
	// its logins (every kind) and its path probes, each on its own
	// sequence. The path probes sample more often and so resolve shorter
	// windows; a success of one never ends an outage the other saw (a
	// page that loads does not make a failing login succeed).
	for _, r := range loginRegions(h) {
		var logins, paths []chaos.Event
		for _, e := range h.Events {
			switch {
			case e.Region != r:
			case isLogin(e):
				logins = append(logins, e)
			case e.Probe == chaos.ProbePath:
				paths = append(paths, e)
			}
		}
		for _, evs := range [][]chaos.Event{logins, paths} {
			byVerdict(evs) // probes overlap (open loops)
			m.Unavailable[r] = max(m.Unavailable[r], unavailable(h, evs))
			m.Recovery[r] = max(m.Recovery[r], recovery(h, evs))
		}
	}
	return m
}

// verdictAt is when an event tells the service's state: a success when
// its answer came back, a failure when it was attempted. A probe that
// timed out says nothing of the seconds it went on waiting; counting its
// failure at its end would stretch outages and recoveries by the probe's
// timeout (30 s for a browser sign-in).
func verdictAt(e chaos.Event) time.Time {
	if e.OK {
		return e.End()
	}
	return e.Start
}

// byVerdict orders events by verdictAt.
func byVerdict(evs []chaos.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return verdictAt(evs[i]).Before(verdictAt(evs[j])) })
}

// unavailable is the longest window with failures and no success: from
// the last success before a run of failures to the first success after it
// (or the run's edges). evs are ordered by verdictAt.
func unavailable(h chaos.History, evs []chaos.Event) time.Duration {
	var longest time.Duration
	lastOK := h.Start
	failing := false
	for _, e := range evs {
		switch {
		case !e.OK:
			failing = true
		case failing:
			longest = max(longest, verdictAt(e).Sub(lastOK))
			failing, lastOK = false, verdictAt(e)
		default:
			lastOK = verdictAt(e)
		}
	}
	if failing {
		end := h.End
		if end.IsZero() && len(evs) > 0 {
			end = verdictAt(evs[len(evs)-1])
		}
		longest = max(longest, end.Sub(lastOK))
	}
	return longest
}

// recovery is the time from heal to the first success after the last
// failure attempted after heal (0 when nothing failed after heal; the
// whole remaining run when nothing succeeded after that failure). evs are
// ordered by verdictAt.
func recovery(h chaos.History, evs []chaos.Event) time.Duration {
	if h.Healed.IsZero() {
		return 0
	}
	lastFail := -1
	for i, e := range evs {
		if !e.OK && !verdictAt(e).Before(h.Healed) {
			lastFail = i
		}
	}
	if lastFail < 0 {
		return 0
	}
	for _, e := range evs[lastFail+1:] {
		if e.OK {
			return max(verdictAt(e).Sub(h.Healed), 0)
		}
	}
	return max(h.End.Sub(h.Healed), 0)
}

// Basis is the success rate an SLO judges: that of the regions the
// scenario does not take down on purpose (their users go through the
// global name or another region), over n logins, leaving out the regions
// named in left; when every region is taken down, that of all.
func Basis(m chaos.Measurements, slo chaos.SLO) (rate float64, n int, left []string) {
	rate, n = m.SuccessRate, m.Attempts
	var kept chaos.Counts
	for _, r := range slices.Sorted(maps.Keys(m.ByRegion)) {
		if slices.Contains(slo.Exempt, r) {
			left = append(left, r)
			continue
		}
		kept.Attempts += m.ByRegion[r].Attempts
		kept.Failures += m.ByRegion[r].Failures
	}
	if len(left) == 0 || kept.Attempts == 0 {
		return rate, n, nil
	}
	return float64(kept.Attempts-kept.Failures) / float64(kept.Attempts), kept.Attempts, left
}

// SLO judges the measurements against slo.
func SLO(m chaos.Measurements, slo chaos.SLO) []chaos.CheckResult {
	var out []chaos.CheckResult
	rate, n, left := Basis(m, slo)
	detail := fmt.Sprintf("%.2f%% of %d logins (want >= %.2f%%)", 100*rate, n, 100*slo.MinSuccess)
	if len(left) > 0 {
		detail += "; left out, taken down on purpose: " + strings.Join(left, ", ")
	}
	out = append(out, chaos.CheckResult{Name: SLOSuccess, OK: rate >= slo.MinSuccess, Detail: detail})
	var unavail, recov []string
	unavailOK, recovOK := true, true
	for _, r := range sortedKeys(m.Unavailable) {
		d := m.Unavailable[r]
		exempt := slices.Contains(slo.Exempt, r)
		unavail = append(unavail, fmt.Sprintf("%s %s%s", r, d.Round(10*time.Millisecond), map[bool]string{true: " (exempt)"}[exempt]))
		if !exempt && d > slo.MaxUnavailable {
			unavailOK = false
		}
	}
	for _, r := range sortedKeys(m.Recovery) {
		d := m.Recovery[r]
		recov = append(recov, fmt.Sprintf("%s %s", r, d.Round(10*time.Millisecond)))
		if d > slo.MaxRecovery {
			recovOK = false
		}
	}
	out = append(out,
		chaos.CheckResult{Name: SLOUnavailable, OK: unavailOK, Detail: strings.Join(unavail, ", ") + fmt.Sprintf(" (want <= %s)", slo.MaxUnavailable)},
		chaos.CheckResult{Name: SLORecovery, OK: recovOK, Detail: strings.Join(recov, ", ") + fmt.Sprintf(" (want <= %s)", slo.MaxRecovery)},
	)
	return out
}

func sortedKeys(m map[string]time.Duration) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func short(kid string) string {
	if len(kid) > 12 {
		return kid[:12]
	}
	return kid
}

// Judge computes measurements and every check, and the verdict.
func Judge(h chaos.History, slo chaos.SLO) chaos.Result {
	m := Measure(h)
	checks := append(Invariants(h), SLO(m, slo)...)
	passed := true
	for i, c := range checks {
		if !c.OK && c.Explained != "" && slices.Contains(slo.Tolerate, c.Explained) {
			checks[i].OK, checks[i].Known = true, c.Explained
			continue
		}
		passed = passed && c.OK
	}
	return chaos.Result{History: h, SLO: slo, Measurements: m, Checks: checks, Passed: passed}
}
