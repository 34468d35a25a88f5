package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/infra"
)

// Database is a deployment's database tier as the database faults see
// it: which member accepts writes, which follow, and the moves an operator
// makes. A single node is its own primary with no standbys.
type Database interface {
	// Primary is the member that accepts writes now.
	Primary(ctx context.Context) (Member, error)
	// Standbys are the other members, in a stable order.
	Standbys(ctx context.Context) ([]Member, error)
	// Switchover hands the primary's role to candidate (a planned
	// switchover) and returns once the tier reports it done.
	Switchover(ctx context.Context, from, candidate Member) error
	// MemberAt is the member at a site.
	MemberAt(site string) (Member, error)
	// WaitReplicating waits until one member leads and every other
	// streams from it with no lag, or timeout passes.
	WaitReplicating(ctx context.Context, timeout time.Duration) error
}

// Member is one database member: its name in the tier, the node it runs
// on and the site that holds it.
type Member struct {
	Name, Node, Site string
}

// needPatroni makes a fault unavailable on any tier but Patroni's.
func needPatroni(env Env) error {
	if env.Topology.Database != infra.DatabasePatroni {
		return fmt.Errorf("%w: needs the Patroni tier (--database patroni); this stack runs %s", ErrUnavailable, env.Topology.Database)
	}
	if env.Database == nil {
		return fmt.Errorf("%w: the target exposes no database tier", ErrUnavailable)
	}
	return nil
}

// needPrimary makes a fault unavailable where no member is the primary
// (CockroachDB: every node takes writes).
func needPrimary(env Env) error {
	switch env.Topology.Database {
	case infra.DatabasePatroni, infra.DatabasePostgres:
		if env.Database == nil {
			return fmt.Errorf("%w: the target exposes no database tier", ErrUnavailable)
		}
		return nil
	}
	return fmt.Errorf("%w: needs a database with a primary (patroni or postgres); this stack runs %s", ErrUnavailable, env.Topology.Database)
}

// PlacePrimary makes the member at site the primary, by a switchover if
// another member leads, and waits until every member streams from it: a
// scenario's precondition, met before its warm-up. It reports whether it
// switched over (the caller then lets the stack settle).
func PlacePrimary(ctx context.Context, env Env, site string) (moved bool, err error) {
	if err := needPatroni(env); err != nil {
		return false, err
	}
	if err := env.Database.WaitReplicating(ctx, 2*time.Minute); err != nil {
		return false, fmt.Errorf("place the primary at %s: %w", site, err)
	}
	cur, err := env.Database.Primary(ctx)
	if err != nil {
		return false, err
	}
	if cur.Site == site {
		return false, nil
	}
	want, err := env.Database.MemberAt(site)
	if err != nil {
		return false, err
	}
	// Patroni refuses a switchover (503) while the candidate is not yet
	// a synchronous standby again, as right after another scenario's
	// heal: a precondition may be retried, a few times.
	const attempts = 4
	for n := 1; ; n++ {
		env.logf("database: switching the primary over from %s to %s", cur.Name, want.Name)
		err = env.Database.Switchover(ctx, cur, want)
		if err == nil {
			break
		}
		if n == attempts {
			return false, fmt.Errorf("place the primary at %s (%d attempts): %w", site, n, err)
		}
		env.logf("database: switchover refused (%v); again in 5 s", err)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(5 * time.Second):
		}
		if err := env.Database.WaitReplicating(ctx, 2*time.Minute); err != nil {
			return false, fmt.Errorf("place the primary at %s: %w", site, err)
		}
		if cur, err = env.Database.Primary(ctx); err != nil {
			return false, err
		}
		if cur.Site == site {
			break // it happened after all
		}
	}
	return true, env.Database.WaitReplicating(ctx, 2*time.Minute)
}

// picked is a database fault's chosen member, remembered between its
// inject and its heal, and what the fault saw.
type picked struct {
	mu       sync.Mutex
	member   Member
	observed Observation
}

// reset forgets an earlier run's member: a fault value may run again.
func (p *picked) reset() {
	p.mu.Lock()
	p.member, p.observed = Member{}, Observation{}
	p.mu.Unlock()
}

func (p *picked) set(m Member, note string) {
	p.mu.Lock()
	p.member = m
	p.observed.Notes = append(p.observed.Notes, chaos.FaultNote{At: time.Now(), Note: note})
	p.mu.Unlock()
}

// get is the member hit, or false when the inject never got that far
// (then there is nothing to heal).
func (p *picked) get() (Member, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.member, p.member.Node != ""
}

func (p *picked) note(note string) {
	p.mu.Lock()
	p.observed.Notes = append(p.observed.Notes, chaos.FaultNote{At: time.Now(), Note: note})
	p.mu.Unlock()
}

// Observed returns what the fault saw: the member it hit.
func (p *picked) Observed() Observation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.observed.Join(Observation{})
}

// KillPrimary SIGKILLs the database primary's node; healing starts it
// again. On the Patroni tier a standby of the synchronous quorum takes
// over once the dead primary's leader lock expires, and the old primary,
// started again, rejoins as a standby (pg_rewind); on a single node it
// is a total outage until the heal.
type KillPrimary struct{ p picked }

func (*KillPrimary) Name() string            { return "kill-db-primary" }
func (*KillPrimary) Target() string          { return "the database primary" }
func (*KillPrimary) Available(env Env) error { return needPrimary(env) }
func (f *KillPrimary) Observed() Observation { return f.p.Observed() }
func (f *KillPrimary) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	f.p.set(m, fmt.Sprintf("SIGKILL the primary %s (%s)", m.Name, m.Site))
	env.logf("database: SIGKILL the primary %s (%s)", m.Name, m.Site)
	return env.Nodes.Kill(ctx, m.Node)
}
func (f *KillPrimary) Heal(ctx context.Context, env Env) error {
	if m, ok := f.p.get(); ok {
		return env.Nodes.Start(ctx, m.Node)
	}
	return nil
}

// KillStandby SIGKILLs one standby (Pick, from 0, among the standbys in
// their stable order); healing starts it. The synchronous quorum keeps
// another standby, so users see nothing.
type KillStandby struct {
	Pick int
	p    picked
}

func (*KillStandby) Name() string            { return "kill-db-standby" }
func (f *KillStandby) Target() string        { return fmt.Sprintf("database standby #%d", f.Pick+1) }
func (*KillStandby) Available(env Env) error { return needPatroni(env) }
func (f *KillStandby) Observed() Observation { return f.p.Observed() }
func (f *KillStandby) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	ss, err := env.Database.Standbys(ctx)
	if err != nil {
		return err
	}
	if len(ss) == 0 {
		return errors.New("no standby to kill")
	}
	m := ss[f.Pick%len(ss)]
	f.p.set(m, fmt.Sprintf("SIGKILL the standby %s (%s)", m.Name, m.Site))
	env.logf("database: SIGKILL the standby %s (%s)", m.Name, m.Site)
	return env.Nodes.Kill(ctx, m.Node)
}
func (f *KillStandby) Heal(ctx context.Context, env Env) error {
	if m, ok := f.p.get(); ok {
		return env.Nodes.Start(ctx, m.Node)
	}
	return nil
}

// PausePrimary freezes the primary's node (SIGSTOP through the cgroup
// freezer): its lock expires and a standby takes over; resumed, the old
// primary finds the lock gone, demotes itself and rejoins, having
// acknowledged nothing meanwhile (its commits wait for a standby that no
// longer follows it).
type PausePrimary struct{ p picked }

func (*PausePrimary) Name() string            { return "pause-db-primary" }
func (*PausePrimary) Target() string          { return "the database primary" }
func (*PausePrimary) Available(env Env) error { return needPatroni(env) }
func (f *PausePrimary) Observed() Observation { return f.p.Observed() }
func (f *PausePrimary) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	f.p.set(m, fmt.Sprintf("freeze the primary %s (%s)", m.Name, m.Site))
	env.logf("database: freeze the primary %s (%s)", m.Name, m.Site)
	return env.Nodes.Pause(ctx, m.Node)
}
func (f *PausePrimary) Heal(ctx context.Context, env Env) error {
	if m, ok := f.p.get(); ok {
		return env.Nodes.Unpause(ctx, m.Node)
	}
	return nil
}

// CutPrimarySite takes the site that holds the primary off the WAN (a
// region and its services, or a witness): a member elsewhere takes over;
// the isolated one, unable to reach the consensus quorum, demotes itself.
// Site names the site the scenario placed the primary at (PlacePrimary):
// the fault refuses to cut another one, so the scenario's exemptions hold.
type CutPrimarySite struct {
	Site string
	p    picked
}

func (f *CutPrimarySite) Name() string            { return "cut-primary-site" }
func (f *CutPrimarySite) Target() string          { return f.Site + " (holds the primary)" }
func (f *CutPrimarySite) Available(env Env) error { return needPatroni(env) }
func (f *CutPrimarySite) Observed() Observation   { return f.p.Observed() }
func (f *CutPrimarySite) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	if m.Site != f.Site {
		return fmt.Errorf("the primary is %s at %s, not at %s", m.Name, m.Site, f.Site)
	}
	f.p.set(m, fmt.Sprintf("cut %s, which holds the primary %s, off the WAN", f.Site, m.Name))
	return env.Nodes.CutRegion(ctx, f.Site)
}
func (f *CutPrimarySite) Heal(ctx context.Context, env Env) error {
	if _, ok := f.p.get(); ok {
		return env.Nodes.RestoreRegion(ctx, f.Site)
	}
	return nil
}

// Switchover is a planned switchover under load (maintenance): the
// primary hands its role to the member at To, or when To is empty to the
// first standby in a region (a witness serves no one beside it), and
// rejoins as a standby. Nothing is left to heal.
type Switchover struct {
	To string
	p  picked
}

func (f *Switchover) Name() string { return "switchover" }
func (f *Switchover) Target() string {
	if f.To == "" {
		return "the primary to a standby in another region"
	}
	return "the primary to " + f.To
}
func (f *Switchover) Available(env Env) error { return needPatroni(env) }
func (f *Switchover) Observed() Observation   { return f.p.Observed() }
func (f *Switchover) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	cur, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	to, err := f.candidate(ctx, env)
	if err != nil {
		return err
	}
	if cur.Name == to.Name {
		return fmt.Errorf("%s leads already", to.Name)
	}
	start := time.Now()
	if err := env.Database.Switchover(ctx, cur, to); err != nil {
		return err
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	f.p.note(fmt.Sprintf("switched over from %s to %s in %s", cur.Name, to.Name, took))
	env.logf("database: switched over from %s to %s in %s", cur.Name, to.Name, took)
	return nil
}

func (f *Switchover) candidate(ctx context.Context, env Env) (Member, error) {
	if f.To != "" {
		return env.Database.MemberAt(f.To)
	}
	standbys, err := env.Database.Standbys(ctx)
	if err != nil {
		return Member{}, err
	}
	for _, m := range standbys {
		if env.Topology.RegionIndex(m.Site) >= 0 {
			return m, nil
		}
	}
	return Member{}, errors.New("no standby in a region to switch over to")
}
func (*Switchover) Heal(ctx context.Context, env Env) error { return nil }

// RollingRestart restarts every database member one at a time, as an
// upgrade does: the standbys first, then the primary (a clean stop, whose
// Patroni hands the lock over), each once every member streams again.
// It runs from the inject on; the heal waits for it to end.
type RollingRestart struct {
	// Grace is how long a member gets to stop before SIGKILL.
	Grace time.Duration

	p      picked
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
}

func (*RollingRestart) Name() string            { return "rolling-restart-db" }
func (*RollingRestart) Target() string          { return "every database member, one at a time" }
func (*RollingRestart) Available(env Env) error { return needPatroni(env) }
func (f *RollingRestart) Observed() Observation { return f.p.Observed() }
func (f *RollingRestart) Inject(ctx context.Context, env Env) error {
	f.p.reset()
	primary, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	standbys, err := env.Database.Standbys(ctx)
	if err != nil {
		return err
	}
	order := append(standbys, primary)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	f.mu.Lock()
	f.cancel, f.done = cancel, done
	f.mu.Unlock()
	go func() {
		for _, m := range order {
			start := time.Now()
			if err := env.Nodes.Restart(rctx, m.Node, f.Grace); err != nil {
				done <- err
				return
			}
			if err := env.Database.WaitReplicating(rctx, 2*time.Minute); err != nil {
				done <- fmt.Errorf("after restarting %s: %w", m.Name, err)
				return
			}
			took := time.Since(start).Round(100 * time.Millisecond)
			f.p.note(fmt.Sprintf("%s restarted, every member streaming after %s", m.Name, took))
			env.logf("database: %s restarted, every member streaming after %s", m.Name, took)
		}
		done <- nil
	}()
	return nil
}

// Heal waits for the restarts to end; when ctx ends first it stops them
// (the member being restarted finishes its restart) and waits for that.
func (f *RollingRestart) Heal(ctx context.Context, env Env) error {
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.cancel, f.done = nil, nil
	f.mu.Unlock()
	if done == nil {
		return nil
	}
	defer cancel()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("rolling restart still under way, stopped: %w", ctx.Err())
	}
}
