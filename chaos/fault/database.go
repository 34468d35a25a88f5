package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
	env.logf("database: switching the primary over from %s to %s", cur.Name, want.Name)
	if err := env.Database.Switchover(ctx, cur, want); err != nil {
		return false, fmt.Errorf("place the primary at %s: %w", site, err)
	}
	return true, env.Database.WaitReplicating(ctx, 2*time.Minute)
}

// picked is a database fault's chosen member, remembered between its
// inject and its heal.
type picked struct {
	mu     sync.Mutex
	member Member
}

func (p *picked) set(m Member) {
	p.mu.Lock()
	p.member = m
	p.mu.Unlock()
}

func (p *picked) get() (Member, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.member.Node == "" {
		return Member{}, errors.New("nothing was injected")
	}
	return p.member, nil
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
func (f *KillPrimary) Inject(ctx context.Context, env Env) error {
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	f.p.set(m)
	env.logf("database: SIGKILL the primary %s (%s)", m.Name, m.Site)
	return env.Nodes.Kill(ctx, m.Node)
}
func (f *KillPrimary) Heal(ctx context.Context, env Env) error {
	m, err := f.p.get()
	if err != nil {
		return err
	}
	return env.Nodes.Start(ctx, m.Node)
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
func (f *KillStandby) Inject(ctx context.Context, env Env) error {
	ss, err := env.Database.Standbys(ctx)
	if err != nil {
		return err
	}
	if len(ss) == 0 {
		return errors.New("no standby to kill")
	}
	m := ss[f.Pick%len(ss)]
	f.p.set(m)
	env.logf("database: SIGKILL the standby %s (%s)", m.Name, m.Site)
	return env.Nodes.Kill(ctx, m.Node)
}
func (f *KillStandby) Heal(ctx context.Context, env Env) error {
	m, err := f.p.get()
	if err != nil {
		return err
	}
	return env.Nodes.Start(ctx, m.Node)
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
func (f *PausePrimary) Inject(ctx context.Context, env Env) error {
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	f.p.set(m)
	env.logf("database: freeze the primary %s (%s)", m.Name, m.Site)
	return env.Nodes.Pause(ctx, m.Node)
}
func (f *PausePrimary) Heal(ctx context.Context, env Env) error {
	m, err := f.p.get()
	if err != nil {
		return err
	}
	return env.Nodes.Unpause(ctx, m.Node)
}

// CutPrimarySite takes the site that holds the primary off the WAN (a
// region and its services, or a witness): a member elsewhere takes over;
// the isolated one, unable to reach the consensus quorum, demotes itself.
// Site names the site the scenario placed the primary at (PlacePrimary):
// the fault refuses to cut another one, so the scenario's exemptions hold.
type CutPrimarySite struct{ Site string }

func (f CutPrimarySite) Name() string            { return "cut-primary-site" }
func (f CutPrimarySite) Target() string          { return f.Site + " (holds the primary)" }
func (f CutPrimarySite) Available(env Env) error { return needPatroni(env) }
func (f CutPrimarySite) Inject(ctx context.Context, env Env) error {
	m, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	if m.Site != f.Site {
		return fmt.Errorf("the primary is %s at %s, not at %s", m.Name, m.Site, f.Site)
	}
	return env.Nodes.CutRegion(ctx, f.Site)
}
func (f CutPrimarySite) Heal(ctx context.Context, env Env) error {
	return env.Nodes.RestoreRegion(ctx, f.Site)
}

// Switchover is a planned switchover under load (maintenance): the
// primary hands its role to the member at To, or when To is empty to the
// first standby in a region (a witness serves no one beside it), and
// rejoins as a standby. Nothing is left to heal.
type Switchover struct{ To string }

func (f Switchover) Name() string { return "switchover" }
func (f Switchover) Target() string {
	if f.To == "" {
		return "the primary to a standby in another region"
	}
	return "the primary to " + f.To
}
func (f Switchover) Available(env Env) error { return needPatroni(env) }
func (f Switchover) Inject(ctx context.Context, env Env) error {
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
	env.logf("database: switched over from %s to %s in %s", cur.Name, to.Name, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func (f Switchover) candidate(ctx context.Context, env Env) (Member, error) {
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
func (Switchover) Heal(ctx context.Context, env Env) error { return nil }

// RollingRestart restarts every database member one at a time, as an
// upgrade does: the standbys first, then the primary (a clean stop, whose
// Patroni hands the lock over), each once every member streams again.
// It runs from the inject on; the heal waits for it to end.
type RollingRestart struct {
	// Grace is how long a member gets to stop before SIGKILL.
	Grace time.Duration

	mu   sync.Mutex
	done chan error
}

func (*RollingRestart) Name() string            { return "rolling-restart-db" }
func (*RollingRestart) Target() string          { return "every database member, one at a time" }
func (*RollingRestart) Available(env Env) error { return needPatroni(env) }
func (f *RollingRestart) Inject(ctx context.Context, env Env) error {
	primary, err := env.Database.Primary(ctx)
	if err != nil {
		return err
	}
	standbys, err := env.Database.Standbys(ctx)
	if err != nil {
		return err
	}
	order := append(standbys, primary)
	done := make(chan error, 1)
	f.mu.Lock()
	f.done = done
	f.mu.Unlock()
	rctx := context.WithoutCancel(ctx)
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
			env.logf("database: %s restarted, every member streaming after %s", m.Name, time.Since(start).Round(100*time.Millisecond))
		}
		done <- nil
	}()
	return nil
}
func (f *RollingRestart) Heal(ctx context.Context, env Env) error {
	f.mu.Lock()
	done := f.done
	f.done = nil
	f.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("rolling restart still under way: %w", ctx.Err())
	}
}
