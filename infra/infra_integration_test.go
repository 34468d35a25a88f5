//go:build integration

package infra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dc "github.com/ory/dockertest/v3/docker"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
)

// get GETs url from the host and returns the status (0 on a transport error).
func get(ctx context.Context, top infra.Topology, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := top.HTTPClient(5 * time.Second).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// probe sends n GETs to url, gap apart, and returns how many failed. It is
// bounded in count and time. After the first `signalAfter` requests it
// closes started (when not nil).
func probe(ctx context.Context, top infra.Topology, url string, n int, gap time.Duration) (failed int, errs []string) {
	return probeSignal(ctx, top, url, n, gap, 0, nil)
}

func probeSignal(ctx context.Context, top infra.Topology, url string, n int, gap time.Duration, signalAfter int, started chan<- struct{}) (failed int, errs []string) {
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if started != nil && i == signalAfter {
			close(started)
		}
		status, err := get(ctx, top, url)
		if err != nil || status != http.StatusOK {
			failed++
			errs = append(errs, fmt.Sprintf("#%d: status %d err %v", i, status, err))
		}
		time.Sleep(gap)
	}
	return failed, errs
}

// edgeLog returns the lines of an edge's log since since that mark a
// server of the backend prefix DOWN.
func edgeLog(t *testing.T, s *stack.Stack, edge string, since time.Time, prefix string) []string {
	t.Helper()
	var out bytes.Buffer
	err := s.DockerPool().Client.Logs(dc.LogsOptions{Container: edge, OutputStream: &out, ErrorStream: &out, Stdout: true, Stderr: true, Since: since.Unix() - 1})
	if err != nil {
		t.Fatalf("logs of %s: %v", edge, err)
	}
	var down []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "Server "+prefix) && strings.Contains(l, " is DOWN") {
			down = append(down, l)
		}
	}
	return down
}

// eventually polls until check passes or timeout.
func eventually(t *testing.T, what string, timeout time.Duration, check func(context.Context) error) time.Duration {
	t.Helper()
	start := time.Now()
	if err := stack.Poll(context.Background(), timeout, 200*time.Millisecond, check); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return time.Since(start)
}

func wantOK(top infra.Topology, url string) func(context.Context) error {
	return func(ctx context.Context) error { return stack.GetOK(ctx, top, url) }
}

// authorizationRegion returns which region's Hydra answered the global
// issuer's discovery document (its authorization endpoint is regional).
func authorizationRegion(ctx context.Context, top infra.Topology) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, top.IssuerURL()+".well-known/openid-configuration", nil)
	resp, err := top.HTTPClient(5 * time.Second).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery: status %d", resp.StatusCode)
	}
	var doc struct {
		Issuer string `json:"issuer"`
		Auth   string `json:"authorization_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", err
	}
	if doc.Issuer != top.IssuerURL() {
		return "", fmt.Errorf("issuer %s, want %s", doc.Issuer, top.IssuerURL())
	}
	for _, r := range top.Regions {
		if strings.HasPrefix(doc.Auth, top.PublicURL(infra.HostHydra, r)) {
			return r, nil
		}
	}
	return "", fmt.Errorf("authorization endpoint %s is in no region", doc.Auth)
}

func servedBy(top infra.Topology, region string) func(context.Context) error {
	return func(ctx context.Context) error {
		r, err := authorizationRegion(ctx, top)
		if err != nil {
			return err
		}
		if r != region {
			return fmt.Errorf("served by %s, want %s", r, region)
		}
		return nil
	}
}

// TestTopologyUnderFaults is the foundation's end-to-end check: two regions
// come up, every health endpoint answers through the edges, and the stack
// keeps serving through a replica kill, a region's service outage, a pause,
// a WAN cut and a slow link; down then leaves nothing behind.
func TestTopologyUnderFaults(t *testing.T) {
	s, inj := infratest.Establish(t)
	top := s.Topology
	ctx := context.Background()
	eu, us := top.Regions[0], top.Regions[1]
	node := func(r, svc string, i int) string { return fmt.Sprintf("%s-%s-%s-%d", top.Name, r, svc, i) }

	t.Run("every health endpoint answers through the edges", func(t *testing.T) {
		for _, u := range stack.HealthURLs(top) {
			if err := stack.GetOK(ctx, top, u); err != nil {
				t.Error(err)
			}
		}
		if err := servedBy(top, eu)(ctx); err != nil {
			t.Errorf("the global edge must prefer the primary region: %v", err)
		}
	})

	t.Run("a second up is refused and leaves the stack alone", func(t *testing.T) {
		tags, err := images.Builder{Pool: s.DockerPool(), Root: infratest.Root(t)}.Tags()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Up(ctx, tags); !errors.Is(err, stack.ErrAlreadyUp) {
			t.Fatalf("got %v, want ErrAlreadyUp", err)
		}
		if err := stack.GetOK(ctx, top, top.PublicURL(infra.HostKratos, eu)+"/health/ready"); err != nil {
			t.Fatalf("stack damaged by the refused up: %v", err)
		}
	})

	t.Run("the edge keeps serving while a hydra replica is killed", func(t *testing.T) {
		url := top.PublicURL(infra.HostHydra, eu) + "/.well-known/openid-configuration"
		done, started := make(chan struct{}), make(chan struct{})
		var failed int
		var errs []string
		go func() {
			defer close(done)
			// 20 requests before the kill, 80 across and after it.
			failed, errs = probeSignal(ctx, top, url, 100, 50*time.Millisecond, 20, started)
		}()
		<-started
		if err := inj.Kill(ctx, node(eu, "hydra", 1)); err != nil {
			t.Fatal(err)
		}
		<-done
		t.Logf("100 requests across the kill: %d failed", failed)
		if failed > 0 {
			t.Errorf("%d of 100 requests failed while one of two replicas was killed: %v", failed, errs)
		}
		if err := inj.Start(ctx, node(eu, "hydra", 1)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("writes through the edge cross a hydra replica kill", func(t *testing.T) {
		// The admin edge sends a POST to its pool's write twin, which
		// retries only what the killed replica never answered (a refused
		// connection, an empty response).
		admin := top.AdminURL(infra.HostHydra, eu)
		hc := top.HTTPClient(10 * time.Second)
		var created []string
		defer func() {
			for _, id := range created {
				req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, admin+"/admin/clients/"+id, nil)
				if resp, err := hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		}()
		const n, killAfter = 60, 10
		var failed []string
		killErr := make(chan error, 1)
		for i := range n {
			if i == killAfter {
				// Killed while the writes go on, as a replica dies.
				go func() { killErr <- inj.Kill(ctx, node(eu, "hydra", 1)) }()
			}
			body := strings.NewReader(fmt.Sprintf(`{"client_name":"write-twin-probe-%d","grant_types":["client_credentials"]}`, i))
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, admin+"/admin/clients", body)
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				failed = append(failed, fmt.Sprintf("#%d: %v", i, err))
				continue
			}
			var c struct {
				ID string `json:"client_id"`
			}
			json.NewDecoder(resp.Body).Decode(&c)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				failed = append(failed, fmt.Sprintf("#%d: status %d", i, resp.StatusCode))
				continue
			}
			created = append(created, c.ID)
			time.Sleep(30 * time.Millisecond)
		}
		t.Logf("%d client creations across the kill: %d failed", n, len(failed))
		if len(failed) > 0 {
			t.Errorf("%d of %d writes failed while one of two replicas was killed: %v", len(failed), n, failed)
		}
		if err := <-killErr; err != nil {
			t.Fatal(err)
		}
		if err := inj.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
		eventually(t, "both hydra replicas healthy again", 60*time.Second, wantOK(top, admin+"/health/ready"))
	})

	t.Run("the global edge fails over when a region loses every hydra", func(t *testing.T) {
		for i := 1; i <= top.Replicas[infra.ServiceHydra]; i++ {
			if err := inj.Kill(ctx, node(eu, "hydra", i)); err != nil {
				t.Fatal(err)
			}
		}
		took := eventually(t, "global issuer served by "+us, 30*time.Second, servedBy(top, us))
		t.Logf("failover to %s after %s", us, took.Round(100*time.Millisecond))
		if err := inj.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
		took = eventually(t, "global issuer back on "+eu, 60*time.Second, servedBy(top, eu))
		t.Logf("fail-back to %s after %s", eu, took.Round(100*time.Millisecond))
	})

	t.Run("pause and unpause a kratos replica", func(t *testing.T) {
		url := top.PublicURL(infra.HostKratos, eu) + "/health/ready"
		paused := time.Now()
		if err := inj.Pause(ctx, node(eu, "kratos", 1)); err != nil {
			t.Fatal(err)
		}
		// Once the edge has marked the paused replica down, every request
		// goes to the other one.
		eventually(t, "20 requests in a row succeed with a replica paused", 30*time.Second, func(ctx context.Context) error {
			if failed, errs := probe(ctx, top, url, 20, 20*time.Millisecond); failed > 0 {
				return fmt.Errorf("%d failed: %v", failed, errs)
			}
			return nil
		})
		// Long enough for every bridge's health check to have landed on
		// the frozen replica, had the edge asked for readiness (which
		// calls Kratos through this edge): no bridge may leave the pool.
		time.Sleep(time.Until(paused.Add(8 * time.Second)))
		if lines := edgeLog(t, s, top.RegionNode(eu, "edge"), paused, "bridge_public/"); len(lines) > 0 {
			t.Errorf("a frozen kratos took bridges out of the edge's pool:\n%s", strings.Join(lines, "\n"))
		}
		if err := inj.Unpause(ctx, node(eu, "kratos", 1)); err != nil {
			t.Fatal(err)
		}
		if n := len(inj.Active()); n != 0 {
			t.Errorf("%d faults still active after unpause", n)
		}
		nodes, err := s.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if n.Name == node(eu, "kratos", 1) && n.State != "running" {
				t.Errorf("%s is %s after unpause", n.Name, n.State)
			}
		}
	})

	t.Run("cut and restore a region's WAN link", func(t *testing.T) {
		if err := inj.CutRegion(ctx, eu); err != nil {
			t.Fatal(err)
		}
		took := eventually(t, "global issuer served by "+us+" with "+eu+" cut off", 30*time.Second, servedBy(top, us))
		t.Logf("failover after cut: %s", took.Round(100*time.Millisecond))
		// Cut off from the database, eu's services stop being ready.
		eventually(t, eu+" kratos not ready without its database", 30*time.Second, func(ctx context.Context) error {
			if err := stack.GetOK(ctx, top, top.AdminURL(infra.HostKratos, eu)+"/admin/identities"); err == nil {
				return errors.New("still serves identities")
			}
			return nil
		})
		if err := inj.RestoreRegion(ctx, eu); err != nil {
			t.Fatal(err)
		}
		took = eventually(t, eu+" serves again after restore", 60*time.Second, wantOK(top, top.AdminURL(infra.HostKratos, eu)+"/admin/identities"))
		t.Logf("%s recovered %s after restore", eu, took.Round(100*time.Millisecond))
		eventually(t, "global issuer back on "+eu, 60*time.Second, servedBy(top, eu))
	})

	t.Run("latency on a region's WAN link slows its database calls", func(t *testing.T) {
		if top.Database == infra.DatabasePatroni {
			// eu's calls cross its link only to a primary elsewhere.
			members, err := s.Cluster(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				if m.IsLeader() && m.Name == config.MemberName(eu) {
					if err := s.Switchover(ctx, m.Name, config.MemberName(us)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := s.WaitReplicating(ctx, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			eventually(t, eu+" kratos answering on the moved primary", 30*time.Second, wantOK(top, top.AdminURL(infra.HostKratos, eu)+"/admin/identities"))
		}
		url := top.AdminURL(infra.HostKratos, eu) + "/admin/identities"
		timeOne := func() time.Duration {
			start := time.Now()
			if err := stack.GetOK(ctx, top, url); err != nil {
				t.Fatal(err)
			}
			return time.Since(start)
		}
		base := timeOne()
		const delay = 300 * time.Millisecond
		if err := inj.SlowLink(ctx, eu, delay, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		// New database connections pay it too; take the fastest of three.
		slow := min(timeOne(), timeOne(), timeOne())
		if err := inj.FastLink(ctx, eu); err != nil {
			t.Fatal(err)
		}
		healed := min(timeOne(), timeOne(), timeOne())
		t.Logf("identities list: %s before, %s with %s latency, %s after heal", base, slow, delay, healed)
		if slow < delay {
			t.Errorf("with %s latency the call took %s", delay, slow)
		}
		if healed >= delay {
			t.Errorf("after heal the call still took %s", healed)
		}
	})

	t.Run("down removes everything up created and nothing else", func(t *testing.T) {
		// A network of another stack, and one without labels, must survive.
		pool := s.DockerPool()
		others := []dc.CreateNetworkOptions{
			{Name: "idstack-bystander-net", Labels: map[string]string{stack.LabelStack: "idstack-bystander"}},
			{Name: "idstack-unlabelled-net"},
		}
		for _, o := range others {
			n, err := pool.Client.CreateNetwork(o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pool.Client.RemoveNetwork(n.ID) })
		}
		if err := s.Down(ctx); err != nil {
			t.Fatal(err)
		}
		left, err := s.Leftovers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if left != (stack.Removed{}) {
			t.Errorf("after down: %s remain", left)
		}
		for _, o := range others {
			if _, err := pool.Client.NetworkInfo(o.Name); err != nil {
				t.Errorf("down removed %s, which it did not create: %v", o.Name, err)
			}
		}
	})
}
