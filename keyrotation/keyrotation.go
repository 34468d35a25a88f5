// Package keyrotation rotates Hydra's JSON Web Key sets with keys kept in
// Vault: every key is published before it signs, signs only after every
// region serves it and the lead time has passed, and stays published for the
// overlap after it stops signing.
//
// Hydra signs with the newest key of a set that has private material; a key
// PUT with its public part only is published in /.well-known/jwks.json but
// never signs. keyrotation builds pre-publication on that:
//
//	generated  the key pair exists, in Vault only (create-only record)
//	published  its public part is in Hydra: served, never used to sign
//	active     PUT again with its private part: the newest private key, it signs
//	retiring   PUT back public-only: no longer signs, still served
//	retired    deleted from Hydra, after the overlap
//	destroyed  its private material destroyed in Vault; metadata kept
//
// State lives in Vault KV v2: a journal per (issuer, key set), written with
// check-and-set, whose entries are hash-chained. Every step is idempotent
// and any step may crash: the next run converges. The package root holds the
// model and the state machine; keyrotation/vault and keyrotation/hydra
// implement Store and Hydra, and keyrotation/fake has in-memory fakes.
package keyrotation

import (
	"context"
	"errors"
	"time"
)

// Errors callers can match.
var (
	// ErrNotFound: no journal or key record yet.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a check-and-set write lost to another writer.
	ErrConflict = errors.New("check-and-set conflict")
	// ErrBusy: another run holds the set's lease.
	ErrBusy = errors.New("another run holds the lease")
	// ErrLeaseLost: the lease expired and another run took it over.
	ErrLeaseLost = errors.New("lease lost to another run")
	// ErrUnknownKey: no key with that kid in the journal.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidPolicy wraps every policy validation error.
	ErrInvalidPolicy = errors.New("invalid policy")
	// ErrTampered: the journal's hash chain or replay does not hold.
	ErrTampered = errors.New("journal tampered")
	// ErrJournalMissing: the journal is gone but Vault holds the set's keys.
	ErrJournalMissing = errors.New("journal missing")
)

// SetRef names one key set of one issuer.
type SetRef struct {
	Issuer string `json:"issuer"`
	Set    string `json:"set"`
}

// Store keeps journals and private keys (implemented on Vault KV v2).
type Store interface {
	// ReadJournal returns the journal and its version, or ErrNotFound.
	ReadJournal(ctx context.Context, ref SetRef) (Journal, error)
	// ReadJournalVersion returns an older version of the journal.
	ReadJournalVersion(ctx context.Context, ref SetRef, version int) (Journal, error)
	// WriteJournal writes j if the stored version is still j.Version (0:
	// create only). It returns the new version, or ErrConflict.
	WriteJournal(ctx context.Context, j Journal) (version int, w WriteInfo, err error)
	// PutKey stores a private JWK under kid, create-only; storing the same
	// kid again is a no-op.
	PutKey(ctx context.Context, ref SetRef, kid string, privateJWK []byte) (WriteInfo, error)
	// GetKey returns the private JWK stored under kid, or ErrNotFound (also
	// when it was destroyed).
	GetKey(ctx context.Context, ref SetRef, kid string) ([]byte, error)
	// DestroyKey destroys kid's private material for good; its metadata stays.
	DestroyKey(ctx context.Context, ref SetRef, kid string) (WriteInfo, error)
	// ListKeys lists the key records of the set, destroyed ones included.
	ListKeys(ctx context.Context, ref SetRef) ([]StoredKey, error)
}

// WriteInfo identifies a write for the audit log.
type WriteInfo struct {
	RequestID string `json:"request_id,omitempty"`
}

// StoredKey is a key record's metadata.
type StoredKey struct {
	Kid       string
	CreatedAt time.Time
	Destroyed bool
}

// Hydra is the admin API of one Hydra deployment (every region shares its
// database, so one admin endpoint reaches them all).
type Hydra interface {
	// Keys returns the set's keys, private parts included, newest first.
	Keys(ctx context.Context, set string) ([]JWK, error)
	// PutKey creates or replaces one key (PUT /admin/keys/{set}/{kid}); it
	// becomes the newest key of the set.
	PutKey(ctx context.Context, set string, key JWK) error
	// DeleteKey removes one key; a missing key is not an error.
	DeleteKey(ctx context.Context, set, kid string) error
}

// Regions reads every region's public JWKS endpoint, the way a verifier
// there would.
type Regions interface {
	// Names lists the regions.
	Names() []string
	// PublishedKids returns the kids region serves at its public JWKS.
	PublishedKids(ctx context.Context, region string) ([]string, error)
}
