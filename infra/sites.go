package infra

import "fmt"

// WitnessSite names the database sites that are not regions: they hold a
// database member and a consensus member, and no application tier.
const WitnessSite = "witness"

// MinDatabaseSites is the size of the Patroni tier at least: with three
// sites, any one can be lost (a node, or the whole site cut off) and the
// other two still form a quorum, of etcd and of synchronous commit.
const MinDatabaseSites = 3

// Site is where one member of the Patroni tier runs, with its own network
// and its own WAN gateway (a region's, or a witness's own).
type Site struct {
	Name string
	// Index orders the sites: the regions in order, then the witnesses.
	// It picks the site's member ports (config.PortsOfSite).
	Index int
	// Witness sites have no region: no services, no edge, no router.
	Witness bool
}

// DatabaseSites returns the sites of the Patroni tier: one per region,
// then witness sites ("witness", "witness-2") until there are
// MinDatabaseSites. Other database kinds have no sites.
func (t Topology) DatabaseSites() []Site {
	if t.Database != DatabasePatroni {
		return nil
	}
	var sites []Site
	for i, r := range t.Regions {
		sites = append(sites, Site{Name: r, Index: i})
	}
	for w := 1; len(sites) < MinDatabaseSites; w++ {
		name := WitnessSite
		if w > 1 {
			name = fmt.Sprintf("%s-%d", WitnessSite, w)
		}
		sites = append(sites, Site{Name: name, Index: len(sites), Witness: true})
	}
	return sites
}

// WitnessSites returns the database sites that are not regions.
func (t Topology) WitnessSites() []Site {
	var out []Site
	for _, s := range t.DatabaseSites() {
		if s.Witness {
			out = append(out, s)
		}
	}
	return out
}

// SiteNetwork is site s's own network: a region's network, or the
// witness's.
func (t Topology) SiteNetwork(s string) string { return t.RegionNetwork(s) }

// SiteNode is the container of a role at site s (a database or consensus
// member, a witness's gateway).
func (t Topology) SiteNode(s, role string) string { return t.RegionNode(s, role) }
