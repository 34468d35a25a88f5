package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/chaos/scenario"
)

// fakeFault records when it was injected and healed.
type fakeFault struct {
	name      string
	injectErr error
	panics    bool

	mu               sync.Mutex
	injected, healed time.Time
	heals            int
}

func (f *fakeFault) Name() string              { return f.name }
func (f *fakeFault) Target() string            { return "fake" }
func (f *fakeFault) Available(fault.Env) error { return nil }
func (f *fakeFault) Inject(context.Context, fault.Env) error {
	f.mu.Lock()
	f.injected = time.Now()
	f.mu.Unlock()
	if f.panics {
		panic("boom")
	}
	return f.injectErr
}
func (f *fakeFault) Heal(context.Context, fault.Env) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healed, f.heals = time.Now(), f.heals+1
	return nil
}

func TestScheduleTiming(t *testing.T) {
	a, b := &fakeFault{name: "a"}, &fakeFault{name: "b"}
	sc := scenario.Scenario{Name: "t", Faults: []scenario.Timed{
		{At: 0, For: 100 * time.Millisecond, Fault: a},
		{At: 150 * time.Millisecond, For: 50 * time.Millisecond, Fault: b},
	}}
	h := &chaos.History{Start: time.Now()}
	o := Options{Warmup: 50 * time.Millisecond}
	windows, err := schedule(context.Background(), fault.Env{}, sc, o, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(windows) != 2 || windows[0].Fault != "a" || windows[1].Fault != "b" {
		t.Fatalf("got windows %+v, want a then b", windows)
	}
	if d := a.injected.Sub(h.Start); d < o.Warmup {
		t.Errorf("a injected %s after start, want after the %s warm-up", d, o.Warmup)
	}
	if d := b.injected.Sub(a.injected); d < 150*time.Millisecond {
		t.Errorf("b injected %s after a, want at least 150ms", d)
	}
	if d := a.healed.Sub(a.injected); d < 100*time.Millisecond {
		t.Errorf("a held %s, want at least 100ms", d)
	}
	if !h.FaultsStart.Before(a.injected) || h.Healed.Before(b.healed) {
		t.Errorf("history faults %s..%s do not span the injections", h.FaultsStart, h.Healed)
	}
}

// A fault whose inject fails or panics is healed all the same, and the
// failure is reported.
func TestScheduleHealsFailedInjects(t *testing.T) {
	failing := &fakeFault{name: "failing", injectErr: errors.New("no such node")}
	panicking := &fakeFault{name: "panicking", panics: true}
	sc := scenario.Scenario{Faults: []scenario.Timed{{Fault: failing, For: time.Hour}, {Fault: panicking, For: time.Hour}}}
	windows, err := schedule(context.Background(), fault.Env{}, sc, Options{}, &chaos.History{Start: time.Now()})
	if err == nil {
		t.Fatal("got no error, want the inject failures")
	}
	for _, f := range []*fakeFault{failing, panicking} {
		if f.heals != 1 {
			t.Errorf("%s healed %d times, want 1", f.name, f.heals)
		}
	}
	for _, w := range windows {
		if w.Err == "" {
			t.Errorf("window %s has no error", w.Fault)
		}
	}
}

// Interrupted mid-fault, the scheduler heals at once; a fault whose time
// had not come is never injected.
func TestScheduleInterrupted(t *testing.T) {
	now, later := &fakeFault{name: "now"}, &fakeFault{name: "later"}
	sc := scenario.Scenario{Faults: []scenario.Timed{
		{At: 0, For: time.Hour, Fault: now},
		{At: time.Hour, For: time.Second, Fault: later},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	windows, err := schedule(ctx, fault.Env{}, sc, Options{}, &chaos.History{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("schedule took %s after the interrupt", took)
	}
	if now.heals != 1 {
		t.Errorf("the active fault healed %d times, want 1", now.heals)
	}
	if !later.injected.IsZero() || later.heals != 0 {
		t.Error("a fault not yet due was injected or healed")
	}
	if len(windows) != 1 {
		t.Errorf("got %d windows, want 1", len(windows))
	}
}
