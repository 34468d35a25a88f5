package runner

import (
	"context"
	"errors"
	"slices"
	"strings"
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
	healErr   error
	panics    bool
	order     *[]string // heals append their name

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
	if f.order != nil {
		*f.order = append(*f.order, f.name)
	}
	return f.healErr
}

func nolog(string, ...any) {}

func TestScheduleTiming(t *testing.T) {
	a, b := &fakeFault{name: "a"}, &fakeFault{name: "b"}
	faults := []scenario.Timed{
		{At: 0, For: 100 * time.Millisecond, Fault: a},
		{At: 150 * time.Millisecond, For: 50 * time.Millisecond, Fault: b},
	}
	start := time.Now()
	s := schedule(context.Background(), fault.Env{}, faults, nolog)
	if s.InjectErr != nil || s.HealErr != nil {
		t.Fatal(s.InjectErr, s.HealErr)
	}
	if len(s.Windows) != 2 || s.Windows[0].Fault != "a" || s.Windows[1].Fault != "b" {
		t.Fatalf("got windows %+v, want a then b", s.Windows)
	}
	if d := b.injected.Sub(start); d < 150*time.Millisecond {
		t.Errorf("b injected %s after start, want at least 150ms", d)
	}
	if d := a.healed.Sub(a.injected); d < 100*time.Millisecond {
		t.Errorf("a held %s, want at least 100ms", d)
	}
	if s.FaultsStart.After(a.injected) || s.Healed.Before(b.healed) {
		t.Errorf("faults %s..%s do not span the injections", s.FaultsStart, s.Healed)
	}
}

// Faults active together heal in reverse order of injection: the rotation
// (injected first, due to heal at 40ms) waits for the Vault kill injected
// after it (due at 80ms). A fault that ended before the next began heals
// on its own time.
func TestScheduleHealsInReverseOrderOfInjection(t *testing.T) {
	var order []string
	rotate := &fakeFault{name: "rotate", order: &order}
	vault := &fakeFault{name: "vault", order: &order}
	early := &fakeFault{name: "early", order: &order}
	faults := []scenario.Timed{
		{At: 0, For: 10 * time.Millisecond, Fault: early},
		{At: 20 * time.Millisecond, For: 20 * time.Millisecond, Fault: rotate},
		{At: 30 * time.Millisecond, For: 50 * time.Millisecond, Fault: vault},
	}
	s := schedule(context.Background(), fault.Env{}, faults, nolog)
	if s.HealErr != nil {
		t.Fatal(s.HealErr)
	}
	if want := []string{"early", "vault", "rotate"}; !slices.Equal(order, want) {
		t.Errorf("healed in order %v, want %v", order, want)
	}
	if rotate.healed.Before(vault.healed) {
		t.Error("rotation healed before the Vault it depends on")
	}
}

func TestHealsAfter(t *testing.T) {
	faults := []scenario.Timed{
		{At: 0, For: 20 * time.Second},              // 0: overlaps 1 and 2
		{At: 4 * time.Second, For: 8 * time.Second}, // 1
		{At: 12 * time.Second, For: time.Second},    // 2: starts as 1 ends
		{At: 30 * time.Second, For: time.Second},    // 3: after everything
		{At: 30 * time.Second, For: time.Second},    // 4: same time as 3, later in the list
	}
	got := healsAfter(faults)
	want := [][]int{{1, 2}, nil, nil, {4}, nil}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("fault %d heals after %v, want %v", i, got[i], want[i])
		}
	}
}

// A heal that fails is reported as ErrHealFailed, naming the fault.
func TestScheduleReportsAFailedHeal(t *testing.T) {
	stuck := &fakeFault{name: "stuck", healErr: errors.New("container gone")}
	s := schedule(context.Background(), fault.Env{}, []scenario.Timed{{Fault: stuck, For: time.Millisecond}}, nolog)
	if !errors.Is(s.HealErr, ErrHealFailed) || !strings.Contains(s.HealErr.Error(), "stuck") {
		t.Errorf("got %v, want ErrHealFailed naming the fault", s.HealErr)
	}
}

// A fault whose inject fails or panics is healed all the same, and the
// failure is reported.
func TestScheduleHealsFailedInjects(t *testing.T) {
	failing := &fakeFault{name: "failing", injectErr: errors.New("no such node")}
	panicking := &fakeFault{name: "panicking", panics: true}
	s := schedule(context.Background(), fault.Env{}, []scenario.Timed{{Fault: failing, For: time.Hour}, {Fault: panicking, For: time.Hour}}, nolog)
	if s.InjectErr == nil {
		t.Fatal("got no error, want the inject failures")
	}
	for _, f := range []*fakeFault{failing, panicking} {
		if f.heals != 1 {
			t.Errorf("%s healed %d times, want 1", f.name, f.heals)
		}
	}
	for _, w := range s.Windows {
		if w.Err == "" {
			t.Errorf("window %s has no error", w.Fault)
		}
	}
}

// Interrupted mid-fault, the scheduler heals at once; a fault whose time
// had not come is never injected.
func TestScheduleInterrupted(t *testing.T) {
	now, later := &fakeFault{name: "now"}, &fakeFault{name: "later"}
	faults := []scenario.Timed{
		{At: 0, For: time.Hour, Fault: now},
		{At: time.Hour, For: time.Second, Fault: later},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	s := schedule(ctx, fault.Env{}, faults, nolog)
	if s.InjectErr != nil || s.HealErr != nil {
		t.Fatal(s.InjectErr, s.HealErr)
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
	if len(s.Windows) != 1 {
		t.Errorf("got %d windows, want 1", len(s.Windows))
	}
}

// readBack looks every address up and keeps why a lookup failed.
func TestReadBack(t *testing.T) {
	store := map[string]bool{"a@x": true}
	exists := func(_ context.Context, e string) (bool, error) {
		if e == "broken@x" {
			return false, errors.New("admin API down")
		}
		return store[e], nil
	}
	got := readBack(context.Background(), exists, []string{"a@x", "b@x", "broken@x"})
	want := []chaos.RegistrationRead{{Email: "a@x", Found: true}, {Email: "b@x"}, {Email: "broken@x", Err: "admin API down"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSuitePassedIsOverTheScenariosThatRan(t *testing.T) {
	pass, fail, notRun := chaos.Result{Passed: true}, chaos.Result{}, chaos.Result{NotRun: "needs CockroachDB"}
	for _, tt := range []struct {
		results []chaos.Result
		want    bool
	}{
		{[]chaos.Result{pass, notRun}, true},
		{[]chaos.Result{pass, fail, notRun}, false},
		{[]chaos.Result{notRun}, false}, // nothing ran: nothing passed
		{nil, false},
	} {
		if got := suitePassed(tt.results); got != tt.want {
			t.Errorf("suitePassed(%+v) = %v, want %v", tt.results, got, tt.want)
		}
	}
}
