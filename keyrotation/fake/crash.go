package fake

import (
	"context"
	"errors"
	"sync"

	"github.com/idstack/idstack/keyrotation"
)

// ErrCrash is what a crashed call returns.
var ErrCrash = errors.New("injected crash")

// Crash counts the calls that change something (Vault writes, Hydra PUTs
// and DELETEs) and fails every one after the first Budget: the process
// "dies" there. A negative budget never crashes.
type Crash struct {
	mu     sync.Mutex
	Budget int
	calls  int
}

// Calls is how many changing calls were attempted.
func (c *Crash) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func (c *Crash) spend() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.Budget >= 0 && c.calls > c.Budget {
		return ErrCrash
	}
	return nil
}

// CrashingStore wraps a Store with a Crash.
type CrashingStore struct {
	keyrotation.Store
	Crash *Crash
}

// WriteJournal implements keyrotation.Store.
func (s CrashingStore) WriteJournal(ctx context.Context, j keyrotation.Journal) (int, keyrotation.WriteInfo, error) {
	if err := s.Crash.spend(); err != nil {
		return 0, keyrotation.WriteInfo{}, err
	}
	return s.Store.WriteJournal(ctx, j)
}

// PutKey implements keyrotation.Store.
func (s CrashingStore) PutKey(ctx context.Context, ref keyrotation.SetRef, kid string, data []byte) (keyrotation.WriteInfo, error) {
	if err := s.Crash.spend(); err != nil {
		return keyrotation.WriteInfo{}, err
	}
	return s.Store.PutKey(ctx, ref, kid, data)
}

// DestroyKey implements keyrotation.Store.
func (s CrashingStore) DestroyKey(ctx context.Context, ref keyrotation.SetRef, kid string) (keyrotation.WriteInfo, error) {
	if err := s.Crash.spend(); err != nil {
		return keyrotation.WriteInfo{}, err
	}
	return s.Store.DestroyKey(ctx, ref, kid)
}

// CrashingHydra wraps a Hydra with a Crash.
type CrashingHydra struct {
	keyrotation.Hydra
	Crash *Crash
}

// PutKey implements keyrotation.Hydra.
func (h CrashingHydra) PutKey(ctx context.Context, set string, k keyrotation.JWK) error {
	if err := h.Crash.spend(); err != nil {
		return err
	}
	return h.Hydra.PutKey(ctx, set, k)
}

// DeleteKey implements keyrotation.Hydra.
func (h CrashingHydra) DeleteKey(ctx context.Context, set, kid string) error {
	if err := h.Crash.spend(); err != nil {
		return err
	}
	return h.Hydra.DeleteKey(ctx, set, kid)
}
