package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Revoke removes kid from Hydra at once (a leaked key). The revocation is
// journaled before anything else changes, so a crash anywhere leaves it to
// the next run (step or revoke) to finish; no run ever restores a revoked
// key. If kid was signing, the standby is promoted first so the set is
// never without a signer; kid is deleted and its private material
// destroyed; a new standby is generated and published; then every region is
// polled until none serves kid.
func (r *Rotator) Revoke(ctx context.Context, kid, reason string, wait time.Duration) (RevokeReport, error) {
	start := time.Now()
	if err := r.Policy.Validate(); err != nil {
		return RevokeReport{}, err
	}
	var ru *run
	for _, sp := range r.Policy.Sets {
		j, err := r.Store.ReadJournal(ctx, SetRef{Issuer: r.Issuer, Set: sp.Name})
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return RevokeReport{}, fmt.Errorf("revoke %s: read journal of %s: %w", short(kid), sp.Name, err)
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
	k, _ := ru.j.Key(kid)
	if reason == "" {
		reason = "revoked"
	}
	if k.RevokedAt == nil {
		k.RevokedAt = ptr(ru.r.now())
		ru.record(k, k.State, "revoke-requested", reason)
		if err := ru.commit(ctx); err != nil {
			return rep, err
		}
	}
	if err := ru.converge(ctx); err != nil {
		return rep, err
	}
	for _, e := range ru.done {
		if e.Event == "activate" && strings.Contains(e.Reason, short(kid)) {
			rep.Promoted = e.Kid
			if p, ok := ru.j.Key(e.Kid); ok {
				rep.PromotedBeforeLead = p.VisibleAt == nil || e.At.Before(p.VisibleAt.Add(ru.r.Policy.Lead))
			}
		}
	}
	if s := ru.j.Standby(); s != nil {
		rep.NewStandby = s.Kid
	}
	rep.Removed = time.Since(start)
	if err := ru.release(ctx); err != nil {
		return rep, err
	}
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

// finishRevocations carries out every journaled revocation that is not
// done: promote a standby if the key signs, delete it from Hydra, destroy
// its private material.
func (ru *run) finishRevocations(ctx context.Context) error {
	for {
		var kid string
		for _, k := range ru.j.Keys {
			if k.RevokedAt != nil && k.State != StateDestroyed {
				kid = k.Kid
				break
			}
		}
		if kid == "" {
			return nil
		}
		k, _ := ru.j.Key(kid)
		if k.State == StateActive {
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
			if err := ru.promote(ctx, ru.j.Standby().Kid, "emergency: "+short(kid)+" revoked"); err != nil {
				return err
			}
			if err := ru.commit(ctx); err != nil {
				return err
			}
		}
		k, _ = ru.j.Key(kid)
		if k.State != StateRetired {
			if err := ru.hydraDelete(ctx, kid); err != nil {
				return fmt.Errorf("revoke %s: %w", short(kid), err)
			}
			k.RetiredAt = ptr(ru.r.now())
			ru.record(k, StateRetired, "revoke", "deleted from Hydra")
			if err := ru.commit(ctx); err != nil {
				return err
			}
		}
		k, _ = ru.j.Key(kid)
		if err := ru.destroy(ctx, k); err != nil {
			return err
		}
		if err := ru.commit(ctx); err != nil {
			return err
		}
	}
}
