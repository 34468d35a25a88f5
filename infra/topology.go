// Package infra describes idstack's local multi-region topology and the fault
// primitives that act on it.
//
// A Topology is a value: regions, replicas per service, the database kind and
// the naming scheme. Package infra/stack brings a Topology up on a Docker
// engine with dockertest; package infra/config renders every configuration
// file the nodes read; package infra/faults injects and heals faults.
//
// Every URL a person, a container or a host-side client uses is the same
// string everywhere: names live under Topology.Domain (a reserved test
// domain), each edge listens on the same port inside its container as on the
// host's loopback, and only name resolution differs (Docker network aliases
// inside, a custom dialer or Chromium's --host-resolver-rules outside).
package infra

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// DatabaseKind names the database tier.
type DatabaseKind string

const (
	// DatabasePostgres is one PostgreSQL node with its data on a volume.
	DatabasePostgres DatabaseKind = "postgres"
	// DatabaseCockroach is a CockroachDB cluster of at least three nodes
	// spread over the regions; it needs a CockroachDB image.
	DatabaseCockroach DatabaseKind = "cockroach"
	// DatabasePatroni is a replicated PostgreSQL cluster that fails over by
	// itself: one PostgreSQL member managed by Patroni and one etcd member
	// per database site (see DatabaseSites), synchronous quorum commit,
	// each region reaching the primary through its own router.
	DatabasePatroni DatabaseKind = "patroni"
)

// DatabaseKinds are the database tiers a Topology may name.
var DatabaseKinds = []DatabaseKind{DatabasePatroni, DatabasePostgres, DatabaseCockroach}

// Regional services: each runs Replicas[name] containers in every region
// behind that region's edge.
const (
	ServiceKratos = "kratos"
	ServiceHydra  = "hydra"
	ServiceBridge = "bridge"
	ServiceApp    = "app" // the demo relying party (e2e/cmd/demo-app)
)

// ErrInvalidTopology wraps every validation error.
var ErrInvalidTopology = errors.New("invalid topology")

// Topology is the shape of one local idstack deployment.
type Topology struct {
	// Name prefixes every container, network and volume and is the value of
	// the LabelStack label that `down` finds them by.
	Name string `json:"name"`
	// Regions in order; the first is the primary (it runs the singletons).
	Regions []string `json:"regions"`
	// Replicas per regional service, in every region.
	Replicas map[string]int `json:"replicas"`
	// Database is the database tier.
	Database DatabaseKind `json:"database"`
	// Domain is the parent of every host name, a reserved test domain.
	Domain string `json:"domain"`
	// BasePort is the first loopback port; see Ports.
	BasePort int `json:"base_port"`
}

// MaxRegions bounds Regions so that the port plan (Ports) never overlaps.
const MaxRegions = 9

// Default returns the default topology: regions eu and us, two replicas of
// every regional service, one PostgreSQL node. The Patroni tier
// (DatabasePatroni) is not the default yet: on idstack's 2-core machines
// its three members and their WAN proxies leave the gate's probes too
// little capacity for a verdict that holds (infra/README.md).
func Default() Topology {
	return Topology{
		Name:     "idstack",
		Regions:  []string{"eu", "us"},
		Replicas: map[string]int{ServiceKratos: 2, ServiceHydra: 2, ServiceBridge: 2, ServiceApp: 1},
		Database: DatabasePostgres,
		Domain:   "idstack.test",
		BasePort: 4430,
	}
}

var (
	labelPattern  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,14}$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// KnownServices are the regional services a Topology may give replicas for.
// Adding a regional service to the stack adds its name here and one entry in
// stack's service table.
var KnownServices = []string{ServiceKratos, ServiceHydra, ServiceBridge, ServiceApp}

// Validate checks every field and names the first one that is wrong.
func (t Topology) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidTopology, field, fmt.Sprintf(format, args...))
	}
	if !labelPattern.MatchString(t.Name) {
		return bad("name", "%q must be 1-15 lowercase letters, digits or '-', starting with a letter", t.Name)
	}
	if len(t.Regions) == 0 {
		return bad("regions", "at least one region is required")
	}
	if len(t.Regions) > MaxRegions {
		return bad("regions", "%d regions, at most %d are supported", len(t.Regions), MaxRegions)
	}
	seen := map[string]bool{}
	for i, r := range t.Regions {
		if !labelPattern.MatchString(r) {
			return bad(fmt.Sprintf("regions[%d]", i), "%q must be 1-15 lowercase letters, digits or '-', starting with a letter", r)
		}
		if seen[r] {
			return bad(fmt.Sprintf("regions[%d]", i), "%q appears twice", r)
		}
		seen[r] = true
	}
	for _, name := range sortedKeys(t.Replicas) {
		if !contains(KnownServices, name) {
			return bad("replicas."+name, "unknown service (known: %s)", strings.Join(KnownServices, ", "))
		}
		if n := t.Replicas[name]; n < 1 || n > 5 {
			return bad("replicas."+name, "%d, want 1 to 5", n)
		}
	}
	for _, name := range KnownServices {
		if _, ok := t.Replicas[name]; !ok {
			return bad("replicas."+name, "missing")
		}
	}
	if !slices.Contains(DatabaseKinds, t.Database) {
		return bad("database", "%q, want one of %v", t.Database, DatabaseKinds)
	}
	for i, r := range t.Regions {
		if strings.HasPrefix(r, WitnessSite) {
			return bad(fmt.Sprintf("regions[%d]", i), "%q: names starting with %q are the database tier's witness sites", r, WitnessSite)
		}
	}
	if !domainPattern.MatchString(t.Domain) {
		return bad("domain", "%q is not a lowercase DNS name", t.Domain)
	}
	if t.BasePort < 1024 || t.BasePort+PortSpan > 65535 {
		return bad("base_port", "%d, want 1024 to %d", t.BasePort, 65535-PortSpan)
	}
	return nil
}

// Primary is the region that runs the singletons (the Kratos courier).
func (t Topology) Primary() string { return t.Regions[0] }

// RegionIndex returns the position of region r, or -1.
func (t Topology) RegionIndex(r string) int {
	for i, x := range t.Regions {
		if x == r {
			return i
		}
	}
	return -1
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The naming scheme of a topology's containers and networks, in one place:
// the stack creates them under these names, fault injection and chaos find
// them by these names.

// WANNetwork is the network every region's gateway and edge share.
func (t Topology) WANNetwork() string { return t.Name + "-wan" }

// RegionNetwork is region r's own network.
func (t Topology) RegionNetwork(r string) string { return t.Name + "-" + r }

// GlobalNode is the container of a global role (the database, Vault, the
// global edge).
func (t Topology) GlobalNode(role string) string { return t.Name + "-" + role }

// RegionNode is the container of a regional role (a region's edge or
// gateway) in region r.
func (t Topology) RegionNode(r, role string) string { return t.Name + "-" + r + "-" + role }

// ReplicaNode is the container of replica i (from 1) of a regional
// service in region r.
func (t Topology) ReplicaNode(r, service string, i int) string {
	return fmt.Sprintf("%s-%s-%s-%d", t.Name, r, service, i)
}
