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

var machine = Capacity{FullPerSecond: 4.7, SessionPerSecond: 40}

func TestPlanStaysWithinTheHeadroom(t *testing.T) {
	need := Need{Regions: 3, Window: time.Second, Browser: true, Headroom: DefaultHeadroom}
	l, err := Plan(machine, need, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Utilisation > DefaultHeadroom || l.Utilisation < DefaultHeadroom*0.8 {
		t.Errorf("utilisation %.3f, want close to and at most %.2f", l.Utilisation, DefaultHeadroom)
	}
	// A 1 s window needs a session login at least every 0.5 s per region.
	if l.SessionEvery > 500*time.Millisecond || l.SessionEvery <= 0 {
		t.Errorf("session logins every %s, want at most 500ms", l.SessionEvery)
	}
	for name, d := range map[string]time.Duration{"login": l.LoginEvery, "register": l.RegisterEvery, "browser": l.BrowserEvery} {
		if d <= 0 {
			t.Errorf("%s probe off, want it planned", name)
		}
	}
	if got := utilisation(machine, 3, Rates{l.LoginEvery, l.SessionEvery, l.RegisterEvery, l.BrowserEvery}); got != l.Utilisation {
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
	fast, _ := Plan(machine, need, nil)
	slow, err := Plan(Capacity{FullPerSecond: machine.FullPerSecond / 2, SessionPerSecond: machine.SessionPerSecond / 2}, need, nil)
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
	for _, want := range []string{"--login-every 1s", "4.7 password logins/s", "35% headroom"} {
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
	_, err := Plan(Capacity{FullPerSecond: 4.7, SessionPerSecond: 5}, Need{Regions: 3, Window: time.Second, Headroom: DefaultHeadroom}, nil)
	if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), "to resolve 1s windows") {
		t.Errorf("got %v, want a refusal naming the window", err)
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
	for _, every := range []time.Duration{0, 5 * time.Second} {
		_, err := Plan(machine, need, []Override{{Flag: "session-every", Every: every}})
		if !errors.Is(err, ErrUnresolved) {
			t.Errorf("--session-every %s: got %v, want ErrUnresolved", every, err)
		}
	}
}
