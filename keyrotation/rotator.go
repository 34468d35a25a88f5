package keyrotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Rotator advances the key sets of one issuer.
type Rotator struct {
	Store   Store
	Hydra   Hydra
	Regions Regions
	Policy  Policy
	// Issuer is Hydra's issuer URL; journals are kept per issuer.
	Issuer string
	// Actor names this run in leases and journal entries (e.g. pod name).
	Actor string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives one JSON audit line per transition.
	Log *slog.Logger
}

func (r *Rotator) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Rotator) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// run is one leased pass over one set.
type run struct {
	r   *Rotator
	sp  SetPolicy
	ref SetRef
	j   Journal
	// done collects the entries this run committed.
	done []Entry
	// pending entries are appended but not yet committed.
	pending int
}

// Outcome is what a Step did to one set.
type Outcome struct {
	Set         string  `json:"set"`
	Busy        bool    `json:"busy,omitempty"` // another run held the lease; nothing done
	BusyHolder  string  `json:"busy_holder,omitempty"`
	Transitions []Entry `json:"transitions"`
	Next        Next    `json:"next"`
}

// Step does whatever is due for every set of the policy. A set whose lease
// another run holds is reported Busy and skipped: that is not an error.
func (r *Rotator) Step(ctx context.Context) ([]Outcome, error) {
	if err := r.Policy.Validate(); err != nil {
		return nil, err
	}
	var outcomes []Outcome
	var errs []error
	for _, sp := range r.Policy.Sets {
		o, err := r.stepSet(ctx, sp)
		outcomes = append(outcomes, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("set %s: %w", sp.Name, err))
		}
	}
	return outcomes, errors.Join(errs...)
}

func (r *Rotator) stepSet(ctx context.Context, sp SetPolicy) (Outcome, error) {
	o := Outcome{Set: sp.Name}
	ru, err := r.begin(ctx, sp)
	var busy *BusyError
	if errors.As(err, &busy) {
		o.Busy, o.BusyHolder = true, busy.Holder
		return o, nil
	}
	if err != nil {
		return o, err
	}
	err = ru.converge(ctx)
	if err == nil {
		err = ru.release(ctx)
	}
	o.Transitions = ru.done
	o.Next = NextTransition(ru.j, r.Policy, r.now())
	return o, err
}

// BusyError says which run holds a set's lease.
type BusyError struct {
	Holder string
	Until  time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v: %s until %s", ErrBusy, e.Holder, e.Until.Format(time.RFC3339))
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// begin reads (or adopts) the set's journal and takes its lease.
func (r *Rotator) begin(ctx context.Context, sp SetPolicy) (*run, error) {
	ref := SetRef{Issuer: r.Issuer, Set: sp.Name}
	ru := &run{r: r, sp: sp, ref: ref}
	j, err := r.Store.ReadJournal(ctx, ref)
	switch {
	case errors.Is(err, ErrNotFound):
		// A new set: create an empty journal (cas=0) holding the lease
		// before touching Hydra or Vault; converge then adopts the set.
		// Unless Vault already holds keys of this set: then the journal was
		// deleted, and adopting would forget them.
		stored, lerr := r.Store.ListKeys(ctx, ref)
		if lerr != nil {
			return nil, fmt.Errorf("list keys: %w", lerr)
		}
		for _, s := range stored {
			if !s.Destroyed {
				return nil, fmt.Errorf("%w: Vault holds key %s of set %s but no journal; restore the journal from the KV version history", ErrJournalMissing, short(s.Kid), sp.Name)
			}
		}
		j = Journal{SetRef: ref}
	case err != nil:
		return nil, fmt.Errorf("read journal: %w", err)
	}
	now := r.now()
	if j.Lease != nil && j.Lease.Holder != r.Actor && now.Before(j.Lease.Until) {
		return nil, &BusyError{Holder: j.Lease.Holder, Until: j.Lease.Until}
	}
	ru.j = j
	if err := ru.commit(ctx); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			// Another run wrote between our read and our write: it advances.
			return nil, &BusyError{Holder: "another run", Until: now}
		}
		return nil, err
	}
	return ru, nil
}

// guard fails when this run's lease is close to expiring: an external
// write after that could race a run that took the lease over. The margin
// is a third of the lease, which Policy.Validate keeps above the longest
// single call.
func (ru *run) guard() error {
	l := ru.j.Lease
	if l == nil || l.Holder != ru.r.Actor || ru.r.now().After(l.Until.Add(-ru.r.Policy.LeaseTTL/3)) {
		return fmt.Errorf("%w: the lease runs out; stopping before the next write", ErrLeaseLost)
	}
	return nil
}

// The external writes of a run, each behind the lease guard.
func (ru *run) hydraPut(ctx context.Context, k JWK) error {
	if err := ru.guard(); err != nil {
		return err
	}
	return ru.r.Hydra.PutKey(ctx, ru.ref.Set, k)
}

func (ru *run) hydraDelete(ctx context.Context, kid string) error {
	if err := ru.guard(); err != nil {
		return err
	}
	return ru.r.Hydra.DeleteKey(ctx, ru.ref.Set, kid)
}

func (ru *run) storePut(ctx context.Context, kid string, data []byte) error {
	if err := ru.guard(); err != nil {
		return err
	}
	_, err := ru.r.Store.PutKey(ctx, ru.ref, kid, data)
	return err
}

func (ru *run) storeDestroy(ctx context.Context, kid string) error {
	if err := ru.guard(); err != nil {
		return err
	}
	_, err := ru.r.Store.DestroyKey(ctx, ru.ref, kid)
	return err
}

// commit writes the journal with the lease extended, and logs the entries
// appended since the last commit with the write's Vault request id.
func (ru *run) commit(ctx context.Context) error {
	now := ru.r.now()
	return ru.write(ctx, &Lease{Holder: ru.r.Actor, Until: now.Add(ru.r.Policy.LeaseTTL)})
}

// write writes the journal holding lease (nil releases it).
func (ru *run) write(ctx context.Context, lease *Lease) error {
	ru.j.Lease = lease
	version, info, err := ru.r.Store.WriteJournal(ctx, ru.j)
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: the journal changed under this run", ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	ru.j.Version = version
	fresh := ru.j.Entries[len(ru.j.Entries)-ru.pending:]
	for _, e := range fresh {
		ru.r.log().Info("transition",
			"issuer", ru.ref.Issuer, "set", ru.ref.Set, "kid", e.Kid, "event", e.Event,
			"before", string(e.From), "after", string(e.To), "reason", e.Reason,
			"seq", e.Seq, "hash", e.Hash, "actor", e.Actor, "journal_version", version,
			"vault_request_id", info.RequestID)
	}
	ru.done = append(ru.done, fresh...)
	ru.pending = 0
	return nil
}

// release records the success and drops the lease, in one write.
func (ru *run) release(ctx context.Context) error {
	now := ru.r.now()
	ru.j.LastSuccessAt = &now
	if err := ru.write(ctx, nil); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// record moves k to state to (to == k.State records an event without a
// state change) and appends the chained entry; commit writes it.
func (ru *run) record(k *Key, to State, event, reason string) {
	now := ru.r.now()
	e := Entry{At: now, Kid: k.Kid, From: k.State, To: to, Event: event, Actor: ru.r.Actor, Reason: reason}
	k.State = to
	e.KeySHA256 = keyDigest(*k)
	ru.j.append(e)
	ru.pending++
}

// add appends a new key, recording how it entered the journal.
func (ru *run) add(k Key, event, reason string) *Key {
	state := k.State
	k.State = ""
	ru.j.Keys = append(ru.j.Keys, k)
	nk := &ru.j.Keys[len(ru.j.Keys)-1]
	ru.record(nk, state, event, reason)
	return nk
}

func ptr(t time.Time) *time.Time { return &t }
