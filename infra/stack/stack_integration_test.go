//go:build integration

package stack_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
)

func tags(t *testing.T, s *stack.Stack) images.Tags {
	t.Helper()
	tags, err := images.Builder{Pool: s.DockerPool(), Root: infratest.Root(t)}.Tags()
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func assertNothingLeft(t *testing.T, s *stack.Stack) {
	t.Helper()
	left, err := s.Leftovers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if left != (stack.Removed{}) {
		t.Errorf("a failed up left %s behind", left)
	}
}

func TestUpRefusesATakenPortAndCreatesNothing(t *testing.T) {
	s := infratest.Connect(t, infratest.WithName("idstack-port"), infratest.WithBasePort(4630))
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.Topology.Ports().Vault()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = s.Up(context.Background(), tags(t, s))
	if !errors.Is(err, stack.ErrPortTaken) {
		t.Fatalf("got %v, want ErrPortTaken", err)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(s.Topology.Ports().Vault())) {
		t.Errorf("error does not name the port: %v", err)
	}
	assertNothingLeft(t, s)
}

func TestUpRefusesMissingImages(t *testing.T) {
	s := infratest.Connect(t, infratest.WithName("idstack-noimg"), infratest.WithBasePort(4630))
	tg := tags(t, s)
	tg[images.Kratos] = "idstack/kratos:does-not-exist"
	err := s.Up(context.Background(), tg)
	if !errors.Is(err, stack.ErrImagesMissing) || !strings.Contains(err.Error(), "make images") {
		t.Fatalf("got %v, want ErrImagesMissing telling to run make images", err)
	}
	assertNothingLeft(t, s)
}

// A service that never turns healthy fails up with its last log lines, and
// up removes everything it had created.
func TestUpFailsCleanlyWhenAServiceNeverTurnsHealthy(t *testing.T) {
	restore := stack.SetSecretsForTest(func() (config.Secrets, error) {
		s, err := config.NewSecrets()
		// Kratos refuses a cipher secret over 32 characters and exits.
		s.KratosCipher = strings.Repeat("x", 40)
		return s, err
	})
	defer restore()
	s := infratest.Connect(t, infratest.WithName("idstack-sick"), infratest.WithBasePort(4630),
		infratest.WithRegions("eu"), infratest.WithReplicas(infra.ServiceKratos, 1), infratest.WithReplicas(infra.ServiceHydra, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := s.Up(ctx, tags(t, s))
	if !errors.Is(err, stack.ErrUnhealthy) {
		t.Fatalf("got %v, want ErrUnhealthy", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "last 50 log lines of idstack-sick-eu-") || !strings.Contains(msg, "cipher") {
		t.Errorf("error must name the node and carry its logs, got:\n%s", msg)
	}
	assertNothingLeft(t, s)
}

func TestCockroachTopology(t *testing.T) {
	s := infratest.Connect(t, infratest.WithName("idstack-crdb"), infratest.WithBasePort(4630),
		infratest.WithRegions("eu", "us", "ap"), infratest.WithDatabase(infra.DatabaseCockroach))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	defer s.Down(context.Background())
	err := s.Up(ctx, tags(t, s))
	if errors.Is(err, stack.ErrCockroachUnavailable) {
		assertNothingLeft(t, s)
		t.Skipf("SKIP (CockroachDB unavailable): %v. Up failed fast with that message and left nothing behind; "+
			"the cockroach path runs where the image can be loaded (docker load) or pulled.", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range stack.HealthURLs(s.Topology) {
		if err := stack.GetOK(ctx, s.Topology, u); err != nil {
			t.Error(err)
		}
	}
}

// With a profile directory, each Kratos and Hydra replica runs with CPU
// profiling, and Down stops it gracefully first, so each leaves a pprof
// file, owned by the caller, under <dir>/<container>/.
func TestDownWritesTheProfiledServersProfiles(t *testing.T) {
	top := infratest.Topology(infratest.WithName("idstack-prof"), infratest.WithBasePort(4630),
		infratest.WithRegions("eu"), infratest.WithReplicas(infra.ServiceKratos, 1), infratest.WithReplicas(infra.ServiceHydra, 1),
		infratest.WithReplicas(infra.ServiceBridge, 1))
	dir := t.TempDir()
	s, err := stack.Connect(top, stack.Options{Root: infratest.Root(t), StateDir: t.TempDir(), ProfileDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	defer s.Down(context.WithoutCancel(ctx)) // after a failure; a second Down finds nothing
	if err := s.Up(ctx, tags(t, s)); err != nil {
		t.Fatal(err)
	}
	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"idstack-prof-eu-kratos-1", "idstack-prof-eu-hydra-1"} {
		files, _ := filepath.Glob(filepath.Join(dir, name, "profile*", "cpu.pprof"))
		if len(files) != 1 {
			t.Errorf("%s: %d profiles, want 1 (%v)", name, len(files), files)
			continue
		}
		data, err := os.ReadFile(files[0])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b { // pprof files are gzipped protobuf
			t.Errorf("%s: %d bytes that are not a gzipped profile", name, len(data))
		}
		if fi, err := os.Stat(files[0]); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
				t.Errorf("%s: profile owned by uid %d, want the caller's %d", name, st.Uid, os.Getuid())
			}
		}
	}
	if others, _ := filepath.Glob(filepath.Join(dir, "*bridge*")); len(others) != 0 {
		t.Errorf("only Kratos and Hydra are profiled, found %v", others)
	}
	assertNothingLeft(t, s)
}
