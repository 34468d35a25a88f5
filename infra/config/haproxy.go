package config

import (
	"fmt"
	"strings"

	"github.com/idstack/idstack/infra"
)

// HAProxyConfigPath is where the edges read their configuration.
const HAProxyConfigPath = "/etc/idstack/haproxy.cfg"

// EdgeHealthPath answers 200 while a region edge has at least one healthy
// replica of every service it routes to; the global edge checks it.
const EdgeHealthPath = "/edge/health"

// Backend is one pool of replicas a region edge routes to.
type Backend struct {
	// Name is the HAProxy backend name, e.g. "kratos_public".
	Name string
	// Hosts are the host names (without port) routed to this pool.
	Hosts []string
	// Admin puts the pool on the admin port instead of the public ports.
	Admin bool
	// Servers are container host names, all listening on Port.
	Servers []string
	Port    int
	// HealthPath is checked every second; two failures mark a server down.
	HealthPath string
	// Required pools make the region unhealthy (EdgeHealthPath fails) when
	// they have no healthy server left.
	Required bool
}

// haproxyLogAndResolvers ends the global section of every HAProxy here
// (edges and database routers): logs to stdout, and Docker's DNS with
// short holds, so a container that restarts with a new address is found
// again within a second.
const haproxyLogAndResolvers = `  hard-stop-after 5s
  log stdout format raw local0 info

resolvers docker
  nameserver dns 127.0.0.11:53
  resolve_retries 2
  timeout resolve 1s
  timeout retry 1s
  hold valid 1s
  hold nx 1s
  hold obsolete 1s
`

// haproxyGlobal and haproxyDefaults are shared by every edge. Region edges
// retry a failed connection on another replica (option redispatch), and a
// GET or HEAD that got no answer, a 502/503/504 or no response within
// timeout server (a paused replica). Every other method goes to the pool's
// write twin (see writeBackend), which retries on another replica only
// when the connection failed or closed without a byte of response: the
// two ways a replica that was SIGKILLed mid-request answers. The global
// edge retries connection failures only: the region edge behind it already
// retried, and its retries would multiply the load on a struggling region.
const haproxyGlobal = `global
  maxconn 4096
` + haproxyLogAndResolvers + `
defaults
  mode http
  log global
  # Only failed requests are logged, and never a query string (it can carry
  # an authorization code).
  option dontlog-normal
  log-format "%ci %ft %b/%s %ST %B %Tr/%Tt %tsc %HM %HPO"
  option forwardfor
  timeout connect 1s
  timeout client 30s
  timeout check 1s
  timeout http-request 10s
  timeout queue 5s
  option redispatch 1
  default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2 resolvers docker init-addr last,libc,none
`

const regionRetries = `  timeout server 5s
  retries 2
  retry-on conn-failure empty-response response-timeout 502 503 504
`

const globalRetries = `  timeout server 20s
  retries 2
  retry-on conn-failure empty-response
`

// noRouteBackend answers a host name the edge does not route (yet: a
// service that is not part of the stack) with 404 instead of a hang.
const noRouteBackend = `
backend no_route
  http-request return status 404 content-type text/plain string "idstack edge: no route for this host\n"
`

// RegionEdge renders the HAProxy configuration of region r's edge.
func RegionEdge(t infra.Topology, r string, backends []Backend) File {
	i := t.RegionIndex(r)
	var b strings.Builder
	b.WriteString("# Region edge, region " + r + ". Rendered by idstack infra/config; do not edit.\n")
	b.WriteString(haproxyGlobal)
	b.WriteString(regionRetries)
	// Public: the region's own port, and the global port for global names
	// (inside a region, global names resolve to the region's edge).
	fmt.Fprintf(&b, "\nfrontend public\n  bind :%d\n  bind :%d\n", t.Ports().Public(i), t.Ports().Global())
	writeFrontend(&b, backends, false, true)
	fmt.Fprintf(&b, "\nfrontend admin\n  bind :%d\n", t.Ports().Admin(i))
	writeFrontend(&b, backends, true, false)
	for _, be := range backends {
		writeBackend(&b, be)
	}
	b.WriteString(noRouteBackend)
	return File{Path: HAProxyConfigPath, Mode: 0o444, Data: []byte(b.String())}
}

func writeFrontend(b *strings.Builder, backends []Backend, admin, monitor bool) {
	if monitor {
		fmt.Fprintf(b, "  monitor-uri %s\n", EdgeHealthPath)
		var conds []string
		for _, be := range backends {
			if be.Required && !be.Admin {
				conds = append(conds, fmt.Sprintf("{ nbsrv(%s) lt 1 }", be.Name))
			}
		}
		if len(conds) > 0 {
			fmt.Fprintf(b, "  monitor fail if %s\n", strings.Join(conds, " || "))
		}
	}
	b.WriteString("  http-request set-var(txn.host) req.hdr(host),field(1,:),lower\n")
	for _, be := range backends {
		if be.Admin != admin {
			continue
		}
		hosts := strings.Join(be.Hosts, " ")
		fmt.Fprintf(b, "  use_backend %s%s if { var(txn.host) -m str %s } !METH_GET !METH_HEAD\n", be.Name, writeSuffix, hosts)
		fmt.Fprintf(b, "  use_backend %s if { var(txn.host) -m str %s }\n", be.Name, hosts)
	}
	b.WriteString("  default_backend no_route\n")
}

// writeSuffix names a pool's write twin; writeTimeout is how long the
// twin waits for a replica's answer (a probe gives up on an operation
// after 15 s too).
const (
	writeSuffix  = "_write"
	writeTimeout = "15s"
)

// writeBackend renders a pool and its write twin. The pool health-checks
// its servers and serves GET and HEAD with every retry of the defaults.
// The twin serves every other method on the same servers (tracking the
// pool's checks, so no server is checked twice) and retries only
// conn-failure and empty-response. Both are safe for a request with a
// body: a connection that failed carried nothing, and a replica that
// closed without answering is one that died (or was killed) mid-request.
// A retried request may then find its work done by the dead replica (a
// self-service flow already submitted, an authorization code already
// exchanged): the retry fails as a duplicate does, and for a code Hydra
// revokes what the first exchange issued, which no one ever received.
// Nothing is retried after a timeout or a 5xx: the replica may still be
// working on it. For the same reason the twin waits longer for an answer
// (writeTimeout) than the pool, whose short timeout exists to retry a GET
// on a frozen replica's peer: for a write a timeout retries nothing and
// only turns a slow answer into a 504 while the write may still land (a
// registration or a code exchange over a slow WAN link to the database
// takes 5 s and more).
func writeBackend(b *strings.Builder, be Backend) {
	fmt.Fprintf(b, "\nbackend %s\n  balance roundrobin\n", be.Name)
	fmt.Fprintf(b, "  option httpchk\n  http-check send meth GET uri %s\n  http-check expect status 200\n", be.HealthPath)
	for _, s := range be.Servers {
		fmt.Fprintf(b, "  server %s %s:%d check\n", s, s, be.Port)
	}
	fmt.Fprintf(b, "\nbackend %s%s\n  balance roundrobin\n  timeout server %s\n  retry-on conn-failure empty-response\n", be.Name, writeSuffix, writeTimeout)
	for _, s := range be.Servers {
		fmt.Fprintf(b, "  server %s %s:%d track %s/%s\n", s, s, be.Port, be.Name, s)
	}
}

// GlobalEdge renders the global edge: every global name goes to the first
// region whose edge is healthy, in topology order; the others are backups.
func GlobalEdge(t infra.Topology, regionEdges []string) File {
	var b strings.Builder
	b.WriteString("# Global edge. Rendered by idstack infra/config; do not edit.\n")
	b.WriteString(haproxyGlobal)
	b.WriteString(globalRetries)
	fmt.Fprintf(&b, "\nfrontend global\n  bind :%d\n  monitor-uri %s\n", t.Ports().Global(), EdgeHealthPath)
	b.WriteString("  monitor fail if { nbsrv(regions) lt 1 }\n")
	b.WriteString("  http-request disable-l7-retry unless METH_GET || METH_HEAD\n  default_backend regions\n")
	fmt.Fprintf(&b, "\nbackend regions\n  option httpchk\n  http-check send meth GET uri %s\n  http-check expect status 200\n", EdgeHealthPath)
	for i, edge := range regionEdges {
		backup := ""
		if i > 0 {
			backup = " backup"
		}
		fmt.Fprintf(&b, "  server %s %s:%d check%s\n", t.Regions[i], edge, t.Ports().Global(), backup)
	}
	return File{Path: HAProxyConfigPath, Mode: 0o444, Data: []byte(b.String())}
}
