//go:build integration

package keyrotation_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idstack/idstack/keyrotation"
)

// counts tallies calls to Vault and Hydra.
type counts struct{ vaultReads, vaultWrites, hydraReads, hydraWrites, jwksReads atomic.Int64 }

type countingStore struct {
	keyrotation.Store
	c *counts
}

func (s countingStore) ReadJournal(ctx context.Context, r keyrotation.SetRef) (keyrotation.Journal, error) {
	s.c.vaultReads.Add(1)
	return s.Store.ReadJournal(ctx, r)
}
func (s countingStore) WriteJournal(ctx context.Context, j keyrotation.Journal) (int, keyrotation.WriteInfo, error) {
	s.c.vaultWrites.Add(1)
	return s.Store.WriteJournal(ctx, j)
}
func (s countingStore) PutKey(ctx context.Context, r keyrotation.SetRef, kid string, d []byte) (keyrotation.WriteInfo, error) {
	s.c.vaultWrites.Add(1)
	return s.Store.PutKey(ctx, r, kid, d)
}
func (s countingStore) GetKey(ctx context.Context, r keyrotation.SetRef, kid string) ([]byte, error) {
	s.c.vaultReads.Add(1)
	return s.Store.GetKey(ctx, r, kid)
}
func (s countingStore) DestroyKey(ctx context.Context, r keyrotation.SetRef, kid string) (keyrotation.WriteInfo, error) {
	s.c.vaultWrites.Add(1)
	return s.Store.DestroyKey(ctx, r, kid)
}
func (s countingStore) ListKeys(ctx context.Context, r keyrotation.SetRef) ([]keyrotation.StoredKey, error) {
	s.c.vaultReads.Add(1)
	return s.Store.ListKeys(ctx, r)
}

type countingHydra struct {
	keyrotation.Hydra
	c *counts
}

func (h countingHydra) Keys(ctx context.Context, set string) ([]keyrotation.JWK, error) {
	h.c.hydraReads.Add(1)
	return h.Hydra.Keys(ctx, set)
}
func (h countingHydra) PutKey(ctx context.Context, set string, k keyrotation.JWK) error {
	h.c.hydraWrites.Add(1)
	return h.Hydra.PutKey(ctx, set, k)
}
func (h countingHydra) DeleteKey(ctx context.Context, set, kid string) error {
	h.c.hydraWrites.Add(1)
	return h.Hydra.DeleteKey(ctx, set, kid)
}

type countingRegions struct {
	keyrotation.Regions
	c *counts
}

func (r countingRegions) PublishedKids(ctx context.Context, region string) ([]string, error) {
	r.c.jwksReads.Add(1)
	return r.Regions.PublishedKids(ctx, region)
}

// TestCallsPerStep records, for the README, what each kind of run costs
// against real Vault and Hydra (one key set, two regions).
func TestCallsPerStep(t *testing.T) {
	l := establish(t)
	measure := func(name string, f func(r *keyrotation.Rotator) error) {
		c := &counts{}
		r := l.rotator("count")
		r.Store = countingStore{l.store, c}
		r.Hydra = countingHydra{l.admin, c}
		r.Regions = countingRegions{l.regions, c}
		start := time.Now()
		if err := f(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%-28s %6s  Vault %d reads %d writes, Hydra admin %d reads %d writes, region JWKS %d reads",
			name, time.Since(start).Round(time.Millisecond), c.vaultReads.Load(), c.vaultWrites.Load(),
			c.hydraReads.Load(), c.hydraWrites.Load(), c.jwksReads.Load())
	}
	stepFn := func(r *keyrotation.Rotator) error { _, err := r.Step(context.Background()); return err }
	measure("first step (bootstrap)", stepFn)
	measure("step, nothing due", stepFn)
	l.clock.Add(11 * time.Minute)
	measure("step, promotion", stepFn)
	l.clock.Add(4 * time.Minute)
	measure("step, retirement", stepFn)
	l.clock.Add(3 * time.Minute)
	measure("revoke of the active key", func(r *keyrotation.Rotator) error {
		j := l.journal(t)
		_, err := r.Revoke(context.Background(), j.Active().Kid, "measure", 30*time.Second)
		return err
	})
	// A full rotation at test cadence, from a promotion to the destroyed old
	// key, with the clock simulated: the sum of the runs' own time.
	start := time.Now()
	l.clock.Add(11 * time.Minute)
	step(t, l.rotator("full"))
	l.clock.Add(4 * time.Minute)
	step(t, l.rotator("full"))
	t.Logf("full rotation (promote, then retire and destroy after the overlap): %s of run time", time.Since(start).Round(time.Millisecond))
}
