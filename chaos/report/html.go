package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"strconv"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/check"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// WriteHTML writes r as one self-contained HTML page: no script, nothing
// loaded from elsewhere, styles inline. Per scenario it shows the verdict,
// the SLO, the measurements, the checks, the fault windows and a timeline
// (inline SVG) of logins per region, token verifications, key sightings
// and faults.
func WriteHTML(w io.Writer, r chaos.SuiteResult) error {
	if err := htmlTemplate.Execute(w, newPage(r)); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// page is what the HTML template renders.
type page struct {
	Suite, Verdict, VerdictClass string
	Tally                        string
	Seed                         int64
	Target                       string
	Start, End, Wall             string
	Versions                     []kv
	Scenarios                    []scenarioView
}

// scenarioView is one scenario as the template shows it.
type scenarioView struct {
	ID, Name, Verdict, VerdictClass string
	Seed                            int64
	Replay                          string
	Aborted                         string // the "aborted: ..." or "not run: ..." line
	KeyLead                         string
	Revoked                         []string
	Start, FaultsStart, Healed, End string
	SLO                             sloView
	Success                         string
	SuccessBad                      bool
	Attempts, Failures              int
	WorstUnavailable, WorstRecovery string
	UnavailBad, RecoveryBad         bool
	DuringP50, DuringP95            string
	Regions                         []regionRow
	Phases                          []phaseRow
	Checks                          []chaos.CheckResult
	Faults                          []faultRow
	Timeline                        *timeline
	Missing, HealthAfter            []string
	Versions                        []kv
}

type sloView struct {
	MinSuccess, MaxUnavailable, MaxRecovery string
	Exempt                                  []string
}

type regionRow struct {
	Name                    string
	Exempt                  bool // from MaxUnavailable
	Unavailable, Recovery   string
	UnavailBad, RecoveryBad bool
}

type phaseRow struct {
	Phase         string
	N             int
	P50, P95, P99 string
}

type faultRow struct {
	Fault, Target, Start, End, Duration, Err string
}

func newPage(r chaos.SuiteResult) page {
	p := page{
		Suite:   r.Suite,
		Verdict: suiteVerdict(r),
		Tally:   tally(r),
		Seed:    r.Seed,
		Target:  r.Target,
		Start:   fmtTime(r.Start),
		End:     fmtTime(r.End),
		Wall:    wallTime(r.Start, r.End),
	}
	p.VerdictClass = verdictClass(p.Verdict)
	p.Versions = sortedKV(r.Versions)
	for i, res := range r.Results {
		p.Scenarios = append(p.Scenarios, newScenarioView(i, res, r.Versions))
	}
	return p
}

func verdictClass(v string) string {
	switch v {
	case verdictPass:
		return "pass"
	case verdictAborted:
		return "aborted"
	case verdictNotRun:
		return "notrun"
	default:
		return "fail"
	}
}

func newScenarioView(i int, res chaos.Result, suiteVersions map[string]string) scenarioView {
	h, m, slo := res.History, res.Measurements, res.SLO
	v := scenarioView{
		ID:          "scenario-" + strconv.Itoa(i+1),
		Name:        scenarioName(res),
		Verdict:     verdict(res),
		Seed:        h.Seed,
		Replay:      replayCommand(scenarioName(res), h.Seed),
		Aborted:     abortLine(res),
		Start:       fmtTime(h.Start),
		FaultsStart: offset(h.Start, h.FaultsStart),
		Healed:      offset(h.Start, h.Healed),
		End:         offset(h.Start, h.End),
		SLO: sloView{
			MinSuccess:     fmtPct(slo.MinSuccess),
			MaxUnavailable: boundCell(slo.MaxUnavailable),
			Exempt:         slo.Exempt,
			MaxRecovery:    boundCell(slo.MaxRecovery),
		},
		Success:          successCell(m, slo),
		SuccessBad:       m.Attempts > 0 && m.SuccessRate < slo.MinSuccess,
		Attempts:         m.Attempts,
		Failures:         m.Failures,
		WorstUnavailable: worstCell(m.Unavailable, slo.Exempt),
		WorstRecovery:    worstCell(m.Recovery, nil),
		UnavailBad:       slo.MaxUnavailable > 0 && worstBound(m.Unavailable, func(r string) bool { return !exempt(slo, r) }) > slo.MaxUnavailable,
		RecoveryBad:      slo.MaxRecovery > 0 && worstBound(m.Recovery, func(string) bool { return true }) > slo.MaxRecovery,
		Revoked:          h.Revoked,
		DuringP50:        duringCell(m, func(q chaos.Percentiles) string { return fmtDur(q.P50) }),
		DuringP95:        duringCell(m, func(q chaos.Percentiles) string { return fmtDur(q.P95) }),
		Checks:           res.Checks,
		Timeline:         newTimeline(h, m),
		Missing:          check.Lost(h),
		HealthAfter:      h.HealthAfter,
	}
	v.VerdictClass = verdictClass(v.Verdict)
	if h.KeyLead > 0 {
		v.KeyLead = fmtDur(h.KeyLead)
	}
	for _, region := range regionsOf(h, m) {
		row := regionRow{Name: region, Unavailable: "-", Recovery: "-", Exempt: exempt(slo, region)}
		if d, ok := m.Unavailable[region]; ok {
			row.Unavailable = fmtDur(d)
			row.UnavailBad = slo.MaxUnavailable > 0 && d > slo.MaxUnavailable && !row.Exempt
		}
		if d, ok := m.Recovery[region]; ok {
			row.Recovery = fmtDur(d)
			row.RecoveryBad = slo.MaxRecovery > 0 && d > slo.MaxRecovery
		}
		v.Regions = append(v.Regions, row)
	}
	for _, ph := range phases(m.Latency) {
		q := m.Latency[ph]
		v.Phases = append(v.Phases, phaseRow{string(ph), q.N, fmtDur(q.P50), fmtDur(q.P95), fmtDur(q.P99)})
	}
	for _, f := range h.Faults {
		row := faultRow{
			Fault: f.Fault, Target: f.Target,
			Start: offset(h.Start, f.Start), End: offset(h.Start, f.End),
			Duration: "-", Err: f.Err,
		}
		if !f.Start.IsZero() && !f.End.IsZero() {
			row.Duration = fmtDur(f.End.Sub(f.Start))
		}
		if f.End.IsZero() {
			row.End = "not healed"
		}
		v.Faults = append(v.Faults, row)
	}
	if !maps.Equal(h.Versions, suiteVersions) {
		v.Versions = sortedKV(h.Versions)
	}
	return v
}

// boundCell is an SLO bound, or "none" when it is zero.
func boundCell(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return fmtDur(d)
}
