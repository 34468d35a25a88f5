package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
)

// DefaultSteadyFactor bounds the warm-up's login p95 over the quiet
// baseline's. Below the headroom's load a login waits for the cores about
// half a service time more than on a quiet stack; twice the quiet p95
// means requests queue, and a fault's effect could no longer be told from
// the load's.
const DefaultSteadyFactor = 2.0

// MinTailSamples is the fewest logins whose p95 is not simply their
// slowest (nearest rank: the 19th of 20).
const MinTailSamples = 20

// Steady judges a warm-up window: every operation succeeded, the p95 of
// password logins (what a person signing in waits for) is within factor
// of the quiet baseline's, and so is the median of session logins. A
// session login is short (tens of milliseconds) beside the password
// hashes running on the same cores, so its tail measures the hashes it
// waited behind, not a queue; its median does show one.
//
// A window holds a few password logins (one per region every several
// seconds), and a p95 of fewer than MinTailSamples is their slowest: one
// login that waited behind another's hash, which a load within the
// headroom makes now and then, would refuse the stack (it did, in one of
// three windows). Below that count the tail bound lets one login exceed
// it, and holds the median to the same factor of the quiet median: a
// queue slows most logins, a chance collision one.
func Steady(events []chaos.Event, quietFull, quietSession chaos.Percentiles, factor float64) chaos.SteadyState {
	var problems []string
	var full, session []time.Duration
	failed := map[chaos.ProbeKind]int{}
	total := map[chaos.ProbeKind]int{}
	var firstErr string
	for _, e := range events {
		if e.Probe == chaos.ProbeVerify {
			continue
		}
		total[e.Probe]++
		if !e.OK {
			failed[e.Probe]++
			if firstErr == "" {
				firstErr = fmt.Sprintf("%s in %s: %s", e.Probe, e.Region, e.Err)
			}
			continue
		}
		switch e.Probe {
		case chaos.ProbeHTTPLogin:
			full = append(full, e.Latency)
		case chaos.ProbeSessionLogin:
			session = append(session, e.Latency)
		}
	}
	for _, k := range slices.Sorted(func(yield func(chaos.ProbeKind) bool) {
		for k := range failed {
			if !yield(k) {
				return
			}
		}
	}) {
		problems = append(problems, fmt.Sprintf("%d of %d %s failed", failed[k], total[k], k))
	}
	if firstErr != "" {
		problems = append(problems, "first: "+firstErr)
	}
	st := chaos.SteadyState{}
	judge := func(kind string, d []time.Duration, quiet chaos.Percentiles, tail bool) (p50, p95 float64) {
		if len(d) == 0 {
			return 0, 0 // none due in the window (or all failed, said above)
		}
		if quiet.P95 <= 0 || quiet.P50 <= 0 {
			problems = append(problems, "no quiet baseline for "+kind)
			return 0, 0
		}
		q := chaos.PercentilesOf(d)
		p50, p95 = float64(q.P50)/float64(quiet.P50), float64(q.P95)/float64(quiet.P95)
		median := func() {
			if p50 > factor {
				problems = append(problems, fmt.Sprintf("%s p50 %s is %.1fx the quiet %s (at most %.1fx): %s slow",
					kind, q.P50.Round(time.Millisecond), p50, quiet.P50.Round(time.Millisecond), factor, kind))
			}
		}
		switch {
		case !tail:
			median()
		case len(d) >= MinTailSamples:
			if p95 > factor {
				problems = append(problems, fmt.Sprintf("%s p95 %s is %.1fx the quiet %s (at most %.1fx): %s slow",
					kind, q.P95.Round(time.Millisecond), p95, quiet.P95.Round(time.Millisecond), factor, kind))
			}
		default:
			bound := time.Duration(factor * float64(quiet.P95))
			slow := 0
			for _, l := range d {
				if l > bound {
					slow++
				}
			}
			if slow > 1 {
				problems = append(problems, fmt.Sprintf("%d of %d %s took over %s, %.1fx the quiet p95 %s (one may): %s slow",
					slow, len(d), kind, bound.Round(time.Millisecond), factor, quiet.P95.Round(time.Millisecond), kind))
			}
			median()
		}
		return p50, p95
	}
	if len(full)+len(session) == 0 && len(problems) == 0 {
		problems = append(problems, "no login finished in the window")
	}
	st.P50Ratio, st.P95Ratio = judge("password logins", full, quietFull, true)
	judge("session logins", session, quietSession, false)
	st.OK = len(problems) == 0
	if st.OK {
		st.Detail = fmt.Sprintf("%d password and %d session logins ok; password p50 %.2fx, p95 %.2fx quiet", len(full), len(session), st.P50Ratio, st.P95Ratio)
	} else {
		st.Detail = strings.Join(problems, "; ")
	}
	return st
}
