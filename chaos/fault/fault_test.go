package fault

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/keyrotation"
)

// fakeNodes records every call as "verb target".
type fakeNodes struct {
	mu    sync.Mutex
	calls []string
}

func (n *fakeNodes) rec(verb, target string) error {
	n.mu.Lock()
	n.calls = append(n.calls, verb+" "+target)
	n.mu.Unlock()
	return nil
}
func (n *fakeNodes) Kill(_ context.Context, node string) error       { return n.rec("kill", node) }
func (n *fakeNodes) Start(_ context.Context, node string) error      { return n.rec("start", node) }
func (n *fakeNodes) Pause(_ context.Context, node string) error      { return n.rec("pause", node) }
func (n *fakeNodes) Unpause(_ context.Context, node string) error    { return n.rec("unpause", node) }
func (n *fakeNodes) CutRegion(_ context.Context, r string) error     { return n.rec("cut", r) }
func (n *fakeNodes) RestoreRegion(_ context.Context, r string) error { return n.rec("restore", r) }
func (n *fakeNodes) SlowLink(_ context.Context, r string, _, _ time.Duration) error {
	return n.rec("slow", r)
}
func (n *fakeNodes) FastLink(_ context.Context, r string) error { return n.rec("fast", r) }
func (n *fakeNodes) Restart(_ context.Context, node string, _ time.Duration) error {
	return n.rec("restart", node)
}

type fakeNames struct{ roles map[string][]string }

func (fakeNames) Replica(region, service string, i int) string {
	return region + "-" + service + "-" + string(rune('0'+i))
}
func (n fakeNames) WithRole(_ context.Context, role string) ([]string, error) {
	return n.roles[role], nil
}

// fakeKeys promotes a new key on every step and revokes on demand.
type fakeKeys struct {
	mu     sync.Mutex
	steps  int
	active string
	fail   error
	slow   time.Duration // each step takes this long
}

func (k *fakeKeys) Step(context.Context) ([]keyrotation.Outcome, error) {
	k.mu.Lock()
	slow := k.slow
	k.mu.Unlock()
	time.Sleep(slow)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return nil, k.fail
	}
	k.steps++
	k.active = "kid-" + string(rune('a'+k.steps))
	return []keyrotation.Outcome{{Set: keyrotation.SetIDToken, Transitions: []keyrotation.Entry{{Kid: "next", Event: "publish"}, {Kid: k.active, Event: "activate"}}}}, nil
}
func (k *fakeKeys) ActiveKid(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.active, nil
}
func (k *fakeKeys) Revoke(_ context.Context, kid, _ string, _ time.Duration) (keyrotation.RevokeReport, error) {
	return keyrotation.RevokeReport{Kid: kid, Promoted: "standby"}, nil
}

func env() (Env, *fakeNodes, *fakeKeys) {
	n, k := &fakeNodes{}, &fakeKeys{}
	return Env{Topology: infra.Default(), Nodes: n, Names: fakeNames{roles: map[string][]string{"database": {"db-1", "db-2"}}}, Keys: k}, n, k
}

func TestNodeFaultsActOnTheNamedNodes(t *testing.T) {
	ctx := context.Background()
	e, n, _ := env()
	for _, f := range []Fault{
		Kill{Service: "kratos", Region: "eu", Replicas: []int{1, 2}},
		Pause{Service: "hydra", Region: "us", Replica: 2},
		CutRegion{Region: "us"},
		SlowWAN{Latency: time.Millisecond},
		KillRole{Role: "database", Node: 2},
	} {
		if err := f.Available(e); err != nil {
			t.Fatalf("%s unavailable: %v", f.Name(), err)
		}
		if err := f.Inject(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := f.Heal(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"kill eu-kratos-1", "kill eu-kratos-2", "start eu-kratos-1", "start eu-kratos-2",
		"pause us-hydra-2", "unpause us-hydra-2", "cut us", "restore us",
		"slow eu", "slow us", "fast eu", "fast us", "kill db-2", "start db-2"}
	if !slices.Equal(n.calls, want) {
		t.Errorf("calls %q, want %q", n.calls, want)
	}
}

func TestAvailability(t *testing.T) {
	e, _, _ := env()
	for _, f := range []Fault{
		Kill{Service: "kratos", Region: "eu", Replicas: []int{3}},
		CutRegion{Region: "mars"},
		KillRole{Role: "database", Needs: infra.DatabaseCockroach},
	} {
		if err := f.Available(e); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s %s: got %v, want ErrUnavailable", f.Name(), f.Target(), err)
		}
	}
	if err := (KillRole{Role: "database", Needs: infra.DatabaseCockroach}).Available(e); !strings.Contains(err.Error(), "this stack runs "+string(e.Topology.Database)) {
		t.Errorf("got %v, want it to say what the stack runs", err)
	}
	e.Keys = nil
	if err := (&Rotate{Every: time.Second}).Available(e); !errors.Is(err, ErrUnavailable) {
		t.Errorf("rotation without keys: %v", err)
	}
}

// The rotation reports every key it promoted with the span of its step;
// its heal retries the last step until it succeeds.
func TestRotateObservesPromotions(t *testing.T) {
	ctx := context.Background()
	e, _, k := env()
	f := &Rotate{Every: 20 * time.Millisecond}
	if err := f.Inject(ctx, e); err != nil {
		t.Fatal(err)
	}
	time.Sleep(70 * time.Millisecond)
	k.mu.Lock()
	k.fail = errors.New("vault: connection refused")
	k.mu.Unlock()
	go func() { time.Sleep(1500 * time.Millisecond); k.mu.Lock(); k.fail = nil; k.mu.Unlock() }()
	if err := f.Heal(ctx, e); err != nil {
		t.Fatalf("heal: %v", err)
	}
	obs := f.Observed()
	if len(obs.Promotions) < 3 {
		t.Fatalf("got %d promotions, want one per step (at least 3)", len(obs.Promotions))
	}
	for _, p := range obs.Promotions {
		if p.Kid == "" || p.Kid == "next" || p.End.Before(p.Start) {
			t.Errorf("promotion %+v", p)
		}
	}
}

func TestRevokeObservesTheRevokedAndPromotedKeys(t *testing.T) {
	ctx := context.Background()
	e, _, k := env()
	k.Step(ctx)
	f := &Revoke{}
	if err := f.Inject(ctx, e); err != nil {
		t.Fatal(err)
	}
	obs := f.Observed()
	if len(obs.Revocations) != 1 || obs.Revocations[0].Kid != "kid-b" || obs.Revocations[0].End.Before(obs.Revocations[0].Start) ||
		len(obs.Promotions) != 1 || obs.Promotions[0].Kid != "standby" {
		t.Errorf("observed %+v, want kid-b revoked and the standby promoted", obs)
	}
}

// A heal that comes while a step is running waits for that step without
// deadlocking on the lock the step records its promotions under.
func TestRotateHealsWhileAStepRuns(t *testing.T) {
	e, _, k := env()
	f := &Rotate{Every: 10 * time.Millisecond}
	if err := f.Inject(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	k.mu.Lock()
	k.slow = 200 * time.Millisecond
	k.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // a slow step is under way
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.Heal(ctx, e); err != nil {
		t.Fatalf("heal: %v", err)
	}
}
