package calibrate

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
)

// machine is about what one of idstack's 2-core machines measures.
var machine = Capacity{FullPerSecond: 4.5, SessionPerSecond: 15, PathPerSecond: 80}

func TestPlanStaysWithinTheHeadroom(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom}
	l, err := Plan(machine, need, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Utilisation > DefaultHeadroom || l.Utilisation < DefaultHeadroom*0.8 {
		t.Errorf("utilisation %.3f, want close to and at most %.2f", l.Utilisation, DefaultHeadroom)
	}
	// A 1 s window needs a sample at least every 0.5 s per region: the
	// path probes give it; session logins, too dear for that, run as
	// often as their share allows, at least every MaxSessionEvery.
	if l.PathEvery > 500*time.Millisecond || l.PathEvery <= 0 {
		t.Errorf("path probes every %s, want at most 500ms", l.PathEvery)
	}
	if l.SessionEvery > MaxSessionEvery || l.SessionEvery <= 500*time.Millisecond {
		t.Errorf("session logins every %s, want as often as fits (here over 500ms) and at most %s", l.SessionEvery, MaxSessionEvery)
	}
	for name, d := range map[string]time.Duration{"login": l.LoginEvery, "register": l.RegisterEvery, "browser": l.BrowserEvery} {
		if d <= 0 {
			t.Errorf("%s probe off, want it planned", name)
		}
	}
	if got := utilisation(machine, 3, Rates{l.LoginEvery, l.SessionEvery, l.RegisterEvery, l.BrowserEvery, l.PathEvery}); got != l.Utilisation {
		t.Errorf("reported utilisation %.3f, recomputed %.3f", l.Utilisation, got)
	}
	noBrowser, _ := Plan(machine, Need{Regions: 3, Window: time.Second, Headroom: DefaultHeadroom}, nil)
	if noBrowser.BrowserEvery != 0 {
		t.Errorf("browser every %s without a browser", noBrowser.BrowserEvery)
	}
}

// The periods scale with the machine: half the capacity, twice the
// password-login periods.
func TestPlanScalesWithCapacity(t *testing.T) {
	need := Need{Regions: 3, Window: 5 * time.Second, Headroom: DefaultHeadroom}
	big := Capacity{FullPerSecond: 9, SessionPerSecond: 60, PathPerSecond: 300} // sessions at W/3 fit in both
	fast, _ := Plan(big, need, nil)
	slow, err := Plan(Capacity{FullPerSecond: big.FullPerSecond / 2, SessionPerSecond: big.SessionPerSecond / 2, PathPerSecond: big.PathPerSecond / 2}, need, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := float64(slow.LoginEvery) / float64(fast.LoginEvery); r < 1.8 || r > 2.4 { // periods round up to 100 ms
		t.Errorf("login period ratio slow/fast %.2f, want about 2", r)
	}
}

func TestPlanRefusesAnOverrideBeyondTheHeadroom(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom}
	_, err := Plan(machine, need, []Override{{Flag: "login-every", Every: time.Second}})
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("got %v, want ErrOverloaded", err)
	}
	for _, want := range []string{"--login-every 1s", "4.5 password logins/s", "35% headroom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	// Turning probes off is always within the headroom.
	l, err := Plan(machine, need, []Override{{Flag: "browser-every", Every: 0}, {Flag: "register-every", Every: 0}})
	if err != nil || l.BrowserEvery != 0 || len(l.Overridden) != 2 {
		t.Errorf("got %+v, %v", l, err)
	}
}

func TestPlanRefusesWindowsTheMachineCannotResolve(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Headroom: DefaultHeadroom}
	_, err := Plan(Capacity{FullPerSecond: 4.5, SessionPerSecond: 15, PathPerSecond: 20}, need, nil)
	if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), "to resolve 1s windows") || !strings.Contains(err.Error(), "20.0 path probes/s") {
		t.Errorf("got %v, want a refusal naming the window and the path capacity", err)
	}
	// Path probes that fit, but too few session logins for MaxSessionEvery.
	_, err = Plan(Capacity{FullPerSecond: 4.5, SessionPerSecond: 3, PathPerSecond: 80}, need, nil)
	if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), "session logins every 2s") {
		t.Errorf("got %v, want a refusal naming the session floor", err)
	}
	// Path probes at W/3 beyond their share fall back to W/2.
	l, err := Plan(Capacity{FullPerSecond: 4.5, SessionPerSecond: 15, PathPerSecond: 35}, need, nil)
	if err != nil || l.PathEvery != 500*time.Millisecond {
		t.Errorf("got path every %s (%v), want 500ms", l.PathEvery, err)
	}
	if _, err := Plan(Capacity{}, Need{Regions: 3, Window: time.Second, Headroom: DefaultHeadroom}, nil); err == nil {
		t.Error("a plan on no measured capacity")
	}
}

// Throughput is bounded in count and in time, and fails on any failure.
func TestThroughputBounds(t *testing.T) {
	var n atomic.Int32
	op := func(ctx context.Context, w int) error { n.Add(1); time.Sleep(5 * time.Millisecond); return nil }
	rate, err := Throughput(context.Background(), Burst{Workers: 4, Max: 40, For: time.Minute}, op)
	if err != nil || n.Load() != 40 {
		t.Fatalf("ran %d ops (%v), want exactly 40", n.Load(), err)
	}
	if rate < 100 || rate > 800 { // 4 workers at 5 ms: about 800/s at best
		t.Errorf("rate %.0f/s", rate)
	}
	start := time.Now()
	if _, err := Throughput(context.Background(), Burst{Workers: 2, Max: 1 << 30, For: 100 * time.Millisecond}, op); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a 100ms burst took %s", d)
	}
	_, err = Throughput(context.Background(), Burst{Workers: 2, Max: 10, For: time.Minute}, func(context.Context, int) error { return errors.New("502") })
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("got %v, want the failure", err)
	}
}

func TestQuiet(t *testing.T) {
	p, err := Quiet(context.Background(), 5, func(context.Context, int) error { time.Sleep(time.Millisecond); return nil })
	if err != nil || p.N != 5 || p.P50 < time.Millisecond {
		t.Errorf("got %+v, %v", p, err)
	}
	if got := chaos.PercentilesOf([]time.Duration{5, 1, 3, 2, 4}); got != (chaos.Percentiles{N: 5, P50: 3, P95: 5, P99: 5}) {
		t.Errorf("Percentiles = %+v", got)
	}
}

// An override that samples too rarely for the windows is refused: the
// windows would pass for want of evidence.
func TestPlanRefusesOverridesThatCannotResolveTheWindows(t *testing.T) {
	need := Need{Regions: 3, Window: 2 * time.Second, Headroom: DefaultHeadroom}
	for _, o := range []Override{
		{Flag: "session-every", Every: 0}, {Flag: "session-every", Every: 5 * time.Second},
		{Flag: "path-every", Every: 0}, {Flag: "path-every", Every: 1500 * time.Millisecond},
	} {
		_, err := Plan(machine, need, []Override{o})
		if !errors.Is(err, ErrUnresolved) {
			t.Errorf("--%s %s: got %v, want ErrUnresolved", o.Flag, o.Every, err)
		}
	}
	// Large windows let logins sample at W/2.
	if _, err := Plan(machine, Need{Regions: 3, Window: 15 * time.Second, Headroom: DefaultHeadroom}, []Override{{Flag: "session-every", Every: 7 * time.Second}}); err != nil {
		t.Errorf("session logins every 7s for 15s windows: %v", err)
	}
}

// Every probe kind samples the shortest scenario at least Coverage times,
// the session logins taking what that leaves; a machine too small for
// that coverage is refused, naming it.
func TestPlanCoversTheShortestScenario(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Span: 30 * time.Second, Browser: true, Headroom: DefaultHeadroom}
	l, err := Plan(machine, need, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]time.Duration{"register": l.RegisterEvery, "browser": l.BrowserEvery} {
		if d <= 0 || d > need.Span/Coverage {
			t.Errorf("%s every %s, want at most every %s", name, d, need.Span/Coverage)
		}
	}
	if l.LoginEvery <= 0 || l.LoginEvery > need.Span/RegionCoverage {
		t.Errorf("password logins every %s per region, want at most every %s", l.LoginEvery, need.Span/RegionCoverage)
	}
	if l.Utilisation > DefaultHeadroom+1e-9 || l.Utilisation < DefaultHeadroom*0.8 {
		t.Errorf("utilisation %.3f, want close to and at most %.2f", l.Utilisation, DefaultHeadroom)
	}
	uncovered, err := Plan(machine, Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.SessionEvery < uncovered.SessionEvery || l.BrowserEvery > uncovered.BrowserEvery {
		t.Errorf("with coverage sessions every %s and browser every %s, without %s and %s: coverage must come out of the sessions' share",
			l.SessionEvery, l.BrowserEvery, uncovered.SessionEvery, uncovered.BrowserEvery)
	}
	// Sessions whose share does not reach their floor take what is left.
	tight, err := Plan(Capacity{FullPerSecond: 4.5, SessionPerSecond: 12, PathPerSecond: 80}, need, nil)
	if err != nil || tight.SessionEvery != MaxSessionEvery || tight.Utilisation > DefaultHeadroom+1e-9 {
		t.Errorf("got sessions every %s at %.3f (%v), want every %s within the headroom", tight.SessionEvery, tight.Utilisation, err, MaxSessionEvery)
	}
	_, err = Plan(Capacity{FullPerSecond: 1, SessionPerSecond: 15, PathPerSecond: 80}, need, nil)
	if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), "every 15s") || !strings.Contains(err.Error(), "every 10s") || !strings.Contains(err.Error(), "1.0 password logins/s") {
		t.Errorf("got %v, want a refusal naming the coverage and the capacity", err)
	}
}

// A span off the 100 ms grid still gets its coverage: the periods round
// down, not up, even when the sessions take all that is left.
func TestCoverageSurvivesRounding(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Span: 32 * time.Second, Browser: true, Headroom: DefaultHeadroom}
	for _, c := range []Capacity{machine, {FullPerSecond: 4.5, SessionPerSecond: 12, PathPerSecond: 80}} {
		l, err := Plan(c, need, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 32 s / 3 = 10.67 s: three samples need a period of at most 10.6 s.
		if l.RegisterEvery > 10600*time.Millisecond || l.BrowserEvery > 10600*time.Millisecond || l.LoginEvery > 16*time.Second {
			t.Errorf("capacity %+v: register every %s, browser every %s, login every %s: want at most 10.6s, 10.6s, 16s",
				c, l.RegisterEvery, l.BrowserEvery, l.LoginEvery)
		}
	}
	// More targets than Coverage: one sample per target.
	wide := Need{Regions: 5, Window: time.Second, Span: 32 * time.Second, Browser: true, Headroom: DefaultHeadroom}
	if got := coverage(wide); got.RegisterEvery != 6400*time.Millisecond || got.BrowserEvery != 8*time.Second {
		t.Errorf("5 probed regions: coverage %+v, want registrations every 6.4s (5 bridges), browser every 8s (4 regions)", got)
	}
}

// A flag that sets a kind takes it out of the coverage the plan reserves,
// and is held to that coverage itself: sparser is refused, 0 turns it off.
func TestOverridesAndCoverage(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Span: 30 * time.Second, Browser: true, Headroom: DefaultHeadroom}
	_, err := Plan(machine, need, []Override{{Flag: "browser-every", Every: 30 * time.Second}})
	if !errors.Is(err, ErrUnresolved) || !strings.Contains(err.Error(), "--browser-every 30s") || !strings.Contains(err.Error(), "every 10s") {
		t.Errorf("got %v, want the sparse override refused, naming the flag and the coverage", err)
	}
	off, err := Plan(machine, need, []Override{{Flag: "browser-every", Every: 0}})
	if err != nil || off.BrowserEvery != 0 {
		t.Fatalf("browser off: %+v, %v", off, err)
	}
	on, _ := Plan(machine, need, nil)
	if off.SessionEvery > on.SessionEvery {
		t.Errorf("with the browser off sessions every %s, with it %s: its coverage must be given back", off.SessionEvery, on.SessionEvery)
	}
}

// The gate's run at 2385b74 measured this and was refused: sessions at
// their floor did not fit beside path probes every W/3 (0.4 s). Path
// probes every W/2 resolve the window too and leave the sessions room.
func TestPlanSlowsPathProbesToW2BeforeRefusing(t *testing.T) {
	measured := Capacity{FullPerSecond: 4.0, SessionPerSecond: 13.8, PathPerSecond: 64}
	need := Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom, Span: 30 * time.Second}
	l, err := Plan(measured, need, nil)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if l.PathEvery != 500*time.Millisecond || l.SessionEvery > MaxSessionEvery || l.Utilisation > DefaultHeadroom {
		t.Errorf("path every %s, sessions every %s, utilisation %.3f: want path at W/2, sessions within %s, within the headroom", l.PathEvery, l.SessionEvery, l.Utilisation, MaxSessionEvery)
	}
	// Where W/3 fits, it stays.
	if l, err := Plan(machine, Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom}, nil); err != nil || l.PathEvery != 400*time.Millisecond {
		t.Errorf("roomy machine: path every %s, %v; want 400ms", l.PathEvery, err)
	}
}
