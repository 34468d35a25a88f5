// Package probe makes the traffic a chaos scenario runs under and records
// every operation: HTTP logins per region at a steady rate, registrations
// whose acknowledgement is a promise the checks hold the stack to, browser
// logins through the e2e flows, and an independent token verifier that
// caches the JWKS like a resource server. Every loop is bounded in count
// and stops with its context.
package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/e2e/flows"
)

// Global is the region name of probes that go through the global names
// (the global edge picks the region).
const Global = "global"

// Recorder keeps the events and key sightings of a run. It is safe for
// concurrent use.
type Recorder struct {
	mu      sync.Mutex
	events  []chaos.Event
	keys    map[string]time.Time
	skipped map[string]int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{keys: map[string]time.Time{}, skipped: map[string]int{}}
}

// Skipped counts a tick of loop that started nothing (see Traffic.Run).
func (r *Recorder) Skipped(loop string) {
	r.mu.Lock()
	r.skipped[loop]++
	r.mu.Unlock()
}

// SkippedTicks returns the skipped ticks per loop, nil when none were.
func (r *Recorder) SkippedTicks() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.skipped) == 0 {
		return nil
	}
	out := make(map[string]int, len(r.skipped))
	for k, v := range r.skipped {
		out[k] = v
	}
	return out
}

// Add records one event.
func (r *Recorder) Add(e chaos.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// SawKey records the first time kid was seen published.
func (r *Recorder) SawKey(kid string, at time.Time) {
	r.mu.Lock()
	if _, ok := r.keys[kid]; !ok {
		r.keys[kid] = at
	}
	r.mu.Unlock()
}

// Events returns the events sorted by start time.
func (r *Recorder) Events() []chaos.Event {
	r.mu.Lock()
	out := append([]chaos.Event(nil), r.events...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Keys returns the key sightings, oldest first.
func (r *Recorder) Keys() []chaos.KeySighting {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]chaos.KeySighting, 0, len(r.keys))
	for k, t := range r.keys {
		out = append(out, chaos.KeySighting{Kid: k, Published: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Published.Before(out[j].Published) })
	return out
}

// User is a probe identity.
type User struct{ Email, Password string }

// Traffic is the load a scenario runs under.
type Traffic struct {
	HTTP   *http.Client // reaches every URL; has a timeout
	Client Client
	// Bridges maps each probed region (Global included) to its bridge URL,
	// where registrations go.
	Bridges  map[string]string
	Users    []User
	Verifier *Verifier
	// JWKSURL is polled for key sightings.
	JWKSURL string
	// Browser runs browser logins through App when both are set.
	Browser *flows.Runner
	App     *e2e.App

	// Sessions are, per region, signed-in clients for session logins; one
	// runs at a time on each, so their number bounds a region's session
	// logins in flight.
	Sessions map[string][]*Session

	LoginEvery    time.Duration // per region; 0: no password logins
	SessionEvery  time.Duration // per region; 0: no session logins
	RegisterEvery time.Duration // 0: no registrations
	BrowserEvery  time.Duration // 0: no browser logins
	KeyPollEvery  time.Duration
	// MaxOps bounds every loop, whatever its context says.
	MaxOps int
	Seed   int64
	Rec    *Recorder
	// Tag makes registration addresses unique per scenario of a run (the
	// seed alone repeats them).
	Tag string
	// Password is given to registered users.
	Password string
}

// Run makes traffic until ctx is done and every loop has stopped.
//
// The login, registration and browser loops are open: an operation starts
// on every tick whether or not the ones before it have finished, up to a
// few in flight, so a slow answer does not hold the next attempt back and
// the history samples the service at a steady rate (a closed loop would
// measure a slow link as long gaps between logins). A tick that finds the
// loop at its bound starts nothing and counts as skipped.
func (t *Traffic) Run(ctx context.Context) {
	var wg sync.WaitGroup
	// Each loop starts at its own phase of its period, so that the
	// password hashes of the regions' logins, the registrations and the
	// browser's sign-ins do not all land on the cores at the same instant
	// (a pile-up the steady state would rightly refuse as overload).
	loop := func(name string, every time.Duration, phase float64, inFlight int, next func(i int) func(ctx context.Context)) {
		if every <= 0 {
			return
		}
		wg.Go(func() {
			sleep(ctx, time.Duration(phase*float64(every)))
			openLoop(ctx, every, inFlight, t.MaxOps, next, func() { t.Rec.Skipped(name) })
		})
	}
	regions := make([]string, 0, len(t.Bridges))
	for r := range t.Bridges {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for n, region := range regions {
		rng := rand.New(rand.NewPCG(uint64(t.Seed), uint64(n)))
		loop("login-"+region, t.LoginEvery, float64(n)/float64(len(regions)), loginsInFlight, func(int) func(context.Context) {
			u := t.Users[rng.IntN(len(t.Users))]
			return func(ctx context.Context) { t.httpLogin(ctx, region, u) }
		})
	}
	for n, region := range regions {
		pool := make(chan *Session, len(t.Sessions[region]))
		for _, s := range t.Sessions[region] {
			pool <- s
		}
		if len(pool) == 0 {
			continue
		}
		loop("session-"+region, t.SessionEvery, (float64(n)+0.5)/float64(len(regions)), len(pool), func(int) func(context.Context) {
			return func(ctx context.Context) {
				s := <-pool // the loop's bound is the pool's size: one is free
				defer func() { pool <- s }()
				t.sessionLogin(ctx, region, s)
			}
		})
	}
	loop("register", t.RegisterEvery, 0.37, 2, func(i int) func(context.Context) {
		return func(ctx context.Context) { t.register(ctx, regions[i%len(regions)], i) }
	})
	if t.Browser != nil && t.App != nil {
		rng := rand.New(rand.NewPCG(uint64(t.Seed), 99))
		var real []string
		for _, r := range regions {
			if r != Global {
				real = append(real, r)
			}
		}
		loop("browser", t.BrowserEvery, 0.71, 1, func(i int) func(context.Context) {
			region, u := real[i%len(real)], t.Users[rng.IntN(len(t.Users))]
			return func(ctx context.Context) { t.browserLogin(ctx, region, u) }
		})
	}
	loop("keys", t.KeyPollEvery, 0, 1, func(int) func(context.Context) {
		return func(ctx context.Context) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if set, err := FetchJWKS(cctx, t.HTTP, t.JWKSURL); err == nil {
				now := time.Now()
				for _, k := range set.Keys {
					t.Rec.SawKey(k.KeyID, now)
				}
			}
		}
	})
	wg.Wait()
}

// openLoop starts up to max operations, one per tick of every, with at
// most inFlight running; a tick at the bound calls skipped instead. It
// calls next(i) on its own goroutine, in order (so seeded picks repeat),
// runs what it returns on another, and returns when ctx is done or max
// ticks have passed, once every operation it started has returned.
func openLoop(ctx context.Context, every time.Duration, inFlight, max int, next func(i int) func(ctx context.Context), skipped func()) {
	var ops sync.WaitGroup
	defer ops.Wait()
	slots := make(chan struct{}, inFlight)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; i < max && ctx.Err() == nil; i++ {
		op := next(i)
		select {
		case slots <- struct{}{}:
			ops.Go(func() {
				defer func() { <-slots }()
				op(ctx)
			})
		default:
			skipped()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// loginsInFlight bounds each region's open password-login loop: four in
// flight absorb answers of up to four periods without a skipped tick.
const loginsInFlight = 4

// opContext bounds one operation to 15 s. It outlives the run's context,
// so an operation under way when the traffic stops finishes and is
// recorded.
func opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
}

func (t *Traffic) httpLogin(ctx context.Context, region string, u User) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	tok, err := Login(octx, t.HTTP, t.Client, region, u.Email, u.Password)
	t.recordLogin(octx, chaos.ProbeHTTPLogin, region, start, tok, err)
}

func (t *Traffic) sessionLogin(ctx context.Context, region string, s *Session) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	tok, err := s.Authorize(octx)
	t.recordLogin(octx, chaos.ProbeSessionLogin, region, start, tok, err)
}

func (t *Traffic) recordLogin(ctx context.Context, kind chaos.ProbeKind, region string, start time.Time, tok Tokens, err error) {
	ev := chaos.Event{Probe: kind, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Subject: tok.Subject, Kid: tok.Kid,
		CodeAt: tok.CodeAt, ExchangeStart: tok.ExchangeStart, ExchangeEnd: tok.ExchangeEnd}
	if err != nil {
		ev.Err = err.Error()
	}
	t.Rec.Add(ev)
	if err == nil {
		t.verify(ctx, region, tok)
	}
}

func (t *Traffic) verify(ctx context.Context, region string, tok Tokens) {
	if t.Verifier == nil || tok.IDToken == "" {
		return
	}
	start := time.Now()
	kid, jti, err := t.Verifier.Verify(ctx, tok.IDToken)
	ev := chaos.Event{Probe: chaos.ProbeVerify, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Kid: kid, Token: jti,
		CodeAt: tok.CodeAt, ExchangeStart: tok.ExchangeStart, ExchangeEnd: tok.ExchangeEnd}
	if err != nil {
		ev.Err = err.Error()
	}
	if m := (*KidMismatch)(nil); errors.As(err, &m) {
		ev.SignedBy = m.SignedBy
	}
	t.Rec.Add(ev)
}

func (t *Traffic) register(ctx context.Context, region string, i int) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	email := fmt.Sprintf("chaos-%d-%s-%d-%s@example.com", t.Seed, t.Tag, i, region)
	start := time.Now()
	err := Register(octx, t.HTTP, t.Bridges[region], email, t.Password)
	ev := chaos.Event{Probe: chaos.ProbeRegister, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Email: email}
	if err != nil {
		ev.Err = err.Error()
	}
	t.Rec.Add(ev)
}

func (t *Traffic) browserLogin(ctx context.Context, region string, u User) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := t.Browser.SignIn(octx, region, flows.User{Email: u.Email, Password: u.Password}, flows.Accept)
	ev := chaos.Event{Probe: chaos.ProbeBrowserLogin, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Subject: res.Subject}
	if err != nil {
		ev.Err = err.Error()
	}
	login, ok := t.App.Login(res.Probe)
	tok := Tokens{IDToken: login.IDToken, CodeAt: login.CodeAt, ExchangeStart: login.ExchangeStart, ExchangeEnd: login.ExchangeEnd}
	if ok {
		_, ev.Kid, _ = peek(login.IDToken)
		ev.CodeAt, ev.ExchangeStart, ev.ExchangeEnd = tok.CodeAt, tok.ExchangeStart, tok.ExchangeEnd
	}
	t.Rec.Add(ev)
	if ok {
		t.verify(octx, region, tok)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
