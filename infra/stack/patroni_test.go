package stack

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
)

// A site's gateway forwards each other site's members on their own ports
// to that site's gateway, and its own members' ports from the WAN to
// them; it answers for the other sites' member names only.
func TestPatroniProxiesRouteEveryRemoteMember(t *testing.T) {
	top := infra.Default()
	top.Database = infra.DatabasePatroni
	sites := top.DatabaseSites()
	proxies, aliases := patroniProxies(top, sites[0])
	byName := map[string]gatewayProxy{}
	listens := map[string]bool{}
	for _, p := range proxies {
		byName[p.Name] = p
		if listens[p.Listen] {
			t.Errorf("two proxies listen on %s", p.Listen)
		}
		listens[p.Listen] = true
	}
	if got := byName["us-postgres"]; got.Upstream != config.GatewayWANHost("us")+":5434" || got.Listen != "0.0.0.0:5434" {
		t.Errorf("us-postgres %+v: want 5434 forwarded to us's gateway", got)
	}
	if got := byName["witness-etcd-peer"]; got.Upstream != config.GatewayWANHost("witness")+":2384" {
		t.Errorf("witness-etcd-peer %+v: want 2384 forwarded to the witness's gateway", got)
	}
	if got := byName[InboundProxyPrefix+"postgres"]; got.Upstream != config.MemberHost("eu")+":5433" {
		t.Errorf("inbound postgres %+v: want it forwarded to eu's member", got)
	}
	if got := byName[InboundProxyPrefix+"etcd-client"]; got.Upstream != config.EtcdHost("eu")+":2379" {
		t.Errorf("inbound etcd client %+v: want it forwarded to eu's etcd", got)
	}
	joined := strings.Join(aliases, " ")
	for _, want := range []string{config.MemberHost("us"), config.EtcdHost("witness")} {
		if !strings.Contains(joined, want) {
			t.Errorf("aliases %v lack %s", aliases, want)
		}
	}
	if strings.Contains(joined, config.MemberHost("eu")) {
		t.Errorf("aliases %v: the gateway must not answer for its own site's member", aliases)
	}
}

func TestParseClusterAndHealth(t *testing.T) {
	body := []byte(`{"members":[
	 {"name":"pg-us","role":"quorum_standby","state":"streaming","host":"pg-us","port":5434,"timeline":2,"lag":0},
	 {"name":"pg-eu","role":"leader","state":"running","host":"pg-eu","port":5433,"timeline":2},
	 {"name":"pg-witness","role":"replica","state":"streaming","host":"pg-witness","port":5435,"timeline":2,"lag":"unknown"}]}`)
	members, err := parseCluster(body)
	if err != nil {
		t.Fatal(err)
	}
	if members[0].Name != "pg-eu" || !members[0].IsLeader() || members[2].Lag != -1 || members[1].Lag != 0 {
		t.Errorf("members %+v: want sorted, the leader found, unknown lag as -1", members)
	}
	if err := ClusterHealthy(members, 3); err == nil || !strings.Contains(err.Error(), "pg-witness lags") {
		t.Errorf("got %v, want the unknown lag named", err)
	}
	members[2].Lag = 0
	if err := ClusterHealthy(members, 3); err != nil {
		t.Errorf("healthy cluster: %v", err)
	}
	members[1].Timeline = 1
	if err := ClusterHealthy(members, 3); err == nil || !strings.Contains(err.Error(), "timeline") {
		t.Errorf("got %v, want the old timeline named", err)
	}
	members[1].Timeline, members[1].Role = 2, "leader"
	if err := ClusterHealthy(members, 3); err == nil || !strings.Contains(err.Error(), "two leaders") {
		t.Errorf("got %v, want two leaders refused", err)
	}
	if _, err := parseCluster([]byte(`{"members":`)); err == nil {
		t.Error("truncated /cluster parsed")
	}
}

// FuzzParseCluster: whatever a member answers, parsing returns members or
// an error, never a panic.
func FuzzParseCluster(f *testing.F) {
	f.Add([]byte(`{"members":[{"name":"pg-eu","role":"leader","lag":"unknown","timeline":1}]}`))
	f.Add([]byte(`{"members":[{"lag":1e30}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		members, err := parseCluster(body)
		if err == nil {
			_ = ClusterHealthy(members, 3)
		}
	})
}

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "sqlstate " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

// Only the errors PostgreSQL asks the client to retry a transaction on are
// retried; wrapped ones too.
func TestRetryableTransactionErrors(t *testing.T) {
	for code, want := range map[string]bool{"40001": true, "40P01": true, "23505": false, "42P07": false} {
		if got := retryable(fmt.Errorf("commit: %w", sqlStateErr(code))); got != want {
			t.Errorf("SQLSTATE %s: retryable %v, want %v", code, got, want)
		}
	}
	if retryable(errors.New("connection refused")) {
		t.Error("a plain error is not a retryable transaction error")
	}
}

// The Patroni plan: one etcd and one member per site (the witness
// included), a router per region answering for the database name, a
// gateway for the witness, no single database node; every member on its
// site's network only, every name unique.
func TestPlanPatroniTopology(t *testing.T) {
	top := infra.Default()
	top.Database = infra.DatabasePatroni
	p := testPlan(t, top)
	if len(p.database) != 0 || len(p.patroni.etcd) != 3 || len(p.patroni.members) != 3 || len(p.patroni.routers) != 2 {
		t.Fatalf("database %d, etcd %d, members %d, routers %d: want 0, 3, 3, 2",
			len(p.database), len(p.patroni.etcd), len(p.patroni.members), len(p.patroni.routers))
	}
	if p.patroni.members[0].name != "idstack-eu-db" {
		t.Errorf("first member %s: the primary region's must bootstrap", p.patroni.members[0].name)
	}
	for _, n := range append(append([]nodeSpec{}, p.patroni.etcd...), p.patroni.members...) {
		if len(n.networks) != 1 || n.networks[0].network != "idstack-"+n.region {
			t.Errorf("%s: want only its site's network, got %+v", n.name, n.networks)
		}
	}
	for _, r := range p.patroni.routers {
		if !slices.Contains(r.networks[0].aliases, config.DatabaseHost) {
			t.Errorf("router %s does not answer for %s", r.name, config.DatabaseHost)
		}
	}
	witness := find(t, p.gateways, "idstack-witness-gateway")
	if !slices.Contains(witness.networks[1].aliases, config.GatewayWANHost("witness")) {
		t.Errorf("witness gateway WAN aliases %v", witness.networks[1].aliases)
	}
	gw := find(t, p.gateways, "idstack-eu-gateway")
	if slices.Contains(gw.networks[0].aliases, config.DatabaseHost) {
		t.Errorf("eu gateway answers for %s: the router must", config.DatabaseHost)
	}
	s := &Stack{Topology: top}
	if !slices.Contains(s.networks(), "idstack-witness") || len(s.volumes()) != 7 {
		t.Errorf("networks %v, volumes %v: want the witness network and 3×2+1 volumes", s.networks(), s.volumes())
	}
	seen := map[string]bool{}
	all := append(append(append(append(append([]nodeSpec{p.vault, p.mail}, p.patroni.etcd...), p.patroni.members...), p.patroni.routers...), p.gateways...), p.services...)
	for _, n := range append(all, p.edges...) {
		if seen[n.name] {
			t.Errorf("container name %s used twice", n.name)
		}
		seen[n.name] = true
	}
}
