package keyrotation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// State is a key's place in its lifecycle.
type State string

// The lifecycle, in order.
const (
	StateGenerated State = "generated"
	StatePublished State = "published"
	StateActive    State = "active"
	StateRetiring  State = "retiring"
	StateRetired   State = "retired"
	StateDestroyed State = "destroyed"
)

// Served reports whether Hydra serves a key in state s in its public JWKS.
func (s State) Served() bool {
	return s == StatePublished || s == StateActive || s == StateRetiring
}

// Key is one key of a set, as the journal knows it.
type Key struct {
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	// Public is the public JWK; keyrotation PUTs it to retire a key.
	Public json.RawMessage `json:"public"`
	// Adopted keys were in Hydra before keyrotation took the set over: their
	// private part was never in Vault.
	Adopted bool  `json:"adopted,omitempty"`
	State   State `json:"state"`

	GeneratedAt time.Time  `json:"generated_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// VisibleAt is when every region was first seen serving the key.
	VisibleAt   *time.Time `json:"visible_at,omitempty"`
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	RetiringAt  *time.Time `json:"retiring_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Entry is one transition in the journal's hash-chained log.
type Entry struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Kid    string    `json:"kid"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	Event  string    `json:"event"` // generate, publish, visible, activate, retire, delete, destroy, revoke, adopt
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	// KeySHA256 is the digest of the key's whole record after the entry, so
	// a record edited without an entry (a backdated time, a flipped flag)
	// no longer matches.
	KeySHA256 string `json:"key_sha256"`
	Prev      string `json:"prev"`
	Hash      string `json:"hash"`
}

// Lease marks the run that may advance a set.
type Lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// Journal is everything keyrotation knows about one key set.
type Journal struct {
	SetRef
	Keys    []Key   `json:"keys"`
	Entries []Entry `json:"entries"`
	Lease   *Lease  `json:"lease,omitempty"`
	// RotateRequestedAt asks for a promotion ahead of the cadence.
	RotateRequestedAt *time.Time `json:"rotate_requested_at,omitempty"`
	LastSuccessAt     *time.Time `json:"last_success_at,omitempty"`
	// Version is the store's version the journal was read at; 0 when new.
	Version int `json:"-"`
}

// genesis is the Prev of the first entry.
var genesis = hex.EncodeToString(make([]byte, sha256.Size))

// Key returns the key with kid.
func (j Journal) Key(kid string) (*Key, bool) {
	for i := range j.Keys {
		if j.Keys[i].Kid == kid {
			return &j.Keys[i], true
		}
	}
	return nil, false
}

// InState returns the keys in any of states, oldest first.
func (j Journal) InState(states ...State) []*Key {
	var out []*Key
	for i := range j.Keys {
		if slices.Contains(states, j.Keys[i].State) {
			out = append(out, &j.Keys[i])
		}
	}
	return out
}

// Active returns the signing key, if any.
func (j Journal) Active() *Key {
	if ks := j.InState(StateActive); len(ks) > 0 {
		return ks[len(ks)-1]
	}
	return nil
}

// Standby returns the newest generated or published key, if any.
func (j Journal) Standby() *Key {
	if ks := j.InState(StateGenerated, StatePublished); len(ks) > 0 {
		return ks[len(ks)-1]
	}
	return nil
}

// hashEntry computes e's hash over every field but Hash.
func hashEntry(e Entry) string {
	e.Hash = ""
	data, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("keyrotation: marshal entry: %v", err))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// keyDigest is the SHA-256 of a key record's JSON.
func keyDigest(k Key) string {
	data, err := json.Marshal(k)
	if err != nil {
		panic(fmt.Sprintf("keyrotation: marshal key: %v", err))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// append adds a chained entry.
func (j *Journal) append(e Entry) {
	e.Seq = len(j.Entries) + 1
	e.Prev = genesis
	if n := len(j.Entries); n > 0 {
		e.Prev = j.Entries[n-1].Hash
	}
	e.At = e.At.UTC()
	e.Hash = hashEntry(e)
	j.Entries = append(j.Entries, e)
}

// CheckHistory checks that an older version of the journal is a prefix of
// j: entries are only ever appended. With the KV version history (which the
// rotation job's policy cannot delete) this catches a rewritten or
// truncated chain, which CheckChain alone cannot: it is not keyed.
func (j Journal) CheckHistory(older Journal) error {
	if len(older.Entries) > len(j.Entries) {
		return fmt.Errorf("%w: version %d has %d entries, the newer version %d only %d", ErrTampered, older.Version, len(older.Entries), j.Version, len(j.Entries))
	}
	for i, e := range older.Entries {
		if j.Entries[i].Hash != e.Hash {
			return fmt.Errorf("%w: entry %d differs from version %d's", ErrTampered, e.Seq, older.Version)
		}
	}
	return nil
}

// CheckChain verifies the hash chain and that replaying the entries gives
// every key's recorded state. It returns ErrTampered with the first problem.
func (j Journal) CheckChain() error {
	prev := genesis
	replayed := map[string]State{}
	for i, e := range j.Entries {
		if e.Seq != i+1 {
			return fmt.Errorf("%w: entry %d has seq %d", ErrTampered, i+1, e.Seq)
		}
		if e.Prev != prev {
			return fmt.Errorf("%w: entry %d does not chain to entry %d", ErrTampered, e.Seq, e.Seq-1)
		}
		if got := hashEntry(e); got != e.Hash {
			return fmt.Errorf("%w: entry %d's hash does not match its content", ErrTampered, e.Seq)
		}
		if from, seen := replayed[e.Kid]; seen && e.From != from {
			return fmt.Errorf("%w: entry %d moves %s from %s, but it was %s", ErrTampered, e.Seq, short(e.Kid), e.From, from)
		}
		replayed[e.Kid] = e.To
		prev = e.Hash
	}
	last := map[string]Entry{}
	for _, e := range j.Entries {
		last[e.Kid] = e
	}
	for _, k := range j.Keys {
		if got, ok := replayed[k.Kid]; !ok || got != k.State {
			return fmt.Errorf("%w: key %s is %s, but its entries end at %q", ErrTampered, short(k.Kid), k.State, got)
		}
		if d := keyDigest(k); last[k.Kid].KeySHA256 != d {
			return fmt.Errorf("%w: key %s's record was changed without an entry", ErrTampered, short(k.Kid))
		}
	}
	if len(replayed) != len(j.Keys) {
		return fmt.Errorf("%w: entries name %d keys, the journal holds %d", ErrTampered, len(replayed), len(j.Keys))
	}
	return nil
}

// short abbreviates a kid for messages.
func short(kid string) string {
	if len(kid) > 10 {
		return kid[:10]
	}
	return kid
}
