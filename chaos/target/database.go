package target

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idstack/idstack/chaos/dbprobe"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/chaos/probe"
	"github.com/idstack/idstack/chaos/runner"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/stack"
)

// database is the stack's database tier as fault.Database: the Patroni
// members as Patroni reports them, or the single PostgreSQL node as its
// own primary.
type database struct{ s *stack.Stack }

func (d database) Primary(ctx context.Context) (fault.Member, error) {
	if d.s.Topology.Database != infra.DatabasePatroni {
		nodes, err := names(d).WithRole(ctx, stack.RoleDatabase)
		if err != nil {
			return fault.Member{}, err
		}
		if len(nodes) != 1 {
			return fault.Member{}, fmt.Errorf("%d database nodes, want the one", len(nodes))
		}
		return fault.Member{Name: nodes[0], Node: nodes[0]}, nil
	}
	members, err := d.s.Cluster(ctx)
	if err != nil {
		return fault.Member{}, err
	}
	for _, m := range members {
		if m.IsLeader() {
			return d.member(m.Name)
		}
	}
	return fault.Member{}, fmt.Errorf("no member leads: %+v", members)
}

func (d database) Standbys(ctx context.Context) ([]fault.Member, error) {
	if d.s.Topology.Database != infra.DatabasePatroni {
		return nil, nil
	}
	members, err := d.s.Cluster(ctx)
	if err != nil {
		return nil, err
	}
	var out []fault.Member // Cluster sorts by name
	for _, m := range members {
		if !m.IsLeader() {
			fm, err := d.member(m.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, fm)
		}
	}
	return out, nil
}

func (d database) member(name string) (fault.Member, error) {
	node, site, err := d.s.MemberNode(name)
	return fault.Member{Name: name, Node: node, Site: site}, err
}

func (d database) MemberAt(site string) (fault.Member, error) {
	for _, s := range d.s.Topology.DatabaseSites() {
		if s.Name == site {
			return fault.Member{Name: config.MemberName(site), Node: d.s.Topology.SiteNode(site, stack.RoleDatabase), Site: site}, nil
		}
	}
	return fault.Member{}, fmt.Errorf("no database site %q", site)
}

func (d database) Switchover(ctx context.Context, from, to fault.Member) error {
	return d.s.Switchover(ctx, from.Name, to.Name)
}

func (d database) WaitReplicating(ctx context.Context, timeout time.Duration) error {
	if d.s.Topology.Database != infra.DatabasePatroni {
		return errors.New("no replication on this database tier")
	}
	return d.s.WaitReplicating(ctx, timeout)
}

// probeDatabase is the stack's database as the writer probe sees it.
type probeDatabase struct{ s *stack.Stack }

// DatabaseProbe writes through every region's route (its router on the
// Patroni tier, the one node otherwise); nil on CockroachDB, whose
// nodes all take writes and have no WAL timeline.
func (l *Local) DatabaseProbe() runner.DatabaseProbe {
	if l.Stack.Topology.Database == infra.DatabaseCockroach {
		return nil
	}
	return probeDatabase{l.Stack}
}

func (p probeDatabase) Writers(ctx context.Context) (map[string]probe.Writer, error) {
	out := map[string]probe.Writer{}
	for i, r := range p.s.Topology.Regions {
		dsn, err := p.s.RouteURL(ctx, r, config.ProbeDatabase)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if err := dbprobe.Prepare(ctx, dsn); err != nil {
				return nil, err
			}
		}
		out[r] = dbprobe.Route{DSN: dsn, Region: r}
	}
	return out, nil
}

func (p probeDatabase) Present(ctx context.Context, keys []string) (map[string]bool, error) {
	dsn, err := p.s.DatabaseURL(ctx, config.ProbeDatabase)
	if err != nil {
		return nil, err
	}
	return dbprobe.Present(ctx, dsn, keys)
}

func (p probeDatabase) Duplicates(ctx context.Context, emails []string) ([]string, error) {
	dsn, err := p.s.DatabaseURL(ctx, "kratos")
	if err != nil {
		return nil, err
	}
	return dbprobe.Duplicates(ctx, dsn, emails)
}
