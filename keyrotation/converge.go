package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// maxTransitions bounds one run; a healthy run needs at most a handful.
const maxTransitions = 32

// adopt builds the first journal of a set from what Hydra has: the key that
// signs now (the newest with private parts) becomes active, every other key
// retiring (stripped to its public part first). An empty set gets a key of
// ours, active at once: nothing can have cached an empty set's keys, and
// Hydra would otherwise generate an unknown key on the next token.
func (ru *run) adopt(ctx context.Context) (Journal, error) {
	j := Journal{SetRef: ru.ref}
	ru.j = j
	keys, err := ru.r.Hydra.Keys(ctx, ru.ref.Set)
	if err != nil {
		return Journal{}, fmt.Errorf("adopt set: read Hydra: %w", err)
	}
	now := ru.r.now()
	signer := ""
	for _, k := range keys {
		if !k.IsPublic() {
			signer = k.KeyID
			break
		}
	}
	for _, k := range keys {
		pub := PublicOnly(k)
		data, err := MarshalJWK(pub)
		if err != nil {
			return Journal{}, err
		}
		nk := Key{Kid: k.KeyID, Alg: k.Algorithm, Public: data, Adopted: true, GeneratedAt: now, PublishedAt: ptr(now), VisibleAt: ptr(now)}
		if k.KeyID == signer {
			nk.State, nk.ActivatedAt = StateActive, ptr(now)
			ru.add(nk, "adopt", "signing key found in Hydra")
			continue
		}
		if !k.IsPublic() {
			if err := ru.r.Hydra.PutKey(ctx, ru.ref.Set, pub); err != nil {
				return Journal{}, fmt.Errorf("adopt set: strip %s: %w", short(k.KeyID), err)
			}
		}
		nk.State, nk.RetiringAt = StateRetiring, ptr(now)
		ru.add(nk, "adopt", "older key found in Hydra")
	}
	if signer == "" {
		k, private, err := ru.generate(ctx)
		if err != nil {
			return Journal{}, err
		}
		if err := ru.r.Hydra.PutKey(ctx, ru.ref.Set, private); err != nil {
			return Journal{}, fmt.Errorf("bootstrap set: %w", err)
		}
		nk, _ := ru.j.Key(k.Kid)
		nk.PublishedAt, nk.ActivatedAt = ptr(now), ptr(now)
		ru.record(nk, StateActive, "activate", "bootstrap: the set had no signing key")
	}
	return ru.j, nil
}

// generate makes a key, stores its private part in Vault (create-only) and
// adds it to the journal as generated.
func (ru *run) generate(ctx context.Context) (Key, JWK, error) {
	priv, err := GenerateKey(ru.sp.Alg, ru.sp.RSABits)
	if err != nil {
		return Key{}, JWK{}, err
	}
	privData, err := MarshalJWK(priv)
	if err != nil {
		return Key{}, JWK{}, err
	}
	if _, err := ru.r.Store.PutKey(ctx, ru.ref, priv.KeyID, privData); err != nil {
		return Key{}, JWK{}, fmt.Errorf("store key: %w", err)
	}
	pubData, err := MarshalJWK(PublicOnly(priv))
	if err != nil {
		return Key{}, JWK{}, err
	}
	k := Key{Kid: priv.KeyID, Alg: priv.Algorithm, Public: pubData, State: StateGenerated, GeneratedAt: ru.r.now()}
	ru.add(k, "generate", "")
	return k, priv, nil
}

// converge reconciles Hydra with the journal, then takes every transition
// that is due, committing after each.
func (ru *run) converge(ctx context.Context) error {
	if ru.pending > 0 {
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	if err := ru.reconcile(ctx); err != nil {
		return err
	}
	for i := 0; i < maxTransitions; i++ {
		progressed, err := ru.advance(ctx)
		if err != nil {
			return err
		}
		if ru.pending > 0 {
			if err := ru.commit(ctx); err != nil {
				return err
			}
		}
		if !progressed {
			return nil
		}
	}
	return fmt.Errorf("no fixed point after %d transitions", maxTransitions)
}

// advance takes the first due transition and reports whether it did.
func (ru *run) advance(ctx context.Context) (bool, error) {
	now := ru.r.now()
	p := ru.r.Policy
	ref := ru.ref

	// Retire keys whose overlap is over.
	for _, k := range ru.j.InState(StateRetiring) {
		if k.RetiringAt != nil && !now.Before(k.RetiringAt.Add(p.Overlap)) {
			if err := ru.r.Hydra.DeleteKey(ctx, ref.Set, k.Kid); err != nil {
				return false, fmt.Errorf("retire %s: %w", short(k.Kid), err)
			}
			k.RetiredAt = ptr(now)
			ru.record(k, StateRetired, "delete", "overlap over")
			return true, nil
		}
	}
	// Destroy the private material of a retired key.
	if retired := ru.j.InState(StateRetired); len(retired) > 0 {
		if err := ru.destroy(ctx, retired[0]); err != nil {
			return false, err
		}
		return true, nil
	}
	// Keep one standby.
	standby := ru.j.Standby()
	if standby == nil {
		adopted, err := ru.adoptOrphan(ctx)
		if err != nil || adopted {
			return adopted, err
		}
		if _, _, err := ru.generate(ctx); err != nil {
			return false, err
		}
		return true, nil
	}
	if standby.State == StateGenerated {
		if err := ru.publish(ctx, standby); err != nil {
			return false, err
		}
		return true, nil
	}
	if standby.VisibleAt == nil {
		visible, err := ru.visibleEverywhere(ctx, standby.Kid)
		if err != nil || !visible {
			return false, err
		}
		standby.VisibleAt = ptr(now)
		ru.record(standby, StatePublished, "visible", "served in every region")
		return true, nil
	}
	// Promote when due and safe.
	active := ru.j.Active()
	due := active == nil || ru.j.RotateRequestedAt != nil ||
		(active.ActivatedAt != nil && !now.Before(active.ActivatedAt.Add(p.Cadence)))
	safe := !now.Before(standby.VisibleAt.Add(p.Lead))
	if due && safe {
		reason := "cadence"
		if ru.j.RotateRequestedAt != nil {
			reason = "rotation requested"
		}
		return true, ru.promote(ctx, standby.Kid, reason)
	}
	return false, nil
}

// publish PUTs k's public part to Hydra: served, never signing.
func (ru *run) publish(ctx context.Context, k *Key) error {
	pub, err := ParseJWK(k.Public)
	if err != nil {
		return fmt.Errorf("publish %s: %w", short(k.Kid), err)
	}
	if err := ru.r.Hydra.PutKey(ctx, ru.ref.Set, pub); err != nil {
		return fmt.Errorf("publish %s: %w", short(k.Kid), err)
	}
	k.PublishedAt = ptr(ru.r.now())
	ru.record(k, StatePublished, "publish", "")
	return nil
}

// promote makes kid the signing key (PUT with its private part: it becomes
// the newest private key) and then strips the old active key to its public
// part. Crashing between the two is safe: the new key is newer and signs.
func (ru *run) promote(ctx context.Context, kid, reason string) error {
	privData, err := ru.r.Store.GetKey(ctx, ru.ref, kid)
	if err != nil {
		return fmt.Errorf("promote %s: read private key: %w", short(kid), err)
	}
	priv, err := ParseJWK(privData)
	if err != nil {
		return fmt.Errorf("promote %s: %w", short(kid), err)
	}
	if err := ru.r.Hydra.PutKey(ctx, ru.ref.Set, priv); err != nil {
		return fmt.Errorf("promote %s: %w", short(kid), err)
	}
	now := ru.r.now()
	var olds []string
	for _, old := range ru.j.InState(StateActive) {
		olds = append(olds, old.Kid)
	}
	for _, oldKid := range olds {
		old, _ := ru.j.Key(oldKid)
		pub, err := ParseJWK(old.Public)
		if err != nil {
			return fmt.Errorf("retire %s: %w", short(oldKid), err)
		}
		if err := ru.r.Hydra.PutKey(ctx, ru.ref.Set, pub); err != nil {
			return fmt.Errorf("retire %s: %w", short(oldKid), err)
		}
	}
	k, _ := ru.j.Key(kid)
	k.ActivatedAt = ptr(now)
	ru.record(k, StateActive, "activate", reason)
	for _, oldKid := range olds {
		old, _ := ru.j.Key(oldKid)
		old.RetiringAt = ptr(now)
		ru.record(old, StateRetiring, "retire", "replaced by "+short(kid))
	}
	ru.j.RotateRequestedAt = nil
	return nil
}

// destroy destroys a retired key's private material (adopted keys have none
// in Vault) and records it.
func (ru *run) destroy(ctx context.Context, k *Key) error {
	if !k.Adopted {
		if _, err := ru.r.Store.DestroyKey(ctx, ru.ref, k.Kid); err != nil {
			return fmt.Errorf("destroy %s: %w", short(k.Kid), err)
		}
	}
	k.DestroyedAt = ptr(ru.r.now())
	ru.record(k, StateDestroyed, "destroy", "")
	return nil
}

// visibleEverywhere reports whether every region serves kid.
func (ru *run) visibleEverywhere(ctx context.Context, kid string) (bool, error) {
	for _, region := range ru.r.Regions.Names() {
		kids, err := ru.r.Regions.PublishedKids(ctx, region)
		if err != nil {
			return false, fmt.Errorf("read %s's JWKS: %w", region, err)
		}
		if !slices.Contains(kids, kid) {
			return false, nil
		}
	}
	return true, nil
}

// adoptOrphan recovers from a run that stored a key in Vault and crashed
// before journaling it: with no standby, the newest such key becomes the
// standby; any others are destroyed.
func (ru *run) adoptOrphan(ctx context.Context) (bool, error) {
	stored, err := ru.r.Store.ListKeys(ctx, ru.ref)
	if err != nil {
		return false, fmt.Errorf("list keys: %w", err)
	}
	var orphans []StoredKey
	for _, s := range stored {
		if _, known := ru.j.Key(s.Kid); !known && !s.Destroyed {
			orphans = append(orphans, s)
		}
	}
	if len(orphans) == 0 {
		return false, nil
	}
	slices.SortFunc(orphans, func(a, b StoredKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for _, o := range orphans[1:] {
		if _, err := ru.r.Store.DestroyKey(ctx, ru.ref, o.Kid); err != nil {
			return false, fmt.Errorf("destroy orphan %s: %w", short(o.Kid), err)
		}
		ru.r.log().Warn("destroyed orphan key", "set", ru.ref.Set, "kid", o.Kid)
	}
	privData, err := ru.r.Store.GetKey(ctx, ru.ref, orphans[0].Kid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read orphan %s: %w", short(orphans[0].Kid), err)
	}
	priv, err := ParseJWK(privData)
	if err != nil || priv.Algorithm != ru.sp.Alg {
		return false, nil // not a key this policy would make: leave it, verify reports it
	}
	pubData, err := MarshalJWK(PublicOnly(priv))
	if err != nil {
		return false, err
	}
	ru.add(Key{Kid: priv.KeyID, Alg: priv.Algorithm, Public: pubData, State: StateGenerated, GeneratedAt: orphans[0].CreatedAt},
		"generate", "recovered: stored in Vault by a run that crashed before journaling it")
	return true, nil
}
