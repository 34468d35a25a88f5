package stack

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/internal/golden"
)

func TestConnectWithoutDockerSaysSo(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := Connect(infra.Default(), Options{})
	if !errors.Is(err, ErrNoDocker) {
		t.Fatalf("got %v, want ErrNoDocker", err)
	}
}

func TestConnectValidatesTheTopology(t *testing.T) {
	top := infra.Default()
	top.Regions = nil
	if _, err := Connect(top, Options{}); !errors.Is(err, infra.ErrInvalidTopology) {
		t.Fatalf("got %v, want ErrInvalidTopology", err)
	}
}

func testPlan(t *testing.T, top infra.Topology) plan {
	t.Helper()
	return testPlanWith(t, top, Options{})
}

func testPlanWith(t *testing.T, top infra.Topology, opts Options) plan {
	t.Helper()
	s := &Stack{Topology: top, opts: opts}
	tags := images.Tags{}
	for _, n := range []string{images.Kratos, images.Hydra, images.Vault, images.Toxiproxy, images.Mailsink, images.Debian, images.DBTier, images.Bridge, images.DemoApp} {
		tags[n] = "idstack/" + n + ":test"
	}
	p, err := s.plan(State{Topology: top, Images: tags})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func find(t *testing.T, nodes []nodeSpec, name string) nodeSpec {
	t.Helper()
	for _, n := range nodes {
		if n.name == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return nodeSpec{}
}

// TestPlanDefaultTopology plans the default shape on the single
// PostgreSQL node (the Patroni tier's plan has its own test).
func TestPlanDefaultTopology(t *testing.T) {
	top := infra.Default()
	top.Database = infra.DatabasePostgres
	p := testPlan(t, top)

	// Every replica of every regional service (the demo app has one), plus one courier.
	if got, want := len(p.services), len(top.Regions)*(2+2+2+1)+1; got != want {
		t.Errorf("got %d service nodes, want %d", got, want)
	}
	// Migrations run once, in the primary region.
	if len(p.migrations) != 2 || p.migrations[0].region != "eu" {
		t.Errorf("migrations: %+v", p.migrations)
	}
	for _, n := range p.services {
		if n.image == "" || len(n.networks) != 1 || n.networks[0].network != "idstack-"+n.region {
			t.Errorf("%s: want only its region's network, got %+v", n.name, n.networks)
		}
	}
	// The region edge answers for global names only inside its region.
	edge := find(t, p.edges, "idstack-us-edge")
	if !slices.Contains(edge.networks[0].aliases, "hydra.idstack.test") || !slices.Contains(edge.networks[0].aliases, "hydra.us.idstack.test") {
		t.Errorf("us edge aliases in its region: %v", edge.networks[0].aliases)
	}
	if slices.Contains(edge.networks[1].aliases, "hydra.idstack.test") {
		t.Errorf("us edge must not answer global names on the WAN: %v", edge.networks[1].aliases)
	}
	if !slices.Equal(edge.publish, []int{4432, 4442}) {
		t.Errorf("us edge publishes %v", edge.publish)
	}
	global := find(t, p.edges, "idstack-global-edge")
	if !slices.Contains(global.networks[0].aliases, "hydra.idstack.test") || !slices.Equal(global.publish, []int{4430}) {
		t.Errorf("global edge: %+v", global)
	}
	// The gateway is the region's only way to the database and mail.
	gw := find(t, p.gateways, "idstack-eu-gateway")
	if !slices.Contains(gw.networks[0].aliases, config.DatabaseHost) || !slices.Contains(gw.networks[0].aliases, config.MailHost) {
		t.Errorf("gateway aliases: %v", gw.networks[0].aliases)
	}
	if len(p.database) != 1 || p.database[0].networks[0].network != "idstack-wan" {
		t.Errorf("database: %+v", p.database)
	}
	// Every container name is unique.
	seen := map[string]bool{}
	all := append(append(append(append([]nodeSpec{p.vault, p.mail}, p.database...), p.gateways...), p.services...), p.edges...)
	for _, n := range append(all, p.migrations...) {
		if seen[n.name] {
			t.Errorf("container name %s used twice", n.name)
		}
		seen[n.name] = true
	}
}

func TestPlanCockroachSpreadsNodesOverRegions(t *testing.T) {
	top := infra.Default()
	top.Database = infra.DatabaseCockroach
	p := testPlan(t, top)
	if len(p.database) != 3 {
		t.Fatalf("got %d cockroach nodes, want 3", len(p.database))
	}
	var localities []string
	for _, n := range p.database {
		for _, arg := range n.cmd {
			if strings.HasPrefix(arg, "--locality=") {
				localities = append(localities, arg)
			}
		}
	}
	if want := []string{"--locality=region=eu", "--locality=region=us", "--locality=region=eu"}; !slices.Equal(localities, want) {
		t.Errorf("got %v, want %v", localities, want)
	}
	// Services reach their own region's node, not a gateway.
	gw := find(t, p.gateways, "idstack-eu-gateway")
	if slices.Contains(gw.networks[0].aliases, config.DatabaseHost) {
		t.Error("with cockroach the gateway must not answer for the database")
	}
}

func TestBootstrapStepsArePortable(t *testing.T) {
	top := infra.Default()
	steps := bootstrapSteps(top, config.Secrets{KratosDatabasePassword: "k", HydraDatabasePassword: "h"})
	var sql []string
	for _, s := range steps {
		if strings.HasPrefix(s.sql, "CREATE DATABASE") && s.tx {
			t.Errorf("%s cannot run in a PostgreSQL transaction", s.sql)
		}
		sql = append(sql, s.sql)
	}
	joined := strings.Join(sql, "\n")
	for _, want := range []string{"CREATE DATABASE kratos", "ALTER DATABASE hydra OWNER TO hydra", "CREATE ROLE kratos LOGIN PASSWORD 'k'"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "REGION") {
		t.Error("postgres bootstrap must not set regions")
	}
	top.Database = infra.DatabaseCockroach
	top.Regions = []string{"eu", "us", "ap"}
	var crdb []string
	for _, s := range bootstrapSteps(top, config.Secrets{}) {
		crdb = append(crdb, s.sql)
	}
	joined = strings.Join(crdb, "\n")
	for _, want := range []string{`ALTER DATABASE kratos SET PRIMARY REGION "eu"`, `ALTER DATABASE hydra ADD REGION "ap"`, "SURVIVE REGION FAILURE"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in\n%s", want, joined)
		}
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	if got := redact("CREATE ROLE kratos LOGIN PASSWORD 'hunter2'"); strings.Contains(got, "hunter2") {
		t.Errorf("got %q", got)
	}
}

func TestPollStopsOnAPermanentError(t *testing.T) {
	calls := 0
	boom := errors.New("container exited")
	err := Poll(context.Background(), time.Minute, time.Millisecond, func(context.Context) error {
		calls++
		if calls == 3 {
			return Permanent(boom)
		}
		return errors.New("not yet")
	})
	if !errors.Is(err, boom) || calls != 3 {
		t.Fatalf("got %v after %d calls, want the permanent error after 3", err, calls)
	}
}

func TestPollTimesOutWithTheLastError(t *testing.T) {
	err := Poll(context.Background(), 50*time.Millisecond, 10*time.Millisecond, func(context.Context) error {
		return errors.New("still starting")
	})
	if err == nil || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("got %v", err)
	}
}

// TestEdgeConfigGolden pins the region edge configuration rendered from the
// real service table.
func TestEdgeConfigGolden(t *testing.T) {
	p := testPlan(t, infra.Default())
	edge := find(t, p.edges, "idstack-eu-edge")
	golden.Check(t, "edge-eu.cfg", edge.files[0].Data)
}

func TestPlanProfilesOnlyKratosAndHydra(t *testing.T) {
	top := infra.Default()
	p := testPlanWith(t, top, Options{ProfileDir: "/var/tmp/prof"})
	profiled := 0
	for _, n := range p.services {
		server := n.role == infra.ServiceKratos || n.role == infra.ServiceHydra
		if got := n.profileDir != ""; got != server {
			t.Errorf("%s (%s): profiled %v", n.name, n.role, got)
			continue
		}
		if !server {
			continue
		}
		profiled++
		if n.profileDir != "/var/tmp/prof/"+n.name || !slices.Contains(n.env, "PROFILING=cpu") || !slices.Contains(n.env, "TMPDIR="+profileMount) {
			t.Errorf("%s: dir %q, env %v", n.name, n.profileDir, n.env)
		}
	}
	if want := len(top.Regions) * (top.Replicas[infra.ServiceKratos] + top.Replicas[infra.ServiceHydra]); profiled != want {
		t.Errorf("%d profiled replicas, want %d", profiled, want)
	}
	for _, n := range testPlan(t, top).services {
		if n.profileDir != "" || slices.Contains(n.env, "PROFILING=cpu") {
			t.Errorf("%s profiled without a ProfileDir", n.name)
		}
	}
}

func TestConnectRefusesARelativeProfileDir(t *testing.T) {
	_, err := Connect(infra.Default(), Options{ProfileDir: "prof"})
	if err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Fatalf("got %v, want an error asking for an absolute path", err)
	}
}
