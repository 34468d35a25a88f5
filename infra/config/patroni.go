package config

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/idstack/idstack/infra"
)

// The Patroni tier (infra.DatabasePatroni): one PostgreSQL member under
// Patroni and one etcd member per database site, and a router (HAProxy)
// per region that sends PostgreSQL connections to whichever member holds
// the leader lock.
//
// Every member listens on ports of its own site (PortsOfSite), so that a
// site's WAN gateway can forward each remote member on that member's own
// port: inside site A, the name of a member at site B resolves to A's
// gateway, which forwards over the WAN to B's gateway, which forwards to
// the member. Replication, consensus and routed queries all cross both
// sites' links, so a cut or a slow link acts on them as on any other WAN
// traffic.

// Paths inside the database tier's containers.
const (
	PatroniConfigPath     = "/etc/idstack/patroni.yml"
	PatroniEntrypointPath = "/usr/local/bin/idstack-patroni"
	PatroniDataPath       = "/var/lib/idstack/postgres"
	EtcdConfigPath        = "/etc/idstack/etcd.yml"
	EtcdDataPath          = "/var/lib/idstack/etcd"
)

// PostgresBinDir is where Debian's postgresql-N package puts the server
// binaries; N is POSTGRES_HA_MAJOR in versions.env.
func PostgresBinDir(major string) string { return "/usr/lib/postgresql/" + major + "/bin" }

// Users of the Patroni tier besides the superuser and the services' own.
const (
	ReplicationUser = "replicator"
	RewindUser      = "rewinder"
)

// RouterHealthPort answers RouterHealthPath with 200 while the router sees
// a primary, 503 while it does not.
const (
	RouterHealthPort = 8404
	RouterHealthPath = "/health"
)

// SitePorts are the container ports of one site's members.
type SitePorts struct {
	Postgres, Patroni, EtcdClient, EtcdPeer int
}

// PortsOfSite returns the ports of the members at the site of index i
// (infra.Site.Index): PostgreSQL 5433+i, Patroni's REST API 8008+i, etcd
// 2379+2i (client) and 2380+2i (peer). 5432 is the router's.
func PortsOfSite(i int) SitePorts {
	return SitePorts{Postgres: 5433 + i, Patroni: 8008 + i, EtcdClient: 2379 + 2*i, EtcdPeer: 2380 + 2*i}
}

// List returns the ports in a fixed order, each with the name its gateway
// proxies carry.
func (p SitePorts) List() []NamedPort {
	return []NamedPort{{"postgres", p.Postgres}, {"patroni", p.Patroni}, {"etcd-client", p.EtcdClient}, {"etcd-peer", p.EtcdPeer}}
}

// NamedPort is one port of a site's members.
type NamedPort struct {
	Name string
	Port int
}

// MemberHost is the name of site's PostgreSQL member, EtcdHost of its etcd
// member: the member itself inside its site, the site's gateway elsewhere.
func MemberHost(site string) string { return "pg-" + site + ".db." + InternalDomain }

// EtcdHost: see MemberHost.
func EtcdHost(site string) string { return "etcd-" + site + ".db." + InternalDomain }

// GatewayWANHost is a site gateway's name on the WAN network, where other
// sites' gateways reach it.
func GatewayWANHost(site string) string { return "gw-" + site + ".wan." + InternalDomain }

// MemberName is the Patroni member name (and the router's server name) of
// site's member.
func MemberName(site string) string { return "pg-" + site }

// MemberSetting is the PostgreSQL setting that holds a member's name.
const MemberSetting = "idstack.member"

// Patroni timings. Patroni 4 refuses a ttl below 20 s and needs
// loop_wait + 2*retry_timeout <= ttl: a dead primary's lock expires after
// ttl, so writes resume about ttl plus a loop after a primary dies.
const (
	PatroniTTL          = 20
	PatroniLoopWait     = 2
	PatroniRetryTimeout = 5
)

// etcdHosts lists every etcd member's client address, the local site's
// first (Patroni asks it first and moves on when it fails).
func etcdHosts(t infra.Topology, local infra.Site) []string {
	hosts := []string{fmt.Sprintf("%s:%d", EtcdHost(local.Name), PortsOfSite(local.Index).EtcdClient)}
	for _, s := range t.DatabaseSites() {
		if s.Name != local.Name {
			hosts = append(hosts, fmt.Sprintf("%s:%d", EtcdHost(s.Name), PortsOfSite(s.Index).EtcdClient))
		}
	}
	return hosts
}

// Patroni renders patroni.yml for the member at site. The cluster's
// settings (bootstrap.dcs) are what the first member writes into etcd;
// every member renders the same ones.
//
// Durability: synchronous_mode quorum with synchronous_node_count 1 makes
// every commit wait for one standby (on another site) as well as the
// primary, and Patroni promotes only a member of that quorum, so no
// acknowledged commit is lost when the primary's site goes;
// synchronous_mode_strict keeps that true when both standbys are gone
// (writes then wait); use_pg_rewind lets a failed primary rejoin as a
// standby of the new one.
func Patroni(t infra.Topology, s Secrets, site infra.Site, pgMajor string) File {
	ports := PortsOfSite(site.Index)
	priority := 2
	if site.Witness {
		priority = 1 // preferred less as primary: no service runs beside it
	}
	cfg := map[string]any{
		"scope":     t.Name,
		"namespace": "/idstack/",
		"name":      MemberName(site.Name),
		"log":       map[string]any{"level": "WARNING"},
		"restapi": map[string]any{
			"listen":          fmt.Sprintf("0.0.0.0:%d", ports.Patroni),
			"connect_address": fmt.Sprintf("%s:%d", MemberHost(site.Name), ports.Patroni),
		},
		"etcd3": map[string]any{
			"hosts":       etcdHosts(t, site),
			"use_proxies": true, // talk to the listed hosts only, not to the addresses etcd advertises
		},
		"bootstrap": map[string]any{
			"dcs": map[string]any{
				"ttl":                     PatroniTTL,
				"loop_wait":               PatroniLoopWait,
				"retry_timeout":           PatroniRetryTimeout,
				"maximum_lag_on_failover": 1 << 20,
				"synchronous_mode":        "quorum",
				"synchronous_node_count":  1,
				// Strict: with no standby left to acknowledge, writes
				// wait rather than go on asynchronously, so that no
				// acknowledged commit is ever on one node only.
				"synchronous_mode_strict": true,
				"postgresql": map[string]any{
					"use_pg_rewind": true,
					"use_slots":     true,
					"parameters": map[string]any{
						"wal_level":             "replica",
						"hot_standby":           "on",
						"wal_log_hints":         "on",
						"synchronous_commit":    "on",
						"max_connections":       300,
						"max_wal_senders":       10,
						"max_replication_slots": 10,
						"wal_keep_size":         "256MB",
						"shared_buffers":        "128MB",
						// A cut-off primary's shutdown waits for its WAL
						// senders; without this it waited ~93 s here.
						"wal_sender_timeout": "10s",
						// A standby whose primary went away retries its
						// stream after 1 s, not 5 s: under strict
						// synchronous commit the new primary's commits
						// wait until one standby follows it.
						"wal_retrieve_retry_interval": "1s",
					},
				},
			},
			"initdb": []any{
				map[string]any{"encoding": "UTF8"},
				map[string]any{"locale": "C.UTF-8"},
				map[string]any{"auth-host": "scram-sha-256"},
				map[string]any{"auth-local": "peer"},
			},
		},
		"postgresql": map[string]any{
			"listen":          fmt.Sprintf("0.0.0.0:%d", ports.Postgres),
			"connect_address": fmt.Sprintf("%s:%d", MemberHost(site.Name), ports.Postgres),
			"data_dir":        PatroniDataPath + "/data",
			"bin_dir":         PostgresBinDir(pgMajor),
			"pgpass":          "/run/postgresql/pgpass",
			"authentication": map[string]any{
				"superuser":   map[string]any{"username": DatabaseSuperuser, "password": s.DatabasePassword},
				"replication": map[string]any{"username": ReplicationUser, "password": s.ReplicationPassword},
				"rewind":      map[string]any{"username": RewindUser, "password": s.RewindPassword},
			},
			// Patroni connects to itself over TCP for replication checks;
			// standbys connect from other sites (through the gateways).
			"pg_hba": []string{
				"local all all peer",
				"host replication " + ReplicationUser + " 127.0.0.1/32 scram-sha-256",
				"host replication " + ReplicationUser + " 0.0.0.0/0 scram-sha-256",
				"host all all 0.0.0.0/0 scram-sha-256",
			},
			// idstack.member names the member to its clients (the chaos
			// writer probe reads it with current_setting): a custom
			// setting, which Patroni passes on without validating it.
			"parameters": map[string]any{"unix_socket_directories": "/run/postgresql", MemberSetting: MemberName(site.Name)},
		},
		"tags": map[string]any{"failover_priority": priority},
	}
	return File{Path: PatroniConfigPath, Mode: 0o444, Data: marshalYAML("Patroni member "+MemberName(site.Name)+" of "+t.Name, cfg)}
}

//go:embed patroni-entrypoint.sh
var patroniEntrypoint []byte

// PatroniEntrypoint prepares the data directory and runs Patroni as
// postgres (PID 1, so docker stop's SIGTERM is Patroni's clean shutdown).
func PatroniEntrypoint() File {
	return File{Path: PatroniEntrypointPath, Mode: 0o555, Data: patroniEntrypoint}
}

// Etcd timings: a heartbeat every 100 ms; an election after 2 s without
// one, so that a slow WAN link (the slow-wan fault adds 200 ± 50 ms to
// each answer) does not depose a live leader.
const (
	EtcdHeartbeatMillis = 100
	EtcdElectionMillis  = 2000
)

// Etcd renders the configuration of the etcd member at site.
func Etcd(t infra.Topology, site infra.Site) File {
	ports := PortsOfSite(site.Index)
	var initial []string
	for _, s := range t.DatabaseSites() {
		initial = append(initial, fmt.Sprintf("etcd-%s=http://%s:%d", s.Name, EtcdHost(s.Name), PortsOfSite(s.Index).EtcdPeer))
	}
	cfg := map[string]any{
		"name":                        "etcd-" + site.Name,
		"data-dir":                    EtcdDataPath,
		"listen-client-urls":          fmt.Sprintf("http://0.0.0.0:%d", ports.EtcdClient),
		"advertise-client-urls":       fmt.Sprintf("http://%s:%d", EtcdHost(site.Name), ports.EtcdClient),
		"listen-peer-urls":            fmt.Sprintf("http://0.0.0.0:%d", ports.EtcdPeer),
		"initial-advertise-peer-urls": fmt.Sprintf("http://%s:%d", EtcdHost(site.Name), ports.EtcdPeer),
		"initial-cluster":             strings.Join(initial, ","),
		"initial-cluster-token":       t.Name + "-etcd",
		"initial-cluster-state":       "new",
		"heartbeat-interval":          EtcdHeartbeatMillis,
		"election-timeout":            EtcdElectionMillis,
		"enable-grpc-gateway":         true, // Patroni speaks etcd v3 over the gRPC gateway
		"log-level":                   "warn",
	}
	return File{Path: EtcdConfigPath, Mode: 0o444, Data: marshalYAML("etcd member etcd-"+site.Name+" of "+t.Name, cfg)}
}

// DatabaseRouter renders region r's router: PostgreSQL connections on
// PostgresPort go to the member whose Patroni REST API answers /primary
// with 200. A member is taken in after two good checks (Patroni answers
// 200 as soon as it holds the lock, before promotion ends) and out after
// two bad ones, 1 s apart; connections to a member marked down are shut
// at once (on-marked-down shutdown-sessions), so pooled clients see an
// error and reconnect instead of hanging on a dead primary.
func DatabaseRouter(t infra.Topology) File {
	var b strings.Builder
	b.WriteString(`# Database router: PostgreSQL connections to the Patroni primary.
# Rendered by idstack infra/config; do not edit.
global
  maxconn 2048
` + haproxyLogAndResolvers + `
defaults
  log global
  timeout connect 2s
  timeout check 2s
  # Pooled connections idle between requests; Kratos and Hydra close
  # theirs after max_conn_idle_time.
  timeout client 1h
  timeout server 1h

frontend health
  mode http
  bind :` + fmt.Sprint(RouterHealthPort) + `
  monitor-uri ` + RouterHealthPath + `
  acl no_primary nbsrv(primary) lt 1
  monitor fail if no_primary

listen primary
  mode tcp
  bind :` + fmt.Sprint(PostgresPort) + `
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2 on-marked-down shutdown-sessions resolvers docker init-addr last,libc,none
`)
	for _, s := range t.DatabaseSites() {
		p := PortsOfSite(s.Index)
		fmt.Fprintf(&b, "  server %s %s:%d check port %d\n", MemberName(s.Name), MemberHost(s.Name), p.Postgres, p.Patroni)
	}
	return File{Path: HAProxyConfigPath, Mode: 0o444, Data: []byte(b.String())}
}
