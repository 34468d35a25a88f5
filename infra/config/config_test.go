package config

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/internal/golden"
)

var fixedSecrets = Secrets{
	KratosCookie: "cookie-secret-0123456789abcdef01", KratosCipher: "cipher-secret-0123456789abcdef01",
	HydraSystem: "system-secret-0123456789abcdef01", DatabasePassword: "superuser-pw",
	KratosDatabasePassword: "kratos-pw", HydraDatabasePassword: "hydra-pw", ProbeDatabasePassword: "probe-pw",
}

func testBackends(t infra.Topology, r string) []Backend {
	return []Backend{
		{Name: "kratos_public", Hosts: []string{t.Host("kratos", r), t.Host("kratos", "")}, Servers: []string{"idstack-" + r + "-kratos-1", "idstack-" + r + "-kratos-2"}, Port: KratosPublicPort, HealthPath: "/health/ready", Required: true},
		{Name: "kratos_admin", Hosts: []string{t.Host("kratos", r)}, Servers: []string{"idstack-" + r + "-kratos-1"}, Port: KratosAdminPort, HealthPath: "/health/ready", Admin: true, Required: true},
	}
}

func TestGolden(t *testing.T) {
	top := infra.Default()
	files := map[string]File{
		"kratos-eu.yml":   Kratos(top, fixedSecrets, "eu"),
		"hydra-us.yml":    Hydra(top, fixedSecrets, "us"),
		"global-edge.cfg": GlobalEdge(top, []string{"idstack-eu-edge", "idstack-us-edge"}),
		"vault.hcl":       Vault(top),
	}
	for name, f := range files {
		t.Run(name, func(t *testing.T) { golden.Check(t, name, f.Data) })
	}
}

func TestRenderedYAMLParses(t *testing.T) {
	top := infra.Default()
	for _, f := range []File{Kratos(top, fixedSecrets, "eu"), Hydra(top, fixedSecrets, "eu")} {
		var v map[string]any
		if err := yaml.Unmarshal(f.Data, &v); err != nil {
			t.Errorf("%s does not parse: %v", f.Path, err)
		}
	}
}

func TestKratosCipherFitsKratosLimit(t *testing.T) {
	s, err := NewSecrets()
	if err != nil {
		t.Fatal(err)
	}
	// Kratos refuses a cipher secret longer than 32 characters.
	if len(s.KratosCipher) != 32 {
		t.Errorf("cipher secret has %d characters, want 32", len(s.KratosCipher))
	}
	if s.KratosCookie == s.HydraSystem {
		t.Error("secrets are not independent")
	}
}

func TestRegionsShareIssuerButNotPublicURL(t *testing.T) {
	top := infra.Default()
	eu, us := string(Hydra(top, fixedSecrets, "eu").Data), string(Hydra(top, fixedSecrets, "us").Data)
	if !strings.Contains(eu, "issuer: "+top.IssuerURL()) || !strings.Contains(us, "issuer: "+top.IssuerURL()) {
		t.Errorf("every region must use the global issuer %s", top.IssuerURL())
	}
	if !strings.Contains(eu, "public: http://hydra.eu.idstack.test:4431/") {
		t.Errorf("eu's public URL must be its own:\n%s", eu)
	}
}

func TestRegionEdgeRequiresEveryRequiredPool(t *testing.T) {
	top := infra.Default()
	cfg := string(RegionEdge(top, "eu", testBackends(top, "eu")).Data)
	if !strings.Contains(cfg, "monitor fail if { nbsrv(kratos_public) lt 1 }") {
		t.Errorf("edge health must fail when kratos_public is empty:\n%s", cfg)
	}
	if strings.Contains(cfg, "nbsrv(kratos_admin)") {
		t.Error("admin pools must not decide region health")
	}
}

func TestDSNNeverUsesTheSuperuser(t *testing.T) {
	top := infra.Default()
	for _, db := range Databases {
		dsn := DSN(top, fixedSecrets, db)
		if strings.Contains(dsn, DatabaseSuperuser+":") || !strings.Contains(dsn, db+":"+fixedSecrets.DatabaseUserPassword(db)+"@") {
			t.Errorf("DSN(%s) = %s, want user %s", db, dsn, db)
		}
	}
	top.Database = infra.DatabaseCockroach
	if dsn := DSN(top, fixedSecrets, "hydra"); !strings.HasPrefix(dsn, "cockroach://hydra@") {
		t.Errorf("cockroach DSN = %s", dsn)
	}
}

func TestRegionEdgeRetriesWritesOnlyWhenNothingWasAnswered(t *testing.T) {
	top := infra.Default()
	cfg := string(RegionEdge(top, "eu", testBackends(top, "eu")).Data)
	for _, want := range []string{
		"use_backend kratos_public_write if { var(txn.host) -m str kratos.eu.idstack.test kratos.idstack.test } !METH_GET !METH_HEAD\n  use_backend kratos_public if",
		"backend kratos_public_write\n  balance roundrobin\n  timeout server 15s\n  retry-on conn-failure empty-response\n",
		"server idstack-eu-kratos-2 idstack-eu-kratos-2:" + fmt.Sprint(KratosPublicPort) + " track kratos_public/idstack-eu-kratos-2\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("region edge lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(cfg, "disable-l7-retry") {
		t.Error("region edges route writes to their write twins instead of disabling retries")
	}
	twin := cfg[strings.Index(cfg, "backend kratos_public_write"):]
	twin = twin[:strings.Index(twin[1:], "\nbackend")+1]
	for _, never := range []string{"response-timeout", " 502", " 503", " 504", "check\n"} {
		if strings.Contains(twin, never) {
			t.Errorf("write twin must not have %q:\n%s", never, twin)
		}
	}
}
