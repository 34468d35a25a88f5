package config

import (
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/internal/golden"
)

func patroniTopology() infra.Topology {
	t := infra.Default()
	t.Database = infra.DatabasePatroni
	return t
}

func TestPatroniGolden(t *testing.T) {
	top := patroniTopology()
	sites := top.DatabaseSites()
	s := fixedSecrets
	s.ReplicationPassword, s.RewindPassword = "replication-pw", "rewind-pw"
	files := map[string]File{
		"patroni-eu.yml":      Patroni(top, s, sites[0], "17"),
		"patroni-witness.yml": Patroni(top, s, sites[2], "17"),
		"etcd-us.yml":         Etcd(top, sites[1]),
		"db-router.cfg":       DatabaseRouter(top),
	}
	for name, f := range files {
		t.Run(name, func(t *testing.T) { golden.Check(t, name, f.Data) })
	}
}

// The settings that make the tier lose no acknowledged commit and fail
// over by itself, read back from the rendered file.
func TestPatroniKeepsEveryAcknowledgedCommit(t *testing.T) {
	top := patroniTopology()
	var cfg struct {
		Bootstrap struct {
			DCS struct {
				TTL          int    `yaml:"ttl"`
				LoopWait     int    `yaml:"loop_wait"`
				RetryTimeout int    `yaml:"retry_timeout"`
				Mode         string `yaml:"synchronous_mode"`
				NodeCount    int    `yaml:"synchronous_node_count"`
				Strict       bool   `yaml:"synchronous_mode_strict"`
				PostgreSQL   struct {
					Rewind     bool           `yaml:"use_pg_rewind"`
					Parameters map[string]any `yaml:"parameters"`
				} `yaml:"postgresql"`
			} `yaml:"dcs"`
		} `yaml:"bootstrap"`
		Etcd3 struct {
			Hosts []string `yaml:"hosts"`
		} `yaml:"etcd3"`
	}
	site := top.DatabaseSites()[1]
	if err := yaml.Unmarshal(Patroni(top, fixedSecrets, site, "17").Data, &cfg); err != nil {
		t.Fatal(err)
	}
	dcs := cfg.Bootstrap.DCS
	if dcs.Mode != "quorum" || dcs.NodeCount != 1 || !dcs.Strict || !dcs.PostgreSQL.Rewind {
		t.Errorf("synchronous_mode %q, node count %d, strict %v, pg_rewind %v: want quorum, 1, strict, true", dcs.Mode, dcs.NodeCount, dcs.Strict, dcs.PostgreSQL.Rewind)
	}
	if dcs.LoopWait+2*dcs.RetryTimeout > dcs.TTL || dcs.TTL < 20 {
		t.Errorf("loop_wait %d + 2 × retry_timeout %d > ttl %d (or ttl below Patroni 4's 20)", dcs.LoopWait, dcs.RetryTimeout, dcs.TTL)
	}
	if dcs.PostgreSQL.Parameters["synchronous_commit"] != "on" {
		t.Errorf("synchronous_commit %v, want on", dcs.PostgreSQL.Parameters["synchronous_commit"])
	}
	if len(cfg.Etcd3.Hosts) != 3 || !strings.HasPrefix(cfg.Etcd3.Hosts[0], EtcdHost(site.Name)+":") {
		t.Errorf("etcd hosts %v: want all three, the member's own site first", cfg.Etcd3.Hosts)
	}
}

// Every site's members have ports of their own, none the router's, so
// one gateway can forward every remote member on the member's own port.
func TestSitePortsNeverCollide(t *testing.T) {
	seen := map[int]string{PostgresPort: "router", ToxiproxyAPIPort: "toxiproxy", RouterHealthPort: "router health"}
	for i := range infra.MaxRegions {
		for _, p := range PortsOfSite(i).List() {
			if other, ok := seen[p.Port]; ok {
				t.Errorf("site %d %s port %d collides with %s", i, p.Name, p.Port, other)
			}
			seen[p.Port] = p.Name
		}
	}
}

func TestEtcdNamesEveryMember(t *testing.T) {
	top := patroniTopology()
	var cfg map[string]any
	if err := yaml.Unmarshal(Etcd(top, top.DatabaseSites()[0]).Data, &cfg); err != nil {
		t.Fatal(err)
	}
	initial, _ := cfg["initial-cluster"].(string)
	for _, s := range top.DatabaseSites() {
		if !strings.Contains(initial, "etcd-"+s.Name+"=http://"+EtcdHost(s.Name)) {
			t.Errorf("initial-cluster %q lacks site %s", initial, s.Name)
		}
	}
	if cfg["election-timeout"].(int) < 5*cfg["heartbeat-interval"].(int) {
		t.Errorf("election timeout %v under five heartbeats %v", cfg["election-timeout"], cfg["heartbeat-interval"])
	}
}

func TestDatabaseRouterChecksEveryMemberForPrimary(t *testing.T) {
	top := patroniTopology()
	cfg := string(DatabaseRouter(top).Data)
	for _, want := range []string{"option httpchk OPTIONS /primary", "on-marked-down shutdown-sessions", "rise 2", "fall 2"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("router config lacks %q", want)
		}
	}
	for _, s := range top.DatabaseSites() {
		p := PortsOfSite(s.Index)
		want := MemberHost(s.Name) + ":" + strconv.Itoa(p.Postgres) + " check port " + strconv.Itoa(p.Patroni)
		if !strings.Contains(cfg, want) {
			t.Errorf("router config lacks server %q", want)
		}
	}
}
