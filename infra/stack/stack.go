// Package stack brings a Topology up on the local Docker engine with
// dockertest, reports its status and tears it down.
//
// Everything Up creates carries the label LabelStack=<topology name>, and
// Down removes exactly what carries it: containers, networks and volumes.
// Up either returns a healthy stack or removes what it created.
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ory/dockertest/v3"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
)

// Labels on everything the stack creates.
const (
	LabelStack  = "dev.idstack.stack"
	LabelRole   = "dev.idstack.role"
	LabelRegion = "dev.idstack.region"
	// LabelProfiled marks a Kratos or Hydra replica that writes a CPU
	// profile when it stops (Options.ProfileDir).
	LabelProfiled = "dev.idstack.profiled"
)

// Errors callers can match.
var (
	ErrNoDocker             = errors.New("no Docker engine")
	ErrAlreadyUp            = errors.New("stack already up")
	ErrNotUp                = errors.New("stack not up")
	ErrPortTaken            = errors.New("port already taken")
	ErrImagesMissing        = errors.New("images missing")
	ErrUnhealthy            = errors.New("service never turned healthy")
	ErrCockroachUnavailable = errors.New("no CockroachDB image on this Docker engine (no registry is reachable here to pull one)")
)

// State is what Up records for status, tests and the other components: the
// topology, its secrets and Vault's root token and unseal key. It lives in
// StateDir/<name>/stack.json, a local development stack's own file.
type State struct {
	Topology       infra.Topology `json:"topology"`
	Secrets        config.Secrets `json:"secrets"`
	VaultRootToken string         `json:"vault_root_token"`
	VaultUnsealKey string         `json:"vault_unseal_key"`
	Images         images.Tags    `json:"images"`
	CreatedAt      time.Time      `json:"created_at"`
}

// Options configure a Stack.
type Options struct {
	// Root is the repository root (images are named from bin/ there).
	Root string
	// StateDir holds one directory per stack name.
	StateDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// HealthTimeout bounds each wait for a service to turn healthy.
	HealthTimeout time.Duration
	// KeepOnFailure leaves a failed Up's containers for inspection; make down
	// removes them.
	KeepOnFailure bool
	// ProfileDir, when set (an absolute path), runs every Kratos and Hydra
	// replica with Ory's CPU profiling (PROFILING=cpu). Down stops those
	// that run with their stop signal (SIGTERM) first, so each writes
	// ProfileDir/<container>/profile*/cpu.pprof; read it with
	// go tool pprof bin/<kratos|hydra> FILE. Those replicas run as the
	// caller's user, so the files are the caller's.
	ProfileDir string
}

// Stack is a handle on one topology's containers.
type Stack struct {
	Topology infra.Topology
	pool     *dockertest.Pool
	opts     Options
	start    time.Time
}

// Connect returns a Stack for topology t, after checking that a Docker
// engine answers.
func Connect(t infra.Topology, opts Options) (*Stack, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if opts.ProfileDir != "" && !filepath.IsAbs(opts.ProfileDir) {
		// Docker would read a relative bind source as a volume name.
		return nil, fmt.Errorf("profile directory %q: want an absolute path", opts.ProfileDir)
	}
	pool, err := Pool()
	if err != nil {
		return nil, err
	}
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = 90 * time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Stack{Topology: t, pool: pool, opts: opts, start: time.Now()}, nil
}

// Pool connects to the Docker engine named by DOCKER_HOST (or the default
// socket) and checks that it answers.
func Pool() (*dockertest.Pool, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDocker, err)
	}
	if err := pool.Client.Ping(); err != nil {
		return nil, fmt.Errorf("%w: %w (is the daemon running, and is DOCKER_HOST right?)", ErrNoDocker, err)
	}
	pool.MaxWait = 2 * time.Minute
	return pool, nil
}

// DockerPool exposes the engine connection to fault injection and tests.
func (s *Stack) DockerPool() *dockertest.Pool { return s.pool }

// StatePath is the file Up records the stack's state in.
func (s *Stack) StatePath() string { return s.statePath() }

func (s *Stack) statePath() string {
	return filepath.Join(s.opts.StateDir, s.Topology.Name, "stack.json")
}

// LoadState reads the state Up recorded.
func (s *Stack) LoadState() (State, error) {
	return ReadState(s.opts.StateDir, s.Topology.Name)
}

// ReadState reads the state of stack name under dir.
func ReadState(dir, name string) (State, error) {
	var st State
	data, err := os.ReadFile(filepath.Join(dir, name, "stack.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("%w: no state for stack %q under %s (run make up)", ErrNotUp, name, dir)
	}
	if err != nil {
		return st, fmt.Errorf("read stack state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("read stack state %s: %w", name, err)
	}
	return st, nil
}

func (s *Stack) saveState(st State) error {
	path := s.statePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save stack state: %w", err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("save stack state: %w", err)
	}
	return os.Rename(tmp, path)
}

func (s *Stack) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "[%5.1fs] "+format+"\n", append([]any{time.Since(s.start).Seconds()}, args...)...)
}
