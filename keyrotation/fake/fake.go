// Package fake has in-memory stand-ins for keyrotation's Store, Hydra and
// Regions, for fast unit tests. Hydra behaves as Hydra v2.3 does where
// keyrotation depends on it: PUT replaces a key and makes it the newest;
// the newest key with a private part signs. The integration tests run the
// same scenarios against a real Vault and a real Hydra.
package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/idstack/idstack/keyrotation"
)

var (
	_ keyrotation.Store   = (*Store)(nil)
	_ keyrotation.Hydra   = (*Hydra)(nil)
	_ keyrotation.Regions = (*Regions)(nil)
)

// Store keeps journals and keys in memory, with check-and-set.
type Store struct {
	mu       sync.Mutex
	journals map[keyrotation.SetRef]storedJournal
	keys     map[string]storedKey // "set/kid"
	requests int
}

type storedJournal struct {
	data    []byte
	version int
	history [][]byte // every version's data, index version-1
}

type storedKey struct {
	data      []byte
	created   time.Time
	destroyed bool
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{journals: map[keyrotation.SetRef]storedJournal{}, keys: map[string]storedKey{}}
}

func (s *Store) info() keyrotation.WriteInfo {
	s.requests++
	return keyrotation.WriteInfo{RequestID: fmt.Sprintf("fake-%d", s.requests)}
}

// ReadJournal implements keyrotation.Store.
func (s *Store) ReadJournal(_ context.Context, ref keyrotation.SetRef) (keyrotation.Journal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sj, ok := s.journals[ref]
	if !ok {
		return keyrotation.Journal{}, keyrotation.ErrNotFound
	}
	var j keyrotation.Journal
	if err := json.Unmarshal(sj.data, &j); err != nil {
		return keyrotation.Journal{}, err
	}
	j.Version = sj.version
	return j, nil
}

// WriteJournal implements keyrotation.Store.
func (s *Store) WriteJournal(_ context.Context, j keyrotation.Journal) (int, keyrotation.WriteInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journals[j.SetRef].version != j.Version {
		return 0, keyrotation.WriteInfo{}, keyrotation.ErrConflict
	}
	data, err := json.Marshal(j)
	if err != nil {
		return 0, keyrotation.WriteInfo{}, err
	}
	v := j.Version + 1
	history := append(s.journals[j.SetRef].history, data)
	s.journals[j.SetRef] = storedJournal{data: data, version: v, history: history}
	return v, s.info(), nil
}

// ReadJournalVersion implements keyrotation.Store.
func (s *Store) ReadJournalVersion(_ context.Context, ref keyrotation.SetRef, version int) (keyrotation.Journal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sj, ok := s.journals[ref]
	if !ok || version < 1 || version > len(sj.history) {
		return keyrotation.Journal{}, keyrotation.ErrNotFound
	}
	var j keyrotation.Journal
	if err := json.Unmarshal(sj.history[version-1], &j); err != nil {
		return keyrotation.Journal{}, err
	}
	j.Version = version
	return j, nil
}

// DeleteJournal deletes a stored journal, keeping the keys.
func (s *Store) DeleteJournal(ref keyrotation.SetRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.journals, ref)
}

// Tamper rewrites a stored journal with f, as an attacker with write access
// to the KV path would.
func (s *Store) Tamper(ref keyrotation.SetRef, f func(*keyrotation.Journal)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sj := s.journals[ref]
	var j keyrotation.Journal
	json.Unmarshal(sj.data, &j)
	f(&j)
	sj.data, _ = json.Marshal(j)
	sj.version++
	sj.history = append(sj.history, sj.data)
	s.journals[ref] = sj
}

// PutKey implements keyrotation.Store.
func (s *Store) PutKey(_ context.Context, ref keyrotation.SetRef, kid string, data []byte) (keyrotation.WriteInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ref.Set + "/" + kid
	if _, ok := s.keys[id]; !ok {
		s.keys[id] = storedKey{data: append([]byte(nil), data...), created: time.Now()}
	}
	return s.info(), nil
}

// GetKey implements keyrotation.Store.
func (s *Store) GetKey(_ context.Context, ref keyrotation.SetRef, kid string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[ref.Set+"/"+kid]
	if !ok || k.destroyed {
		return nil, keyrotation.ErrNotFound
	}
	return k.data, nil
}

// DestroyKey implements keyrotation.Store.
func (s *Store) DestroyKey(_ context.Context, ref keyrotation.SetRef, kid string) (keyrotation.WriteInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ref.Set + "/" + kid
	if k, ok := s.keys[id]; ok {
		k.data, k.destroyed = nil, true
		s.keys[id] = k
	}
	return s.info(), nil
}

// ListKeys implements keyrotation.Store.
func (s *Store) ListKeys(_ context.Context, ref keyrotation.SetRef) ([]keyrotation.StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []keyrotation.StoredKey
	prefix := ref.Set + "/"
	for id, k := range s.keys {
		if len(id) > len(prefix) && id[:len(prefix)] == prefix {
			out = append(out, keyrotation.StoredKey{Kid: id[len(prefix):], CreatedAt: k.created, Destroyed: k.destroyed})
		}
	}
	slices.SortFunc(out, func(a, b keyrotation.StoredKey) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Hydra keeps key sets newest first, as Hydra's database returns them.
// It counts every change that left a set that had a signing key without
// one: real Hydra would then generate a key of its own.
type Hydra struct {
	mu   sync.Mutex
	sets map[string][]keyrotation.JWK
	gaps int
}

// SignerGaps is how many changes left a set without a signing key.
func (h *Hydra) SignerGaps() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gaps
}

func hasSigner(keys []keyrotation.JWK) bool {
	for _, k := range keys {
		if !k.IsPublic() {
			return true
		}
	}
	return false
}

// change applies f to a set and counts a lost signer.
func (h *Hydra) change(set string, f func([]keyrotation.JWK) []keyrotation.JWK) {
	before := hasSigner(h.sets[set])
	h.sets[set] = f(h.sets[set])
	if before && !hasSigner(h.sets[set]) {
		h.gaps++
	}
}

// NewHydra returns a Hydra with no keys.
func NewHydra() *Hydra { return &Hydra{sets: map[string][]keyrotation.JWK{}} }

// Keys implements keyrotation.Hydra.
func (h *Hydra) Keys(_ context.Context, set string) ([]keyrotation.JWK, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]keyrotation.JWK(nil), h.sets[set]...), nil
}

// PutKey implements keyrotation.Hydra: delete, then add as the newest.
func (h *Hydra) PutKey(_ context.Context, set string, k keyrotation.JWK) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.change(set, func(keys []keyrotation.JWK) []keyrotation.JWK {
		keys = slices.DeleteFunc(keys, func(x keyrotation.JWK) bool { return x.KeyID == k.KeyID })
		return append([]keyrotation.JWK{k}, keys...)
	})
	return nil
}

// DeleteKey implements keyrotation.Hydra.
func (h *Hydra) DeleteKey(_ context.Context, set, kid string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.change(set, func(keys []keyrotation.JWK) []keyrotation.JWK {
		return slices.DeleteFunc(keys, func(x keyrotation.JWK) bool { return x.KeyID == kid })
	})
	return nil
}

// Signer returns the kid Hydra signs with: the newest key with a private
// part ("" when there is none: Hydra would generate one).
func (h *Hydra) Signer(set string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range h.sets[set] {
		if !k.IsPublic() {
			return k.KeyID
		}
	}
	return ""
}

// Served returns every kid Hydra serves in its public JWKS.
func (h *Hydra) Served() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, keys := range h.sets {
		for _, k := range keys {
			out = append(out, k.KeyID)
		}
	}
	return out
}

// Regions serves Hydra's public JWKS per region; Hide makes a region miss
// keys (a stale cache in front of it).
type Regions struct {
	Hydra   *Hydra
	Regions []string
	mu      sync.Mutex
	hidden  map[string]bool
}

// Hide makes region serve nothing until Show.
func (r *Regions) Hide(region string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hidden == nil {
		r.hidden = map[string]bool{}
	}
	r.hidden[region] = true
}

// Show undoes Hide.
func (r *Regions) Show(region string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.hidden, region)
}

// Names implements keyrotation.Regions.
func (r *Regions) Names() []string { return r.Regions }

// PublishedKids implements keyrotation.Regions.
func (r *Regions) PublishedKids(_ context.Context, region string) ([]string, error) {
	r.mu.Lock()
	hidden := r.hidden[region]
	r.mu.Unlock()
	if hidden {
		return nil, nil
	}
	return r.Hydra.Served(), nil
}
