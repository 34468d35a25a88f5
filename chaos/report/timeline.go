package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/idstack/idstack/chaos"
)

// Timeline geometry, in SVG user units (pixels at 100 %).
const (
	tlWidth        = 1160.0
	tlLeft         = 104.0 // start of the plot; lane labels and latency ticks to its left
	tlRight        = 16.0
	tlRowH         = 18.0 // a row of the band above the lanes
	tlLaneH        = 84.0 // a region lane
	tlLaneGap      = 6.0
	tlThinH        = 16.0 // the token-verify and keys lanes
	tlMarkR        = 2.5
	tlMaxFaultRows = 6
	// tlMaxTitles bounds the per-mark tooltips of a timeline, so that a
	// run where everything failed stays a reasonable size.
	tlMaxTitles = 500
)

// num is an SVG coordinate; it prints with one decimal.
type num float64

func (n num) String() string { return strconv.FormatFloat(float64(n), 'f', 1, 64) }

// timeline is the picture of one scenario run, ready for the template.
type timeline struct {
	Width, Height num
	PlotLeft      num
	PlotRight     num
	PlotW         num
	LabelX        num // right edge of the labels left of the plot
	LaneNameX     num
	TickTextY     num
	AxisLabelX    num
	MarkR, FailR  num
	LanesTop      num
	LanesBottom   num
	Lanes         []lane
	Verify, Keys  thinLane
	LatencyLabelX num
	LatencyLabelY num
	LatencyLabel  string
	Ticks         []xTick
	AxisY         num
	AxisLabelY    num
	AxisLabel     string
	Faults        []faultShape
	Lines         []vLine
	OK            []mark
	Fail          []mark
	VerifyFails   []vTick
	KeyMarks      []keyMark
	LegendY       num
	Summary       string
}

// lane is a region's lane of logins.
type lane struct {
	Name     string
	Y, H     num
	LabelY   num
	LatTicks []yTick
}

// thinLane is a one-line lane.
type thinLane struct {
	Label  string
	Y, H   num
	LabelY num
}

type xTick struct {
	X     num
	Label string
}

type yTick struct {
	Y     num
	TextY num
	Label string
}

// faultShape is a fault window: a shaded rectangle over the lanes it hit
// and a labelled bar in the band above the lanes.
type faultShape struct {
	X, W   num
	Y, H   num // the shade
	BarY   num
	LabelX num
	LabelY num
	Label  string
	Title  string
	Failed bool // the fault reported an error
}

// vLine is a vertical line over the whole plot with a label at its top.
type vLine struct {
	Class  string
	X      num
	Y1, Y2 num
	LabelX num
	LabelY num
	Anchor string
	Label  string
}

// mark is one login event.
type mark struct {
	Browser bool // a triangle; a circle otherwise
	X, Y    num
	D       string // the triangle's path
	Title   string
}

// vTick is a failed token verification.
type vTick struct {
	X      num
	Y1, Y2 num
	Title  string
}

// keyMark is a key sighting: a diamond and, when there are few, its kid.
type keyMark struct {
	D       string
	LabelX  num
	LabelY  num
	Label   string
	Title   string
	Revoked bool
	// Lead is a line from the sighting to when the key may sign (the
	// history's KeyLead later); LeadX2 is 0 when there is none.
	LeadX1, LeadX2, LeadY num
}

// span is the time range a timeline shows and the origin of its axis.
type span struct{ origin, t0, t1 time.Time }

// spanOf is History.Start to History.End, widened to every event start,
// fault and sighting so that nothing falls off the picture.
func spanOf(h chaos.History) (span, bool) {
	var t0, t1 time.Time
	add := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
		if t1.IsZero() || t.After(t1) {
			t1 = t
		}
	}
	add(h.Start)
	add(h.End)
	add(h.FaultsStart)
	add(h.Healed)
	for _, e := range h.Events {
		add(e.Start) // marks are drawn at the start: a long timeout must not stretch the axis
	}
	for _, f := range h.Faults {
		add(f.Start)
		add(f.End)
	}
	for _, k := range h.Keys {
		add(k.Published)
	}
	if t0.IsZero() {
		return span{}, false
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	origin := h.Start
	if origin.IsZero() {
		origin = t0
	}
	return span{origin, t0, t1}, true
}

// logScale maps latencies to a lane's height on a log scale of whole
// decades.
type logScale struct{ lo, hi float64 } // log10 of seconds

func newLogScale(events []chaos.Event) logScale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range events {
		if !isLogin(e.Probe) || e.Latency <= 0 {
			continue
		}
		l := math.Log10(e.Latency.Seconds())
		lo, hi = min(lo, l), max(hi, l)
	}
	if math.IsInf(lo, 1) {
		return logScale{-2, 1} // 10ms to 10s
	}
	s := logScale{math.Floor(lo), math.Ceil(hi)}
	s.lo = max(s.lo, -3) // nothing below 1ms
	if s.hi <= s.lo {
		s.hi = s.lo + 1
	}
	if s.hi-s.lo > 5 {
		s.lo = s.hi - 5
	}
	return s
}

// frac is where d falls on the scale, 0 at the bottom, 1 at the top,
// clipped.
func (s logScale) frac(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	f := (math.Log10(d.Seconds()) - s.lo) / (s.hi - s.lo)
	return min(max(f, 0), 1)
}

// tickStep is a round step in seconds giving at most about twelve ticks.
func tickStep(seconds float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400} {
		if seconds/s <= 12 {
			return s
		}
	}
	return math.Ceil(seconds/12/86400) * 86400
}

// newTimeline lays out the timeline of h; it is nil when h recorded
// nothing with a time.
func newTimeline(h chaos.History, m chaos.Measurements) *timeline {
	sp, ok := spanOf(h)
	if !ok {
		return nil
	}
	tl := &timeline{
		Width:      tlWidth,
		PlotLeft:   tlLeft,
		PlotRight:  tlWidth - tlRight,
		PlotW:      tlWidth - tlLeft - tlRight,
		LabelX:     tlLeft - 5,
		LaneNameX:  tlLeft + 5,
		AxisLabelX: (tlLeft + tlWidth - tlRight) / 2,
		MarkR:      tlMarkR,
		FailR:      tlMarkR + 0.8,
	}
	plotW := tlWidth - tlLeft - tlRight
	total := sp.t1.Sub(sp.t0).Seconds()
	// x is where t falls; a zero time (unknown) falls at the left edge.
	x := func(t time.Time) float64 {
		if t.IsZero() {
			return tlLeft
		}
		return tlLeft + t.Sub(sp.t0).Seconds()/total*plotW
	}

	// The band above the lanes: row 0 labels FaultsStart and Healed, the
	// rows below carry one bar per fault, packed so labels do not overlap.
	type placed struct {
		f      chaos.FaultWindow
		x0, x1 float64
		row    int
		label  string
	}
	faults := slices.Clone(h.Faults)
	slices.SortStableFunc(faults, func(a, b chaos.FaultWindow) int { return a.Start.Compare(b.Start) })
	var rowsEnd []float64
	var ps []placed
	for _, f := range faults {
		end := f.End
		label := f.Fault
		if f.Target != "" {
			label += " " + f.Target
		}
		if end.IsZero() {
			end = sp.t1
			label += " (not healed)"
		}
		if f.Err != "" {
			label += " (error)"
		}
		x0, x1 := x(f.Start), max(x(end), x(f.Start)+1)
		labelEnd := max(x1, x0+float64(len(label))*6.2+8)
		row := -1
		for i, e := range rowsEnd {
			if e < x0 {
				row = i
				break
			}
		}
		if row < 0 {
			if len(rowsEnd) < tlMaxFaultRows {
				rowsEnd = append(rowsEnd, 0)
				row = len(rowsEnd) - 1
			} else {
				row = len(rowsEnd) - 1
			}
		}
		rowsEnd[row] = max(rowsEnd[row], labelEnd)
		ps = append(ps, placed{f, x0, x1, row, label})
	}

	y := 4 + tlRowH*float64(1+len(rowsEnd)) + 4
	tl.LanesTop = num(y)

	// Region lanes.
	scale := newLogScale(h.Events)
	laneOf := map[string]int{}
	for i, r := range regionsOf(h, m) {
		laneOf[r] = i
		l := lane{Name: r, Y: num(y), H: tlLaneH, LabelY: num(y + 12)}
		if r == "" {
			l.Name = "(no region)"
		}
		for d := scale.lo; d <= scale.hi+1e-9; d++ {
			lat := time.Duration(math.Pow(10, d) * float64(time.Second))
			ly := latY(y, scale, lat)
			l.LatTicks = append(l.LatTicks, yTick{Y: num(ly), TextY: num(ly + 3.5), Label: fmtDur(lat)})
		}
		tl.Lanes = append(tl.Lanes, l)
		y += tlLaneH + tlLaneGap
	}
	if len(tl.Lanes) > 0 {
		first, last := tl.Lanes[0], tl.Lanes[len(tl.Lanes)-1]
		tl.LatencyLabelX = 12
		tl.LatencyLabelY = (first.Y + last.Y + last.H) / 2
		tl.LatencyLabel = "login latency (log)"
	}
	tl.Verify = thinLane{Label: "token-verify", Y: num(y), H: tlThinH, LabelY: num(y + 12)}
	y += tlThinH + tlLaneGap
	tl.Keys = thinLane{Label: "keys", Y: num(y), H: tlThinH, LabelY: num(y + 12)}
	y += tlThinH
	tl.LanesBottom = num(y)

	// Axis.
	tl.AxisY = num(y + 4)
	tl.TickTextY = num(y + 17)
	tl.AxisLabelY = num(y + 34)
	tl.AxisLabel = "seconds since the start of the run"
	step := tickStep(total)
	first := math.Ceil(sp.t0.Sub(sp.origin).Seconds()/step) * step
	for s := first; s <= sp.t1.Sub(sp.origin).Seconds()+1e-9; s += step {
		if s == 0 {
			s = 0 // not -0
		}
		t := sp.origin.Add(time.Duration(s * float64(time.Second)))
		tl.Ticks = append(tl.Ticks, xTick{X: num(x(t)), Label: trimFloat(s, 0) + "s"})
	}
	tl.LegendY = num(y + 56)
	tl.Height = num(y + 72)

	// Faults: shade the lane of the region they target, else everything.
	for _, p := range ps {
		fs := faultShape{
			X: num(p.x0), W: num(p.x1 - p.x0),
			Y: tl.LanesTop, H: tl.LanesBottom - tl.LanesTop,
			BarY:   num(4 + tlRowH*float64(1+p.row) + 11),
			LabelX: num(p.x0 + 2),
			LabelY: num(4 + tlRowH*float64(1+p.row) + 9),
			Label:  p.label,
			Failed: p.f.Err != "",
		}
		if i, ok := laneOf[p.f.Target]; ok {
			fs.Y, fs.H = tl.Lanes[i].Y, tl.Lanes[i].H
		}
		if p.f.End.IsZero() {
			fs.Title = fmt.Sprintf("%s on %s: from %s, not healed", p.f.Fault, p.f.Target, offset(sp.origin, p.f.Start))
		} else {
			fs.Title = fmt.Sprintf("%s on %s: %s to %s (%s)", p.f.Fault, p.f.Target,
				offset(sp.origin, p.f.Start), offset(sp.origin, p.f.End), fmtDur(p.f.End.Sub(p.f.Start)))
		}
		if p.f.Err != "" {
			fs.Title += ": " + p.f.Err
		}
		tl.Faults = append(tl.Faults, fs)
	}

	// FaultsStart and Healed.
	if !h.FaultsStart.IsZero() {
		xs := x(h.FaultsStart)
		tl.Lines = append(tl.Lines, vLine{Class: "vfaults", X: num(xs), Y1: 6, Y2: tl.LanesBottom,
			LabelX: num(xs - 3), LabelY: 15, Anchor: "end", Label: "faults start " + offset(sp.origin, h.FaultsStart)})
	}
	if !h.Healed.IsZero() {
		xh := x(h.Healed)
		tl.Lines = append(tl.Lines, vLine{Class: "vhealed", X: num(xh), Y1: 6, Y2: tl.LanesBottom,
			LabelX: num(xh + 3), LabelY: 15, Anchor: "start", Label: "healed " + offset(sp.origin, h.Healed)})
	}

	// Events.
	var logins, loginFails, verifies, verifyFails, titles int
	for _, e := range h.Events {
		switch {
		case isLogin(e.Probe):
			logins++
			l := tl.Lanes[laneOf[e.Region]]
			mk := mark{Browser: e.Probe == chaos.ProbeBrowserLogin, X: num(x(e.Start)), Y: num(latY(float64(l.Y), scale, e.Latency))}
			if mk.Browser {
				mk.D = fmt.Sprintf("M%s %sl3.2 5.4h-6.4z", mk.X, num(float64(mk.Y)-3.4))
			}
			if e.OK {
				tl.OK = append(tl.OK, mk)
				continue
			}
			loginFails++
			if titles < tlMaxTitles {
				titles++
				mk.Title = fmt.Sprintf("%s %s at %s after %s: %s", e.Probe, e.Region, offset(sp.origin, e.Start), fmtDur(e.Latency), e.Err)
			}
			tl.Fail = append(tl.Fail, mk)
		case (e.Probe == chaos.ProbePath || e.Probe == chaos.ProbeWrite) && !e.OK:
			// Path probes and database writes are drawn only when they
			// fail: they are many, and the logins show the latency.
			i, known := laneOf[e.Region]
			if !known {
				continue
			}
			l := tl.Lanes[i]
			mk := mark{X: num(x(e.Start)), Y: num(latY(float64(l.Y), scale, e.Latency))}
			if titles < tlMaxTitles {
				titles++
				mk.Title = fmt.Sprintf("%s %s at %s after %s: %s", map[bool]string{true: "path probe", false: "database write"}[e.Probe == chaos.ProbePath], e.Region, offset(sp.origin, e.Start), fmtDur(e.Latency), e.Err)
			}
			tl.Fail = append(tl.Fail, mk)
		case e.Probe == chaos.ProbeVerify:
			verifies++
			if e.OK {
				continue
			}
			verifyFails++
			vt := vTick{X: num(x(e.Start)), Y1: tl.Verify.Y + 2, Y2: tl.Verify.Y + tl.Verify.H - 2}
			if titles < tlMaxTitles {
				titles++
				vt.Title = fmt.Sprintf("token-verify %s at %s, kid %s: %s", e.Region, offset(sp.origin, e.Start), e.Kid, e.Err)
			}
			tl.VerifyFails = append(tl.VerifyFails, vt)
		}
	}

	// Key sightings; their kids are written out when there are few.
	keys := slices.Clone(h.Keys)
	slices.SortStableFunc(keys, func(a, b chaos.KeySighting) int { return a.Published.Compare(b.Published) })
	cy := float64(tl.Keys.Y) + tlThinH/2
	labelEnd := 0.0
	for _, k := range keys {
		kx := tlLeft
		km := keyMark{Title: fmt.Sprintf("key %s published before the run", k.Kid), Label: k.Kid + " (before)"}
		if !k.Published.IsZero() {
			kx = x(k.Published)
			km.Title = fmt.Sprintf("key %s published at %s", k.Kid, offset(sp.origin, k.Published))
			km.Label = k.Kid
			if h.KeyLead > 0 {
				signs := k.Published.Add(h.KeyLead)
				km.Title += fmt.Sprintf(", may sign from %s", offset(sp.origin, signs))
				km.LeadX1, km.LeadX2, km.LeadY = num(kx), num(min(x(signs), tlWidth-tlRight)), num(cy+5.5)
			}
		}
		if slices.Contains(h.Revoked, k.Kid) {
			km.Revoked = true
			km.Title += ", revoked on purpose"
		}
		km.D = fmt.Sprintf("M%s %sl4 4l-4 4l-4 -4z", num(kx), num(cy-4))
		km.LabelX, km.LabelY = num(kx+6), num(cy+3.5)
		// A label that would run into the previous one is left out; the
		// diamond's tooltip still names the key.
		if kx+6 < labelEnd {
			km.Label = ""
		}
		if km.Label != "" {
			labelEnd = kx + 6 + float64(len(km.Label))*6.2 + 4
		}
		tl.KeyMarks = append(tl.KeyMarks, km)
	}

	tl.Summary = fmt.Sprintf("%s, %d failed; %s, %d failed; %s; %s",
		plural(logins, "login"), loginFails, plural(verifies, "token verification"), verifyFails,
		plural(len(keys), "key sighting"), plural(len(faults), "fault window"))
	return tl
}

// latY is the y of a latency in the lane whose top is top.
func latY(top float64, s logScale, d time.Duration) float64 {
	bottom := top + tlLaneH - 5
	inner := tlLaneH - 5 - 18 // room at the top for the lane's name
	return bottom - s.frac(d)*inner
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
