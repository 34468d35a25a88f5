// Package vault keeps keyrotation's journals and private keys in a Vault
// KV v2 mount: every journal write is a check-and-set on the version read,
// every key record is created with cas=0 (create-only), and destroying a key
// destroys every version of its data while its metadata stays for audit.
//
// Layout under the mount, per issuer and key set:
//
//	<prefix>/<issuer>/<set>/journal
//	<prefix>/<issuer>/<set>/keys/<kid>
package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	vault "github.com/hashicorp/vault/api"

	"github.com/idstack/idstack/keyrotation"
)

var _ keyrotation.Store = (*Store)(nil)

// ErrSealed is returned while Vault is sealed.
var ErrSealed = errors.New("vault is sealed")

// Store implements keyrotation.Store on a KV v2 mount.
type Store struct {
	client *vault.Client
	kv     *vault.KVv2
	mount  string
	prefix string
}

// New returns a Store on mount (a KV v2 mount) under prefix.
func New(client *vault.Client, mount, prefix string) *Store {
	return &Store{client: client, kv: client.KVv2(mount), mount: mount, prefix: strings.Trim(prefix, "/")}
}

var unsafePath = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// IssuerPath turns an issuer URL into one readable path segment:
// "http://hydra.idstack.test:4430/" → "hydra.idstack.test_4430".
func IssuerPath(issuer string) string {
	s := issuer
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	s = strings.Trim(unsafePath.ReplaceAllString(s, "_"), "_")
	if s == "" {
		return "_"
	}
	return s
}

func (s *Store) dir(ref keyrotation.SetRef) string {
	return s.prefix + "/" + IssuerPath(ref.Issuer) + "/" + unsafePath.ReplaceAllString(ref.Set, "_")
}

// classify maps Vault errors onto keyrotation's and makes a sealed or
// unreachable Vault say so.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *vault.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(strings.Join(re.Errors, " "), "sealed"):
			return fmt.Errorf("%s: %w (unseal it; nothing was changed by this call)", op, ErrSealed)
		case re.StatusCode == http.StatusBadRequest && strings.Contains(strings.Join(re.Errors, " "), "check-and-set"):
			return fmt.Errorf("%s: %w", op, keyrotation.ErrConflict)
		}
	}
	if errors.Is(err, vault.ErrSecretNotFound) {
		return fmt.Errorf("%s: %w", op, keyrotation.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func requestID(sec *vault.KVSecret) keyrotation.WriteInfo {
	if sec == nil || sec.Raw == nil {
		return keyrotation.WriteInfo{}
	}
	return keyrotation.WriteInfo{RequestID: sec.Raw.RequestID}
}

// ReadJournal implements keyrotation.Store.
func (s *Store) ReadJournal(ctx context.Context, ref keyrotation.SetRef) (keyrotation.Journal, error) {
	sec, err := s.kv.Get(ctx, s.dir(ref)+"/journal")
	if err != nil {
		return keyrotation.Journal{}, classify("read journal", err)
	}
	return decodeJournal(sec, ref)
}

func decodeJournal(sec *vault.KVSecret, ref keyrotation.SetRef) (keyrotation.Journal, error) {
	raw, _ := sec.Data["journal"].(string)
	if raw == "" {
		return keyrotation.Journal{}, fmt.Errorf("read journal: %w (empty or destroyed)", keyrotation.ErrNotFound)
	}
	var j keyrotation.Journal
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return keyrotation.Journal{}, fmt.Errorf("read journal: %w", err)
	}
	if j.SetRef != ref {
		return keyrotation.Journal{}, fmt.Errorf("read journal: it names %+v, want %+v", j.SetRef, ref)
	}
	j.Version = sec.VersionMetadata.Version
	return j, nil
}

// ReadJournalVersion implements keyrotation.Store.
func (s *Store) ReadJournalVersion(ctx context.Context, ref keyrotation.SetRef, version int) (keyrotation.Journal, error) {
	sec, err := s.kv.GetVersion(ctx, s.dir(ref)+"/journal", version)
	if err != nil {
		return keyrotation.Journal{}, classify("read journal version", err)
	}
	return decodeJournal(sec, ref)
}

// WriteJournal implements keyrotation.Store with check-and-set on j.Version.
func (s *Store) WriteJournal(ctx context.Context, j keyrotation.Journal) (int, keyrotation.WriteInfo, error) {
	data, err := json.Marshal(j)
	if err != nil {
		return 0, keyrotation.WriteInfo{}, err
	}
	sec, err := s.kv.Put(ctx, s.dir(j.SetRef)+"/journal",
		map[string]any{"journal": string(data), "format": 1}, vault.WithCheckAndSet(j.Version))
	if err != nil {
		return 0, keyrotation.WriteInfo{}, classify("write journal", err)
	}
	return sec.VersionMetadata.Version, requestID(sec), nil
}

// PutKey implements keyrotation.Store: create-only (cas=0); storing the same
// kid again is a no-op.
func (s *Store) PutKey(ctx context.Context, ref keyrotation.SetRef, kid string, privateJWK []byte) (keyrotation.WriteInfo, error) {
	sec, err := s.kv.Put(ctx, s.dir(ref)+"/keys/"+kid,
		map[string]any{"jwk": string(privateJWK)}, vault.WithCheckAndSet(0))
	err = classify("store key "+kid, err)
	if errors.Is(err, keyrotation.ErrConflict) {
		existing, gerr := s.GetKey(ctx, ref, kid)
		if gerr == nil && string(existing) == string(privateJWK) {
			return keyrotation.WriteInfo{}, nil
		}
		return keyrotation.WriteInfo{}, fmt.Errorf("store key %s: a different key is already stored under this kid", kid)
	}
	if err != nil {
		return keyrotation.WriteInfo{}, err
	}
	return requestID(sec), nil
}

// GetKey implements keyrotation.Store.
func (s *Store) GetKey(ctx context.Context, ref keyrotation.SetRef, kid string) ([]byte, error) {
	sec, err := s.kv.Get(ctx, s.dir(ref)+"/keys/"+kid)
	if err != nil {
		return nil, classify("read key "+kid, err)
	}
	raw, _ := sec.Data["jwk"].(string)
	if raw == "" {
		return nil, fmt.Errorf("read key %s: %w (destroyed)", kid, keyrotation.ErrNotFound)
	}
	return []byte(raw), nil
}

// DestroyKey implements keyrotation.Store: every version of the key's data
// is destroyed; the metadata stays.
func (s *Store) DestroyKey(ctx context.Context, ref keyrotation.SetRef, kid string) (keyrotation.WriteInfo, error) {
	path := s.dir(ref) + "/keys/" + kid
	versions, err := s.kv.GetVersionsAsList(ctx, path)
	if err != nil {
		err = classify("destroy key "+kid, err)
		if errors.Is(err, keyrotation.ErrNotFound) {
			return keyrotation.WriteInfo{}, nil
		}
		return keyrotation.WriteInfo{}, err
	}
	var live []int
	for _, v := range versions {
		if !v.Destroyed {
			live = append(live, v.Version)
		}
	}
	if len(live) == 0 {
		return keyrotation.WriteInfo{}, nil
	}
	if err := s.kv.Destroy(ctx, path, live); err != nil {
		return keyrotation.WriteInfo{}, classify("destroy key "+kid, err)
	}
	return keyrotation.WriteInfo{}, nil
}

// ListKeys implements keyrotation.Store.
func (s *Store) ListKeys(ctx context.Context, ref keyrotation.SetRef) ([]keyrotation.StoredKey, error) {
	list, err := s.client.Logical().ListWithContext(ctx, s.mount+"/metadata/"+s.dir(ref)+"/keys")
	if err != nil {
		return nil, classify("list keys", err)
	}
	if list == nil {
		return nil, nil
	}
	names, _ := list.Data["keys"].([]any)
	var out []keyrotation.StoredKey
	for _, n := range names {
		kid, _ := n.(string)
		if kid == "" || strings.HasSuffix(kid, "/") {
			continue
		}
		md, err := s.kv.GetMetadata(ctx, s.dir(ref)+"/keys/"+kid)
		if err != nil {
			return nil, classify("read key metadata "+kid, err)
		}
		destroyed := true
		for _, v := range md.Versions {
			destroyed = destroyed && v.Destroyed
		}
		out = append(out, keyrotation.StoredKey{Kid: kid, CreatedAt: md.CreatedTime, Destroyed: destroyed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
