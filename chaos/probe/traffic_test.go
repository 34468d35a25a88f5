package probe

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
)

// A slow operation must not hold the next tick's back (an open loop), and
// no more than the bound may run at once: the rest are counted as skipped.
func TestOpenLoopKeepsItsRateAndItsBound(t *testing.T) {
	var started, running, peak, skipped atomic.Int64
	release := make(chan struct{})
	next := func(int, int) func(context.Context) {
		return func(context.Context) {
			started.Add(1)
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release // every operation hangs until the test lets go
			running.Add(-1)
		}
	}
	done := make(chan struct{})
	go func() {
		openLoop(context.Background(), grid{epoch: time.Now(), every: time.Millisecond, claims: &claims{}}, 3, 10, next, func() { skipped.Add(1) })
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	for started.Load()+skipped.Load() < 10 {
		select {
		case <-deadline:
			t.Fatalf("ticks stalled behind hung operations: %d started, %d skipped", started.Load(), skipped.Load())
		case <-time.After(time.Millisecond):
		}
	}
	close(release)
	<-done
	if started.Load() != 3 || skipped.Load() != 7 || peak.Load() != 3 {
		t.Errorf("started %d, skipped %d, peak in flight %d; want 3, 7, 3", started.Load(), skipped.Load(), peak.Load())
	}
}

// The loop stops at cancel and waits for what it started.
func TestOpenLoopStopsAndWaits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var finished atomic.Int64
	next := func(int, int) func(context.Context) {
		return func(ctx context.Context) {
			<-ctx.Done()
			finished.Add(1)
		}
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	openLoop(ctx, grid{epoch: time.Now(), every: time.Millisecond, claims: &claims{}}, 2, 1_000_000, next, func() {})
	if finished.Load() != 2 {
		t.Errorf("%d operations finished before the loop returned, want 2", finished.Load())
	}
}

// Runs of one schedule tick on one grid: a run that starts mid-period
// waits for the grid's next tick, whatever its own start, and the tick
// index goes on where the run before left it; a stalled loop drops the
// ticks it missed instead of bursting.
func TestGridSpansRuns(t *testing.T) {
	epoch := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	g := grid{epoch: epoch, every: 10 * time.Second, phase: 3 * time.Second}
	for _, c := range []struct {
		now      time.Duration // after the epoch
		from     int
		wantK    int
		wantAtAt time.Duration
	}{
		{0, 0, 0, 3 * time.Second},                 // the first run waits for its phase
		{3 * time.Second, 0, 0, 3 * time.Second},   // on a tick: that tick
		{4 * time.Second, 0, 1, 13 * time.Second},  // a part starting between ticks
		{25 * time.Second, 0, 3, 33 * time.Second}, // and later
		{25 * time.Second, 5, 5, 53 * time.Second}, // never an index already used
		{61 * time.Second, 4, 6, 63 * time.Second}, // a stall drops ticks 4 and 5
	} {
		k, at := g.after(epoch.Add(c.now), c.from)
		if k != c.wantK || !at.Equal(epoch.Add(c.wantAtAt)) {
			t.Errorf("after(+%s, from %d) = %d at +%s; want %d at +%s", c.now, c.from, k, at.Sub(epoch), c.wantK, c.wantAtAt)
		}
	}
}

// Parts of one Traffic share their loops' claims: two runs that overlap
// (one stopping as the next starts) never fire the same tick, the tick
// index goes on from one part to the next, and the count of started
// operations, which picks a loop's target, carries on too.
func TestPartsShareTheirLoopsTicks(t *testing.T) {
	tr := &Traffic{}
	g := grid{epoch: tr.epoch(), every: 2 * time.Millisecond, claims: tr.claimsOf("register")}
	if tr.epoch() != g.epoch || tr.claimsOf("register") != g.claims {
		t.Fatal("a Traffic's epoch and claims must be the same for every run")
	}
	var mu sync.Mutex
	ticks := map[int]int{}
	var starts []int
	run := func(ctx context.Context, n int) {
		openLoop(ctx, g, 5, n, func(k, started int) func(context.Context) {
			mu.Lock()
			ticks[k]++
			starts = append(starts, started)
			mu.Unlock()
			return func(context.Context) {}
		}, func() {})
	}
	run(context.Background(), 3)
	// Two overlapping runs.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { run(context.Background(), 10) })
	}
	wg.Wait()
	for k, n := range ticks {
		if n > 1 {
			t.Errorf("tick %d fired %d times", k, n)
		}
		if k < 0 {
			t.Errorf("tick %d", k)
		}
	}
	if len(ticks) != 23 {
		t.Errorf("%d ticks fired, want 23 (3, then 10 and 10 overlapping)", len(ticks))
	}
	seen := map[int]bool{}
	for _, n := range starts {
		seen[n] = true
	}
	for n := range 23 {
		if !seen[n] {
			t.Errorf("started counts %v lack %d: the count must go on across runs", starts, n)
			break
		}
	}
}

// A run's report holds its events by start time, its keys by first
// sighting and its skipped ticks, and counts its logins for the progress
// line.
func TestCollectorReport(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c := newCollector()
	c.add(chaos.Event{Probe: chaos.ProbeSessionLogin, Start: t0.Add(2 * time.Second), OK: false})
	c.add(chaos.Event{Probe: chaos.ProbeHTTPLogin, Start: t0, OK: true})
	c.add(chaos.Event{Probe: chaos.ProbeVerify, Start: t0.Add(time.Second), OK: true})
	c.sawKey("b", t0.Add(time.Second))
	c.sawKey("a", t0)
	c.sawKey("b", t0.Add(3*time.Second)) // not the first sighting
	c.skip("login-eu")
	c.skip("login-eu")
	r := c.report()
	if len(r.Events) != 3 || !r.Events[0].Start.Equal(t0) || !r.Events[2].Start.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("events not by start: %+v", r.Events)
	}
	if len(r.Keys) != 2 || r.Keys[0].Kid != "a" || r.Keys[1].Kid != "b" || !r.Keys[1].Published.Equal(t0.Add(time.Second)) {
		t.Fatalf("keys %+v", r.Keys)
	}
	if r.SkippedTicks["login-eu"] != 2 {
		t.Fatalf("skipped %v", r.SkippedTicks)
	}
	if n, failed := c.counts(); n != 2 || failed != 1 {
		t.Fatalf("counts %d logins, %d failed; want 2 and 1", n, failed)
	}
	if newCollector().report().SkippedTicks != nil {
		t.Fatal("no skipped ticks should report nil")
	}
}

// Every run of one Traffic shares the same session clients, so runs that
// overlap while one stops never drive a session twice at once.
func TestRunsShareTheSessionPools(t *testing.T) {
	s1, s2 := &Session{}, &Session{}
	tr := &Traffic{Sessions: map[string][]*Session{"eu": {s1, s2}}}
	a, b := tr.sessionPools(), tr.sessionPools()
	if a["eu"] != b["eu"] || cap(a["eu"]) != 2 || len(a["eu"]) != 2 {
		t.Fatalf("pools differ or are short: %v %v", a, b)
	}
}
