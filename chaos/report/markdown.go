package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/check"
)

// WriteMarkdown writes a summary of r for CI logs: the verdict, the suite,
// seed, target and wall time, a replay hint, one table row per scenario
// and, for each scenario that did not pass, its failed checks or why it
// was aborted. The text it adds is ASCII; names and details are copied as
// given, on one line each.
func WriteMarkdown(w io.Writer, r chaos.SuiteResult) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# idstack chaos: %s\n\n", suiteVerdict(r))
	p("%s\n\n", tally(r))
	p("- suite: %s\n", oneLine(r.Suite))
	p("- seed: %d\n", r.Seed)
	p("- target: %s\n", oneLine(r.Target))
	p("- wall time: %s (%s to %s)\n", wallTime(r.Start, r.End), fmtTime(r.Start), fmtTime(r.End))
	if len(r.Versions) > 0 {
		var vs []string
		for _, v := range sortedKV(r.Versions) {
			vs = append(vs, v.Key+" "+v.Value)
		}
		p("- versions: %s\n", oneLine(strings.Join(vs, ", ")))
	}
	if l := r.Load; l != nil {
		p("- load: %s\n", loadLine(*l))
	}
	p("\n")

	// One replay line per scenario that failed or was aborted; a generic
	// one when none was.
	replays := 0
	for _, res := range r.Results {
		if v := verdict(res); v == verdictFail || v == verdictAborted {
			p("replay: %s\n\n", replayCommand(oneLine(scenarioName(res)), res.History.Seed))
			replays++
		}
	}
	if replays == 0 {
		p("replay: %s\n\n", replayCommand("<name>", r.Seed))
	}

	if len(r.Results) > 0 {
		p("| scenario | verdict | success (SLO basis) | attempts/failures | worst unavailable | worst recovery | login p50 during faults | login p95 during faults | steady p50/p95 vs quiet | CPU machine/harness |\n")
		p("|---|---|---:|---:|---|---|---:|---:|---:|---:|\n")
		for _, res := range r.Results {
			m := res.Measurements
			p("| %s | %s | %s | %d/%d | %s | %s | %s | %s | %s | %s |\n",
				cell(scenarioName(res)), verdict(res), successCell(m, res.SLO),
				m.Attempts, m.Failures,
				worstCell(m.Unavailable, res.SLO.Exempt), worstCell(m.Recovery, nil),
				duringCell(m, func(q chaos.Percentiles) string { return fmtDur(q.P50) }),
				duringCell(m, func(q chaos.Percentiles) string { return fmtDur(q.P95) }),
				steadyCell(res.Steady), cpuCell(res.CPU))
		}
		p("\n")
	}

	for _, res := range r.Results {
		for _, c := range res.Checks {
			if c.Known != "" {
				p("- %s: known upstream defect %s, tolerated (%d occurrences, each fitting it): %s: %s\n\n", oneLine(scenarioName(res)), c.Known, c.Occurrences, oneLine(c.Name), oneLine(c.Detail))
			}
		}
	}
	notes := 0
	for _, res := range r.Results {
		for _, n := range res.History.FaultNotes {
			p("- %s, +%s: %s\n", oneLine(scenarioName(res)), fmtDur(max(n.At.Sub(res.History.FaultsStart), 0).Round(100*time.Millisecond)), oneLine(n.Note))
			notes++
		}
	}
	if notes > 0 {
		p("\n")
	}
	for _, res := range r.Results {
		v := verdict(res)
		if v == verdictPass {
			continue
		}
		p("## %s: %s\n\n", oneLine(scenarioName(res)), v)
		if line := abortLine(res); line != "" {
			p("%s\n\n", oneLine(line))
		}
		failed := failedChecks(res)
		for _, c := range failed {
			p("- %s: %s\n", oneLine(c.Name), oneLine(c.Detail))
		}
		if len(failed) > 0 {
			p("\n")
		} else if res.Aborted == "" && res.NotRun == "" {
			p("no failed check was recorded.\n\n")
		}
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// successCell is the success rate the SLO judged (check.Basis: without
// the regions taken down on purpose), or "-" when nothing was attempted.
func successCell(m chaos.Measurements, slo chaos.SLO) string {
	if m.Attempts == 0 {
		return "-"
	}
	rate, _, left := check.Basis(m, slo)
	if len(left) > 0 {
		return fmtPct(rate) + " (" + cell(strings.Join(left, ", ")) + " left out)"
	}
	return fmtPct(rate)
}

// steadyCell is the warm-up's password-login p50 and p95 over the quiet
// baseline's.
func steadyCell(s *chaos.SteadyState) string {
	if s == nil || s.P50Ratio == 0 {
		return "-"
	}
	return trimFloat(s.P50Ratio, 2) + "x / " + trimFloat(s.P95Ratio, 2) + "x"
}

// cpuCell is the machine's and the harness's CPU use over the scenario.
func cpuCell(u *chaos.CPUUse) string {
	if u == nil || u.Cores == 0 {
		return "-"
	}
	return strconv.Itoa(int(math.Round(100*u.Machine))) + "% / " + strconv.Itoa(int(math.Round(100*u.Harness))) + "%"
}

// loadLine says how the probe load was set.
func loadLine(l chaos.Load) string {
	every := func(d time.Duration) string {
		if d <= 0 {
			return "off"
		}
		return fmtDur(d)
	}
	s := fmt.Sprintf("measured %s password logins/s, %s session logins/s and %s path probes/s (quiet login p50 %s and %s); probes at %s of that (headroom %s): password login every %s, session login every %s and path probe every %s per region, registration every %s, browser sign-in every %s",
		trimFloat(l.FullPerSecond, 1), trimFloat(l.SessionPerSecond, 1), trimFloat(l.PathPerSecond, 0), fmtDur(l.QuietFull.P50), fmtDur(l.QuietSession.P50),
		strconv.Itoa(int(math.Round(100*l.Utilisation)))+"%", strconv.Itoa(int(math.Round(100*l.Headroom)))+"%",
		every(l.LoginEvery), every(l.SessionEvery), every(l.PathEvery), every(l.RegisterEvery), every(l.BrowserEvery))
	if len(l.Overridden) > 0 {
		s += "; set by " + strings.Join(l.Overridden, " ")
	}
	return oneLine(s)
}

// worstCell is the worst value over regions and its region (none when
// every region had 0), saying when that region is in exempt.
func worstCell(m map[string]time.Duration, exempt []string) string {
	region, d, ok := worst(m)
	switch {
	case !ok:
		return "-"
	case d == 0:
		return "0s"
	}
	if slices.Contains(exempt, region) {
		return fmtDur(d) + " (" + cell(region) + ", exempt)"
	}
	return fmtDur(d) + " (" + cell(region) + ")"
}

// duringCell formats the login latency during faults with f, or "-" when
// there is none.
func duringCell(m chaos.Measurements, f func(chaos.Percentiles) string) string {
	q, ok := m.Latency[chaos.PhaseDuring]
	if !ok || q.N == 0 {
		return "-"
	}
	return f(q)
}

// oneLine puts s on one line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(oneLine(s), "|", `\|`)
	if s == "" {
		return strconv.Quote("")
	}
	return s
}
