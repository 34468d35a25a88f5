package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos/report"
	"github.com/idstack/idstack/chaos/runner"
	"github.com/idstack/idstack/chaos/scenario"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/internal/svc"
)

// Targets by name. Only the local topology exists today; a Kubernetes
// target (pods deleted, NetworkPolicy partitions) implements the same
// runner.Target.
const targetLocal = "local"

// config is every setting of run (and list, which needs the topology and
// seed to name the replicas a scenario hits).
type config struct {
	Target    string
	Suite     string
	Scenarios string
	Seed      int
	Replay    string
	DryRun    bool
	Strict    bool
	Up        bool
	Name      string
	BasePort  int
	Root      string
	StateDir  string
	ReportDir string
	// Headroom is the percentage of the measured capacity the probes may
	// use; Replicas, when set, runs every service with that many replicas
	// per region (1 leaves a replica kill nothing to fail over to: the
	// deliberately broken stack the gate must fail on).
	Headroom int
	Replicas int
	// Database is the database tier of a stack brought up with --up.
	Database string
	Options  runner.Options
}

func defaultConfig() config {
	top := infra.Default()
	return config{
		Target: targetLocal, Suite: scenario.SuiteDefault, Seed: int(time.Now().UnixNano() % 1e9),
		Name: top.Name, BasePort: top.BasePort, Root: ".", ReportDir: "results/chaos",
		Headroom: 35, Database: string(top.Database), Options: runner.DefaultOptions(),
	}
}

func (c *config) flags(name string) *svc.Flags {
	fs := svc.NewFlags("idstack-chaos "+name, "IDSTACK_CHAOS", os.LookupEnv)
	fs.String(&c.Target, "target", "where the scenarios run: local (the Docker topology of infra)")
	fs.String(&c.Suite, "suite", "suite to run: default (every scenario) or short")
	fs.String(&c.Scenarios, "scenario", "comma-separated scenario names instead of a suite")
	fs.Int(&c.Seed, "seed", "seed that picks replicas and regions and drives the probes (a report names it)")
	fs.String(&c.Replay, "replay", "a report.json whose seed and scenarios to run again")
	fs.String(&c.Name, "name", "name of the local stack (make up's is idstack)")
	fs.Int(&c.BasePort, "base-port", "first loopback port of the local stack")
	fs.String(&c.Root, "root", "repository root (bin/ and .cache/ are there)")
	fs.String(&c.StateDir, "state-dir", "directory of stack state (default ROOT/.run)")
	fs.Int(&c.Replicas, "replicas", "replicas of every service per region (0: the default topology's; 1 breaks failover on purpose)")
	fs.String(&c.Database, "database", "database tier of a stack brought up with --up: postgres (one node), patroni (replicated, fails over by itself) or cockroach")
	if name == "run" {
		fs.Bool(&c.DryRun, "dry-run", "print the plan and exit")
		fs.Bool(&c.Strict, "strict", "fail on known upstream defects too (chaos.DefectHydraKidAtAuthorize)")
		fs.Bool(&c.Up, "up", "bring the stack up first and remove it after (else use a running one)")
		fs.String(&c.ReportDir, "report-dir", "where report.json, report.html and report.md go")
		fs.Duration(&c.Options.Warmup, "warmup", "traffic before a scenario's first fault")
		fs.Duration(&c.Options.Settle, "settle", "traffic after a scenario's last heal")
		fs.Int(&c.Headroom, "headroom", "percentage of the measured capacity the probes may use")
		calibrated := func(p *time.Duration, name, usage string) {
			fs.Duration(p, name, usage+"; default: calibrated")
			if *p == runner.Calibrated {
				fs.Lookup(name).DefValue = "calibrated"
			}
		}
		calibrated(&c.Options.LoginEvery, "login-every", "password login period per region (the global name counts as one; 0: none)")
		calibrated(&c.Options.SessionEvery, "session-every", "session login period per region (0: none)")
		calibrated(&c.Options.PathEvery, "path-every", "path probe period per region: the bridge's home page and the region's Hydra, signed in, no login")
		calibrated(&c.Options.RegisterEvery, "register-every", "registration period (0: none)")
		calibrated(&c.Options.BrowserEvery, "browser-every", "Chromium login period (0: no browser probe)")
		fs.Duration(&c.Options.WriteEvery, "write-every", "database writer probe period per region, through its route to the database (0: none)")
		fs.Duration(&c.Options.VerifierTTL, "verifier-ttl", "how long the token verifier caches the JWKS")
	}
	return fs
}

// validate checks the settings and resolves the replay file; errors name
// the field.
func (c *config) validate() error {
	if c.Target != targetLocal {
		return fmt.Errorf("target: %q, want %s (a Kubernetes target is not built yet)", c.Target, targetLocal)
	}
	if c.Replay != "" {
		f, err := os.Open(c.Replay)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer f.Close()
		r, err := report.ReadJSON(f)
		if err != nil {
			return fmt.Errorf("replay: %s: %w", c.Replay, err)
		}
		c.Seed = int(r.Seed)
		var names []string
		for _, res := range r.Results {
			names = append(names, res.History.Scenario)
		}
		if len(names) == 0 {
			return fmt.Errorf("replay: %s has no scenarios", c.Replay)
		}
		c.Scenarios = strings.Join(names, ",")
	}
	if c.Scenarios == "" && c.Suite != scenario.SuiteDefault && c.Suite != scenario.SuiteShort {
		return fmt.Errorf("suite: %q, want %s or %s", c.Suite, scenario.SuiteDefault, scenario.SuiteShort)
	}
	o := c.Options
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
		min  time.Duration
	}{
		{"warmup", o.Warmup, time.Second}, {"settle", o.Settle, time.Second}, {"verifier-ttl", o.VerifierTTL, 0},
	} {
		if d.v < d.min {
			errs = append(errs, fmt.Errorf("%s: %s, want at least %s", d.name, d.v, d.min))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"login-every", o.LoginEvery}, {"session-every", o.SessionEvery}, {"register-every", o.RegisterEvery}, {"browser-every", o.BrowserEvery}, {"path-every", o.PathEvery}} {
		if d.v != runner.Calibrated && (d.v < 0 || (d.v > 0 && d.v < 50*time.Millisecond)) {
			errs = append(errs, fmt.Errorf("%s: %s, want 0 (off), at least 50ms, or no value (calibrated)", d.name, d.v))
		}
	}
	if c.Headroom < 1 || c.Headroom > 100 {
		errs = append(errs, fmt.Errorf("headroom: %d, want a percentage from 1 to 100", c.Headroom))
	}
	c.Options.Headroom = float64(c.Headroom) / 100
	if c.Replicas < 0 {
		errs = append(errs, fmt.Errorf("replicas: %d, want 0 (the default) or more", c.Replicas))
	}
	if c.ReportDir == "" {
		errs = append(errs, errors.New("report-dir: empty"))
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(c.Root, ".run")
	}
	return errors.Join(errs...)
}

// topology is the local topology the run targets: the default regions and
// replicas under the configured name and ports, on the configured
// database tier.
func (c *config) topology() (infra.Topology, error) {
	t := infra.Default()
	t.Name, t.BasePort = c.Name, c.BasePort
	if c.Database != "" {
		t.Database = infra.DatabaseKind(c.Database)
	}
	if c.Replicas > 0 {
		for svc := range t.Replicas {
			t.Replicas[svc] = c.Replicas
		}
	}
	if err := t.Validate(); err != nil {
		return t, err
	}
	return t, nil
}
