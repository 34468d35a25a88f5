// Package infratest brings a local topology up for a test and removes it
// when the test ends. Other components' integration tests (bridge, e2e,
// chaos, keyrotation) start their stacks with it.
package infratest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/faults"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/stack"
)

// Option changes the topology a test runs.
type Option func(*infra.Topology)

// WithName names the stack (default "idstack-it"), so tests never touch a
// stack a person started with make up.
func WithName(name string) Option { return func(t *infra.Topology) { t.Name = name } }

// WithBasePort moves the port plan (default 4530, clear of make up's 4430).
func WithBasePort(p int) Option { return func(t *infra.Topology) { t.BasePort = p } }

// WithRegions sets the regions.
func WithRegions(r ...string) Option { return func(t *infra.Topology) { t.Regions = r } }

// WithReplicas sets the replicas of one service.
func WithReplicas(service string, n int) Option {
	return func(t *infra.Topology) { t.Replicas[service] = n }
}

// WithDatabase sets the database kind.
func WithDatabase(k infra.DatabaseKind) Option { return func(t *infra.Topology) { t.Database = k } }

// Topology returns the test topology with opts applied.
func Topology(opts ...Option) infra.Topology {
	top := infra.Default()
	top.Name, top.BasePort = "idstack-it", 4530
	for _, o := range opts {
		o(&top)
	}
	return top
}

// Root finds the repository root: IDSTACK_ROOT, or the nearest parent
// directory holding versions.env.
func Root(t testing.TB) string {
	t.Helper()
	if r := os.Getenv("IDSTACK_ROOT"); r != "" {
		return r
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "versions.env")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root not found (set IDSTACK_ROOT)")
		}
		dir = parent
	}
}

// Connect returns a Stack handle for the test topology without starting it.
// Its state lives in a temporary directory.
func Connect(t testing.TB, opts ...Option) *stack.Stack {
	t.Helper()
	s, err := stack.Connect(Topology(opts...), stack.Options{
		Root: Root(t), StateDir: t.TempDir(), Log: testWriter{t}, HealthTimeout: 90 * time.Second,
		ProfileDir: profileDir(t),
	})
	if err != nil {
		t.Fatalf("connect to Docker: %v", err)
	}
	return s
}

// profileDir is IDSTACK_PROFILE_DIR made absolute: where Kratos and Hydra
// write CPU profiles when the stack comes down (unset: not profiled).
func profileDir(t testing.TB) string {
	dir := os.Getenv("IDSTACK_PROFILE_DIR")
	if dir == "" {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("IDSTACK_PROFILE_DIR: %v", err)
	}
	return abs
}

// Establish brings the test topology up and registers its removal, and the
// healing of every fault injected through the returned Injector, with
// t.Cleanup. Images must have been built (make images, which make
// test-integration runs first).
func Establish(t testing.TB, opts ...Option) (*stack.Stack, *faults.Injector) {
	t.Helper()
	s := Connect(t, opts...)
	tags, err := images.Builder{Pool: s.DockerPool(), Root: Root(t)}.Tags()
	if err != nil {
		t.Fatalf("image tags: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Remove a stack a crashed earlier run may have left under this name.
	if err := s.Down(ctx); err != nil {
		t.Fatalf("remove leftovers: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.Down(ctx); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	if err := s.Up(ctx, tags); err != nil {
		t.Fatalf("up: %v", err)
	}
	inj := faults.New(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := inj.HealAll(ctx); err != nil {
			t.Errorf("heal: %v", err)
		}
	})
	return s, inj
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}
