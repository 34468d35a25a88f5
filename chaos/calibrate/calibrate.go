// Package calibrate sizes the chaos probes from what the stack measurably
// sustains on this machine. It measures a quiet baseline (sequential
// logins), then the capacity of password logins and of session logins in
// short closed-loop bursts bounded in count and time, and plans probe
// periods that use at most a declared share of that capacity (the
// headroom), so that the stack under test is never the overloaded one.
package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
)

// DefaultHeadroom is the share of the measured capacity the probes may use
// by default. At 35 % an open queue waits about half a service time
// (ρ/(1-ρ) ≈ 0.54): latency stays close to the quiet baseline, and a fault
// that halves the capacity still leaves the stack below saturation.
const DefaultHeadroom = 0.35

// BrowserCost is what a Chromium sign-in costs in password logins: its
// password hash plus the browser's own rendering, which runs on the same
// two cores (declared, not measured: a browser sign-in takes about as much
// CPU in Chromium as in the stack).
const BrowserCost = 2.0

// pathShare is the most of the headroom path probes may take;
// sessionShare the most of what they leave that session logins may take;
// the rest is for password logins, registrations and the browser.
const (
	pathShare    = 0.5
	sessionShare = 0.75
)

// Shares of the password-login budget, after the session logins (and on
// top of the coverage; a browser that has coverage keeps to it and leaves
// its share to the other two).
const (
	shareLogin    = 0.4
	shareRegister = 0.3
	shareBrowser  = 0.3
)

// MaxSessionEvery is the rarest session-login sampling a plan accepts when
// path probes resolve the smallest window: logins must still resolve a
// window of twice that themselves (the pause's 6 s is the smallest window
// after the replica kills'). For larger windows the bound is W/2, as for
// any probe.
const MaxSessionEvery = 2 * time.Second

// sessionFloor is the rarest session-login sampling a plan accepts for a
// smallest window of w.
func sessionFloor(w time.Duration) time.Duration { return max(w/2, MaxSessionEvery) }

// Capacity is what the stack sustained in the bursts, per second, and the
// quiet baseline's latency.
type Capacity struct {
	FullPerSecond, SessionPerSecond, PathPerSecond float64
	QuietFull, QuietSession                        chaos.Percentiles
	CPU                                            *chaos.CPUUse
}

// Rates are probe periods; 0 turns a probe off. Logins are per region.
type Rates struct {
	LoginEvery, SessionEvery, RegisterEvery, BrowserEvery, PathEvery time.Duration
}

// Override is a period set by a flag instead of the plan.
type Override struct {
	Flag  string
	Every time.Duration
}

// Need is what the plan must resolve: Regions probed (the global name
// counts as one) and the smallest window an SLO judges. A window of W
// needs a sample in every region at least every W/2; the plan samples
// every W/3, so that one failure between two successes spans about 2W/3
// and is told apart from an outage of W. The path probes, a few
// milliseconds of CPU each, resolve W; the session logins sample every W/3
// too when that fits in their share of the headroom, else as often as
// fits, but at least every max(W/2, MaxSessionEvery) (their own window,
// judged on the same W, is then judged conservatively: one failed login
// spans two of their periods).
//
// Span is the shortest judged history of a scenario (warm-up, faults,
// settling): every probe kind must be seen in every scenario, so
// registrations and browser sign-ins each sample at least every
// Span/Coverage, password logins every Span/RegionCoverage in each region,
// whatever their share of the budget would give them, and the session
// logins get what that leaves. 0 asks for no such coverage.
type Need struct {
	Regions  int
	Window   time.Duration
	Span     time.Duration
	Browser  bool // a browser probe is wanted
	Headroom float64
}

// Coverage is how many times at least registrations and browser sign-ins
// sample the shortest scenario: three, and at least once per target they
// go round (registrations every probed region's bridge, the global one
// included; browser sign-ins every real region), so that a target taken
// down by the fault still leaves the others to show the probe alive.
const Coverage = 3

// RegionCoverage is how many times at least the password logins sample
// the shortest scenario in each region.
const RegionCoverage = 2

// ErrUnresolved is an override that samples too rarely for the windows the
// SLOs judge (a window is then passed for want of evidence).
var ErrUnresolved = errors.New("probe load too sparse for the SLO windows")

// ErrOverloaded is a plan or an override that would use more of the
// measured capacity than the headroom allows.
var ErrOverloaded = errors.New("probe load beyond the headroom")

// Plan chooses the probe periods for need within c (path probes first,
// then the other kinds' coverage of the shortest scenario, then session
// logins, then the rest of the budget shared out), then applies the
// overrides (by flag: login-every, session-every, register-every,
// browser-every). It refuses a plan whose load exceeds the headroom,
// naming the flags and the measured capacity.
func Plan(c Capacity, need Need, overrides []Override) (chaos.Load, error) {
	load := chaos.Load{Headroom: need.Headroom, FullPerSecond: c.FullPerSecond, SessionPerSecond: c.SessionPerSecond, PathPerSecond: c.PathPerSecond,
		QuietFull: c.QuietFull, QuietSession: c.QuietSession, CPU: c.CPU}
	switch {
	case need.Headroom <= 0 || need.Headroom > 1:
		return load, fmt.Errorf("headroom %.2f: want a share in (0, 1]", need.Headroom)
	case need.Regions < 1:
		return load, errors.New("no region to probe")
	case c.FullPerSecond <= 0 || c.SessionPerSecond <= 0 || c.PathPerSecond <= 0 ||
		math.IsInf(c.FullPerSecond, 0) || math.IsInf(c.SessionPerSecond, 0) || math.IsInf(c.PathPerSecond, 0):
		return load, fmt.Errorf("capacity %.2f password logins, %.2f session logins and %.2f path probes/s: nothing measured", c.FullPerSecond, c.SessionPerSecond, c.PathPerSecond)
	case need.Window <= 0:
		return load, errors.New("no SLO window to resolve")
	}
	n := float64(need.Regions)
	// Path probes sample every W/3, or every W/2 when that does not fit
	// in pathShare of the headroom; a machine that cannot afford every W/2
	// cannot resolve the window.
	r := Rates{PathEvery: roundUp(need.Window / 3)}
	path := utilisation(c, need.Regions, r)
	if path > pathShare*need.Headroom {
		r.PathEvery = need.Window / 2
		if path = utilisation(c, need.Regions, r); path > pathShare*need.Headroom {
			return load, fmt.Errorf("%w: path probes every %s in %d regions (to resolve %s windows) need %.0f%% of the measured capacity (%.1f path probes/s), more than %.0f%% of the %.0f%% headroom",
				ErrOverloaded, r.PathEvery, need.Regions, need.Window, 100*path, c.PathPerSecond, 100*pathShare, 100*need.Headroom)
		}
	}
	// Password logins, registrations and browser sign-ins are first given
	// their coverage of the shortest scenario, unless a flag sets them.
	overridden := map[string]bool{}
	for _, o := range overrides {
		overridden[o.Flag] = true
	}
	want := coverage(need)
	cover := want
	if overridden["login-every"] {
		cover.LoginEvery = 0
	}
	if overridden["register-every"] {
		cover.RegisterEvery = 0
	}
	if overridden["browser-every"] {
		cover.BrowserEvery = 0
	}
	covered := utilisation(c, need.Regions, cover)
	// Sessions sample every W/3 when that fits in sessionShare of what the
	// path probes and the coverage leave, else as often as fits, down to
	// sessionFloor.
	left := need.Headroom - path - covered
	floor := sessionFloor(need.Window)
	if left <= 0 {
		return load, fmt.Errorf("%w: path probes and %s (to see each kind in the shortest scenario, %s) need %.0f%% of the measured capacity (%.1f password logins/s, %.1f path probes/s), more than the %.0f%% headroom",
			ErrOverloaded, describeCoverage(cover), need.Span.Round(100*time.Millisecond), 100*(path+covered), c.FullPerSecond, c.PathPerSecond, 100*need.Headroom)
	}
	// When their share does not reach the floor, they may take all of
	// what is left to reach it.
	r.SessionEvery = max(roundUp(need.Window/3), roundUp(seconds(n/(sessionShare*left*c.SessionPerSecond))))
	if r.SessionEvery > floor {
		// Sessions at their floor do not fit beside path probes every
		// W/3: path probes every W/2 still resolve the window and leave
		// the sessions more.
		if u := utilisation(c, need.Regions, Rates{SessionEvery: floor}); u > left && r.PathEvery < need.Window/2 {
			r.PathEvery = need.Window / 2
			path = utilisation(c, need.Regions, Rates{PathEvery: r.PathEvery})
			left = need.Headroom - path - covered
		}
		if u := utilisation(c, need.Regions, Rates{SessionEvery: floor}); u > left {
			return load, fmt.Errorf("%w: session logins every %s in %d regions need %.0f%% of the measured capacity (%.1f session logins/s), more than the %.0f%% of the headroom the path probes and the other probes' coverage leave",
				ErrOverloaded, floor, need.Regions, 100*u, c.SessionPerSecond, 100*left)
		}
		r.SessionEvery = floor
	}
	session := path + utilisation(c, need.Regions, Rates{SessionEvery: r.SessionEvery})
	// What is left after the coverage is shared out on top of it, in
	// password logins per second.
	extra := (need.Headroom - session - covered) * c.FullPerSecond
	// A browser with coverage samples at exactly that: each sign-in costs
	// the harness a Chromium page load on the same cores, so its share
	// goes to the others.
	login, register, browser := shareLogin, shareRegister, shareBrowser
	if cover.BrowserEvery > 0 {
		login, register, browser = login+browser*login/(login+register), register+browser*register/(login+register), 0
	}
	r.LoginEvery = roundUp(seconds(n / (perSecond(cover.LoginEvery, n) + login*extra)))
	r.RegisterEvery = roundUp(seconds(1 / (perSecond(cover.RegisterEvery, 1) + register*extra)))
	if need.Browser {
		r.BrowserEvery = roundUp(seconds(BrowserCost / (perSecond(cover.BrowserEvery, BrowserCost) + browser*extra)))
	}
	for _, o := range overrides {
		switch o.Flag {
		case "login-every":
			r.LoginEvery = o.Every
		case "session-every":
			r.SessionEvery = o.Every
		case "register-every":
			r.RegisterEvery = o.Every
		case "browser-every":
			r.BrowserEvery = o.Every
		case "path-every":
			r.PathEvery = o.Every
		default:
			return load, fmt.Errorf("override of unknown flag %q", o.Flag)
		}
		load.Overridden = append(load.Overridden, fmt.Sprintf("--%s %s", o.Flag, o.Every))
	}
	if r.PathEvery <= 0 || r.PathEvery > need.Window/2 {
		return load, fmt.Errorf("%w: path probes every %s cannot resolve the %s windows the scenarios judge (want at most every %s)", ErrUnresolved, r.PathEvery, need.Window, need.Window/2)
	}
	if r.SessionEvery <= 0 || r.SessionEvery > floor {
		return load, fmt.Errorf("%w: session logins every %s leave the regions without a login for too long (want at most every %s)", ErrUnresolved, r.SessionEvery, floor)
	}
	for _, k := range []struct {
		flag, what  string
		got, atMost time.Duration
	}{
		{"login-every", "password logins in each region", r.LoginEvery, want.LoginEvery},
		{"register-every", "registrations", r.RegisterEvery, want.RegisterEvery},
		{"browser-every", "browser sign-ins", r.BrowserEvery, want.BrowserEvery},
	} {
		if overridden[k.flag] && k.got > 0 && k.atMost > 0 && k.got > k.atMost {
			return load, fmt.Errorf("%w: --%s %s leaves the shortest scenario (%s) without its %s (want at most every %s, or 0 to turn them off)",
				ErrUnresolved, k.flag, k.got, need.Span.Round(100*time.Millisecond), k.what, k.atMost)
		}
	}
	load.LoginEvery, load.SessionEvery, load.RegisterEvery, load.BrowserEvery, load.PathEvery = r.LoginEvery, r.SessionEvery, r.RegisterEvery, r.BrowserEvery, r.PathEvery
	load.Utilisation = utilisation(c, need.Regions, r)
	if load.Utilisation > need.Headroom+1e-9 {
		return load, fmt.Errorf("%w: %s use %.0f%% of the measured capacity (%.1f password logins/s, %.1f session logins/s, %.1f path probes/s), above the %.0f%% headroom",
			ErrOverloaded, strings.Join(load.Overridden, " "), 100*load.Utilisation, c.FullPerSecond, c.SessionPerSecond, c.PathPerSecond, 100*need.Headroom)
	}
	return load, nil
}

// coverage returns the rarest periods that still see each kind often
// enough in the shortest scenario (RegionCoverage password logins per
// region; Coverage registrations and browser sign-ins, and one per target
// they go round), on the 100 ms grid the plan rounds to, rounded down so
// that no rounding takes a sample out. Kinds not wanted are 0.
func coverage(need Need) Rates {
	if need.Span <= 0 {
		return Rates{}
	}
	r := Rates{
		LoginEvery:    roundDown(need.Span / RegionCoverage),
		RegisterEvery: roundDown(need.Span / time.Duration(max(Coverage, need.Regions))),
	}
	if need.Browser {
		r.BrowserEvery = roundDown(need.Span / time.Duration(max(Coverage, need.Regions-1)))
	}
	return r
}

// describeCoverage names the coverage periods of r that are set.
func describeCoverage(r Rates) string {
	var parts []string
	if r.LoginEvery > 0 {
		parts = append(parts, "a password login per region every "+r.LoginEvery.String())
	}
	if r.RegisterEvery > 0 {
		parts = append(parts, "a registration every "+r.RegisterEvery.String())
	}
	if r.BrowserEvery > 0 {
		parts = append(parts, "a browser sign-in every "+r.BrowserEvery.String())
	}
	if len(parts) == 0 {
		return "no other probe"
	}
	return strings.Join(parts, ", ")
}

// utilisation is the share of capacity rates r use in regions regions.
func utilisation(c Capacity, regions int, r Rates) float64 {
	per := perSecond
	n := float64(regions)
	full := per(r.LoginEvery, n) + per(r.RegisterEvery, 1) + BrowserCost*per(r.BrowserEvery, 1)
	u := full/c.FullPerSecond + per(r.SessionEvery, n)/c.SessionPerSecond
	if c.PathPerSecond > 0 {
		u += per(r.PathEvery, n) / c.PathPerSecond
	}
	return u
}

// perSecond is n operations every every, per second (0 when off).
func perSecond(every time.Duration, n float64) float64 {
	if every <= 0 {
		return 0
	}
	return n / every.Seconds()
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// roundDown rounds d down to a tenth of a second.
func roundDown(d time.Duration) time.Duration {
	const q = 100 * time.Millisecond
	return d / q * q
}

// roundUp rounds d up to a tenth of a second (a longer period is a lighter
// load).
func roundUp(d time.Duration) time.Duration {
	const q = 100 * time.Millisecond
	return (d + q - 1) / q * q
}

// Op is one probe operation for a burst; worker says which of the burst's
// workers runs it (each has its own session).
type Op func(ctx context.Context, worker int) error

// Burst bounds a closed-loop burst.
type Burst struct {
	Workers int
	Max     int           // operations in all
	For     time.Duration // and no longer than this
}

// Throughput runs op in a closed loop on b.Workers workers until b.Max
// operations have finished or b.For has passed, and returns completed
// operations per second. Any failure fails the burst: a stack that fails
// quiet logins is not in a steady state to measure.
func Throughput(ctx context.Context, b Burst, op Op) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, b.For+30*time.Second)
	defer cancel()
	deadline := time.Now().Add(b.For)
	var mu sync.Mutex
	started, done := 0, 0
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.Workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if started >= b.Max || time.Now().After(deadline) || len(errs) > 0 {
					mu.Unlock()
					return
				}
				started++
				mu.Unlock()
				err := op(ctx, w)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					done++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(errs) > 0 {
		return 0, fmt.Errorf("burst: %d of %d failed: %w", len(errs), started, errs[0])
	}
	return float64(done) / elapsed.Seconds(), nil
}

// Quiet runs op once to warm up (connections, caches), then n times one
// after another, and returns those n latencies' percentiles; any failure
// fails it.
func Quiet(ctx context.Context, n int, op Op) (chaos.Percentiles, error) {
	var d []time.Duration
	for i := range n + 1 {
		start := time.Now()
		if err := op(ctx, 0); err != nil {
			return chaos.Percentiles{}, fmt.Errorf("quiet login %d of %d: %w", i+1, n+1, err)
		}
		if i > 0 {
			d = append(d, time.Since(start))
		}
	}
	return chaos.PercentilesOf(d), nil
}
