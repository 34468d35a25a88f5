package infra

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate(): %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Topology)
		field  string
	}{
		{"empty name", func(t *Topology) { t.Name = "" }, "name"},
		{"upper-case name", func(t *Topology) { t.Name = "IdStack" }, "name"},
		{"no regions", func(t *Topology) { t.Regions = nil }, "regions"},
		{"duplicate region", func(t *Topology) { t.Regions = []string{"eu", "eu"} }, "regions[1]"},
		{"bad region", func(t *Topology) { t.Regions = []string{"eu", "us_east"} }, "regions[1]"},
		{"too many regions", func(t *Topology) {
			t.Regions = strings.Split("a,b,c,d,e,f,g,h,i,j", ",")
		}, "regions"},
		{"zero replicas", func(t *Topology) { t.Replicas = map[string]int{"kratos": 0, "hydra": 2, "bridge": 2, "app": 1} }, "replicas.kratos"},
		{"too many replicas", func(t *Topology) { t.Replicas = map[string]int{"kratos": 2, "hydra": 9, "bridge": 2, "app": 1} }, "replicas.hydra"},
		{"unknown service", func(t *Topology) {
			t.Replicas = map[string]int{"kratos": 2, "hydra": 2, "bridge": 2, "app": 1, "keto": 1}
		}, "replicas.keto"},
		{"missing service", func(t *Topology) { t.Replicas = map[string]int{"kratos": 2} }, "replicas.hydra"},
		{"bad database", func(t *Topology) { t.Database = "mysql" }, "database"},
		{"bad domain", func(t *Topology) { t.Domain = "Not A Domain" }, "domain"},
		{"low port", func(t *Topology) { t.BasePort = 80 }, "base_port"},
		{"high port", func(t *Topology) { t.BasePort = 65530 }, "base_port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := Default()
			top.Replicas = map[string]int{"kratos": 2, "hydra": 2, "bridge": 2, "app": 1}
			tt.change(&top)
			err := top.Validate()
			if !errors.Is(err, ErrInvalidTopology) {
				t.Fatalf("got %v, want ErrInvalidTopology", err)
			}
			if !strings.Contains(err.Error(), ": "+tt.field+": ") {
				t.Errorf("got %q, want it to name field %q", err, tt.field)
			}
		})
	}
}

func TestURLsAreTheSameStringEverywhere(t *testing.T) {
	top := Default()
	tests := []struct{ got, want string }{
		{top.IssuerURL(), "http://hydra.idstack.test:4430/"},
		{top.PublicURL(HostLogin, "eu"), "http://login.eu.idstack.test:4431"},
		{top.PublicURL(HostKratos, "us"), "http://kratos.us.idstack.test:4432"},
		{top.AdminURL(HostHydra, "eu"), "http://hydra.eu.idstack.test:4441"},
		{top.AdminURL(HostHydra, "us"), "http://hydra.us.idstack.test:4442"},
		{top.VaultURL(), "http://vault.idstack.test:4450"},
		{top.MailURL(), "http://mail.idstack.test:4451"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestHostPortsAreDistinct(t *testing.T) {
	top := Default()
	top.Regions = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	seen := map[int]bool{}
	for _, p := range top.HostPorts() {
		if seen[p] {
			t.Fatalf("port %d planned twice", p)
		}
		if p < top.BasePort || p > top.BasePort+PortSpan {
			t.Errorf("port %d outside [%d, %d]", p, top.BasePort, top.BasePort+PortSpan)
		}
		seen[p] = true
	}
}

func TestIsLocalName(t *testing.T) {
	top := Default()
	for host, want := range map[string]bool{
		"idstack.test": true, "hydra.idstack.test": true, "kratos.eu.idstack.test.": true,
		"HYDRA.IDSTACK.TEST": true, "idstack.test.evil.com": false, "evilidstack.test": false, "127.0.0.1": false,
	} {
		if got := top.IsLocalName(host); got != want {
			t.Errorf("IsLocalName(%q) = %v, want %v", host, got, want)
		}
	}
}

// Two regions get a witness, so that any one of three sites can go; three
// regions need none; one region gets two.
func TestDatabaseSites(t *testing.T) {
	for _, c := range []struct {
		regions []string
		want    []string
	}{
		{[]string{"eu", "us"}, []string{"eu", "us", "witness"}},
		{[]string{"eu", "us", "ap"}, []string{"eu", "us", "ap"}},
		{[]string{"eu"}, []string{"eu", "witness", "witness-2"}},
	} {
		top := Default()
		top.Database, top.Regions = DatabasePatroni, c.regions
		var got []string
		for i, s := range top.DatabaseSites() {
			got = append(got, s.Name)
			if s.Index != i || s.Witness != (i >= len(c.regions)) {
				t.Errorf("%v: site %d %+v: wrong index or witness flag", c.regions, i, s)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("regions %v: sites %v, want %v", c.regions, got, c.want)
		}
	}
	if sites := Default().DatabaseSites(); Default().Database != DatabasePatroni && sites != nil {
		t.Errorf("%s database: sites %v, want none", Default().Database, sites)
	}
	top := Default()
	top.Regions = []string{"eu", "witness"}
	if err := top.Validate(); err == nil || !strings.Contains(err.Error(), "witness") {
		t.Errorf("a region named witness: got %v, want it refused", err)
	}
}
