// Package report renders a chaos.SuiteResult three ways: JSON to keep and
// replay (WriteJSON, ReadJSON), Markdown for CI logs (WriteMarkdown) and
// one self-contained HTML page with a timeline of every scenario
// (WriteHTML).
//
// The output is deterministic: maps are rendered in key order and nothing
// depends on the clock, so the same SuiteResult always gives the same bytes.
// The HTML page has no script and loads nothing: its styles are inline and
// its timelines are inline SVG, so it can be archived as a CI artefact and
// opened anywhere.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/check"
)

// ErrTrailingData says a JSON report has more after the suite result.
var ErrTrailingData = errors.New("trailing data after the suite result")

// Verdicts as rendered.
const (
	verdictPass    = "PASS"
	verdictFail    = "FAIL"
	verdictAborted = "ABORTED"
	verdictNotRun  = "NOT RUN"
)

// verdict is a scenario's verdict word. A scenario not run never passed
// (its faults need what the target does not have, or the suite stopped
// first; reports written before NotRun existed marked it as an aborted
// result that passed); an aborted one did not pass (the steady state did
// not hold before any fault).
func verdict(r chaos.Result) string {
	switch {
	case r.NotRun != "" || (r.Aborted != "" && r.Passed):
		return verdictNotRun
	case r.Aborted != "":
		return verdictAborted
	case r.Passed:
		return verdictPass
	default:
		return verdictFail
	}
}

// suiteVerdict is the suite's verdict word.
func suiteVerdict(r chaos.SuiteResult) string {
	if r.Passed {
		return verdictPass
	}
	return verdictFail
}

// count is how many scenarios of r have verdict v.
func count(r chaos.SuiteResult, v string) int {
	n := 0
	for _, res := range r.Results {
		if verdict(res) == v {
			n++
		}
	}
	return n
}

// tally is "2 of 3 scenarios run passed", and how many did not run if any.
func tally(r chaos.SuiteResult) string {
	notRun := count(r, verdictNotRun)
	s := fmt.Sprintf("%d of %d scenarios run passed", count(r, verdictPass), len(r.Results)-notRun)
	if notRun > 0 {
		s += fmt.Sprintf(", %d not run", notRun)
	}
	return s + "."
}

// abortLine is "aborted: <reason>" or "not run: <reason>", without
// repeating the word when the reason already starts with it; "" when r ran.
func abortLine(r chaos.Result) string {
	word, reason := "aborted", r.Aborted
	switch {
	case r.NotRun != "":
		word, reason = "not run", r.NotRun
	case r.Aborted == "":
		return ""
	case r.Passed:
		word, reason = "not run", strings.TrimPrefix(reason, "skipped: ")
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > len(word) && strings.EqualFold(reason[:len(word)+1], word+":") {
		reason = strings.TrimSpace(reason[len(word)+1:])
	}
	return word + ": " + reason
}

// exempt says whether the SLO exempts region from MaxUnavailable.
func exempt(slo chaos.SLO, region string) bool {
	return slices.Contains(slo.Exempt, region)
}

// worstBound is the worst of m over the regions that ok accepts.
func worstBound(m map[string]time.Duration, ok func(string) bool) time.Duration {
	var w time.Duration
	for r, d := range m {
		if ok(r) {
			w = max(w, d)
		}
	}
	return w
}

// scenarioName is a scenario's name, or a placeholder when it has none.
func scenarioName(r chaos.Result) string {
	if r.History.Scenario == "" {
		return "(unnamed)"
	}
	return r.History.Scenario
}

// replayCommand is the command that replays a scenario with its seed.
func replayCommand(name string, seed int64) string {
	return fmt.Sprintf("idstack-chaos run --scenario %s --seed %d", name, seed)
}

// failedChecks are the checks of r that did not hold.
func failedChecks(r chaos.Result) []chaos.CheckResult {
	var out []chaos.CheckResult
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// worst is the largest value of m and its key (the first key in order on a
// tie); ok is false when m is empty.
func worst(m map[string]time.Duration) (key string, d time.Duration, ok bool) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !ok || m[k] > d {
			key, d, ok = k, m[k], true
		}
	}
	return key, d, ok
}

// fmtDur formats a duration for people, ASCII only: 0s, 0.25ms, 4.5ms,
// 120ms, 1.2s, 12s, 2m5s.
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-max(d, -math.MaxInt64)) // -MinInt64 overflows
	}
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return trimFloat(float64(d)/float64(time.Millisecond), 2) + "ms"
	case d < 10*time.Millisecond:
		return trimFloat(float64(d)/float64(time.Millisecond), 1) + "ms"
	case d < time.Second:
		return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return trimFloat(d.Seconds(), 1) + "s"
	default:
		r := d.Round(time.Second)
		if r%time.Second != 0 { // Round saturated
			r = d.Truncate(time.Second)
		}
		return r.String()
	}
}

// trimFloat formats f with at most prec decimals, without trailing zeros.
func trimFloat(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtPct formats a rate in 0..1 as a percentage with two decimals.
func fmtPct(rate float64) string {
	return strconv.FormatFloat(rate*100, 'f', 2, 64) + "%"
}

// fmtTime formats an instant in UTC, or "-" when it is zero.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// wallTime is end - start, or "-" when either is missing.
func wallTime(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "-"
	}
	return fmtDur(end.Sub(start))
}

// offset formats t relative to origin as "+12.3s", or "-" when t is zero.
func offset(origin, t time.Time) string {
	if t.IsZero() || origin.IsZero() {
		return "-"
	}
	d := t.Sub(origin)
	if d < 0 {
		return fmtDur(d)
	}
	return "+" + fmtDur(d)
}

// phases are the phases of m.Latency in run order, then any others by name.
func phases(m map[chaos.Phase]chaos.Percentiles) []chaos.Phase {
	order := map[chaos.Phase]int{chaos.PhaseBefore: 0, chaos.PhaseDuring: 1, chaos.PhaseAfter: 2}
	rank := func(p chaos.Phase) int {
		if r, ok := order[p]; ok {
			return r
		}
		return len(order)
	}
	out := slices.Collect(maps.Keys(m))
	slices.SortFunc(out, func(a, b chaos.Phase) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	return out
}

// regionsOf lists the regions of h in their order, then any other region
// that events or measurements name, sorted.
func regionsOf(h chaos.History, m chaos.Measurements) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range h.Regions {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	var extra []string
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			extra = append(extra, r)
		}
	}
	for _, e := range h.Events {
		if isLogin(e.Probe) {
			add(e.Region)
		}
	}
	for r := range m.Unavailable {
		add(r)
	}
	for r := range m.Recovery {
		add(r)
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// isLogin says whether a probe kind is a login (password, session or
// browser).
func isLogin(p chaos.ProbeKind) bool { return chaos.Event{Probe: p}.IsLogin() }

// kv is one entry of a sorted map.
type kv struct{ Key, Value string }

// sortedKV lists m by key.
func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, kv{k, m[k]})
	}
	return out
}

// Summary is one line for a person comparing runs: the verdict, the tally,
// the load plan, the lowest success rate an SLO judged (a scenario with no
// success floor is left out), the largest steady-state
// p50 ratio, the peak machine and harness CPU, and the wall time.
func Summary(r chaos.SuiteResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", suiteVerdict(r), strings.TrimSuffix(tally(r), "."))
	if l := r.Load; l != nil {
		fmt.Fprintf(&b, "; capacity %s password and %s session logins/s, probes at %s", trimFloat(l.FullPerSecond, 1), trimFloat(l.SessionPerSecond, 1),
			strconv.Itoa(int(math.Round(100*l.Utilisation)))+"%")
	}
	lowest, steady, cpuM, cpuH := 2.0, 0.0, 0.0, 0.0
	lowestAt := ""
	for _, res := range r.Results {
		if res.NotRun != "" || res.Measurements.Attempts == 0 {
			continue
		}
		if rate, _, _ := check.Basis(res.Measurements, res.SLO); res.SLO.MinSuccess > 0 && rate < lowest {
			lowest, lowestAt = rate, scenarioName(res)
		}
		if s := res.Steady; s != nil {
			steady = max(steady, s.P50Ratio)
		}
		if c := res.CPU; c != nil {
			cpuM, cpuH = max(cpuM, c.Machine), max(cpuH, c.Harness)
		}
	}
	if lowestAt != "" {
		fmt.Fprintf(&b, "; lowest judged success %s (%s)", fmtPct(lowest), lowestAt)
	}
	if steady > 0 {
		fmt.Fprintf(&b, "; steady p50 at most %sx quiet", trimFloat(steady, 2))
	}
	if cpuM > 0 {
		fmt.Fprintf(&b, "; CPU peak %d%% machine, %d%% harness", int(math.Round(100*cpuM)), int(math.Round(100*cpuH)))
	}
	fmt.Fprintf(&b, "; wall %s", wallTime(r.Start, r.End))
	return oneLine(b.String())
}
