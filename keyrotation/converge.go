package keyrotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// maxTransitions bounds one run; a healthy run needs at most a handful.
const maxTransitions = 32

// publicJWK returns k's public JWK. Keys keyrotation made have their
// thumbprint as kid (checked); adopted keys keep whatever kid Hydra gave
// them (Hydra's own are UUIDs).
func publicJWK(k *Key) (JWK, error) {
	if !k.Adopted {
		return ParseJWK(k.Public)
	}
	var j JWK
	if err := json.Unmarshal(k.Public, &j); err != nil || !j.Valid() {
		return JWK{}, fmt.Errorf("public part of adopted key %s does not parse", short(k.Kid))
	}
	return j.Public(), nil
}

// privateJWK reads k's private JWK from Vault.
func (ru *run) privateJWK(ctx context.Context, kid string) (JWK, error) {
	data, err := ru.r.Store.GetKey(ctx, ru.ref, kid)
	if err != nil {
		return JWK{}, fmt.Errorf("read private key %s: %w", short(kid), err)
	}
	return ParseJWK(data)
}

// adopt fills an empty journal from what Hydra has: the key that signs now
// (the newest with private parts) becomes active, every other key retiring
// (stripped to its public part after the journal names it). A key whose
// private part is in Vault is ours (a crashed bootstrap), not adopted. An
// empty set gets a key of ours, active at once: nothing can have cached an
// empty set's keys, and Hydra would otherwise generate an unknown key on the
// next token.
func (ru *run) adopt(ctx context.Context) error {
	keys, err := ru.r.Hydra.Keys(ctx, ru.ref.Set)
	if err != nil {
		return fmt.Errorf("adopt set: read Hydra: %w", err)
	}
	stored, err := ru.r.Store.ListKeys(ctx, ru.ref)
	if err != nil {
		return fmt.Errorf("adopt set: list keys: %w", err)
	}
	ours := map[string]bool{}
	for _, s := range stored {
		ours[s.Kid] = !s.Destroyed
	}
	now := ru.r.now()
	signer := ""
	for _, k := range keys {
		if !k.IsPublic() {
			signer = k.KeyID
			break
		}
	}
	var strip []JWK
	for _, k := range keys {
		pub := PublicOnly(k)
		data, err := MarshalJWK(pub)
		if err != nil {
			return err
		}
		nk := Key{Kid: k.KeyID, Alg: k.Algorithm, Public: data, Adopted: !ours[k.KeyID], GeneratedAt: now, PublishedAt: ptr(now), VisibleAt: ptr(now)}
		if k.KeyID == signer {
			nk.State, nk.ActivatedAt = StateActive, ptr(now)
			ru.add(nk, "adopt", "signing key found in Hydra")
			continue
		}
		if !k.IsPublic() {
			strip = append(strip, pub)
		}
		nk.State, nk.RetiringAt = StateRetiring, ptr(now)
		ru.add(nk, "adopt", "older key found in Hydra")
	}
	if signer == "" {
		k, priv, err := ru.generate(ctx)
		if err != nil {
			return err
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
		if err := ru.hydraPut(ctx, priv); err != nil {
			return fmt.Errorf("bootstrap set: %w", err)
		}
		nk, _ := ru.j.Key(k.Kid)
		nk.PublishedAt, nk.ActivatedAt = ptr(now), ptr(now)
		ru.record(nk, StateActive, "activate", "bootstrap: the set had no signing key")
	}
	if err := ru.commit(ctx); err != nil {
		return err
	}
	for _, pub := range strip {
		if err := ru.hydraPut(ctx, pub); err != nil {
			return fmt.Errorf("adopt set: strip %s: %w", short(pub.KeyID), err)
		}
	}
	return nil
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
	if err := ru.storePut(ctx, priv.KeyID, privData); err != nil {
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

// converge adopts a new set, finishes revocations, reconciles Hydra with
// the journal, then takes every transition that is due, committing after
// each.
func (ru *run) converge(ctx context.Context) error {
	if len(ru.j.Keys) == 0 {
		if err := ru.adopt(ctx); err != nil {
			return err
		}
	}
	if err := ru.finishRevocations(ctx); err != nil {
		return err
	}
	if err := ru.reconcile(ctx); err != nil {
		return err
	}
	if ru.pending > 0 {
		if err := ru.commit(ctx); err != nil {
			return err
		}
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

	// Retire keys whose overlap is over.
	for _, k := range ru.j.InState(StateRetiring) {
		if k.RetiringAt != nil && !now.Before(k.RetiringAt.Add(p.Overlap)) {
			if err := ru.hydraDelete(ctx, k.Kid); err != nil {
				return false, fmt.Errorf("retire %s: %w", short(k.Kid), err)
			}
			k.RetiredAt = ptr(now)
			ru.record(k, StateRetired, "delete", "overlap over")
			return true, nil
		}
	}
	// Destroy the private material of a retired key.
	if retired := ru.j.InState(StateRetired); len(retired) > 0 {
		return true, ru.destroy(ctx, retired[0])
	}
	// Keep one published standby.
	if progressed, err := ru.ensureStandby(ctx); progressed || err != nil {
		return progressed, err
	}
	standby := ru.j.Standby()
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

// ensureStandby generates or publishes a standby when there is no
// published one; it reports whether it changed anything.
func (ru *run) ensureStandby(ctx context.Context) (bool, error) {
	standby := ru.j.Standby()
	if standby == nil {
		adopted, err := ru.adoptOrphan(ctx)
		if err != nil || adopted {
			return adopted, err
		}
		_, _, err = ru.generate(ctx)
		return err == nil, err
	}
	if standby.State == StateGenerated {
		return true, ru.publish(ctx, standby)
	}
	return false, nil
}

// publish PUTs k's public part to Hydra: served, never signing.
func (ru *run) publish(ctx context.Context, k *Key) error {
	pub, err := publicJWK(k)
	if err != nil {
		return fmt.Errorf("publish %s: %w", short(k.Kid), err)
	}
	if err := ru.hydraPut(ctx, pub); err != nil {
		return fmt.Errorf("publish %s: %w", short(k.Kid), err)
	}
	k.PublishedAt = ptr(ru.r.now())
	ru.record(k, StatePublished, "publish", "")
	return nil
}

// promote makes kid the signing key (PUT with its private part: it becomes
// the newest private key) and then strips the old active key to its public
// part. Crashing between the two is safe: the new key is newer and signs,
// and the next run's reconcile finishes the job.
func (ru *run) promote(ctx context.Context, kid, reason string) error {
	priv, err := ru.privateJWK(ctx, kid)
	if err != nil {
		return fmt.Errorf("promote %s: %w", short(kid), err)
	}
	if err := ru.hydraPut(ctx, priv); err != nil {
		return fmt.Errorf("promote %s: %w", short(kid), err)
	}
	now := ru.r.now()
	var olds []string
	for _, old := range ru.j.InState(StateActive) {
		olds = append(olds, old.Kid)
	}
	for _, oldKid := range olds {
		old, _ := ru.j.Key(oldKid)
		pub, err := publicJWK(old)
		if err != nil {
			return fmt.Errorf("retire %s: %w", short(oldKid), err)
		}
		if err := ru.hydraPut(ctx, pub); err != nil {
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
		if err := ru.storeDestroy(ctx, k.Kid); err != nil {
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
		if err := ru.storeDestroy(ctx, o.Kid); err != nil {
			return false, fmt.Errorf("destroy orphan %s: %w", short(o.Kid), err)
		}
		ru.r.log().Warn("destroyed orphan key", "set", ru.ref.Set, "kid", o.Kid)
	}
	priv, err := ru.privateJWK(ctx, orphans[0].Kid)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil || priv.Algorithm != ru.sp.Alg {
		return false, nil // not a key this policy would make: verify reports it
	}
	pubData, err := MarshalJWK(PublicOnly(priv))
	if err != nil {
		return false, err
	}
	ru.add(Key{Kid: priv.KeyID, Alg: priv.Algorithm, Public: pubData, State: StateGenerated, GeneratedAt: orphans[0].CreatedAt},
		"generate", "recovered: stored in Vault by a run that crashed before journaling it")
	return true, nil
}
