// Package faults injects and heals faults on the nodes and links of a local
// topology brought up by package stack: kill (SIGKILL), stop and start,
// restart, pause and unpause (SIGSTOP via the cgroup freezer), disconnect and
// reconnect a network, and latency, jitter or a cut on a region's WAN link.
//
// Every fault an Injector injects is recorded with the action that heals it;
// HealAll undoes them all, newest first. Guard runs a function so that
// HealAll happens on every exit path: return, error, panic, SIGINT, SIGTERM.
package faults

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/stack"
)

// ErrUnknownNode is returned for a node name the stack does not have.
var ErrUnknownNode = errors.New("unknown node")

// Active is an injected fault that has not been healed yet.
type Active struct {
	Fault string    // e.g. "kill"
	Node  string    // container or link name
	Since time.Time // when it was injected
	heal  func(context.Context) error
}

func (a Active) String() string { return a.Fault + " " + a.Node }

// Injector injects faults into one stack.
type Injector struct {
	pool     *dockertest.Pool
	topology infra.Topology
	// AfterStart runs after a node is started or unpaused again (by a heal or
	// by Start); stack uses it to unseal a restarted Vault.
	AfterStart func(ctx context.Context, node stack.NodeStatus) error

	mu     sync.Mutex
	active []Active
}

// New returns an Injector for the stack s. A restarted Vault is unsealed
// with the key s recorded.
func New(s *stack.Stack) *Injector {
	inj := &Injector{pool: s.DockerPool(), topology: s.Topology}
	inj.AfterStart = func(ctx context.Context, n stack.NodeStatus) error {
		if n.Role == stack.RoleVault {
			return s.UnsealVault(ctx)
		}
		return nil
	}
	return inj
}

// Active lists the faults not healed yet, oldest first.
func (i *Injector) Active() []Active {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Active(nil), i.active...)
}

func (i *Injector) record(fault, node string, heal func(context.Context) error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.active = append(i.active, Active{Fault: fault, Node: node, Since: time.Now(), heal: heal})
}

// forget drops recorded faults on node whose kind is in faults (the node was
// healed by an explicit call, e.g. Start after Kill).
func (i *Injector) forget(node string, faults ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	kept := i.active[:0]
	for _, a := range i.active {
		drop := a.Node == node
		if drop && len(faults) > 0 {
			drop = false
			for _, f := range faults {
				drop = drop || a.Fault == f
			}
		}
		if !drop {
			kept = append(kept, a)
		}
	}
	i.active = kept
}

// HealAll heals every active fault, newest first, and returns every error.
// A fault whose heal fails stays active, so HealAll can be called again.
func (i *Injector) HealAll(ctx context.Context) error {
	i.mu.Lock()
	todo := append([]Active(nil), i.active...)
	i.active = nil
	i.mu.Unlock()
	var errs []error
	var failed []Active
	for k := len(todo) - 1; k >= 0; k-- {
		a := todo[k]
		if err := a.heal(ctx); err != nil {
			errs = append(errs, fmt.Errorf("heal %s: %w", a, err))
			failed = append([]Active{a}, failed...)
		}
	}
	i.mu.Lock()
	i.active = append(failed, i.active...)
	i.mu.Unlock()
	return errors.Join(errs...)
}

// node finds a stack node by container name.
func (i *Injector) node(ctx context.Context, name string) (stack.NodeStatus, error) {
	cs, err := i.pool.Client.ListContainers(dc.ListContainersOptions{
		All: true, Context: ctx,
		Filters: map[string][]string{"label": {stack.LabelStack + "=" + i.topology.Name}, "name": {"^/" + name + "$"}},
	})
	if err != nil {
		return stack.NodeStatus{}, fmt.Errorf("find %s: %w", name, err)
	}
	if len(cs) != 1 {
		return stack.NodeStatus{}, fmt.Errorf("%w: %s in stack %s", ErrUnknownNode, name, i.topology.Name)
	}
	c := cs[0]
	return stack.NodeStatus{Name: name, ID: c.ID, Role: c.Labels[stack.LabelRole], Region: c.Labels[stack.LabelRegion], State: c.State}, nil
}

func (i *Injector) afterStart(ctx context.Context, n stack.NodeStatus) error {
	if i.AfterStart == nil {
		return nil
	}
	return i.AfterStart(ctx, n)
}

// Kill sends SIGKILL to node; healing starts it again.
func (i *Injector) Kill(ctx context.Context, name string) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.pool.Client.KillContainer(dc.KillContainerOptions{ID: n.ID, Signal: dc.SIGKILL, Context: ctx}); err != nil {
		return fmt.Errorf("kill %s: %w", name, err)
	}
	i.record("kill", name, func(ctx context.Context) error { return i.start(ctx, n) })
	return nil
}

// Stop stops node gracefully (SIGTERM, then SIGKILL after 10 s); healing
// starts it again.
func (i *Injector) Stop(ctx context.Context, name string) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.pool.Client.StopContainerWithContext(n.ID, 10, ctx); err != nil {
		var notRunning *dc.ContainerNotRunning
		if !errors.As(err, &notRunning) {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	i.record("stop", name, func(ctx context.Context) error { return i.start(ctx, n) })
	return nil
}

// Start starts a killed or stopped node, healing those faults.
func (i *Injector) Start(ctx context.Context, name string) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.start(ctx, n); err != nil {
		return err
	}
	i.forget(name, "kill", "stop")
	return nil
}

func (i *Injector) start(ctx context.Context, n stack.NodeStatus) error {
	if err := i.pool.Client.StartContainerWithContext(n.ID, nil, ctx); err != nil {
		var already *dc.ContainerAlreadyRunning
		if !errors.As(err, &already) {
			return fmt.Errorf("start %s: %w", n.Name, err)
		}
	}
	return i.afterStart(ctx, n)
}

// Restart stops node (SIGTERM, SIGKILL after timeout) and starts it again.
// It leaves no fault to heal.
func (i *Injector) Restart(ctx context.Context, name string, timeout time.Duration) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	secs := uint(math.Ceil(timeout.Seconds()))
	if err := i.pool.Client.RestartContainer(n.ID, secs); err != nil {
		return fmt.Errorf("restart %s: %w", name, err)
	}
	return i.afterStart(ctx, n)
}

// Pause freezes every process of node; healing unpauses it.
func (i *Injector) Pause(ctx context.Context, name string) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.pool.Client.PauseContainer(n.ID); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	i.record("pause", name, func(ctx context.Context) error { return i.unpause(ctx, n) })
	return nil
}

// Unpause thaws node, healing Pause.
func (i *Injector) Unpause(ctx context.Context, name string) error {
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.unpause(ctx, n); err != nil {
		return err
	}
	i.forget(name, "pause")
	return nil
}

func (i *Injector) unpause(ctx context.Context, n stack.NodeStatus) error {
	if err := i.pool.Client.UnpauseContainer(n.ID); err != nil {
		// Unpausing a running container fails with 409; that is healed.
		var e *dc.Error
		if !(errors.As(err, &e) && e.Status == 409) {
			return fmt.Errorf("unpause %s: %w", n.Name, err)
		}
	}
	return i.afterStart(ctx, n)
}

// Disconnect takes node off network (a full network name, e.g.
// "idstack-wan"); healing reconnects it with the aliases it had.
func (i *Injector) Disconnect(ctx context.Context, name, network string) error {
	reconnect, err := i.disconnect(ctx, name, network)
	if err != nil {
		return err
	}
	i.record("disconnect", name+"@"+network, reconnect)
	return nil
}

// disconnect takes node off network and returns the function that puts it
// back with the aliases it had.
func (i *Injector) disconnect(ctx context.Context, name, network string) (func(context.Context) error, error) {
	n, err := i.node(ctx, name)
	if err != nil {
		return nil, err
	}
	info, err := i.pool.Client.InspectContainerWithContext(n.ID, ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	ep, ok := info.NetworkSettings.Networks[network]
	if !ok {
		return nil, fmt.Errorf("disconnect %s: not on network %s", name, network)
	}
	aliases := withoutShortID(ep.Aliases, n.ID)
	if err := i.pool.Client.DisconnectNetwork(network, dc.NetworkConnectionOptions{Container: n.ID, Force: true, Context: ctx}); err != nil {
		return nil, fmt.Errorf("disconnect %s from %s: %w", name, network, err)
	}
	return func(ctx context.Context) error { return i.connect(ctx, n, network, aliases) }, nil
}

// Reconnect heals Disconnect of node from network.
func (i *Injector) Reconnect(ctx context.Context, name, network string) error {
	for _, a := range i.Active() {
		if a.Fault == "disconnect" && a.Node == name+"@"+network {
			if err := a.heal(ctx); err != nil {
				return err
			}
			i.forget(a.Node, "disconnect")
			return nil
		}
	}
	return fmt.Errorf("reconnect %s: it was not disconnected from %s by this injector", name, network)
}

func (i *Injector) connect(ctx context.Context, n stack.NodeStatus, network string, aliases []string) error {
	err := i.pool.Client.ConnectNetwork(network, dc.NetworkConnectionOptions{
		Container: n.ID, EndpointConfig: &dc.EndpointConfig{Aliases: aliases}, Context: ctx,
	})
	var e *dc.Error
	alreadyConnected := errors.As(err, &e) && (e.Status == 403 || strings.Contains(e.Message, "already exists"))
	if err != nil && !alreadyConnected {
		return fmt.Errorf("reconnect %s to %s: %w", n.Name, network, err)
	}
	return nil
}

// withoutShortID drops the alias Docker adds itself (the short container id).
func withoutShortID(aliases []string, id string) []string {
	var out []string
	for _, a := range aliases {
		if len(id) >= 12 && a == id[:12] {
			continue
		}
		out = append(out, a)
	}
	return out
}

// WANNetwork is the name of the stack's WAN network.
func (i *Injector) WANNetwork() string { return i.topology.WANNetwork() }

func (i *Injector) regionNode(region, role string) string { return i.topology.RegionNode(region, role) }

// CutRegion cuts region off the WAN: its gateway (database, SMTP) and its
// edge (reached by the global edge) leave the WAN network. Healing puts both
// back and resets the gateway's proxied connections: Docker gives the
// gateway a new WAN address, so connections opened before the cut could only
// hang (a real link keeps its addresses and would resume them). The reset
// also ends a SlowLink on the region.
//
// A witness site of the Patroni tier (infra.WitnessSites) is cut the same
// way; it has no edge, only its gateway leaves the WAN.
func (i *Injector) CutRegion(ctx context.Context, region string) error {
	roles := []string{stack.RoleGateway, stack.RoleEdge}
	if i.topology.RegionIndex(region) < 0 {
		if !i.isWitness(region) {
			return fmt.Errorf("cut region: %w: region %q", ErrUnknownNode, region)
		}
		roles = roles[:1]
	}
	var heals []func(context.Context) error
	heal := func(ctx context.Context) error {
		var errs []error
		for k := len(heals) - 1; k >= 0; k-- {
			errs = append(errs, heals[k](ctx))
		}
		errs = append(errs, i.resetGateway(ctx, region))
		return errors.Join(errs...)
	}
	for _, role := range roles {
		reconnect, err := i.disconnect(ctx, i.regionNode(region, role), i.WANNetwork())
		if err != nil {
			if len(heals) > 0 {
				i.record("cut-region", region, heal)
			}
			return err
		}
		heals = append(heals, reconnect)
	}
	i.record("cut-region", region, heal)
	return nil
}

func (i *Injector) isWitness(site string) bool {
	for _, w := range i.topology.WitnessSites() {
		if w.Name == site {
			return true
		}
	}
	return false
}

// RestoreRegion heals CutRegion.
func (i *Injector) RestoreRegion(ctx context.Context, region string) error {
	if err := i.healRecorded(ctx, "cut-region", region); err != nil {
		return fmt.Errorf("restore region %s: %w", region, err)
	}
	return nil
}

// healRecorded runs the recorded heal of fault on node and forgets it.
func (i *Injector) healRecorded(ctx context.Context, fault, node string) error {
	for _, a := range i.Active() {
		if a.Fault == fault && a.Node == node {
			if err := a.heal(ctx); err != nil {
				return err
			}
			i.forget(node, fault)
			return nil
		}
	}
	return errors.New("it was not injected by this injector")
}

// resetGateway closes every connection region's gateway proxies by
// restarting it (Toxiproxy reloads its proxies from its config file);
// clients reconnect at once. A SlowLink on the region ends with it.
func (i *Injector) resetGateway(ctx context.Context, region string) error {
	name := i.regionNode(region, stack.RoleGateway)
	n, err := i.node(ctx, name)
	if err != nil {
		return err
	}
	if err := i.pool.Client.RestartContainer(n.ID, 1); err != nil {
		return fmt.Errorf("reset gateway %s: %w", name, err)
	}
	i.forget(region, "slow-link")
	return nil
}

// CutReplication closes site's database member to every other site: its
// gateway stops forwarding PostgreSQL connections from the WAN (the
// inbound proxy of the member's port), so no standby elsewhere streams
// from it and no other region's router reaches it, while consensus and
// Patroni's API still cross. Healing opens it again.
func (i *Injector) CutReplication(ctx context.Context, site string) error {
	p, err := i.inboundPostgres(ctx, site)
	if err != nil {
		return err
	}
	if err := p.Disable(); err != nil {
		return fmt.Errorf("cut replication from %s: %w", site, err)
	}
	i.record("cut-replication", site, func(ctx context.Context) error {
		p, err := i.inboundPostgres(ctx, site)
		if err != nil {
			return err
		}
		return p.Enable()
	})
	return nil
}

// RestoreReplication heals CutReplication.
func (i *Injector) RestoreReplication(ctx context.Context, site string) error {
	if err := i.healRecorded(ctx, "cut-replication", site); err != nil {
		return fmt.Errorf("restore replication of %s: %w", site, err)
	}
	return nil
}

func (i *Injector) inboundPostgres(ctx context.Context, site string) (*toxiproxy.Proxy, error) {
	proxies, err := i.gatewayProxies(ctx, site)
	if err != nil {
		return nil, err
	}
	for _, p := range proxies {
		if p.Name == stack.InboundProxyPrefix+"postgres" {
			return p, nil
		}
	}
	return nil, fmt.Errorf("site %s: its gateway has no %spostgres proxy (not the Patroni tier?)", site, stack.InboundProxyPrefix)
}

// latencyToxic names the toxics this package adds.
const latencyToxic = "idstack-latency"

// SlowLink delays every response crossing region's WAN link (database and
// SMTP) by latency ± jitter. Healing removes the delay.
func (i *Injector) SlowLink(ctx context.Context, region string, latency, jitter time.Duration) error {
	proxies, err := i.gatewayProxies(ctx, region)
	if err != nil {
		return err
	}
	// Recorded first: a partial failure still leaves a heal that removes
	// whatever toxics were added.
	i.record("slow-link", region, func(ctx context.Context) error { return i.fastLink(ctx, region) })
	attrs := toxiproxy.Attributes{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}
	for _, p := range proxies {
		if strings.HasPrefix(p.Name, stack.InboundProxyPrefix) {
			continue // what other sites ask of this one waits on their links
		}
		if _, err := p.AddToxic(latencyToxic, "latency", "downstream", 1, attrs); err != nil {
			return fmt.Errorf("slow link %s/%s: %w", region, p.Name, err)
		}
	}
	return nil
}

// FastLink heals SlowLink on region.
func (i *Injector) FastLink(ctx context.Context, region string) error {
	if err := i.fastLink(ctx, region); err != nil {
		return err
	}
	i.forget(region, "slow-link")
	return nil
}

func (i *Injector) fastLink(ctx context.Context, region string) error {
	proxies, err := i.gatewayProxies(ctx, region)
	if err != nil {
		return err
	}
	for _, p := range proxies {
		var apiErr *toxiproxy.ApiError
		if err := p.RemoveToxic(latencyToxic); err != nil && !(errors.As(err, &apiErr) && apiErr.Status == 404) {
			return fmt.Errorf("fast link %s/%s: %w", region, p.Name, err)
		}
	}
	return nil
}

// gatewayProxies returns the Toxiproxy proxies of region's gateway, reached
// from the host on the gateway's address in the region network.
func (i *Injector) gatewayProxies(ctx context.Context, region string) ([]*toxiproxy.Proxy, error) {
	name := i.regionNode(region, stack.RoleGateway)
	n, err := i.node(ctx, name)
	if err != nil {
		return nil, err
	}
	info, err := i.pool.Client.InspectContainerWithContext(n.ID, ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", name, err)
	}
	ep, ok := info.NetworkSettings.Networks[i.topology.RegionNetwork(region)]
	if !ok || ep.IPAddress == "" {
		return nil, fmt.Errorf("gateway %s has no address in its region", name)
	}
	client := toxiproxy.NewClient("http://" + net.JoinHostPort(ep.IPAddress, strconv.Itoa(config.ToxiproxyAPIPort)))
	all, err := client.Proxies()
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", name, err)
	}
	var out []*toxiproxy.Proxy
	for _, p := range all {
		out = append(out, p)
	}
	return out, nil
}
