// Package fault holds the faults a chaos scenario injects, as values: each
// names itself and its target, says whether a target can take it, injects
// itself, heals itself and reports what it observed. Faults act through
// small interfaces a target implements (Nodes, Names, Keys, Database): no
// Docker, Vault, Hydra or Patroni type appears here, so a Kubernetes
// target implements the same four.
package fault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/keyrotation"
)

// ErrUnavailable is returned by Available when a target cannot take a
// fault (e.g. a CockroachDB-only fault on PostgreSQL).
var ErrUnavailable = errors.New("fault unavailable on this target")

// Nodes acts on a deployment's nodes by name: a crash and a restart, a
// freeze, a region cut off its WAN, a slow WAN link.
type Nodes interface {
	Kill(ctx context.Context, node string) error
	Start(ctx context.Context, node string) error
	Pause(ctx context.Context, node string) error
	Unpause(ctx context.Context, node string) error
	// Restart stops node cleanly (SIGKILL after grace) and starts it.
	Restart(ctx context.Context, node string, grace time.Duration) error
	CutRegion(ctx context.Context, region string) error
	RestoreRegion(ctx context.Context, region string) error
	SlowLink(ctx context.Context, region string, latency, jitter time.Duration) error
	FastLink(ctx context.Context, region string) error
}

// Names maps what a scenario names to the deployment's nodes.
type Names interface {
	// Replica is the node of a service's replica i (from 1) in a region.
	Replica(region, service string, i int) string
	// WithRole lists the nodes with a global role (the database, Vault),
	// in a stable order.
	WithRole(ctx context.Context, role string) ([]string, error)
}

// Keys rotates and revokes the ID-token signing keys.
type Keys interface {
	// Step runs one rotation step (pre-publish, promote, retire as due).
	Step(ctx context.Context) ([]keyrotation.Outcome, error)
	// ActiveKid is the key that signs now.
	ActiveKid(ctx context.Context) (string, error)
	// Revoke withdraws kid at once and waits up to wait for it to be gone.
	Revoke(ctx context.Context, kid, reason string, wait time.Duration) (keyrotation.RevokeReport, error)
}

// Env is what faults act on.
type Env struct {
	Topology infra.Topology
	Nodes    Nodes
	Names    Names
	// Keys is nil where the target has no key rotation set up.
	Keys Keys
	// Database is the database tier (nil where the target does not
	// expose it).
	Database Database
	// Log receives progress lines.
	Log func(format string, args ...any)
}

func (e Env) logf(format string, args ...any) {
	if e.Log != nil {
		e.Log(format, args...)
	}
}

// Fault is one kind of trouble.
type Fault interface {
	// Name is the fault's kind, e.g. "kill".
	Name() string
	// Target names what it hits: nodes, a service, a region.
	Target() string
	// Available says whether env can take the fault.
	Available(env Env) error
	Inject(ctx context.Context, env Env) error
	Heal(ctx context.Context, env Env) error
}

// Observation is what a fault saw happen that the checks need: key
// promotions (with the span in which each took effect) and keys revoked
// on purpose, notes of what a database fault hit. The runner joins it
// into the history.
type Observation struct {
	Promotions  []chaos.Promotion
	Revocations []chaos.Revocation
	// Notes say what a fault did that its target does not name: the
	// database member it hit, how long a switchover took.
	Notes []chaos.FaultNote
}

// Join is o and p together.
func (o Observation) Join(p Observation) Observation {
	return Observation{Promotions: append(append([]chaos.Promotion(nil), o.Promotions...), p.Promotions...),
		Revocations: append(append([]chaos.Revocation(nil), o.Revocations...), p.Revocations...),
		Notes:       append(append([]chaos.FaultNote(nil), o.Notes...), p.Notes...)}
}

// Reporter is a fault that observes something: the scheduler asks it once
// it has healed.
type Reporter interface {
	Observed() Observation
}

// Kill SIGKILLs replicas of a service in a region; healing starts them.
type Kill struct {
	Service, Region string
	Replicas        []int // from 1
}

func (f Kill) Name() string { return "kill" }
func (f Kill) Target() string {
	var r []string
	for _, i := range f.Replicas {
		r = append(r, fmt.Sprint(i))
	}
	return fmt.Sprintf("%s %s #%s", f.Region, f.Service, strings.Join(r, ","))
}
func (f Kill) Available(env Env) error { return needReplicas(env, f.Service, f.Replicas) }
func (f Kill) Inject(ctx context.Context, env Env) error {
	for _, i := range f.Replicas {
		if err := env.Nodes.Kill(ctx, env.Names.Replica(f.Region, f.Service, i)); err != nil {
			return err
		}
	}
	return nil
}
func (f Kill) Heal(ctx context.Context, env Env) error {
	var errs []error
	for _, i := range f.Replicas {
		errs = append(errs, env.Nodes.Start(ctx, env.Names.Replica(f.Region, f.Service, i)))
	}
	return errors.Join(errs...)
}

func needReplicas(env Env, svc string, replicas []int) error {
	n := env.Topology.Replicas[svc]
	for _, i := range replicas {
		if i < 1 || i > n {
			return fmt.Errorf("%w: %s has %d replicas, no #%d", ErrUnavailable, svc, n, i)
		}
	}
	return nil
}

// Pause freezes one replica (SIGSTOP through the cgroup freezer): it
// keeps its connections open and answers nothing.
type Pause struct {
	Service, Region string
	Replica         int
}

func (f Pause) Name() string            { return "pause" }
func (f Pause) Target() string          { return fmt.Sprintf("%s %s #%d", f.Region, f.Service, f.Replica) }
func (f Pause) Available(env Env) error { return needReplicas(env, f.Service, []int{f.Replica}) }
func (f Pause) Inject(ctx context.Context, env Env) error {
	return env.Nodes.Pause(ctx, env.Names.Replica(f.Region, f.Service, f.Replica))
}
func (f Pause) Heal(ctx context.Context, env Env) error {
	return env.Nodes.Unpause(ctx, env.Names.Replica(f.Region, f.Service, f.Replica))
}

// CutRegion takes a region off the WAN.
type CutRegion struct{ Region string }

func (f CutRegion) Name() string   { return "cut-region" }
func (f CutRegion) Target() string { return f.Region }
func (f CutRegion) Available(env Env) error {
	if env.Topology.RegionIndex(f.Region) < 0 {
		return fmt.Errorf("%w: no region %s", ErrUnavailable, f.Region)
	}
	return nil
}
func (f CutRegion) Inject(ctx context.Context, env Env) error {
	return env.Nodes.CutRegion(ctx, f.Region)
}
func (f CutRegion) Heal(ctx context.Context, env Env) error {
	return env.Nodes.RestoreRegion(ctx, f.Region)
}

// SlowWAN adds latency with jitter to every region's WAN link: each region
// then talks to the database, Vault and the other regions across it.
type SlowWAN struct{ Latency, Jitter time.Duration }

func (f SlowWAN) Name() string            { return "slow-wan" }
func (f SlowWAN) Target() string          { return fmt.Sprintf("every region, %s ±%s", f.Latency, f.Jitter) }
func (f SlowWAN) Available(env Env) error { return nil }
func (f SlowWAN) Inject(ctx context.Context, env Env) error {
	for _, r := range env.Topology.Regions {
		if err := env.Nodes.SlowLink(ctx, r, f.Latency, f.Jitter); err != nil {
			return err
		}
	}
	return nil
}
func (f SlowWAN) Heal(ctx context.Context, env Env) error {
	var errs []error
	for _, r := range env.Topology.Regions {
		errs = append(errs, env.Nodes.FastLink(ctx, r))
	}
	return errors.Join(errs...)
}

// KillRole SIGKILLs the global node with a role (the database, Vault) and
// starts it again on heal: a crash and a restart.
type KillRole struct {
	Role string
	// Node picks one node when several have the role (CockroachDB), from 1.
	Node int
	// Needs makes the fault unavailable on any other database tier.
	Needs infra.DatabaseKind
}

func (f KillRole) Name() string { return "kill" }
func (f KillRole) Target() string {
	if f.Node > 0 {
		return fmt.Sprintf("%s #%d", f.Role, f.Node)
	}
	return f.Role
}
func (f KillRole) Available(env Env) error {
	if f.Needs != "" && env.Topology.Database != f.Needs {
		return fmt.Errorf("%w: needs the %s database tier; this stack runs %s", ErrUnavailable, f.Needs, env.Topology.Database)
	}
	return nil
}
func (f KillRole) node(ctx context.Context, env Env) (string, error) {
	named, err := env.Names.WithRole(ctx, f.Role)
	if err != nil {
		return "", err
	}
	i := max(f.Node, 1) - 1
	if i >= len(named) {
		return "", fmt.Errorf("%w: %d %s nodes, no #%d", ErrUnavailable, len(named), f.Role, i+1)
	}
	return named[i], nil
}
func (f KillRole) Inject(ctx context.Context, env Env) error {
	name, err := f.node(ctx, env)
	if err != nil {
		return err
	}
	return env.Nodes.Kill(ctx, name)
}
func (f KillRole) Heal(ctx context.Context, env Env) error {
	name, err := f.node(ctx, env)
	if err != nil {
		return err
	}
	return env.Nodes.Start(ctx, name)
}

// Rotate runs the key rotation job every Every while the fault is active:
// a scheduled rotation at test cadence, pre-publishing and promoting keys
// while logins run. A step that fails (Vault down) is logged and retried
// at the next tick; healing runs one last step that must succeed.
type Rotate struct {
	Every time.Duration

	mu       sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	observed Observation
}

// step runs one rotation step and records the keys it promoted, with the
// step's span.
func (f *Rotate) step(ctx context.Context, env Env) ([]keyrotation.Outcome, error) {
	start := time.Now()
	out, err := env.Keys.Step(ctx)
	end := time.Now()
	f.mu.Lock()
	for _, o := range out {
		for _, e := range o.Transitions {
			if e.Event == "activate" {
				f.observed.Promotions = append(f.observed.Promotions, chaos.Promotion{Kid: e.Kid, Start: start, End: end})
			}
		}
	}
	f.mu.Unlock()
	return out, err
}

// Observed returns the promotions the rotation made.
func (f *Rotate) Observed() Observation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.observed.Join(Observation{})
}

func (f *Rotate) Name() string { return "rotate-keys" }
func (f *Rotate) Target() string {
	return fmt.Sprintf("%s, a step every %s", keyrotation.SetIDToken, f.Every)
}
func (f *Rotate) Available(env Env) error {
	if env.Keys == nil {
		return fmt.Errorf("%w: no key rotation on this target", ErrUnavailable)
	}
	return nil
}
func (f *Rotate) Inject(ctx context.Context, env Env) error {
	f.mu.Lock()
	f.observed = Observation{}
	f.mu.Unlock()
	if _, err := f.step(ctx, env); err != nil {
		return fmt.Errorf("first rotation step: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel, f.done = cancel, make(chan struct{})
	go func() {
		defer close(f.done)
		t := time.NewTicker(f.Every)
		defer t.Stop()
		for n := 0; n < 1000; n++ {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
			}
			sctx, scancel := context.WithTimeout(lctx, f.Every*3)
			out, err := f.step(sctx, env)
			scancel()
			if err != nil && lctx.Err() == nil { // a step cut short by the heal is no failure
				env.logf("rotation step: %v", err)
				continue
			}
			for _, o := range out {
				for _, e := range o.Transitions {
					env.logf("rotation: %s %s %s", o.Set, e.Event, e.Kid)
				}
			}
		}
	}()
	return nil
}
func (f *Rotate) Heal(ctx context.Context, env Env) error {
	// The loop's steps record under f.mu: wait for it without holding it.
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.cancel = nil
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("rotation loop did not stop: %w", ctx.Err())
		}
	}
	// The last step must succeed; the faults healed before it (Vault
	// restarted) may still be coming up, so it is retried until ctx ends.
	var err error
	for attempt := 1; ; attempt++ {
		if _, err = f.step(ctx, env); err == nil {
			return nil
		}
		env.logf("rotation after heal, attempt %d: %v", attempt, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("rotation after heal (%d attempts): %w", attempt, err)
		case <-time.After(time.Second):
		}
	}
}

// Revoke revokes the ID-token set's signing key at once (emergency): the
// standby signs from now on and the revoked kid leaves every region.
type Revoke struct {
	mu       sync.Mutex
	observed Observation
}

func (*Revoke) Name() string   { return "revoke" }
func (*Revoke) Target() string { return "the active " + keyrotation.SetIDToken + " key" }

// Observed returns the kid revoked and the standby promoted in its place.
func (f *Revoke) Observed() Observation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.observed.Join(Observation{})
}

func (*Revoke) Available(env Env) error {
	if env.Keys == nil {
		return fmt.Errorf("%w: no key rotation on this target", ErrUnavailable)
	}
	return nil
}
func (f *Revoke) Inject(ctx context.Context, env Env) error {
	// No rotation step here: one could promote the standby the scenario's
	// rotation pre-published and leave only a fresh key to take over, which
	// would then sign before any verifier has it cached. The scenario
	// rotates first, so that a standby has been published for the lead.
	kid, err := env.Keys.ActiveKid(ctx)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	start := time.Now()
	rep, err := env.Keys.Revoke(ctx, kid, "chaos: emergency revoke under load", 30*time.Second)
	end := time.Now()
	f.mu.Lock()
	f.observed = Observation{Revocations: []chaos.Revocation{{Kid: kid, Start: start, End: end}}}
	if rep.Promoted != "" {
		f.observed.Promotions = append(f.observed.Promotions, chaos.Promotion{Kid: rep.Promoted, Start: start, End: end})
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	early := ""
	if rep.PromotedBeforeLead {
		early = " (before its lead: verifiers may not have it cached)"
	}
	env.logf("revoked %s: %s signs%s; gone everywhere after %s", kid, rep.Promoted, early, rep.GoneEverywhere)
	return nil
}
func (*Revoke) Heal(ctx context.Context, env Env) error { return nil }
