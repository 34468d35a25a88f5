package stack

import (
	"fmt"
	"strings"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
)

// Roles (the LabelRole value) of the stack's nodes.
const (
	RoleDatabase   = "db"
	RoleVault      = "vault"
	RoleMail       = "mailsink"
	RoleGateway    = "gateway" // a region's WAN link (Toxiproxy)
	RoleEdge       = "edge"    // a region's load balancer
	RoleGlobalEdge = "global-edge"
	RoleCourier    = "courier"
	RoleMigrate    = "migrate"
)

// endpoint is a port of a regional service that its region's edge routes to.
type endpoint struct {
	host   string // public host name (without region and domain), e.g. "kratos"
	port   int    // container port
	health string // readiness path: up waits for it
	// edgeCheck is the path the edge's health check asks, when not health.
	edgeCheck string
}

// check is the path the edge's health check asks.
func (e *endpoint) check() string {
	if e.edgeCheck != "" {
		return e.edgeCheck
	}
	return e.health
}

// regionalService is one row of the service table: everything the stack
// needs to run a service in every region behind the edge. Adding a service
// (the bridge, the demo app) is adding a row.
type regionalService struct {
	name    string // Topology.Replicas key and LabelRole value
	image   string // images.* name
	cmd     []string
	files   func(t infra.Topology, s config.Secrets, region string) []config.File
	migrate []string // one-shot command run once before any replica starts
	public  *endpoint
	admin   *endpoint
	// required services make their region unhealthy when no replica is up.
	required bool
}

func regionalServices() []regionalService {
	return []regionalService{
		{
			name:  infra.ServiceKratos,
			image: images.Kratos,
			cmd:   []string{"serve", "--config", config.KratosConfigPath, "--dev", "--sqa-opt-out"},
			files: func(t infra.Topology, s config.Secrets, r string) []config.File {
				return []config.File{config.Kratos(t, s, r), {Path: config.KratosSchemaPath, Mode: 0o444, Data: config.IdentitySchema()}}
			},
			migrate: []string{"migrate", "sql", "-e", "--yes", "--config", config.KratosConfigPath},
			public:  &endpoint{host: infra.HostKratos, port: config.KratosPublicPort, health: "/health/ready"},
			// Kratos serves its admin API, health included, under /admin.
			admin:    &endpoint{host: infra.HostKratos, port: config.KratosAdminPort, health: "/admin/health/ready"},
			required: true,
		},
		{
			name:  infra.ServiceHydra,
			image: images.Hydra,
			cmd:   []string{"serve", "all", "--config", config.HydraConfigPath, "--dev", "--sqa-opt-out"},
			files: func(t infra.Topology, s config.Secrets, r string) []config.File {
				return []config.File{config.Hydra(t, s, r)}
			},
			migrate:  []string{"migrate", "sql", "up", "-e", "--yes", "--config", config.HydraConfigPath},
			public:   &endpoint{host: infra.HostHydra, port: config.HydraPublicPort, health: "/health/ready"},
			admin:    &endpoint{host: infra.HostHydra, port: config.HydraAdminPort, health: "/health/ready"},
			required: true,
		},
		{
			name:  infra.ServiceBridge,
			image: images.Bridge,
			cmd:   nil, // per region: see bridgeArgs
			files: func(t infra.Topology, s config.Secrets, r string) []config.File {
				return []config.File{{Path: bridgeCSRFPath, Mode: 0o444, Data: []byte(s.BridgeCSRF)}}
			},
			// The edge checks that a bridge is alive, not that it is ready:
			// its readiness asks Kratos and Hydra through this same edge,
			// which every bridge of the region shares. A frozen Kratos
			// replica hangs the readiness checks that land on it and took
			// healthy bridges out of the pool, all of them at once with
			// bad luck (a paused Kratos then cost a login a 503 from the
			// edge: no bridge left). A bridge whose upstreams are down is
			// no better than its peer, and the edge already takes the
			// region out when no Kratos or Hydra is up.
			public:   &endpoint{host: infra.HostLogin, port: bridgePort, health: "/health/ready", edgeCheck: "/health/alive"},
			required: true,
		},
		{
			name:  infra.ServiceApp,
			image: images.DemoApp,
			cmd:   nil, // per region: see appArgs
			files: func(t infra.Topology, s config.Secrets, r string) []config.File {
				return []config.File{
					{Path: appClientSecretPath, Mode: 0o444, Data: []byte(s.DemoClientSecret)},
					{Path: appCookiePath, Mode: 0o444, Data: []byte(s.DemoCookie)},
				}
			},
			// Alive, not ready: readiness needs the issuer, which needs
			// the edges this check runs before.
			public: &endpoint{host: infra.HostApp, port: appPort, health: "/health/alive"},
		},
	}
}

// The demo app's port and secret files.
const (
	appPort             = 4460
	appClientSecretPath = "/etc/idstack/demo-client-secret"
	appCookiePath       = "/etc/idstack/demo-cookie"
)

// appArgs runs region r's demo app. Every region's app answers at the one
// global URL (its redirect URI); /login?region=x signs in through x.
func appArgs(t infra.Topology, r string) []string {
	var auth []string
	for _, reg := range t.Regions {
		auth = append(auth, reg+"="+t.PublicURL(infra.HostHydra, reg)+"/oauth2/auth")
	}
	return []string{
		"--listen-addr", fmt.Sprintf(":%d", appPort),
		"--issuer", t.IssuerURL(),
		"--client-id", infra.DemoClientID,
		"--client-secret-file", appClientSecretPath,
		"--cookie-secret-file", appCookiePath,
		"--base-url", DemoAppURL(t),
		"--auth-urls", strings.Join(auth, ","),
	}
}

// DemoAppURL is where a browser opens the demo app.
func DemoAppURL(t infra.Topology) string { return t.PublicURL(infra.HostApp, "") }

// The bridge's port and secret file.
const (
	bridgePort     = 4455
	bridgeCSRFPath = "/etc/idstack/bridge-csrf"
)

// bridgeArgs points region r's bridge at its region's Kratos and Hydra,
// through the region's edge, by the same URLs browsers use.
func bridgeArgs(t infra.Topology, r string) []string {
	return []string{
		"--listen-addr", fmt.Sprintf(":%d", bridgePort),
		"--kratos-public-url", t.PublicURL(infra.HostKratos, r),
		"--kratos-admin-url", t.AdminURL(infra.HostKratos, r),
		"--hydra-admin-url", t.AdminURL(infra.HostHydra, r),
		"--return-to", "*." + t.Domain,
		"--form-actions", "http://*." + t.Domain + ":*",
		"--csrf-secret-file", bridgeCSRFPath,
		"--first-party", infra.DemoClientID + "," + infra.FirstPartyTestID,
		"--region", r,
	}
}

// Names of networks, volumes and containers: the scheme is the
// topology's (infra.Topology), shared with fault injection.
func (s *Stack) wanNetwork() string               { return s.Topology.WANNetwork() }
func (s *Stack) regionNetwork(r string) string    { return s.Topology.RegionNetwork(r) }
func (s *Stack) volume(what string) string        { return s.Topology.Name + "-" + what }
func (s *Stack) globalName(role string) string    { return s.Topology.GlobalNode(role) }
func (s *Stack) regionName(r, role string) string { return s.Topology.RegionNode(r, role) }
func (s *Stack) replicaName(r, svc string, i int) string {
	return s.Topology.ReplicaNode(r, svc, i)
}

// networks lists every network the stack creates.
func (s *Stack) networks() []string {
	out := []string{s.wanNetwork()}
	for _, r := range s.Topology.Regions {
		out = append(out, s.regionNetwork(r))
	}
	return append(out, s.witnessNetworks()...)
}

// volumes lists every volume the stack creates.
func (s *Stack) volumes() []string {
	if s.Topology.Database == infra.DatabaseCockroach {
		out := []string{s.volume("vault")}
		for i := 1; i <= s.cockroachNodeCount(); i++ {
			out = append(out, s.cockroachVolume(i))
		}
		return out
	}
	if s.Topology.Database == infra.DatabasePatroni {
		return append(s.patroniVolumes(), s.volume("vault"))
	}
	return []string{s.volume("db"), s.volume("vault")}
}

// plan holds the nodes of a topology in start order.
type plan struct {
	database   []nodeSpec // the single node or the CockroachDB nodes
	patroni    patroniTier
	vault      nodeSpec
	mail       nodeSpec
	gateways   []nodeSpec
	migrations []nodeSpec
	services   []nodeSpec // every replica of every regional service, and the courier
	edges      []nodeSpec // region edges, then the global edge
}

func (s *Stack) plan(st State) (plan, error) {
	t := s.Topology
	var p plan
	tags := st.Images

	// Database.
	switch t.Database {
	case infra.DatabasePostgres:
		p.database = []nodeSpec{{
			name: s.globalName(RoleDatabase), role: RoleDatabase, image: tags[images.Debian],
			entrypoint: []string{config.PostgresEntrypointPath},
			env:        []string{"IDSTACK_DB_PASSWORD=" + st.Secrets.DatabasePassword},
			files:      []config.File{config.PostgresEntrypoint()},
			networks:   []attachment{{s.wanNetwork(), []string{config.DatabaseUpstreamHost}}},
			volumes:    map[string]string{s.volume("db"): config.PostgresDataPath},
			stopSignal: "SIGINT", // PostgreSQL's fast shutdown
			probe:      &probe{port: config.PostgresPort},
		}}
	case infra.DatabaseCockroach:
		p.database = s.cockroachNodes()
	case infra.DatabasePatroni:
		p.patroni = s.patroniTier(st)
		for _, w := range t.WitnessSites() {
			gw, err := s.witnessGateway(w, tags)
			if err != nil {
				return p, err
			}
			p.gateways = append(p.gateways, gw)
		}
	}

	// Vault, the SMTP sink.
	p.vault = nodeSpec{
		name: s.globalName(RoleVault), role: RoleVault, image: tags[images.Vault],
		cmd:      []string{"server", "-config=" + config.VaultConfigPath},
		env:      []string{"VAULT_LOG_LEVEL=warn", "VAULT_LOG_FORMAT=json"},
		files:    []config.File{config.Vault(t)},
		networks: []attachment{{s.wanNetwork(), []string{t.Host(infra.HostVault, "")}}},
		volumes:  map[string]string{s.volume("vault"): config.VaultDataPath},
		publish:  []int{t.Ports().Vault()},
		probe:    &probe{path: "/v1/sys/health", port: t.Ports().Vault(), ok: func(int) bool { return true }},
	}
	p.mail = nodeSpec{
		name: s.globalName(RoleMail), role: RoleMail, image: tags[images.Mailsink],
		cmd: []string{"-smtp-addr", fmt.Sprintf(":%d", t.Ports().SMTP()), "-http-addr", fmt.Sprintf(":%d", t.Ports().Mail()),
			"-hostname", t.Host(infra.HostMail, "")},
		networks: []attachment{{s.wanNetwork(), []string{t.Host(infra.HostMail, ""), config.MailUpstreamHost}}},
		publish:  []int{t.Ports().Mail()},
		probe:    &probe{path: "/health", port: t.Ports().Mail()},
	}

	// Per region: the WAN gateway, the services, the edge.
	services := regionalServices()
	var edgeNames []string
	for _, r := range t.Regions {
		gw, err := s.gateway(r, tags)
		if err != nil {
			return p, err
		}
		p.gateways = append(p.gateways, gw)
		var backends []config.Backend
		for _, svc := range services {
			var servers []string
			for i := 1; i <= t.Replicas[svc.name]; i++ {
				name := s.replicaName(r, svc.name, i)
				servers = append(servers, name)
				cmd := svc.cmd
				switch svc.name {
				case infra.ServiceBridge:
					cmd = bridgeArgs(t, r)
				case infra.ServiceApp:
					cmd = appArgs(t, r)
				}
				spec := nodeSpec{
					name: name, role: svc.name, region: r, image: tags[svc.image],
					cmd: cmd, files: svc.files(t, st.Secrets, r),
					networks: []attachment{{s.regionNetwork(r), nil}},
				}
				if svc.name == infra.ServiceKratos || svc.name == infra.ServiceHydra {
					spec = spec.profiled(s.opts.ProfileDir)
				}
				if svc.public != nil {
					spec.probe = &probe{path: svc.public.health, port: svc.public.port}
				}
				p.services = append(p.services, spec)
			}
			for _, ep := range []*endpoint{svc.public, svc.admin} {
				if ep == nil {
					continue
				}
				admin := ep == svc.admin
				be := config.Backend{
					Name: svc.name + "_public", Hosts: []string{t.Host(ep.host, r), t.Host(ep.host, "")},
					Servers: servers, Port: ep.port, HealthPath: ep.check(), Required: svc.required, Admin: admin,
				}
				if admin {
					be.Name = svc.name + "_admin"
					be.Hosts = []string{t.Host(ep.host, r)}
				}
				backends = append(backends, be)
			}
			if svc.migrate != nil && r == t.Primary() {
				p.migrations = append(p.migrations, nodeSpec{
					name: s.regionName(r, RoleMigrate+"-"+svc.name), role: RoleMigrate, region: r,
					image: tags[svc.image], cmd: svc.migrate, files: svc.files(t, st.Secrets, r),
					networks: []attachment{{s.regionNetwork(r), nil}},
					oneshot:  true,
				})
			}
		}
		if r == t.Primary() {
			// The courier must be a singleton: two would send each mail twice.
			p.services = append(p.services, nodeSpec{
				name: s.regionName(r, RoleCourier), role: RoleCourier, region: r, image: tags[images.Kratos],
				cmd:      []string{"courier", "watch", "--config", config.KratosConfigPath},
				files:    regionalServices()[0].files(t, st.Secrets, r),
				networks: []attachment{{s.regionNetwork(r), nil}},
			})
		}
		edge := s.regionName(r, RoleEdge)
		edgeNames = append(edgeNames, edge)
		i := t.RegionIndex(r)
		var regionHosts, globalHosts []string
		for _, h := range []string{infra.HostLogin, infra.HostKratos, infra.HostHydra} {
			regionHosts = append(regionHosts, t.Host(h, r))
			globalHosts = append(globalHosts, t.Host(h, ""))
		}
		p.edges = append(p.edges, nodeSpec{
			name: edge, role: RoleEdge, region: r, image: tags[images.Debian],
			entrypoint: []string{"/usr/sbin/haproxy", "-db", "-f", config.HAProxyConfigPath},
			files:      []config.File{config.RegionEdge(t, r, backends)},
			// Inside a region, global names resolve to the region's own edge.
			networks: []attachment{
				{s.regionNetwork(r), append(append([]string{}, regionHosts...), globalHosts...)},
				{s.wanNetwork(), regionHosts},
			},
			publish: []int{t.Ports().Public(i), t.Ports().Admin(i)},
			probe:   &probe{path: config.EdgeHealthPath, port: t.Ports().Public(i)},
		})
	}
	var globalHosts []string
	for _, h := range []string{infra.HostLogin, infra.HostKratos, infra.HostHydra} {
		globalHosts = append(globalHosts, t.Host(h, ""))
	}
	p.edges = append(p.edges, nodeSpec{
		name: s.globalName(RoleGlobalEdge), role: RoleGlobalEdge, image: tags[images.Debian],
		entrypoint: []string{"/usr/sbin/haproxy", "-db", "-f", config.HAProxyConfigPath},
		files:      []config.File{config.GlobalEdge(t, edgeNames)},
		networks:   []attachment{{s.wanNetwork(), globalHosts}},
		publish:    []int{t.Ports().Global()},
		probe:      &probe{path: config.EdgeHealthPath, port: t.Ports().Global()},
	})
	return p, nil
}

// toxiproxyConfigPath is where a gateway reads its proxies.
const toxiproxyConfigPath = "/etc/idstack/toxiproxy.json"

// Proxy names on every gateway.
const (
	ProxyDatabase = "db"
	ProxySMTP     = "smtp"
)

// gateway is region r's WAN link: a Toxiproxy that forwards the global
// services the region uses (the single database, SMTP) and, with the
// Patroni tier, the other sites' members, so latency and cuts on the link
// are toxics on it.
func (s *Stack) gateway(r string, tags images.Tags) (nodeSpec, error) {
	t := s.Topology
	proxies := []gatewayProxy{{ProxySMTP, fmt.Sprintf("0.0.0.0:%d", t.Ports().SMTP()), fmt.Sprintf("%s:%d", config.MailUpstreamHost, t.Ports().SMTP()), true}}
	aliases := []string{config.MailHost}
	switch t.Database {
	case infra.DatabasePostgres:
		proxies = append(proxies, gatewayProxy{ProxyDatabase, fmt.Sprintf("0.0.0.0:%d", config.PostgresPort),
			fmt.Sprintf("%s:%d", config.DatabaseUpstreamHost, config.PostgresPort), true})
		aliases = append(aliases, config.DatabaseHost)
	case infra.DatabasePatroni:
		site := t.DatabaseSites()[t.RegionIndex(r)]
		more, names := patroniProxies(t, site)
		proxies, aliases = append(proxies, more...), append(aliases, names...)
	}
	return s.gatewayNode(r, tags, proxies, aliases)
}

// ReplicaName is the container name of replica i (from 1) of a regional
// service in region r, as fault injection names nodes.
func (s *Stack) ReplicaName(r, svc string, i int) string { return s.replicaName(r, svc, i) }
