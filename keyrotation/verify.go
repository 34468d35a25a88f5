package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Drift is one disagreement between the journal and what is deployed.
type Drift struct {
	Set     string `json:"set"`
	Kid     string `json:"kid,omitempty"`
	Where   string `json:"where"` // journal, hydra, region <r>, vault
	Problem string `json:"problem"`
}

func (d Drift) String() string {
	kid := ""
	if d.Kid != "" {
		kid = " " + short(d.Kid)
	}
	return fmt.Sprintf("%s%s: %s: %s", d.Set, kid, d.Where, d.Problem)
}

// maxHistory is how many older journal versions verify reads.
const maxHistory = 10

// Verify compares every set's journal with Hydra, every region's public
// JWKS and Vault, and checks the journal's hash chain. It changes nothing.
func (r *Rotator) Verify(ctx context.Context) ([]Drift, error) {
	var drifts []Drift
	regionKids := map[string][]string{}
	for _, region := range r.Regions.Names() {
		kids, err := r.Regions.PublishedKids(ctx, region)
		if err != nil {
			return nil, fmt.Errorf("read %s's JWKS: %w", region, err)
		}
		regionKids[region] = kids
	}
	for _, sp := range r.Policy.Sets {
		ref := SetRef{Issuer: r.Issuer, Set: sp.Name}
		add := func(kid, where, format string, args ...any) {
			drifts = append(drifts, Drift{Set: sp.Name, Kid: kid, Where: where, Problem: fmt.Sprintf(format, args...)})
		}
		j, err := r.Store.ReadJournal(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			add("", "journal", "no journal: the set is not managed yet (run step)")
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", sp.Name, err)
		}
		if err := j.CheckChain(); err != nil {
			add("", "journal", "%v", err)
		}
		// Entries are only appended: every version KV still keeps must be a
		// prefix of the current one.
		for v := j.Version - 1; v >= 1 && v >= j.Version-maxHistory; v-- {
			older, err := r.Store.ReadJournalVersion(ctx, ref, v)
			if errors.Is(err, ErrNotFound) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("set %s: read journal version %d: %w", sp.Name, v, err)
			}
			if err := j.CheckHistory(older); err != nil {
				add("", "journal", "%v", err)
				break
			}
		}
		if n := len(j.InState(StateActive)); n != 1 {
			add("", "journal", "%d active keys, want exactly 1", n)
		}
		if j.Standby() == nil {
			add("", "journal", "no standby key")
		}
		hydraKeys, err := r.Hydra.Keys(ctx, sp.Name)
		if err != nil {
			return nil, fmt.Errorf("set %s: read Hydra: %w", sp.Name, err)
		}
		inHydra := map[string]JWK{}
		signer := ""
		for _, hk := range hydraKeys {
			inHydra[hk.KeyID] = hk
			if signer == "" && !hk.IsPublic() {
				signer = hk.KeyID
			}
		}
		for _, hk := range hydraKeys {
			if _, ok := j.Key(hk.KeyID); !ok {
				add(hk.KeyID, "hydra", "key not in the journal")
			}
		}
		stored, err := r.Store.ListKeys(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("set %s: list Vault keys: %w", sp.Name, err)
		}
		inVault := map[string]StoredKey{}
		for _, s := range stored {
			inVault[s.Kid] = s
			if _, ok := j.Key(s.Kid); !ok && !s.Destroyed {
				add(s.Kid, "vault", "private key stored but not in the journal (an orphan)")
			}
		}
		for _, k := range j.Keys {
			hk, present := inHydra[k.Kid]
			switch k.State {
			case StateActive:
				if !present || isPublic(hk) {
					add(k.Kid, "hydra", "active key missing or without its private part")
				} else if signer != k.Kid {
					add(k.Kid, "hydra", "active key is not the one signing (%s is)", short(signer))
				}
			case StatePublished, StateRetiring:
				if !present {
					add(k.Kid, "hydra", "%s key not in Hydra", k.State)
				} else if !isPublic(hk) {
					add(k.Kid, "hydra", "%s key has its private part in Hydra", k.State)
				}
			case StateGenerated:
				if present {
					add(k.Kid, "hydra", "generated key already in Hydra")
				}
			case StateRetired, StateDestroyed:
				if present {
					add(k.Kid, "hydra", "%s key still in Hydra", k.State)
				}
			}
			for region, kids := range regionKids {
				served := slices.Contains(kids, k.Kid)
				if k.State.Served() && !served {
					add(k.Kid, "region "+region, "%s key not served", k.State)
				}
				if !k.State.Served() && k.State != StateGenerated && served {
					add(k.Kid, "region "+region, "%s key still served", k.State)
				}
			}
			if !k.Adopted {
				s, ok := inVault[k.Kid]
				switch {
				case !ok:
					add(k.Kid, "vault", "no key record")
				case k.State == StateDestroyed && !s.Destroyed:
					add(k.Kid, "vault", "destroyed key's private material still in Vault")
				case k.State != StateDestroyed && s.Destroyed:
					add(k.Kid, "vault", "%s key's private material is destroyed", k.State)
				}
			}
		}
	}
	return drifts, nil
}
