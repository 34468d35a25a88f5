package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Next is the next transition of a set and when it is due.
type Next struct {
	What string    `json:"what"`
	Kid  string    `json:"kid,omitempty"`
	At   time.Time `json:"at"`
}

// NextTransition computes what a set waits for next.
func NextTransition(j Journal, p Policy, now time.Time) Next {
	var candidates []Next
	for _, k := range j.InState(StateRetiring) {
		if k.RetiringAt != nil {
			candidates = append(candidates, Next{What: "delete from Hydra (overlap over)", Kid: k.Kid, At: k.RetiringAt.Add(p.Overlap)})
		}
	}
	for _, k := range j.InState(StateRetired) {
		candidates = append(candidates, Next{What: "destroy private material", Kid: k.Kid, At: now})
	}
	switch s := j.Standby(); {
	case s == nil:
		candidates = append(candidates, Next{What: "generate a standby key", At: now})
	case s.State == StateGenerated:
		candidates = append(candidates, Next{What: "publish the standby", Kid: s.Kid, At: now})
	case s.VisibleAt == nil:
		candidates = append(candidates, Next{What: "wait until every region serves the standby", Kid: s.Kid, At: now})
	default:
		at := s.VisibleAt.Add(p.Lead)
		if a := j.Active(); a != nil && a.ActivatedAt != nil && j.RotateRequestedAt == nil {
			if due := a.ActivatedAt.Add(p.Cadence); due.After(at) {
				at = due
			}
		}
		candidates = append(candidates, Next{What: "promote the standby", Kid: s.Kid, At: at})
	}
	best := candidates[0]
	for _, c := range candidates[1:] {
		if c.At.Before(best.At) {
			best = c
		}
	}
	if best.At.Before(now) {
		best.At = now
	}
	return best
}

// SetStatus is one set's journal as status shows it.
type SetStatus struct {
	Set     string  `json:"set"`
	Journal Journal `json:"journal"`
	Next    Next    `json:"next"`
	// Missing is set when the set has no journal yet (step adopts it).
	Missing bool `json:"missing,omitempty"`
}

// Status reads every set's journal without taking a lease.
func (r *Rotator) Status(ctx context.Context) ([]SetStatus, error) {
	var out []SetStatus
	for _, sp := range r.Policy.Sets {
		j, err := r.Store.ReadJournal(ctx, SetRef{Issuer: r.Issuer, Set: sp.Name})
		if errors.Is(err, ErrNotFound) {
			out = append(out, SetStatus{Set: sp.Name, Missing: true})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", sp.Name, err)
		}
		out = append(out, SetStatus{Set: sp.Name, Journal: j, Next: NextTransition(j, r.Policy, r.now())})
	}
	return out, nil
}

// RequestRotation asks for a promotion ahead of the cadence on every set;
// the standby is promoted as soon as it has been served everywhere for the
// lead time (at once when it already has). It then runs a Step.
func (r *Rotator) RequestRotation(ctx context.Context) ([]Outcome, error) {
	if err := r.Policy.Validate(); err != nil {
		return nil, err
	}
	var errs []error
	for _, sp := range r.Policy.Sets {
		ru, err := r.beginWaiting(ctx, sp)
		if err != nil {
			errs = append(errs, fmt.Errorf("set %s: %w", sp.Name, err))
			continue
		}
		now := r.now()
		ru.j.RotateRequestedAt = &now
		if err := ru.commit(ctx); err != nil {
			errs = append(errs, fmt.Errorf("set %s: %w", sp.Name, err))
			continue
		}
		if err := ru.release(ctx); err != nil {
			errs = append(errs, fmt.Errorf("set %s: %w", sp.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r.Step(ctx)
}

// beginWaiting takes a set's lease, waiting up to the lease TTL for a
// running step to finish: operator commands must not just give up.
func (r *Rotator) beginWaiting(ctx context.Context, sp SetPolicy) (*run, error) {
	deadline := time.Now().Add(r.Policy.LeaseTTL + 5*time.Second)
	for {
		ru, err := r.begin(ctx, sp)
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			return ru, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
