// Package target connects the chaos runner to a deployment. Local is the
// topology of package infra on this machine's Docker engine: faults through
// infra/faults, key rotation through the stack's Vault and Hydra. A
// Kubernetes target (pods deleted, NetworkPolicy partitions) would
// implement the same runner.Target.
package target

import (
	"context"
	"errors"
	"fmt"
	"time"

	idstack "github.com/idstack/idstack"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/faults"
	"github.com/idstack/idstack/infra/stack"
	"github.com/idstack/idstack/keyrotation"
	"github.com/idstack/idstack/keyrotation/hydra"
	krvault "github.com/idstack/idstack/keyrotation/vault"
)

// RotationPolicy is the key rotation policy chaos runs at test cadence:
// the verifier caches the JWKS for 4 s, so a key is published 6 s before
// it signs; a signer serves 10 s. Tokens live an hour (Hydra's setting),
// so nothing is retired during a run.
func RotationPolicy() keyrotation.Policy {
	return keyrotation.Policy{
		Sets:    []keyrotation.SetPolicy{{Name: keyrotation.SetIDToken, Alg: keyrotation.RS256, RSABits: 2048}},
		Cadence: 10 * time.Second, Lead: 6 * time.Second, Overlap: time.Hour + time.Second, Skew: time.Second,
		VerifierCacheTTL: 4 * time.Second, MaxTokenLifetime: time.Hour, LeaseTTL: 30 * time.Second,
	}
}

// Local is a local topology.
type Local struct {
	Stack    *stack.Stack
	Injector *faults.Injector
	rotator  *keyrotation.Rotator
}

// NewLocal connects to a running local stack and sets up key rotation
// against its Vault (a journal of its own under the prefix "chaos").
func NewLocal(s *stack.Stack) (*Local, error) {
	st, err := s.LoadState()
	if err != nil {
		return nil, err
	}
	vc, err := s.VaultClient(st.VaultRootToken)
	if err != nil {
		return nil, err
	}
	top := s.Topology
	h := top.HTTPClient(15 * time.Second)
	public := map[string]string{}
	for _, r := range top.Regions {
		public[r] = top.PublicURL(infra.HostHydra, r)
	}
	rot := &keyrotation.Rotator{
		Store: krvault.New(vc, config.VaultKVMount, "chaos"), Hydra: hydra.NewAdmin(top.AdminURL(infra.HostHydra, top.Primary()), h),
		Regions: hydra.NewRegions(public, h), Policy: RotationPolicy(), Issuer: top.IssuerURL(), Actor: "idstack-chaos",
	}
	return &Local{Stack: s, Injector: faults.New(s), rotator: rot}, nil
}

// Name says which stack.
func (l *Local) Name() string { return "local:" + l.Stack.Topology.Name }

// Env is the stack's environment.
func (l *Local) Env() e2e.Env { return e2e.FromTopology(l.Stack.Topology, l.Stack.DatabaseURL) }

// Faults is what faults act on: the injector for nodes, the stack's
// naming for replicas and roles, the rotator for keys.
func (l *Local) Faults() fault.Env {
	return fault.Env{Topology: l.Stack.Topology, Nodes: l.Injector, Names: names{l.Stack}, Keys: keys{l.rotator}, Database: database{l.Stack}}
}

// names is the stack's naming scheme as fault.Names.
type names struct{ s *stack.Stack }

func (n names) Replica(region, service string, i int) string {
	return n.s.ReplicaName(region, service, i)
}

func (n names) WithRole(ctx context.Context, role string) ([]string, error) {
	nodes, err := n.s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, node := range nodes {
		if node.Role == role {
			out = append(out, node.Name)
		}
	}
	return out, nil
}

// keys is the rotator as fault.Keys.
type keys struct{ r *keyrotation.Rotator }

func (k keys) Step(ctx context.Context) ([]keyrotation.Outcome, error) { return k.r.Step(ctx) }

func (k keys) ActiveKid(ctx context.Context) (string, error) {
	j, err := k.r.Store.ReadJournal(ctx, keyrotation.SetRef{Issuer: k.r.Issuer, Set: keyrotation.SetIDToken})
	if err != nil {
		return "", fmt.Errorf("no rotation journal (rotate before revoking): %w", err)
	}
	active := j.Active()
	if active == nil {
		return "", errors.New("no active key in the journal")
	}
	return active.Kid, nil
}

func (k keys) Revoke(ctx context.Context, kid, reason string, wait time.Duration) (keyrotation.RevokeReport, error) {
	return k.r.Revoke(ctx, kid, reason, wait)
}

// KeyLead is the rotation policy's lead.
func (l *Local) KeyLead() time.Duration { return l.rotator.Policy.Lead }

// HealAll heals every fault still active.
func (l *Local) HealAll(ctx context.Context) error { return l.Injector.HealAll(ctx) }

// Health lists the nodes not running and the URLs not answering.
func (l *Local) Health(ctx context.Context) []string {
	var out []string
	nodes, err := l.Stack.Nodes(ctx)
	if err != nil {
		return []string{err.Error()}
	}
	for _, n := range nodes {
		if n.Role == stack.RoleMigrate {
			continue
		}
		if n.State != "running" {
			out = append(out, fmt.Sprintf("%s is %s", n.Name, n.State))
		}
	}
	for _, c := range l.Stack.CheckURLs(ctx) {
		if c.Err != "" {
			out = append(out, c.URL+": "+c.Err)
		}
	}
	if l.Stack.Topology.Database == infra.DatabasePatroni {
		// After heal: one leader, every other member streaming from it on
		// its timeline with no lag.
		members, err := l.Stack.Cluster(ctx)
		if err == nil {
			err = stack.ClusterHealthy(members, len(l.Stack.Topology.DatabaseSites()))
		}
		if err != nil {
			out = append(out, "database: "+err.Error())
		}
	}
	return out
}

// Versions of the stack's components.
func (l *Local) Versions() map[string]string {
	return map[string]string{
		"kratos": idstack.Version("KRATOS_VERSION"), "hydra": idstack.Version("HYDRA_VERSION"),
		"vault": idstack.Version("VAULT_VERSION"), "database": string(l.Stack.Topology.Database),
	}
}
