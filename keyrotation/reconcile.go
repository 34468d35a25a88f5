package keyrotation

import (
	"context"
	"fmt"
)

// reconcile makes Hydra and the journal agree before anything advances, so
// a run that crashed between a Hydra call and its journal write, or a change
// made to Hydra by hand, converges. It never leaves the set without a
// signing key (Hydra would generate one of its own on the next token):
//   - a key Hydra has that the journal does not know is journaled. If it is
//     the one signing and the journal's active key cannot be restored from
//     Vault, it is adopted as active; otherwise it is stripped to its public
//     part and retiring, so it stays verifiable for the overlap;
//   - published and retiring keys are in Hydra, public parts only;
//   - retired and destroyed keys are not in Hydra;
//   - the active key is in Hydra with its private part, the only one there.
func (ru *run) reconcile(ctx context.Context) error {
	keys, err := ru.r.Hydra.Keys(ctx, ru.ref.Set)
	if err != nil {
		return fmt.Errorf("read Hydra: %w", err)
	}
	set := ru.ref.Set
	now := ru.r.now()
	inHydra := map[string]JWK{}
	signer := "" // Hydra signs with the newest key that has a private part
	for _, k := range keys {
		inHydra[k.KeyID] = k
		if signer == "" && !k.IsPublic() {
			signer = k.KeyID
		}
	}
	restorable := false
	if a := ru.j.Active(); a != nil {
		restorable = !a.Adopted || (inHydra[a.Kid].Key != nil && !isPublic(inHydra[a.Kid]))
	}

	for _, k := range keys {
		if _, known := ru.j.Key(k.KeyID); known {
			continue
		}
		pub := PublicOnly(k)
		data, err := MarshalJWK(pub)
		if err != nil {
			return err
		}
		nk := Key{Kid: k.KeyID, Alg: k.Algorithm, Public: data, Adopted: true, GeneratedAt: now, PublishedAt: ptr(now)}
		if k.KeyID == signer && !restorable {
			var olds []string
			for _, a := range ru.j.InState(StateActive) {
				olds = append(olds, a.Kid)
			}
			nk.State, nk.ActivatedAt, nk.VisibleAt = StateActive, ptr(now), ptr(now)
			ru.add(nk, "adopt", "drift: signing in Hydra, not in the journal, and the journal's active key is gone")
			for _, kid := range olds {
				old, _ := ru.j.Key(kid)
				old.RetiringAt = ptr(now)
				ru.record(old, StateRetiring, "retire", "replaced by the adopted signing key")
			}
			restorable = true
			continue
		}
		if !k.IsPublic() {
			if err := ru.r.Hydra.PutKey(ctx, set, pub); err != nil {
				return fmt.Errorf("strip unknown key %s: %w", short(k.KeyID), err)
			}
		}
		nk.State, nk.RetiringAt = StateRetiring, ptr(now)
		ru.add(nk, "adopt", "drift: in Hydra but not in the journal")
	}

	for i := range ru.j.Keys {
		k := &ru.j.Keys[i]
		hk, present := inHydra[k.Kid]
		switch k.State {
		case StatePublished, StateRetiring:
			if present && hk.IsPublic() {
				continue
			}
			pub, err := ParseJWK(k.Public)
			if err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			if err := ru.r.Hydra.PutKey(ctx, set, pub); err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			ru.r.log().Warn("reconciled", "set", set, "kid", k.Kid, "state", string(k.State), "action", "put public part")
		case StateRetired, StateDestroyed:
			if !present {
				continue
			}
			if err := ru.r.Hydra.DeleteKey(ctx, set, k.Kid); err != nil {
				return fmt.Errorf("reconcile %s: %w", short(k.Kid), err)
			}
			ru.r.log().Warn("reconciled", "set", set, "kid", k.Kid, "state", string(k.State), "action", "delete")
		}
	}

	active := ru.j.Active()
	if active == nil {
		return nil
	}
	if hk, present := inHydra[active.Kid]; present && !hk.IsPublic() && (signer == active.Kid || signer == "" || isUnknownOrStripped(ru, signer)) {
		return nil
	}
	if active.Adopted {
		// Its private part was never in Vault; Hydra will generate a key of
		// its own, which the next run adopts as active.
		ru.r.log().Warn("reconciled", "set", set, "kid", active.Kid, "action", "adopted active key lost its private part")
		return nil
	}
	privData, err := ru.r.Store.GetKey(ctx, ru.ref, active.Kid)
	if err != nil {
		return fmt.Errorf("reconcile active %s: read private key: %w", short(active.Kid), err)
	}
	priv, err := ParseJWK(privData)
	if err != nil {
		return fmt.Errorf("reconcile active %s: %w", short(active.Kid), err)
	}
	if err := ru.r.Hydra.PutKey(ctx, set, priv); err != nil {
		return fmt.Errorf("reconcile active %s: %w", short(active.Kid), err)
	}
	ru.r.log().Warn("reconciled", "set", set, "kid", active.Kid, "action", "put private part: the active key must sign")
	return nil
}

// isUnknownOrStripped reports whether kid, Hydra's signer before this
// reconcile, has since been stripped to its public part (it was journaled
// as retiring or is published), so the active key signs now.
func isUnknownOrStripped(ru *run, kid string) bool {
	k, ok := ru.j.Key(kid)
	return ok && (k.State == StateRetiring || k.State == StatePublished)
}
