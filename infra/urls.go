package infra

import (
	"fmt"
	"net"
	"strconv"
)

// PortSpan is how many ports above BasePort the port plan may use.
const PortSpan = 25

// Host names of the public services. "login" is the bridge.
const (
	HostLogin  = "login"
	HostKratos = "kratos"
	HostHydra  = "hydra"
	HostVault  = "vault"
	HostMail   = "mail"
	HostApp    = "app" // the demo relying party
)

// OAuth2 client ids the local bridge treats as first-party (no consent
// page): the demo app's, and one the e2e suite registers to test that.
const (
	DemoClientID     = "idstack-demo"
	FirstPartyTestID = "idstack-e2e-first-party"
)

// Ports is the port plan. Each port is the same inside the container that
// listens on it and on the host's loopback, so a URL is one string everywhere.
//
//	BasePort        global edge (names without a region, e.g. hydra.idstack.test)
//	BasePort+1+i    region i's edge, public APIs (e.g. kratos.eu.idstack.test)
//	BasePort+11+i   region i's edge, admin APIs (Kratos admin, Hydra admin)
//	BasePort+20     Vault
//	BasePort+21     the SMTP sink's HTTP API
type Ports struct{ base int }

// Ports returns the topology's port plan.
func (t Topology) Ports() Ports { return Ports{base: t.BasePort} }

// Global is the global edge's port.
func (p Ports) Global() int { return p.base }

// Public is region i's public port.
func (p Ports) Public(i int) int { return p.base + 1 + i }

// Admin is region i's admin port.
func (p Ports) Admin(i int) int { return p.base + 11 + i }

// Vault is Vault's API port.
func (p Ports) Vault() int { return p.base + 20 }

// Mail is the SMTP sink's HTTP API port.
func (p Ports) Mail() int { return p.base + 21 }

// SMTP is the SMTP sink's mail port; it is only reachable inside Docker.
func (p Ports) SMTP() int { return 1025 }

// Host returns a region's name for a service ("kratos.eu.idstack.test"), or
// the global name when region is "" ("kratos.idstack.test").
func (t Topology) Host(service, region string) string {
	if region == "" {
		return service + "." + t.Domain
	}
	return service + "." + region + "." + t.Domain
}

// PublicURL is the browser-facing base URL of a service in a region ("" for
// the global edge), without a trailing slash.
func (t Topology) PublicURL(service, region string) string {
	port := t.Ports().Global()
	if region != "" {
		port = t.Ports().Public(t.RegionIndex(region))
	}
	return "http://" + net.JoinHostPort(t.Host(service, region), strconv.Itoa(port))
}

// AdminURL is the admin API base URL of kratos or hydra in a region.
func (t Topology) AdminURL(service, region string) string {
	return "http://" + net.JoinHostPort(t.Host(service, region), strconv.Itoa(t.Ports().Admin(t.RegionIndex(region))))
}

// IssuerURL is Hydra's issuer: one global name, so a token from any region
// verifies everywhere; the global edge routes it to a healthy region.
func (t Topology) IssuerURL() string { return t.PublicURL(HostHydra, "") + "/" }

// VaultURL is Vault's API address.
func (t Topology) VaultURL() string {
	return fmt.Sprintf("http://%s:%d", t.Host(HostVault, ""), t.Ports().Vault())
}

// MailURL is the SMTP sink's HTTP API.
func (t Topology) MailURL() string {
	return fmt.Sprintf("http://%s:%d", t.Host(HostMail, ""), t.Ports().Mail())
}

// CookieDomain is the parent domain Kratos and Hydra set cookies on, so the
// bridge, Kratos and Hydra of every region share a browser session.
func (t Topology) CookieDomain() string { return t.Domain }

// HostPorts lists every port the stack publishes on 127.0.0.1, for the
// "port already taken" check before anything is created.
func (t Topology) HostPorts() []int {
	p := t.Ports()
	ports := []int{p.Global(), p.Vault(), p.Mail()}
	for i := range t.Regions {
		ports = append(ports, p.Public(i), p.Admin(i))
	}
	return ports
}
