package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	dc "github.com/ory/dockertest/v3/docker"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/images"
)

// Up brings the topology up and waits until every node is healthy and every
// edge serves. On any error it removes everything it created and returns the
// error; it never touches a stack that was already up.
func (s *Stack) Up(ctx context.Context, tags images.Tags) (err error) {
	s.start = time.Now()
	if err := s.preflight(tags); err != nil {
		return err
	}
	defer func() {
		if err != nil && s.opts.KeepOnFailure {
			s.logf("up failed; containers kept for inspection (make down removes them)")
			return
		}
		if err != nil {
			s.logf("up failed, removing what it created")
			if derr := s.Down(context.Background()); derr != nil {
				err = errors.Join(err, fmt.Errorf("clean up after failed up: %w", derr))
			}
		}
	}()
	return s.up(ctx, tags)
}

// preflight checks everything that can be checked before creating anything.
func (s *Stack) preflight(tags images.Tags) error {
	left, err := s.Leftovers(context.Background())
	if err != nil {
		return err
	}
	if left != (Removed{}) {
		return fmt.Errorf("%w: %s labelled %s=%s exist (make down removes them)", ErrAlreadyUp, left, LabelStack, s.Topology.Name)
	}
	var missing []string
	for _, ref := range tags {
		if _, err := s.pool.Client.InspectImage(ref); err != nil {
			missing = append(missing, ref)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %v (run make images)", ErrImagesMissing, missing)
	}
	if s.Topology.Database == infra.DatabaseCockroach {
		if err := s.checkCockroachImage(); err != nil {
			return err
		}
	}
	for _, port := range s.Topology.HostPorts() {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("%w: 127.0.0.1:%d is in use (another stack, or choose another base port): %w", ErrPortTaken, port, err)
		}
		l.Close()
	}
	return nil
}

func (s *Stack) up(ctx context.Context, tags images.Tags) error {
	t := s.Topology
	secrets, err := newSecrets()
	if err != nil {
		return err
	}
	st := State{Topology: t, Secrets: secrets, Images: tags, CreatedAt: time.Now().UTC()}
	if err := s.saveState(st); err != nil {
		return err
	}
	p, err := s.plan(st)
	if err != nil {
		return err
	}

	networkIDs := map[string]string{}
	for _, name := range s.networks() {
		n, err := s.pool.Client.CreateNetwork(dc.CreateNetworkOptions{
			Name: name, Driver: "bridge", Labels: s.labels("network", ""), Context: ctx,
		})
		if err != nil {
			return fmt.Errorf("create network %s: %w", name, err)
		}
		networkIDs[name] = n.ID
	}
	for _, name := range s.volumes() {
		if _, err := s.pool.Client.CreateVolume(dc.CreateVolumeOptions{Name: name, Labels: s.labels("volume", ""), Context: ctx}); err != nil {
			return fmt.Errorf("create volume %s: %w", name, err)
		}
	}
	s.logf("networks %v and volumes created", s.networks())

	// WAN gateways first: the Patroni tier's sites talk through them.
	gateways, err := s.runAll(ctx, p.gateways, networkIDs)
	if err != nil {
		return err
	}
	if err := s.waitAll(ctx, gateways); err != nil {
		return err
	}

	// Global tier: database, Vault, SMTP sink.
	global, err := s.runAll(ctx, []nodeSpec{p.vault, p.mail}, networkIDs)
	if err != nil {
		return err
	}
	var dbIP string
	if t.Database == infra.DatabasePatroni {
		router, err := s.upPatroni(ctx, p.patroni, networkIDs)
		if err != nil {
			return err
		}
		if dbIP, err = s.address(ctx, router.id, s.regionNetwork(t.Primary())); err != nil {
			return err
		}
	} else {
		dbs, err := s.runAll(ctx, p.database, networkIDs)
		if err != nil {
			return err
		}
		if err := s.waitAll(ctx, dbs); err != nil {
			return err
		}
		if t.Database == infra.DatabaseCockroach {
			if err := s.initCockroach(ctx, dbs[0]); err != nil {
				return err
			}
		}
		if dbIP, err = s.address(ctx, dbs[0].id, s.wanNetwork()); err != nil {
			return err
		}
	}
	if err := s.bootstrapDatabase(ctx, dbIP, secrets); err != nil {
		return err
	}
	s.logf("database ready and bootstrapped (%s)", t.Database)
	if err := s.waitAll(ctx, global); err != nil {
		return err
	}
	if err := s.initVault(ctx, &st); err != nil {
		return err
	}
	s.logf("vault initialised, unsealed, KV v2 and transit mounted; mail sink ready")

	// Regions: migrations, then the services and edges.
	migrations, err := s.runAll(ctx, p.migrations, networkIDs)
	if err != nil {
		return err
	}
	if err := s.each(ctx, migrations, func(ctx context.Context, c container) error { return s.waitExit(ctx, c) }); err != nil {
		return err
	}
	s.logf("migrations done")
	services, err := s.runAll(ctx, p.services, networkIDs)
	if err != nil {
		return err
	}
	edges, err := s.runAll(ctx, p.edges, networkIDs)
	if err != nil {
		return err
	}
	if err := s.waitAll(ctx, services); err != nil {
		return err
	}
	s.logf("%d service replicas healthy", len(services))
	if err := s.waitAll(ctx, edges); err != nil {
		return err
	}
	if err := s.checkThroughEdges(ctx); err != nil {
		return err
	}
	if err := s.registerDemoClient(ctx, st.Secrets.DemoClientSecret); err != nil {
		return err
	}
	s.logf("every edge serves; demo app at %s; stack %q is up", DemoAppURL(t), t.Name)
	return nil
}

func (s *Stack) runAll(ctx context.Context, specs []nodeSpec, networkIDs map[string]string) ([]container, error) {
	var out []container
	for _, spec := range specs {
		c, err := s.run(ctx, spec, networkIDs)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Stack) waitAll(ctx context.Context, cs []container) error {
	return s.each(ctx, cs, func(ctx context.Context, c container) error { return s.waitHealthy(ctx, c) })
}

// each runs f on every container in parallel. The first failure cancels
// the others (a node that depends on a failed one would otherwise wait out
// its whole timeout) and is the error returned.
func (s *Stack) each(ctx context.Context, cs []container, f func(context.Context, container) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, c); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}

// checkThroughEdges checks, from the host, every service's readiness through
// every edge by its public URL: what a browser would reach.
func (s *Stack) checkThroughEdges(ctx context.Context) error {
	return Poll(ctx, s.opts.HealthTimeout, 250*time.Millisecond, func(ctx context.Context) error {
		for _, u := range HealthURLs(s.Topology) {
			if err := s.getOK(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// HealthURLs lists every readiness URL a host can check through the edges.
func HealthURLs(t infra.Topology) []string {
	urls := []string{
		t.PublicURL(infra.HostLogin, "") + "/health/ready",
		t.PublicURL(infra.HostKratos, "") + "/health/ready",
		t.PublicURL(infra.HostHydra, "") + "/health/ready",
		t.PublicURL(infra.HostApp, "") + rpAlive,
		t.VaultURL() + "/v1/sys/health",
		t.MailURL() + "/health",
	}
	for _, r := range t.Regions {
		urls = append(urls,
			t.PublicURL(infra.HostLogin, r)+"/health/ready",
			t.PublicURL(infra.HostKratos, r)+"/health/ready",
			t.PublicURL(infra.HostHydra, r)+"/health/ready",
			t.AdminURL(infra.HostKratos, r)+"/admin/health/ready",
			t.AdminURL(infra.HostHydra, r)+"/health/ready",
		)
	}
	return urls
}

func (s *Stack) getOK(ctx context.Context, url string) error {
	return GetOK(ctx, s.Topology, url)
}

// rpAlive is the demo app's liveness path.
const rpAlive = "/health/alive"
