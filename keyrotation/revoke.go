package keyrotation

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RevokeReport tells how an emergency revocation went.
type RevokeReport struct {
	Set      string `json:"set"`
	Kid      string `json:"kid"`
	Promoted string `json:"promoted,omitempty"` // the standby that signs now, if kid was signing
	// PromotedBeforeLead is set when the promoted standby had not been
	// served for the full lead time: verifiers with an older JWKS cache may
	// reject new tokens until they refetch.
	PromotedBeforeLead bool          `json:"promoted_before_lead,omitempty"`
	NewStandby         string        `json:"new_standby,omitempty"`
	Removed            time.Duration `json:"removed_after"`         // kid deleted from Hydra
	GoneEverywhere     time.Duration `json:"gone_everywhere_after"` // no region serves kid
	// SafeAfter adds the verifiers' JWKS cache TTL: by then no verifier
	// honouring its cache policy accepts a token signed by kid.
	SafeAfter time.Duration `json:"safe_after"`
}

// Revoke removes kid from Hydra at once (a leaked key): if it was signing,
// the standby is promoted first so the set is never without a signer; kid is
// deleted and its private material destroyed; a new standby is generated and
// published; then every region is polled until none serves kid.
func (r *Rotator) Revoke(ctx context.Context, kid, reason string, wait time.Duration) (RevokeReport, error) {
	start := time.Now()
	if err := r.Policy.Validate(); err != nil {
		return RevokeReport{}, err
	}
	var ru *run
	for _, sp := range r.Policy.Sets {
		j, err := r.Store.ReadJournal(ctx, SetRef{Issuer: r.Issuer, Set: sp.Name})
		if err != nil {
			continue
		}
		if _, ok := j.Key(kid); ok {
			if ru, err = r.beginWaiting(ctx, sp); err != nil {
				return RevokeReport{}, fmt.Errorf("revoke %s: %w", short(kid), err)
			}
			break
		}
	}
	if ru == nil {
		return RevokeReport{}, fmt.Errorf("revoke %s: %w in any set of issuer %s", kid, ErrUnknownKey, r.Issuer)
	}
	rep := RevokeReport{Set: ru.ref.Set, Kid: kid}
	if err := ru.revoke(ctx, kid, reason, &rep); err != nil {
		return rep, err
	}
	rep.Removed = time.Since(start)
	if err := ru.release(ctx); err != nil {
		return rep, err
	}
	// Wait until no region serves kid any more.
	deadline := time.Now().Add(wait)
	for {
		gone := true
		for _, region := range r.Regions.Names() {
			kids, err := r.Regions.PublishedKids(ctx, region)
			if err != nil || slices.Contains(kids, kid) {
				gone = false
				break
			}
		}
		if gone {
			rep.GoneEverywhere = time.Since(start)
			rep.SafeAfter = rep.GoneEverywhere + r.Policy.VerifierCacheTTL
			return rep, nil
		}
		if time.Now().After(deadline) {
			return rep, fmt.Errorf("revoke %s: some region still serves it after %s", short(kid), wait)
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (ru *run) revoke(ctx context.Context, kid, reason string, rep *RevokeReport) error {
	if reason == "" {
		reason = "revoked"
	}
	k, _ := ru.j.Key(kid)
	if k.State == StateActive {
		standby := ru.j.Standby()
		if standby == nil {
			if _, _, err := ru.generate(ctx); err != nil {
				return err
			}
			if err := ru.commit(ctx); err != nil {
				return err
			}
			standby = ru.j.Standby()
		}
		if standby.State == StateGenerated {
			if err := ru.publish(ctx, standby); err != nil {
				return err
			}
			if err := ru.commit(ctx); err != nil {
				return err
			}
			standby = ru.j.Standby()
		}
		rep.Promoted = standby.Kid
		rep.PromotedBeforeLead = standby.VisibleAt == nil || ru.r.now().Before(standby.VisibleAt.Add(ru.r.Policy.Lead))
		if err := ru.promote(ctx, standby.Kid, "emergency: "+short(kid)+" revoked"); err != nil {
			return err
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	k, _ = ru.j.Key(kid)
	if k.State != StateRetired && k.State != StateDestroyed {
		if err := ru.r.Hydra.DeleteKey(ctx, ru.ref.Set, kid); err != nil {
			return fmt.Errorf("revoke %s: %w", short(kid), err)
		}
		now := ru.r.now()
		k.RetiredAt, k.RevokedAt = ptr(now), ptr(now)
		ru.record(k, StateRetired, "revoke", reason)
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	k, _ = ru.j.Key(kid)
	if k.State == StateRetired {
		if err := ru.destroy(ctx, k); err != nil {
			return err
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	// A new standby, published now, so the next emergency need not wait.
	for ru.j.Standby() == nil || ru.j.Standby().State == StateGenerated {
		if ru.j.Standby() == nil {
			if _, _, err := ru.generate(ctx); err != nil {
				return err
			}
		} else if err := ru.publish(ctx, ru.j.Standby()); err != nil {
			return err
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
	rep.NewStandby = ru.j.Standby().Kid
	return nil
}
