package keyrotation

import (
	"context"
	"fmt"
)

// reconcile makes Hydra and the journal agree before anything advances, so
// a run that crashed between a Hydra call and its journal write, or a change
// made to Hydra by hand, converges. It never leaves the set without a key
// that can sign (Hydra would generate one of its own on the next token): it
// first makes sure the right key signs, and only then strips the others.
//
//  1. Keys Hydra has that the journal does not know are journaled
//     (adopted), as retiring unless step 2 picks one to sign.
//  2. Who signs: the journal's active key, restored from Vault if needed; or
//     a standby a crashed promotion already made sign (rolled forward, when
//     the lead had passed); or, when the active key cannot be restored (an
//     adopted key that lost its private part), whatever Hydra signs with,
//     adopted as active; or, with no signer at all, the standby, promoted
//     now.
//  3. Published and retiring keys are in Hydra, public parts only; a
//     published key that had gone is published again and must be seen in
//     every region again before it may sign.
//  4. Retired and destroyed keys are not in Hydra.
func (ru *run) reconcile(ctx context.Context) error {
	keys, err := ru.r.Hydra.Keys(ctx, ru.ref.Set)
	if err != nil {
		return fmt.Errorf("read Hydra: %w", err)
	}
	now := ru.r.now()
	inHydra := map[string]JWK{}
	signer := ""
	for _, k := range keys {
		inHydra[k.KeyID] = k
		if signer == "" && !k.IsPublic() {
			signer = k.KeyID
		}
	}

	// 1. Journal unknown keys.
	for _, k := range keys {
		if _, known := ru.j.Key(k.KeyID); known {
			continue
		}
		data, err := MarshalJWK(PublicOnly(k))
		if err != nil {
			return err
		}
		ru.add(Key{Kid: k.KeyID, Alg: k.Algorithm, Public: data, Adopted: true, State: StateRetiring,
			GeneratedAt: now, PublishedAt: ptr(now), RetiringAt: ptr(now)},
			"adopt", "drift: in Hydra but not in the journal")
	}

	// 2. Make the right key sign.
	if err := ru.settleSigner(ctx, inHydra, signer); err != nil {
		return err
	}
	if ru.pending > 0 {
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}

	// 3 and 4.
	for i := range ru.j.Keys {
		k := &ru.j.Keys[i]
		hk, present := inHydra[k.Kid]
		switch k.State {
		case StatePublished, StateRetiring:
			if present && isPublic(hk) {
				continue
			}
			pub, err := publicJWK(k)
			if err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			if err := ru.hydraPut(ctx, pub); err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			ru.r.log().Warn("reconciled", "set", ru.ref.Set, "kid", k.Kid, "state", string(k.State), "action", "put public part")
			if !present && k.State == StatePublished && k.VisibleAt != nil {
				k.VisibleAt = nil
				ru.record(k, StatePublished, "republish", "it had gone from Hydra: visibility starts again")
			}
		case StateRetired, StateDestroyed:
			if !present {
				continue
			}
			if err := ru.hydraDelete(ctx, k.Kid); err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			ru.r.log().Warn("reconciled", "set", ru.ref.Set, "kid", k.Kid, "state", string(k.State), "action", "delete")
		}
	}
	return nil
}

// settleSigner is step 2 of reconcile.
func (ru *run) settleSigner(ctx context.Context, inHydra map[string]JWK, signer string) error {
	now := ru.r.now()
	active := ru.j.Active()
	if active != nil && signer == active.Kid {
		return nil
	}
	// A standby already signing: a promotion crashed before its journal
	// write. Roll forward if the promotion was safe.
	if s, ok := ru.j.Key(signer); ok && s.State == StatePublished && !s.Adopted &&
		s.VisibleAt != nil && !now.Before(s.VisibleAt.Add(ru.r.Policy.Lead)) {
		return ru.promote(ctx, signer, "rolled forward: a run crashed while promoting it")
	}
	if active != nil && !active.Adopted {
		// Our key: put its private part back; it becomes the newest.
		priv, err := ru.privateJWK(ctx, active.Kid)
		if err != nil {
			return fmt.Errorf("reconcile active %s: %w", short(active.Kid), err)
		}
		if err := ru.hydraPut(ctx, priv); err != nil {
			return fmt.Errorf("reconcile active %s: %w", short(active.Kid), err)
		}
		ru.r.log().Warn("reconciled", "set", ru.ref.Set, "kid", active.Kid, "action", "put private part: the active key must sign")
		return nil
	}
	if active != nil {
		if hk, ok := inHydra[active.Kid]; ok && !isPublic(hk) {
			// An adopted key still whole in Hydra: PUT makes it the newest.
			if err := ru.hydraPut(ctx, hk); err != nil {
				return fmt.Errorf("reconcile active %s: %w", short(active.Kid), err)
			}
			return nil
		}
	}
	// The active key cannot sign again. Follow whatever Hydra signs with.
	if signer != "" {
		s, _ := ru.j.Key(signer)
		s.ActivatedAt, s.RetiringAt = ptr(now), nil
		ru.record(s, StateActive, "activate", "adopted: Hydra signs with it and the journal's active key is gone")
		if active != nil {
			active.RetiringAt = ptr(now)
			ru.record(active, StateRetiring, "retire", "lost its private part")
		}
		return nil
	}
	// Nothing can sign: promote the standby now, lead or not.
	for range 2 {
		progressed, err := ru.ensureStandby(ctx)
		if err != nil {
			return err
		}
		if !progressed {
			break
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	return ru.promote(ctx, ru.j.Standby().Kid, "emergency: the set had no signing key")
}
