package keyrotation_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idstack/idstack/keyrotation"
	"github.com/idstack/idstack/keyrotation/fake"
)

const testSet = "hydra.jwt.access-token"

func testPolicy() keyrotation.Policy {
	return keyrotation.Policy{
		Sets:             []keyrotation.SetPolicy{{Name: testSet, Alg: keyrotation.ES256}},
		Cadence:          10 * time.Minute,
		Lead:             2 * time.Minute,
		Overlap:          3 * time.Minute,
		Skew:             10 * time.Second,
		VerifierCacheTTL: time.Minute,
		MaxTokenLifetime: 2 * time.Minute,
		LeaseTTL:         30 * time.Second,
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is a fake deployment: Vault, Hydra, two regions, a clock.
type world struct {
	store   *fake.Store
	hydra   *fake.Hydra
	regions *fake.Regions
	clock   *clock
}

func newWorld() *world {
	h := fake.NewHydra()
	return &world{
		store: fake.NewStore(), hydra: h,
		regions: &fake.Regions{Hydra: h, Regions: []string{"eu", "us"}},
		clock:   &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
}

func (w *world) rotator(actor string) *keyrotation.Rotator {
	return &keyrotation.Rotator{
		Store: w.store, Hydra: w.hydra, Regions: w.regions, Policy: testPolicy(),
		Issuer: "http://hydra.test/", Actor: actor, Now: w.clock.Now,
	}
}

func (w *world) journal(t *testing.T) keyrotation.Journal {
	t.Helper()
	j, err := w.store.ReadJournal(context.Background(), keyrotation.SetRef{Issuer: "http://hydra.test/", Set: testSet})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func step(t *testing.T, r *keyrotation.Rotator) []keyrotation.Outcome {
	t.Helper()
	out, err := r.Step(context.Background())
	if err != nil {
		t.Fatalf("step: %v", err)
	}
	return out
}

func noDrift(t *testing.T, r *keyrotation.Rotator) {
	t.Helper()
	drifts, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drifts {
		t.Errorf("drift: %s", d)
	}
}

// TestFullRotationProvesBothPhases walks one key through its whole life:
// published keys are served but never sign; after promotion the new key
// signs; the old one stays served for the overlap, then goes.
func TestFullRotationProvesBothPhases(t *testing.T) {
	w := newWorld()
	r := w.rotator("job-1")
	step(t, r) // empty set: bootstrap key active, standby generated and published
	j := w.journal(t)
	first := j.Active()
	standby := j.Standby()
	if first == nil || standby == nil {
		t.Fatalf("after the first step: active %v, standby %v", first, standby)
	}
	if got := w.hydra.Signer(testSet); got != first.Kid {
		t.Fatalf("signer %s, want the bootstrap key %s", got, first.Kid)
	}
	if standby.State != keyrotation.StatePublished || standby.VisibleAt == nil {
		t.Fatalf("standby is %s (visible %v), want published and seen everywhere", standby.State, standby.VisibleAt)
	}
	noDrift(t, r)

	// Phase 1: the standby is in every region's JWKS and does not sign,
	// however many steps run before the cadence.
	for i := 0; i < 5; i++ {
		w.clock.Add(time.Minute)
		step(t, r)
		if got := w.hydra.Signer(testSet); got != first.Kid {
			t.Fatalf("at +%dm the standby signs (%s) before the cadence", i+1, got)
		}
	}
	kids, _ := w.regions.PublishedKids(context.Background(), "us")
	if !contains(kids, standby.Kid) {
		t.Fatal("the published standby is not served")
	}

	// Phase 2: at the cadence it is promoted and signs; the old key retires
	// but stays served.
	w.clock.Add(6 * time.Minute)
	step(t, r)
	if got := w.hydra.Signer(testSet); got != standby.Kid {
		t.Fatalf("after the cadence the signer is %s, want %s", got, standby.Kid)
	}
	j = w.journal(t)
	old, _ := j.Key(first.Kid)
	if old.State != keyrotation.StateRetiring {
		t.Fatalf("old key is %s, want retiring", old.State)
	}
	kids, _ = w.regions.PublishedKids(context.Background(), "eu")
	if !contains(kids, first.Kid) {
		t.Fatal("the retiring key must stay served for the overlap")
	}
	if j.Standby() == nil || j.Standby().State != keyrotation.StatePublished {
		t.Fatal("a new standby must be published right after a promotion")
	}
	noDrift(t, r)

	// After the overlap the old key is deleted from Hydra and destroyed.
	w.clock.Add(3 * time.Minute)
	step(t, r)
	j = w.journal(t)
	old, _ = j.Key(first.Kid)
	if old.State != keyrotation.StateDestroyed {
		t.Fatalf("old key is %s after the overlap, want destroyed", old.State)
	}
	kids, _ = w.regions.PublishedKids(context.Background(), "eu")
	if contains(kids, first.Kid) {
		t.Fatal("a destroyed key is still served")
	}
	if _, err := w.store.GetKey(context.Background(), keyrotation.SetRef{Issuer: "http://hydra.test/", Set: testSet}, first.Kid); !errors.Is(err, keyrotation.ErrNotFound) {
		t.Fatalf("private material of a destroyed key: %v", err)
	}
	if err := j.CheckChain(); err != nil {
		t.Fatal(err)
	}
	noDrift(t, r)
}

func TestNoPromotionUntilEveryRegionServesTheStandbyForTheLead(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	w.regions.Hide("us") // a region whose JWKS does not show new keys yet
	step(t, r)
	first := w.journal(t).Active().Kid
	w.clock.Add(time.Hour) // far past the cadence
	step(t, r)
	if got := w.hydra.Signer(testSet); got != first {
		t.Fatalf("promoted a key one region does not serve")
	}
	w.regions.Show("us")
	step(t, r) // now visible: lead starts
	w.clock.Add(time.Minute)
	step(t, r)
	if got := w.hydra.Signer(testSet); got != first {
		t.Fatalf("promoted before the lead time passed")
	}
	w.clock.Add(time.Minute)
	step(t, r)
	if got := w.hydra.Signer(testSet); got == first {
		t.Fatalf("not promoted once the lead passed")
	}
}

func TestAdoptsHydrasOwnKey(t *testing.T) {
	w := newWorld()
	own, err := keyrotation.GenerateKey(keyrotation.ES256, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.hydra.PutKey(context.Background(), testSet, own) // Hydra generated this at start
	r := w.rotator("job")
	step(t, r)
	j := w.journal(t)
	if a := j.Active(); a == nil || a.Kid != own.KeyID || !a.Adopted {
		t.Fatalf("active %+v, want Hydra's key adopted", a)
	}
	if got := w.hydra.Signer(testSet); got != own.KeyID {
		t.Fatal("adoption must not change the signer")
	}
	w.clock.Add(11 * time.Minute)
	step(t, r)
	w.clock.Add(4 * time.Minute)
	step(t, r)
	old, _ := w.journal(t).Key(own.KeyID)
	if old.State != keyrotation.StateDestroyed {
		t.Fatalf("adopted key is %s after a rotation and the overlap", old.State)
	}
	noDrift(t, r)
}

func TestDriftAnUnknownSigningKeyIsStrippedAndOursSignsAgain(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	active := w.journal(t).Active().Kid
	// Someone (or Hydra itself) adds a private key: it would sign.
	rogue, _ := keyrotation.GenerateKey(keyrotation.ES256, 0)
	w.hydra.PutKey(context.Background(), testSet, rogue)
	if w.hydra.Signer(testSet) != rogue.KeyID {
		t.Fatal("setup: the rogue key should sign")
	}
	w.clock.Add(time.Minute)
	step(t, r)
	if got := w.hydra.Signer(testSet); got != active {
		t.Fatalf("signer %s, want our active key %s back", got, active)
	}
	k, _ := w.journal(t).Key(rogue.KeyID)
	if k == nil || k.State != keyrotation.StateRetiring {
		t.Fatalf("rogue key journaled as %v, want retiring", k)
	}
	noDrift(t, r)
}

func TestALeaseHolderBlocksOtherRunsUntilItExpires(t *testing.T) {
	w := newWorld()
	a, b := w.rotator("job-a"), w.rotator("job-b")
	step(t, a)
	w.clock.Add(11 * time.Minute)
	// b starts while a holds the lease: simulate by taking it with a
	// crashed run of a.
	crash := &fake.Crash{Budget: 1}
	crashed := *a
	crashed.Store = fake.CrashingStore{Store: w.store, Crash: crash}
	crashed.Hydra = fake.CrashingHydra{Hydra: w.hydra, Crash: crash}
	if _, err := crashed.Step(context.Background()); !errors.Is(err, fake.ErrCrash) {
		t.Fatalf("setup: got %v, want a crash", err)
	}
	out := step(t, b)
	if !out[0].Busy || out[0].BusyHolder != "job-a" {
		t.Fatalf("b: got %+v, want busy (held by job-a)", out[0])
	}
	w.clock.Add(31 * time.Second) // the crashed run's lease expires
	out = step(t, b)
	if out[0].Busy || len(out[0].Transitions) == 0 {
		t.Fatalf("b after the lease expired: %+v, want progress", out[0])
	}
	noDrift(t, b)
}

func TestRacingStepsExactlyOneAdvances(t *testing.T) {
	w := newWorld()
	step(t, w.rotator("setup"))
	w.clock.Add(11 * time.Minute)
	var wg sync.WaitGroup
	outs := make([][]keyrotation.Outcome, 8)
	errs := make([]error, 8)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = w.rotator(string(rune('a' + i))).Step(context.Background())
		}()
	}
	wg.Wait()
	// Every run either found the lease taken (busy), or took it; only one
	// may promote, whatever the interleaving.
	advanced, promotions := 0, 0
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("run %d: %v", i, errs[i])
			continue
		}
		if len(outs[i][0].Transitions) > 0 {
			advanced++
		}
		for _, e := range outs[i][0].Transitions {
			if e.Event == "activate" {
				promotions++
			}
		}
	}
	if advanced != 1 || promotions != 1 {
		t.Fatalf("%d runs advanced with %d promotions, want exactly 1 and 1", advanced, promotions)
	}
	noDrift(t, w.rotator("check"))
}

// TestCrashAfterEveryCallConverges crashes a run after each of its changing
// calls in turn, from several starting points; a rerun after the lease
// expires must always reach the same safe state: exactly one active key,
// which is the one signing, a published standby, and no drift. The set is
// never left without a signing key, even at the crash.
func TestCrashAfterEveryCallConverges(t *testing.T) {
	starts := []struct {
		name    string
		prepare func(t *testing.T) *world
	}{
		{"bootstrap of an empty set", func(t *testing.T) *world { return newWorld() }},
		{"adoption of Hydra's own key", func(t *testing.T) *world {
			w := newWorld()
			w.hydra.PutKey(context.Background(), testSet, hydraOwnKey(t))
			return w
		}},
		{"promotion", func(t *testing.T) *world {
			w := newWorld()
			step(t, w.rotator("setup"))
			w.clock.Add(11 * time.Minute)
			return w
		}},
		{"retirement", func(t *testing.T) *world {
			w := newWorld()
			step(t, w.rotator("setup"))
			w.clock.Add(11 * time.Minute)
			step(t, w.rotator("setup"))
			w.clock.Add(4 * time.Minute)
			return w
		}},
	}
	for _, start := range starts {
		t.Run(start.name, func(t *testing.T) {
			probe := start.prepare(t)
			counter := &fake.Crash{Budget: -1}
			r := probe.rotator("probe")
			r.Store = fake.CrashingStore{Store: probe.store, Crash: counter}
			r.Hydra = fake.CrashingHydra{Hydra: probe.hydra, Crash: counter}
			step(t, r)
			total := counter.Calls()
			if total < 3 {
				t.Fatalf("the run made only %d changing calls", total)
			}
			for budget := 0; budget < total; budget++ {
				t.Run("crash after call "+strconv.Itoa(budget), func(t *testing.T) {
					w := start.prepare(t)
					signerBefore := w.hydra.Signer(testSet)
					crash := &fake.Crash{Budget: budget}
					r := w.rotator("crashy")
					r.Store = fake.CrashingStore{Store: w.store, Crash: crash}
					r.Hydra = fake.CrashingHydra{Hydra: w.hydra, Crash: crash}
					if _, err := r.Step(context.Background()); !errors.Is(err, fake.ErrCrash) {
						t.Fatalf("got %v, want the injected crash", err)
					}
					if signerBefore != "" && w.hydra.SignerGaps() > 0 {
						t.Fatal("the run left the set without a signing key at some point")
					}
					w.clock.Add(31 * time.Second)
					next := w.rotator("rerun")
					step(t, next)
					if signerBefore != "" && w.hydra.SignerGaps() > 0 {
						t.Fatal("the rerun left the set without a signing key at some point")
					}
					j := w.journal(t)
					if a := j.Active(); a == nil || w.hydra.Signer(testSet) != a.Kid {
						t.Fatalf("after rerun: active %v, signer %s", a, w.hydra.Signer(testSet))
					}
					if len(j.InState(keyrotation.StateActive)) != 1 {
						t.Fatal("more than one active key")
					}
					noDrift(t, next)
				})
			}
		})
	}
}

func TestRevokeTheActiveKey(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	j := w.journal(t)
	leaked, standby := j.Active().Kid, j.Standby().Kid
	w.clock.Add(5 * time.Minute)
	rep, err := r.Revoke(context.Background(), leaked, "leaked in a log", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Promoted != standby || rep.PromotedBeforeLead {
		t.Errorf("report %+v, want %s promoted after its lead", rep, standby)
	}
	if got := w.hydra.Signer(testSet); got != standby {
		t.Fatalf("signer %s, want the standby %s", got, standby)
	}
	for _, region := range []string{"eu", "us"} {
		kids, _ := w.regions.PublishedKids(context.Background(), region)
		if contains(kids, leaked) {
			t.Fatalf("%s still serves the revoked key", region)
		}
	}
	j = w.journal(t)
	k, _ := j.Key(leaked)
	if k.State != keyrotation.StateDestroyed || k.RevokedAt == nil {
		t.Fatalf("revoked key is %s (revoked %v)", k.State, k.RevokedAt)
	}
	if s := j.Standby(); s == nil || s.State != keyrotation.StatePublished {
		t.Fatal("revoke must leave a new published standby")
	}
	if rep.SafeAfter < rep.GoneEverywhere+time.Minute {
		t.Errorf("safe after %s, want gone (%s) + the verifier cache TTL", rep.SafeAfter, rep.GoneEverywhere)
	}
	noDrift(t, r)
	if _, err := r.Revoke(context.Background(), "no-such-kid", "", time.Second); !errors.Is(err, keyrotation.ErrUnknownKey) {
		t.Errorf("revoking an unknown kid: got %v, want ErrUnknownKey", err)
	}
}

func TestRotateNowPromotesOnceTheLeadHasPassed(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	first := w.journal(t).Active().Kid
	w.clock.Add(time.Minute) // standby served for 1 of the 2 minutes of lead
	if _, err := r.RequestRotation(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w.hydra.Signer(testSet) != first {
		t.Fatal("rotate --now must still respect the lead time")
	}
	w.clock.Add(time.Minute)
	step(t, r)
	if w.hydra.Signer(testSet) == first {
		t.Fatal("the requested rotation did not happen once the lead passed")
	}
	if w.journal(t).RotateRequestedAt != nil {
		t.Error("the request must be cleared by the promotion")
	}
}

func TestVerifyDetectsATamperedJournal(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	ref := keyrotation.SetRef{Issuer: "http://hydra.test/", Set: testSet}
	w.store.Tamper(ref, func(j *keyrotation.Journal) { j.Entries[0].Reason = "nothing to see" })
	drifts, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) == 0 || !strings.Contains(drifts[0].Problem, "tampered") {
		t.Fatalf("got %v, want a tampered journal reported", drifts)
	}
}

func TestVerifyDetectsDeploymentDrift(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	active := w.journal(t).Active().Kid
	w.hydra.DeleteKey(context.Background(), testSet, active)
	drifts, _ := r.Verify(context.Background())
	var text []string
	for _, d := range drifts {
		text = append(text, d.String())
	}
	joined := strings.Join(text, "\n")
	if !strings.Contains(joined, "active key missing") || !strings.Contains(joined, "region eu") {
		t.Fatalf("got:\n%s", joined)
	}
}

func TestAuditLogHasBeforeAfterAndRequestID(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	var buf bytes.Buffer
	r.Log = newJSONLogger(&buf)
	step(t, r)
	line := strings.SplitN(buf.String(), "\n", 2)[0]
	for _, want := range []string{`"msg":"transition"`, `"before":`, `"after":"generated"`, `"vault_request_id":"fake-`, `"hash":`} {
		if !strings.Contains(line, want) {
			t.Errorf("audit line %s lacks %s", line, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hydraOwnKey is a key as Hydra generates it: a UUID kid, not a thumbprint.
func hydraOwnKey(t *testing.T) keyrotation.JWK {
	t.Helper()
	k, err := keyrotation.GenerateKey(keyrotation.ES256, 0)
	if err != nil {
		t.Fatal(err)
	}
	k.KeyID = "5e4bd6a2-9f13-4c3e-8d2b-0f4a3c1e7b9d"
	return k
}

func TestAdoptsHydrasUUIDKeyAndRotatesItOut(t *testing.T) {
	w := newWorld()
	own := hydraOwnKey(t)
	w.hydra.PutKey(context.Background(), testSet, own)
	r := w.rotator("job")
	step(t, r)
	w.clock.Add(11 * time.Minute)
	step(t, r)
	if w.hydra.Signer(testSet) == own.KeyID {
		t.Fatal("the adopted key still signs after the cadence")
	}
	w.clock.Add(4 * time.Minute)
	step(t, r)
	k, _ := w.journal(t).Key(own.KeyID)
	if k.State != keyrotation.StateDestroyed {
		t.Fatalf("adopted key is %s, want destroyed", k.State)
	}
	if w.hydra.SignerGaps() != 0 {
		t.Fatal("the set was without a signer at some point")
	}
	noDrift(t, r)
	// Revoking an adopted active key works too.
	w2 := newWorld()
	w2.hydra.PutKey(context.Background(), testSet, own)
	r2 := w2.rotator("job")
	step(t, r2)
	w2.clock.Add(3 * time.Minute)
	if _, err := r2.Revoke(context.Background(), own.KeyID, "leaked", time.Second); err != nil {
		t.Fatal(err)
	}
	if w2.hydra.Signer(testSet) == own.KeyID || w2.hydra.SignerGaps() != 0 {
		t.Fatal("revoking the adopted key failed")
	}
}

// TestCrashedRevokeIsFinishedNeverUndone crashes a revoke after each of its
// changing calls; once the revocation is journaled, the next scheduled step
// finishes it, and the revoked key never signs again.
func TestCrashedRevokeIsFinishedNeverUndone(t *testing.T) {
	prepare := func() (*world, string) {
		w := newWorld()
		step(t, w.rotator("setup"))
		w.clock.Add(3 * time.Minute)
		return w, w.journal(t).Active().Kid
	}
	w, leaked := prepare()
	counter := &fake.Crash{Budget: -1}
	r := w.rotator("count")
	r.Store = fake.CrashingStore{Store: w.store, Crash: counter}
	r.Hydra = fake.CrashingHydra{Hydra: w.hydra, Crash: counter}
	if _, err := r.Revoke(context.Background(), leaked, "leaked", time.Second); err != nil {
		t.Fatal(err)
	}
	total := counter.Calls()
	for budget := 0; budget < total; budget++ {
		t.Run("crash after call "+strconv.Itoa(budget), func(t *testing.T) {
			w, leaked := prepare()
			crash := &fake.Crash{Budget: budget}
			r := w.rotator("revoker")
			r.Store = fake.CrashingStore{Store: w.store, Crash: crash}
			r.Hydra = fake.CrashingHydra{Hydra: w.hydra, Crash: crash}
			if _, err := r.Revoke(context.Background(), leaked, "leaked", time.Second); err == nil {
				t.Fatal("want the injected crash")
			}
			journaled := false
			if k, _ := w.journal(t).Key(leaked); k.RevokedAt != nil {
				journaled = true
			}
			w.clock.Add(31 * time.Second)
			step(t, w.rotator("cron"))
			if w.hydra.SignerGaps() != 0 {
				t.Fatal("the set was without a signer at some point")
			}
			k, _ := w.journal(t).Key(leaked)
			if journaled {
				if w.hydra.Signer(testSet) == leaked || k.State != keyrotation.StateDestroyed {
					t.Fatalf("a journaled revocation was not finished: signer %s, key %s", short(w.hydra.Signer(testSet)), k.State)
				}
			}
			noDrift(t, w.rotator("check"))
		})
	}
}

func TestRepublishedStandbyWaitsForTheLeadAgain(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	j := w.journal(t)
	first, standby := j.Active().Kid, j.Standby().Kid
	w.hydra.DeleteKey(context.Background(), testSet, standby) // gone, by hand
	w.clock.Add(11 * time.Minute)                             // a rotation is due
	step(t, r)
	if w.hydra.Signer(testSet) != first {
		t.Fatal("promoted a standby that had just been published again")
	}
	w.clock.Add(2 * time.Minute)
	step(t, r)
	if w.hydra.Signer(testSet) != standby {
		t.Fatal("not promoted once the lead passed again")
	}
}

// stallingHydra makes the first Keys call take long (in simulated time).
type stallingHydra struct {
	keyrotation.Hydra
	clock *clock
	stall time.Duration
	done  bool
}

func (h *stallingHydra) Keys(ctx context.Context, set string) ([]keyrotation.JWK, error) {
	if !h.done {
		h.done = true
		h.clock.Add(h.stall)
	}
	return h.Hydra.Keys(ctx, set)
}

func TestAStalledRunStopsBeforeItsLeaseRunsOut(t *testing.T) {
	w := newWorld()
	step(t, w.rotator("setup"))
	w.hydra.DeleteKey(context.Background(), testSet, w.journal(t).Standby().Kid) // reconcile will want to write
	before, _ := w.hydra.Keys(context.Background(), testSet)
	r := w.rotator("slow")
	r.Hydra = &stallingHydra{Hydra: w.hydra, clock: w.clock, stall: 25 * time.Second}
	_, err := r.Step(context.Background())
	if !errors.Is(err, keyrotation.ErrLeaseLost) {
		t.Fatalf("got %v, want ErrLeaseLost", err)
	}
	after, _ := w.hydra.Keys(context.Background(), testSet)
	if len(after) != len(before) {
		t.Fatal("the stalled run wrote to Hydra after its lease ran low")
	}
}

func TestADeletedJournalIsNotSilentlyReadopted(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	w.store.DeleteJournal(keyrotation.SetRef{Issuer: "http://hydra.test/", Set: testSet})
	if _, err := r.Step(context.Background()); !errors.Is(err, keyrotation.ErrJournalMissing) {
		t.Fatalf("got %v, want ErrJournalMissing", err)
	}
}

func short(kid string) string {
	if len(kid) > 10 {
		return kid[:10]
	}
	return kid
}
