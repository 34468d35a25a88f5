package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/chaos/scenario"
)

// ErrHealFailed is a fault the scheduler could not heal: the stack is in
// no known state, so the suite stops there.
var ErrHealFailed = errors.New("a fault could not be healed")

// scheduled is what the scheduler observed: each fault's window, when the
// first was injected and the last healed, what the faults themselves
// observed, and the errors.
type scheduled struct {
	Windows             []chaos.FaultWindow
	FaultsStart, Healed time.Time
	Observed            fault.Observation
	// InjectErr joins the faults that failed to inject; HealErr those that
	// failed to heal (wrapping ErrHealFailed).
	InjectErr, HealErr error
}

// healsAfter lists, for each fault of faults, the faults whose heal must
// come first: those injected after it (later At, or the same At and later
// in the list) while it is still due to be active. Heals thus run in
// reverse order of injection among faults active together, so that a
// fault that depends on what a later one broke (a rotation on the Vault
// killed under it) heals on a repaired stack.
func healsAfter(faults []scenario.Timed) [][]int {
	out := make([][]int, len(faults))
	for i, fi := range faults {
		for j, fj := range faults {
			later := fj.At > fi.At || (fj.At == fi.At && j > i)
			if later && fj.At < fi.At+fi.For {
				out[i] = append(out[i], j)
			}
		}
	}
	return out
}

// schedule injects faults on their timing from now and heals each one
// For after its injection, once the faults healsAfter names have healed.
// A fault injected is healed also when ctx ends (at once) and after a
// failed or panicking inject (part of it may have happened).
func schedule(ctx context.Context, fenv fault.Env, faults []scenario.Timed, logf func(string, ...any)) scheduled {
	start := time.Now()
	deps := healsAfter(faults)
	healed := make([]chan struct{}, len(faults))
	for i := range healed {
		healed[i] = make(chan struct{})
	}
	var mu sync.Mutex
	var out scheduled
	var injectErrs, healErrs []error
	var wg sync.WaitGroup
	for i, t := range faults {
		wg.Go(func() {
			defer close(healed[i])
			sleep(ctx, t.At-time.Since(start))
			if ctx.Err() != nil {
				return // interrupted before its time: never injected
			}
			w := chaos.FaultWindow{Fault: t.Fault.Name(), Target: t.Fault.Target(), Start: time.Now()}
			mu.Lock()
			if out.FaultsStart.IsZero() || w.Start.Before(out.FaultsStart) {
				out.FaultsStart = w.Start
			}
			mu.Unlock()
			ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			ierr := guard(func() error { return t.Fault.Inject(ictx, fenv) })
			cancel()
			if ierr != nil {
				w.Err = "inject: " + ierr.Error()
			} else {
				logf("    +%s injected %s %s", time.Since(start).Round(100*time.Millisecond), w.Fault, w.Target)
				sleep(ctx, t.For-time.Since(w.Start))
			}
			for _, j := range deps[i] {
				<-healed[j]
			}
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			herr := guard(func() error { return t.Fault.Heal(hctx, fenv) })
			cancel()
			w.End = time.Now()
			if herr != nil {
				w.Err = strings.TrimPrefix(w.Err+"; heal: "+herr.Error(), "; ")
				logf("    +%s HEAL FAILED %s %s: %v", time.Since(start).Round(100*time.Millisecond), w.Fault, w.Target, herr)
			} else {
				logf("    +%s healed %s %s", time.Since(start).Round(100*time.Millisecond), w.Fault, w.Target)
			}
			var obs fault.Observation
			if r, ok := t.Fault.(fault.Reporter); ok {
				obs = r.Observed()
			}
			mu.Lock()
			defer mu.Unlock()
			out.Windows = append(out.Windows, w)
			out.Observed = out.Observed.Join(obs)
			if w.End.After(out.Healed) {
				out.Healed = w.End
			}
			if ierr != nil {
				injectErrs = append(injectErrs, fmt.Errorf("%s %s: inject: %w", w.Fault, w.Target, ierr))
			}
			if herr != nil {
				healErrs = append(healErrs, fmt.Errorf("%w: %s %s: %w", ErrHealFailed, w.Fault, w.Target, herr))
			}
		})
	}
	wg.Wait()
	sort.Slice(out.Windows, func(i, j int) bool { return out.Windows[i].Start.Before(out.Windows[j].Start) })
	out.InjectErr, out.HealErr = errors.Join(injectErrs...), errors.Join(healErrs...)
	return out
}

// guard runs fn and turns a panic into an error, so that one fault's bug
// cannot leave the others unhealed.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}
