package report

import (
	"bytes"
	"errors"
	"html/template"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/internal/golden"
)

func TestJSONRoundTrip(t *testing.T) {
	want := fixture()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n  \"suite\": \"nightly\",") {
		t.Errorf("got %.40q, want indented JSON", buf.String())
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the suite result:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		is       error
	}{
		{name: "empty", in: ""},
		{name: "not json", in: "PASS"},
		{name: "wrong type", in: `{"seed": "42"}`},
		{name: "trailing data", in: `{"suite": "a"} {"suite": "b"}`, is: ErrTrailingData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("got no error, want one")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want %v", err, tc.is)
			}
		})
	}
}

func markdown(t *testing.T, r chaos.SuiteResult) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func html(t *testing.T, r chaos.SuiteResult) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMarkdownGolden(t *testing.T) {
	golden.Check(t, "report.md", []byte(markdown(t, fixture())))
}

func TestHTMLGolden(t *testing.T) {
	golden.Check(t, "report.html", []byte(html(t, fixture())))
}

func TestMarkdown(t *testing.T) {
	md := markdown(t, fixture())
	for _, want := range []string{
		"# idstack chaos: FAIL\n",
		"- suite: nightly\n",
		"- seed: 42\n",
		"- target: " + fixtureTarget + "\n",
		"- wall time: 6m50s ",
		"\nreplay: idstack-chaos run --scenario kill-region --seed 42\n",
		"\nreplay: idstack-chaos run --scenario partition-cockroach --seed 7\n",
		"| kill-node | PASS | 98.21% | 168/3 | 8s (eu-west) | 0s | 150ms | 410ms | - | - |\n",
		"| kill-region | FAIL | 69.39% | 196/60 | 1m28s (eu-west, exempt) | 26s (eu-west) | 162ms | 420ms | - | - |\n",
		"| partition-cockroach | ABORTED | 50.00% | 14/7 | - | - | - | - | - | - |\n",
		"| seal-vault | NOT RUN | - | 0/0 | - | - | - | - | - | - |\n",
		"1 of 3 scenarios run passed, 1 not run.\n",
		"## kill-region: FAIL\n",
		"- login-success: 69.39% < 80.00%\n",
		"- recovery: " + fixtureDetail + "\n",
		"- token-verify: 2 tokens rejected first: jti-us-east-253 kid k2\n", // on one line
		"\naborted: steady state did not hold: us-east logins failing before any fault | bridge /health: 503\n",
		"\nnot run: fault seal-vault is not available on target local\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Passing scenarios and passing checks are only in the table.
	for _, unwanted := range []string{"## kill-node", "unavailability: worst", "replay: idstack-chaos run --scenario kill-node", "replay: idstack-chaos run --scenario seal-vault", "aborted: aborted:"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("markdown has %q", unwanted)
		}
	}
	for i, r := range md {
		if r > 127 {
			t.Fatalf("got non-ASCII %q at byte %d", r, i)
		}
	}
}

func TestMarkdownAllPassed(t *testing.T) {
	r := fixture()
	r.Results = r.Results[:1]
	r.Passed = true
	md := markdown(t, r)
	for _, want := range []string{"# idstack chaos: PASS\n", "1 of 1 scenarios run passed.", "\nreplay: idstack-chaos run --scenario <name> --seed 42\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "\n## ") {
		t.Errorf("got a section for a passing scenario:\n%s", md)
	}
}

// userURLs is the text of the fixture that carries URLs.
var userURLs = []string{fixtureTarget, fixtureDetail, "https://bridge.eu-west.idstack.example/health"}

func TestHTMLSelfContained(t *testing.T) {
	page := html(t, fixture())
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "<link", "<iframe", "<img", "<object", "<embed", "@import", "url(", " src=", "xlink:href", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("page has %q", bad)
		}
	}
	// What the user provided is escaped.
	if want := "&lt;script&gt;alert(1)&lt;/script&gt;"; !strings.Contains(page, want) {
		t.Errorf("page lacks the escaped check detail %q", want)
	}
	if want := "vault sealed &lt;again&gt;"; !strings.Contains(page, want) {
		t.Errorf("page lacks the escaped fault error %q", want)
	}
	// No URL but those the user provided.
	rest := page
	for _, s := range userURLs {
		rest = strings.ReplaceAll(rest, template.HTMLEscapeString(s), "")
		rest = strings.ReplaceAll(rest, s, "")
	}
	if m := regexp.MustCompile(`(?i)https?:`).FindAllStringIndex(rest, -1); m != nil {
		t.Errorf("page has %d URLs of its own, first near %q", len(m), rest[max(m[0][0]-60, 0):min(m[0][1]+60, len(rest))])
	}
	// Only local anchors.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("got href %q, want a local anchor", m[1])
		}
	}
}

// sections splits a page into its scenario sections.
func sections(t *testing.T, page string, n int) []string {
	t.Helper()
	parts := strings.Split(page, `<section id="scenario-`)
	if len(parts) != n+1 {
		t.Fatalf("got %d sections, want %d", len(parts)-1, n)
	}
	return parts[1:]
}

// svgOf is the timeline of a section.
func svgOf(t *testing.T, section string) string {
	t.Helper()
	i, j := strings.Index(section, `<svg class="tl"`), strings.Index(section, "</svg>")
	if i < 0 || j < i {
		t.Fatalf("section has no timeline")
	}
	return section[i:j]
}

func TestHTMLTimeline(t *testing.T) {
	r := fixture()
	page := html(t, r)
	for i, sec := range sections(t, page, len(r.Results)) {
		h := r.Results[i].History
		t.Run(h.Scenario, func(t *testing.T) {
			if h.Start.IsZero() {
				if !strings.Contains(sec, "Nothing was recorded.") || strings.Contains(sec, "<svg") {
					t.Errorf("got a timeline for a scenario that recorded nothing")
				}
				return
			}
			svg := svgOf(t, sec)
			var ok, failed, verifyFailed int
			for _, e := range h.Events {
				switch {
				case isLogin(e.Probe) && e.OK:
					ok++
				case isLogin(e.Probe):
					failed++
				case e.Probe == chaos.ProbeVerify && !e.OK:
					verifyFailed++
				}
			}
			for _, c := range []struct {
				name, marker string
				want         int
			}{
				{"red marks", `class="mark fail"`, failed},
				{"green marks", `class="mark ok"`, ok},
				{"verify ticks", `<line class="vtick"`, verifyFailed},

				{"region lanes", `<text class="lanename"`, len(h.Regions)},
			} {
				if got := strings.Count(svg, c.marker); got != c.want {
					t.Errorf("%s: got %d, want %d", c.name, got, c.want)
				}
			}
			if got := len(regexp.MustCompile(`<path class="key( revoked)?"`).FindAllString(svg, -1)); got != len(h.Keys) {
				t.Errorf("key diamonds: got %d, want %d", got, len(h.Keys))
			}
			if got := len(regexp.MustCompile(`<rect class="fault( err)?"`).FindAllString(svg, -1)); got != len(h.Faults) {
				t.Errorf("fault shades: got %d, want %d", got, len(h.Faults))
			}
			for _, f := range h.Faults {
				if !strings.Contains(svg, ">"+template.HTMLEscapeString(f.Fault+" "+f.Target)) {
					t.Errorf("timeline lacks the label of fault %s on %s", f.Fault, f.Target)
				}
			}
			if !h.FaultsStart.IsZero() && !strings.Contains(svg, `<line class="vfaults"`) {
				t.Errorf("timeline lacks the faults start line")
			}
			if !h.Healed.IsZero() && !strings.Contains(svg, `<line class="vhealed"`) {
				t.Errorf("timeline lacks the healed line")
			}
			if !strings.Contains(svg, "login latency (log)") || !strings.Contains(svg, ">0s</text>") {
				t.Errorf("timeline lacks its axes")
			}
		})
	}
	// The sections carry their verdicts, checks and fault windows.
	secs := sections(t, page, len(r.Results))
	for _, want := range []string{`<span class="badge fail">FAIL</span>`, `<td>recovery</td><td><span class="bad">FAILED</span></td>`,
		`<td>eu-west <span class="note">(exempt)</span></td><td class="n">1m28s</td><td class="n bad">26s</td>`,
		`<dt>key lead</dt><dd>10s `, `<dt>revoked on purpose</dt><dd class="mono">k0</dd>`, "<td>kill-region</td><td>eu-west</td><td class=\"n\">&#43;30s</td><td class=\"n\">&#43;1m30s</td><td class=\"n\">1m0s</td>"} {
		if !strings.Contains(secs[1], want) {
			t.Errorf("failing section lacks %q", want)
		}
	}
	if want := `<p class="aborted-reason">aborted: steady state did not hold`; !strings.Contains(secs[2], want) {
		t.Errorf("aborted section lacks %q", want)
	}
	if want := `<p class="aborted-reason">not run: fault seal-vault`; !strings.Contains(secs[3], want) {
		t.Errorf("not-run section lacks %q", want)
	}
}

func TestTimelineFaultShade(t *testing.T) {
	r := fixture().Results[1]
	tl := newTimeline(r.History, r.Measurements)
	if len(tl.Faults) != 2 || len(tl.Lanes) != 2 {
		t.Fatalf("got %d faults and %d lanes, want 2 and 2", len(tl.Faults), len(tl.Lanes))
	}
	// kill-region targets the eu-west lane; rotate-keys targets vault, so
	// it shades every lane.
	region, all := tl.Faults[0], tl.Faults[1]
	if region.Y != tl.Lanes[0].Y || region.H != tl.Lanes[0].H {
		t.Errorf("region fault: got y %v h %v, want the eu-west lane y %v h %v", region.Y, region.H, tl.Lanes[0].Y, tl.Lanes[0].H)
	}
	if all.Y != tl.LanesTop || all.H != tl.LanesBottom-tl.LanesTop {
		t.Errorf("vault fault: got y %v h %v, want all lanes y %v h %v", all.Y, all.H, tl.LanesTop, tl.LanesBottom-tl.LanesTop)
	}
	if !all.Failed {
		t.Errorf("vault fault: got Failed false, want true (it reported an error)")
	}
	// x follows time: kill-region runs from 30s to 90s of a 140s run.
	plotW := float64(tl.PlotRight - tl.PlotLeft)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"x", float64(region.X), float64(tl.PlotLeft) + 30.0/140*plotW},
		{"w", float64(region.W), 60.0 / 140 * plotW},
	} {
		if d := c.got - c.want; d > 0.01 || d < -0.01 {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestTimelineEmpty(t *testing.T) {
	if tl := newTimeline(chaos.History{}, chaos.Measurements{}); tl != nil {
		t.Errorf("got a timeline for an empty history, want none")
	}
	page := html(t, chaos.SuiteResult{Suite: "empty", Results: []chaos.Result{{Aborted: "no traffic"}}})
	if !strings.Contains(page, "Nothing was recorded.") {
		t.Errorf("page of an empty history lacks its note")
	}
}

// bigSuite has one scenario with n login events over ten minutes in three
// regions; most logins to us-east fail while it is cut off, and a few
// fail anywhere.
func bigSuite(n int) (r chaos.SuiteResult, failed int) {
	rs := []string{"eu-west", "us-east", "ap-south"}
	h := chaos.History{Scenario: "big", Seed: 1, Regions: rs, Start: t0, FaultsStart: at(120), Healed: at(420), End: at(600),
		Faults: []chaos.FaultWindow{{Fault: "partition", Target: "us-east", Start: at(120), End: at(420)}}}
	x := uint32(1)
	for i := range n {
		x = x*1664525 + 1013904223 // a fixed pseudo-random sequence
		p := chaos.ProbeHTTPLogin
		if i%4 == 0 {
			p = chaos.ProbeBrowserLogin
		}
		s := float64(i) * 600 / float64(n)
		e := chaos.Event{
			Probe: p, Region: rs[i%3], Start: at(s),
			Latency: time.Duration(60+x>>8%400) * time.Millisecond, OK: true,
		}
		if e.Region == "us-east" && s >= 120 && s < 420 && x>>4%5 != 0 || x>>12%97 == 0 {
			e.OK, e.Err, e.Latency = false, "boom", time.Duration(x>>8%10000)*time.Millisecond
			failed++
		}
		h.Events = append(h.Events, e)
	}
	return chaos.SuiteResult{Suite: "big", Seed: 1, Start: t0, End: at(600), Results: []chaos.Result{{History: h}}}, failed
}

func TestHTMLManyEvents(t *testing.T) {
	const n = 5000
	r, failed := bigSuite(n)
	page := html(t, r)
	if len(page) > 800<<10 {
		t.Errorf("got a %d KB page for %d events, want at most 800 KB", len(page)>>10, n)
	}
	svg := svgOf(t, sections(t, page, 1)[0])
	if got := strings.Count(svg, `class="mark fail"`); got != failed {
		t.Errorf("got %d red marks, want %d", got, failed)
	}
	if got := strings.Count(svg, "<title>") - 2; got != tlMaxTitles { // 2 for the fault
		t.Errorf("got %d event tooltips, want %d", got, tlMaxTitles)
	}
}

func TestDeterministic(t *testing.T) {
	r := fixture()
	for name, render := range map[string]func(*testing.T, chaos.SuiteResult) string{"markdown": markdown, "html": html} {
		if a, b := render(t, r), render(t, r); a != b {
			t.Errorf("%s: two renderings differ", name)
		}
	}
}

func TestFmtDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{250 * time.Microsecond, "0.25ms"},
		{4500 * time.Microsecond, "4.5ms"},
		{120 * time.Millisecond, "120ms"},
		{1200 * time.Millisecond, "1.2s"},
		{12 * time.Second, "12s"},
		{125 * time.Second, "2m5s"},
		{-3 * time.Second, "-3s"},
		{math.MinInt64, "-2562047h47m16s"},
	} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%v): got %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestWorst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      map[string]time.Duration
		key    string
		d      time.Duration
		exists bool
	}{
		{name: "empty"},
		{name: "max", m: map[string]time.Duration{"a": time.Second, "b": 3 * time.Second, "c": 2 * time.Second}, key: "b", d: 3 * time.Second, exists: true},
		{name: "tie goes to the first name", m: map[string]time.Duration{"b": time.Second, "a": time.Second}, key: "a", d: time.Second, exists: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, d, ok := worst(tc.m)
			if key != tc.key || d != tc.d || ok != tc.exists {
				t.Errorf("got %q %v %v, want %q %v %v", key, d, ok, tc.key, tc.d, tc.exists)
			}
		})
	}
}

func TestTimelineOddHistory(t *testing.T) {
	// Events in regions the history does not list, a fault never healed,
	// a key with no time, an event before Start.
	h := chaos.History{
		Scenario: "odd", Regions: []string{"eu"}, Start: at(10), FaultsStart: at(20), End: at(60),
		Events: []chaos.Event{
			{Probe: chaos.ProbeHTTPLogin, Region: "eu", Start: at(5), Latency: time.Second, OK: true},
			{Probe: chaos.ProbeHTTPLogin, Region: "us", Start: at(30), Latency: 0, OK: false, Err: "refused"},
			{Probe: chaos.ProbeBrowserLogin, Region: "", Start: at(40), Latency: time.Hour, OK: false, Err: "timeout"},
			{Probe: chaos.ProbeRegister, Region: "eu", Start: at(41), Latency: time.Second, OK: false},
		},
		Faults: []chaos.FaultWindow{{Fault: "kill-node", Target: "eu-1", Start: at(20)}},
		Keys:   []chaos.KeySighting{{Kid: "k1"}},
	}
	tl := newTimeline(h, chaos.Measurements{})
	var names []string
	for _, l := range tl.Lanes {
		names = append(names, l.Name)
	}
	if want := []string{"eu", "(no region)", "us"}; !reflect.DeepEqual(names, want) {
		t.Errorf("lanes: got %q, want %q", names, want)
	}
	if len(tl.Fail) != 2 || len(tl.OK) != 1 {
		t.Errorf("got %d red and %d green marks, want 2 and 1 (registrations are not drawn)", len(tl.Fail), len(tl.OK))
	}
	if len(tl.Faults) != 1 || !strings.HasSuffix(tl.Faults[0].Label, "(not healed)") || tl.Faults[0].X+tl.Faults[0].W != tl.PlotRight {
		t.Errorf("got faults %+v, want one unhealed up to the right edge", tl.Faults)
	}
	in := func(what string, x num) {
		if x < tl.PlotLeft || x > tl.PlotRight {
			t.Errorf("%s: x %v outside the plot [%v, %v]", what, x, tl.PlotLeft, tl.PlotRight)
		}
	}
	for _, m := range append(append([]mark(nil), tl.OK...), tl.Fail...) {
		in("mark", m.X)
		if m.Y < tl.LanesTop || m.Y > tl.LanesBottom {
			t.Errorf("mark y %v outside the lanes [%v, %v]", m.Y, tl.LanesTop, tl.LanesBottom)
		}
	}
	for _, tk := range tl.Ticks {
		in("tick "+tk.Label, tk.X)
	}
	if len(tl.Ticks) == 0 || tl.Ticks[0].Label != "-5s" {
		t.Errorf("got ticks %+v, want them to start at -5s (the event before Start)", tl.Ticks)
	}
	if len(tl.KeyMarks) != 1 || tl.KeyMarks[0].Label != "k1 (before)" {
		t.Errorf("got key marks %+v, want k1 published before the run", tl.KeyMarks)
	}
}

func TestSummary(t *testing.T) {
	r := fixture()
	r.Load = &chaos.Load{FullPerSecond: 4.96, SessionPerSecond: 17.6, Utilisation: 0.349, Headroom: 0.35}
	r.Results[0].Steady = &chaos.SteadyState{OK: true, P50Ratio: 1.03, P95Ratio: 0.6}
	r.Results[0].CPU = &chaos.CPUUse{Machine: 0.52, Harness: 0.06, Cores: 2}
	got := Summary(r)
	for _, want := range []string{"FAIL: 1 of 3 scenarios run passed, 1 not run", "capacity 5 password and 17.6 session logins/s, probes at 35%",
		"lowest judged success", "steady p50 at most 1.03x quiet", "CPU peak 52% machine, 6% harness", "wall 6m50s"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
}
