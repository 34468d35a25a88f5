package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/idstack/idstack"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
)

// Roles of the Patroni tier's nodes besides RoleDatabase (a PostgreSQL
// member under Patroni).
const (
	RoleConsensus      = "etcd"
	RoleDatabaseRouter = "db-router"
)

// patroniTier is the Patroni tier's nodes, in the order Up starts them.
type patroniTier struct {
	etcd    []nodeSpec // one per site
	members []nodeSpec // one per site; the first bootstraps the cluster
	routers []nodeSpec // one per region
}

func (s *Stack) memberVolume(site string) string { return s.volume("db-" + site) }
func (s *Stack) etcdVolume(site string) string   { return s.volume("etcd-" + site) }

// patroniVolumes lists the tier's volumes: every member's data and every
// etcd member's.
func (s *Stack) patroniVolumes() []string {
	var out []string
	for _, site := range s.Topology.DatabaseSites() {
		out = append(out, s.memberVolume(site.Name), s.etcdVolume(site.Name))
	}
	return out
}

// witnessNetworks lists the networks of the sites that are not regions.
func (s *Stack) witnessNetworks() []string {
	var out []string
	for _, w := range s.Topology.WitnessSites() {
		out = append(out, s.Topology.SiteNetwork(w.Name))
	}
	return out
}

func (s *Stack) patroniTier(st State) patroniTier {
	t := s.Topology
	var p patroniTier
	tags := st.Images
	for _, site := range t.DatabaseSites() {
		ports := config.PortsOfSite(site.Index)
		net := t.SiteNetwork(site.Name)
		region := site.Name
		p.etcd = append(p.etcd, nodeSpec{
			name: t.SiteNode(site.Name, RoleConsensus), role: RoleConsensus, region: region, image: tags[images.DBTier],
			entrypoint: []string{"/usr/bin/etcd", "--config-file", config.EtcdConfigPath},
			files:      []config.File{config.Etcd(t, site)},
			networks:   []attachment{{net, []string{config.EtcdHost(site.Name)}}},
			volumes:    map[string]string{s.etcdVolume(site.Name): config.EtcdDataPath},
			probe:      &probe{path: "/health", port: ports.EtcdClient, ok: func(int) bool { return true }},
		})
		p.members = append(p.members, nodeSpec{
			name: t.SiteNode(site.Name, RoleDatabase), role: RoleDatabase, region: region, image: tags[images.DBTier],
			entrypoint: []string{config.PatroniEntrypointPath},
			files:      []config.File{config.PatroniEntrypoint(), config.Patroni(t, st.Secrets, site, idstack.Version("POSTGRES_HA_MAJOR"))},
			networks:   []attachment{{net, []string{config.MemberHost(site.Name)}}},
			volumes:    map[string]string{s.memberVolume(site.Name): config.PatroniDataPath},
			// Patroni's /health answers 200 while PostgreSQL runs, as
			// primary or standby.
			probe: &probe{path: "/health", port: ports.Patroni},
		})
	}
	for _, r := range t.Regions {
		p.routers = append(p.routers, nodeSpec{
			name: s.regionName(r, RoleDatabaseRouter), role: RoleDatabaseRouter, region: r, image: tags[images.Debian],
			entrypoint: []string{"/usr/sbin/haproxy", "-db", "-f", config.HAProxyConfigPath},
			files:      []config.File{config.DatabaseRouter(t)},
			networks:   []attachment{{s.regionNetwork(r), []string{config.DatabaseHost}}},
			probe:      &probe{path: config.RouterHealthPath, port: config.RouterHealthPort},
		})
	}
	return p
}

// gatewayProxy is one Toxiproxy proxy of a gateway.
type gatewayProxy struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`
}

// InboundProxyPrefix starts the names of the proxies by which a site's
// gateway lets other sites reach its own members. A slow link delays
// what the site asks for (its outbound proxies), not what it is asked,
// so that a round trip crosses one delay, as over the single database's
// link.
const InboundProxyPrefix = "in-"

// patroniProxies returns site's gateway proxies for the Patroni tier and
// the names the gateway answers for on the site's network: for each other
// site, its members' ports forwarded to that site's gateway over the WAN;
// for this site, its members' ports forwarded from the WAN to them.
func patroniProxies(t infra.Topology, site infra.Site) (proxies []gatewayProxy, aliases []string) {
	for _, other := range t.DatabaseSites() {
		ports := config.PortsOfSite(other.Index).List()
		if other.Name == site.Name {
			for _, p := range ports {
				host := config.MemberHost(site.Name)
				if p.Name == "etcd-client" || p.Name == "etcd-peer" {
					host = config.EtcdHost(site.Name)
				}
				proxies = append(proxies, gatewayProxy{InboundProxyPrefix + p.Name, fmt.Sprintf("0.0.0.0:%d", p.Port), fmt.Sprintf("%s:%d", host, p.Port), true})
			}
			continue
		}
		for _, p := range ports {
			proxies = append(proxies, gatewayProxy{other.Name + "-" + p.Name, fmt.Sprintf("0.0.0.0:%d", p.Port), fmt.Sprintf("%s:%d", config.GatewayWANHost(other.Name), p.Port), true})
		}
		aliases = append(aliases, config.MemberHost(other.Name), config.EtcdHost(other.Name))
	}
	return proxies, aliases
}

// witnessGateway is a witness site's WAN link: the Patroni proxies only.
func (s *Stack) witnessGateway(site infra.Site, tags images.Tags) (nodeSpec, error) {
	proxies, aliases := patroniProxies(s.Topology, site)
	return s.gatewayNode(site.Name, tags, proxies, aliases)
}

// gatewayNode is the Toxiproxy container of site (a region or a witness)
// with proxies, answering for aliases on the site's network and for its
// WAN name on the WAN.
func (s *Stack) gatewayNode(site string, tags images.Tags, proxies []gatewayProxy, aliases []string) (nodeSpec, error) {
	data, err := json.MarshalIndent(proxies, "", "  ")
	if err != nil {
		return nodeSpec{}, err
	}
	return nodeSpec{
		name: s.Topology.SiteNode(site, RoleGateway), role: RoleGateway, region: site, image: tags[images.Toxiproxy],
		cmd:      []string{"-host", "0.0.0.0", "-port", fmt.Sprint(config.ToxiproxyAPIPort), "-config", toxiproxyConfigPath},
		files:    []config.File{{Path: toxiproxyConfigPath, Mode: 0o444, Data: data}},
		networks: []attachment{{s.Topology.SiteNetwork(site), aliases}, {s.wanNetwork(), []string{config.GatewayWANHost(site)}}},
		probe:    &probe{path: "/version", port: config.ToxiproxyAPIPort},
	}, nil
}

// upPatroni starts the tier: every etcd member, then the first site's
// PostgreSQL member alone until it leads (so the primary region's member
// bootstraps the cluster and is its first primary), then the others, then
// the routers once they see that primary. It returns the primary region's
// router, where the bootstrap SQL goes.
func (s *Stack) upPatroni(ctx context.Context, p patroniTier, networkIDs map[string]string) (container, error) {
	etcd, err := s.runAll(ctx, p.etcd, networkIDs)
	if err != nil {
		return container{}, err
	}
	if err := s.waitAll(ctx, etcd); err != nil {
		return container{}, err
	}
	s.logf("etcd: %d members up", len(etcd))
	first, err := s.runAll(ctx, p.members[:1], networkIDs)
	if err != nil {
		return container{}, err
	}
	leader := first[0]
	leader.spec.probe = &probe{path: "/primary", port: config.PortsOfSite(0).Patroni}
	if err := s.waitHealthy(ctx, leader); err != nil {
		return container{}, err
	}
	s.logf("patroni: %s leads", p.members[0].name)
	rest, err := s.runAll(ctx, p.members[1:], networkIDs)
	if err != nil {
		return container{}, err
	}
	if err := s.waitAll(ctx, rest); err != nil {
		return container{}, err
	}
	routers, err := s.runAll(ctx, p.routers, networkIDs)
	if err != nil {
		return container{}, err
	}
	if err := s.waitAll(ctx, routers); err != nil {
		return container{}, err
	}
	if err := s.waitReplicating(ctx, 2*time.Minute); err != nil {
		return container{}, err
	}
	s.logf("patroni: %d members streaming, %d routers see the primary", len(p.members), len(routers))
	return routers[0], nil
}

// Member is one PostgreSQL member of the Patroni tier as Patroni reports
// it (GET /cluster).
type Member struct {
	Name  string `json:"name"`
	Role  string `json:"role"`  // leader, sync_standby, quorum_standby, replica
	State string `json:"state"` // running, streaming, starting, stopped, …
	// Lag is the standby's replay lag in bytes (Patroni reports "unknown"
	// as a string when it cannot tell; that reads as -1).
	Lag      int64  `json:"-"`
	Timeline int    `json:"timeline"`
	Host     string `json:"host"`
}

// UnmarshalJSON reads Patroni's lag, a number or "unknown".
func (m *Member) UnmarshalJSON(data []byte) error {
	type plain Member
	var raw struct {
		plain
		Lag any `json:"lag"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*m = Member(raw.plain)
	switch v := raw.Lag.(type) {
	case float64:
		m.Lag = int64(v)
	case nil:
		m.Lag = 0
	default:
		m.Lag = -1
	}
	return nil
}

// IsLeader reports whether Patroni names m the leader (the primary).
func (m Member) IsLeader() bool { return m.Role == "leader" }

// Cluster returns the Patroni tier's members as the first member that
// answers sees them, sorted by name.
func (s *Stack) Cluster(ctx context.Context) ([]Member, error) {
	if s.Topology.Database != infra.DatabasePatroni {
		return nil, fmt.Errorf("cluster: the %s database has no Patroni members", s.Topology.Database)
	}
	addrs, err := s.memberAPIs(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, addr := range addrs {
		members, err := patroniCluster(ctx, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		return members, nil
	}
	return nil, fmt.Errorf("cluster: no member answered: %v", errs)
}

func patroniCluster(ctx context.Context, hostport string) ([]Member, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/cluster", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /cluster: %s", resp.Status)
	}
	return parseCluster(body)
}

// parseCluster reads Patroni's GET /cluster answer.
func parseCluster(body []byte) ([]Member, error) {
	var doc struct {
		Members []Member `json:"members"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("parse /cluster: %w", err)
	}
	sort.Slice(doc.Members, func(i, j int) bool { return doc.Members[i].Name < doc.Members[j].Name })
	return doc.Members, nil
}

// ClusterHealthy is nil when one member leads and every other streams
// from it on the leader's timeline with no replay lag.
func ClusterHealthy(members []Member, want int) error {
	var leader *Member
	for i := range members {
		if members[i].IsLeader() {
			if leader != nil {
				return fmt.Errorf("two leaders: %s and %s", leader.Name, members[i].Name)
			}
			leader = &members[i]
		}
	}
	if leader == nil {
		return fmt.Errorf("no leader among %d members", len(members))
	}
	if len(members) != want {
		return fmt.Errorf("%d members, want %d", len(members), want)
	}
	for _, m := range members {
		if m.IsLeader() {
			continue
		}
		if m.State != "streaming" {
			return fmt.Errorf("%s is %s, not streaming", m.Name, m.State)
		}
		if m.Timeline != leader.Timeline {
			return fmt.Errorf("%s is on timeline %d, the leader on %d", m.Name, m.Timeline, leader.Timeline)
		}
		if m.Lag != 0 {
			return fmt.Errorf("%s lags %d bytes", m.Name, m.Lag)
		}
	}
	return nil
}

// waitReplicating waits until ClusterHealthy holds.
func (s *Stack) waitReplicating(ctx context.Context, timeout time.Duration) error {
	want := len(s.Topology.DatabaseSites())
	var last error
	err := Poll(ctx, timeout, 500*time.Millisecond, func(ctx context.Context) error {
		members, err := s.Cluster(ctx)
		if err == nil {
			err = ClusterHealthy(members, want)
		}
		last = err
		return err
	})
	if err != nil {
		return fmt.Errorf("patroni: members not streaming after %s: %w", timeout, last)
	}
	return nil
}

// routerAddress is region r's database router as the host reaches it.
func (s *Stack) routerAddress(ctx context.Context, r string) (string, error) {
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return "", err
	}
	name := s.regionName(r, RoleDatabaseRouter)
	for _, n := range nodes {
		if n.Name == name && n.State == "running" {
			ip, err := s.address(ctx, n.ID, s.regionNetwork(r))
			if err != nil {
				return "", err
			}
			return net.JoinHostPort(ip, strconv.Itoa(config.PostgresPort)), nil
		}
	}
	return "", fmt.Errorf("%w: no running database router in %s", ErrNotUp, r)
}

// MemberNode is the container of the Patroni member named member
// (config.MemberName), and its site.
func (s *Stack) MemberNode(member string) (node, site string, err error) {
	for _, st := range s.Topology.DatabaseSites() {
		if config.MemberName(st.Name) == member {
			return s.Topology.SiteNode(st.Name, RoleDatabase), st.Name, nil
		}
	}
	return "", "", fmt.Errorf("no Patroni member %q in %s", member, s.Topology.Name)
}

// Switchover asks Patroni to hand the leader lock from leader to
// candidate (member names) and returns once Patroni reports it done: a
// planned switchover, in which the old primary stops cleanly and rejoins
// as a standby. It asks the first member whose REST API answers.
func (s *Stack) Switchover(ctx context.Context, leader, candidate string) error {
	if s.Topology.Database != infra.DatabasePatroni {
		return fmt.Errorf("switchover: the %s database has no Patroni members", s.Topology.Database)
	}
	body, err := json.Marshal(map[string]string{"leader": leader, "candidate": candidate})
	if err != nil {
		return err
	}
	addrs, err := s.memberAPIs(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, addr := range addrs {
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, "http://"+addr+"/switchover", bytes.NewReader(body))
		if err != nil {
			cancel()
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			// Ask the next member only when this one never got the
			// request: one that may have acted on it would be asked to
			// switch over a leader that no longer leads.
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "dial" {
				return fmt.Errorf("switchover %s → %s: %w (it may have happened: see Cluster)", leader, candidate, err)
			}
			errs = append(errs, err)
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK {
			// Patroni refuses with 412 (no such candidate, not healthy)
			// or 503 (it could not tell): a refusal is an answer.
			return fmt.Errorf("switchover %s → %s: %s: %s", leader, candidate, resp.Status, bytes.TrimSpace(msg))
		}
		return nil
	}
	return fmt.Errorf("switchover %s → %s: no member answered: %w", leader, candidate, errors.Join(errs...))
}

// memberAPIs lists the REST API addresses of the running members, as the
// host reaches them, in site order.
func (s *Stack) memberAPIs(ctx context.Context) ([]string, error) {
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, site := range s.Topology.DatabaseSites() {
		name := s.Topology.SiteNode(site.Name, RoleDatabase)
		for _, n := range nodes {
			if n.Name != name || n.State != "running" {
				continue
			}
			ip, err := s.address(ctx, n.ID, s.Topology.SiteNetwork(site.Name))
			if err != nil {
				continue // a member off its network (being restarted) is asked no question
			}
			out = append(out, net.JoinHostPort(ip, strconv.Itoa(config.PortsOfSite(site.Index).Patroni)))
		}
	}
	return out, nil
}

// WaitReplicating waits up to timeout until one member leads and every
// other streams from it on its timeline with no lag (ClusterHealthy).
func (s *Stack) WaitReplicating(ctx context.Context, timeout time.Duration) error {
	return s.waitReplicating(ctx, timeout)
}

// PatchClusterConfig changes the cluster's dynamic configuration (the
// bootstrap.dcs part, kept in etcd) with Patroni's PATCH /config: for
// tests that must, say, turn synchronous replication off.
func (s *Stack) PatchClusterConfig(ctx context.Context, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	addrs, err := s.memberAPIs(ctx)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("patch cluster config: %w: no running member", ErrNotUp)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPatch, "http://"+addrs[0]+"/config", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("patch cluster config: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("patch cluster config: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
