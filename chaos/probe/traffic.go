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
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/dbprobe"
	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/e2e/flows"
)

// Global is the region name of probes that go through the global names
// (the global edge picks the region).
const Global = "global"

// Report is what one run of the traffic observed.
type Report struct {
	// Events are the operations the run started, each with its outcome,
	// ordered by start time. An operation under way when the run was
	// stopped is waited for and included.
	Events []chaos.Event
	// Keys are the keys the JWKS poll saw, each with when it first did,
	// oldest first.
	Keys []chaos.KeySighting
	// SkippedTicks counts, per loop, the ticks that started nothing
	// because the loop was at its bound (nil when none were).
	SkippedTicks map[string]int
}

// collector gathers one run's report; the run owns it and hands back
// what it holds when every loop has stopped. It is safe for concurrent
// use by the run's operations.
type collector struct {
	mu      sync.Mutex
	events  []chaos.Event
	keys    map[string]time.Time
	skipped map[string]int
	logins  int
	failed  int
}

func newCollector() *collector {
	return &collector{keys: map[string]time.Time{}, skipped: map[string]int{}}
}

func (c *collector) skip(loop string) {
	c.mu.Lock()
	c.skipped[loop]++
	c.mu.Unlock()
}

func (c *collector) add(e chaos.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	if e.IsLogin() {
		c.logins++
		if !e.OK {
			c.failed++
		}
	}
	c.mu.Unlock()
}

func (c *collector) sawKey(kid string, at time.Time) {
	c.mu.Lock()
	if _, ok := c.keys[kid]; !ok {
		c.keys[kid] = at
	}
	c.mu.Unlock()
}

func (c *collector) counts() (logins, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins, c.failed
}

func (c *collector) report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Report{Events: append([]chaos.Event(nil), c.events...), Keys: make([]chaos.KeySighting, 0, len(c.keys))}
	sort.SliceStable(r.Events, func(i, j int) bool { return r.Events[i].Start.Before(r.Events[j].Start) })
	for k, t := range c.keys {
		r.Keys = append(r.Keys, chaos.KeySighting{Kid: k, Published: t})
	}
	sort.Slice(r.Keys, func(i, j int) bool { return r.Keys[i].Published.Before(r.Keys[j].Published) })
	if len(c.skipped) > 0 {
		r.SkippedTicks = maps.Clone(c.skipped)
	}
	return r
}

// Writer writes one row through a region's route to the database and
// reports the member that acknowledged it (package dbprobe).
type Writer interface {
	Write(ctx context.Context, key string) (dbprobe.Ack, error)
}

// User is a probe identity.
type User struct{ Email, Password string }

// Traffic is the load a scenario runs under. One Traffic may be run
// several times, also with runs overlapping (a run that is stopping
// finishes its operations while the next starts): the session clients are
// shared by every run, one operation at a time on each.
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
	PathEvery     time.Duration // per region, on its first session; 0: no path probes
	// Writers write through each region's route to the database, every
	// WriteEvery (0: no writes).
	Writers      map[string]Writer
	WriteEvery   time.Duration
	KeyPollEvery time.Duration
	// MaxOps bounds every loop, whatever its context says.
	MaxOps int
	Seed   int64
	// Tag makes registration addresses unique per scenario of a suite
	// (the seed alone repeats them).
	Tag string
	// Password is given to registered users.
	Password string
	// Log, when set, receives a progress line every 5 s of a run.
	Log io.Writer

	poolsOnce sync.Once
	pools     map[string]chan *Session
	epochOnce sync.Once
	start     time.Time
	claimsMu  sync.Mutex
	claims    map[string]*claims
}

// epoch is when the first run started: every run's loops tick on grids
// from it.
func (t *Traffic) epoch() time.Time {
	t.epochOnce.Do(func() { t.start = time.Now() })
	return t.start
}

// claimsOf returns loop name's claims, shared by every run.
func (t *Traffic) claimsOf(name string) *claims {
	t.claimsMu.Lock()
	defer t.claimsMu.Unlock()
	if t.claims == nil {
		t.claims = map[string]*claims{}
	}
	if t.claims[name] == nil {
		t.claims[name] = &claims{}
	}
	return t.claims[name]
}

// sessionPools returns, per region, the free session clients; every run
// shares them.
func (t *Traffic) sessionPools() map[string]chan *Session {
	t.poolsOnce.Do(func() {
		t.pools = map[string]chan *Session{}
		for region, ss := range t.Sessions {
			pool := make(chan *Session, len(ss))
			for _, s := range ss {
				pool <- s
			}
			t.pools[region] = pool
		}
	})
	return t.pools
}

// Run makes traffic until ctx is done and every operation it started has
// returned, and reports what it observed. part names the run among the
// runs of one scenario: it keeps their registration addresses apart and
// labels the progress lines.
//
// The login, registration and browser loops are open: an operation starts
// on every tick whether or not the ones before it have finished, up to a
// few in flight, so a slow answer does not hold the next attempt back and
// the history samples the service at a steady rate (a closed loop would
// measure a slow link as long gaps between logins). A tick that finds the
// loop at its bound starts nothing and counts as skipped.
func (t *Traffic) Run(ctx context.Context, part string) Report {
	c := newCollector()
	var wg sync.WaitGroup
	// Each loop starts at its own phase of its period, so that the
	// password hashes of the regions' logins, the registrations and the
	// browser's sign-ins do not all land on the cores at the same instant
	// (a pile-up the steady state would rightly refuse as overload).
	epoch := t.epoch()
	loop := func(name string, every time.Duration, phase float64, inFlight int, next func(k, n int) func(ctx context.Context)) {
		if every <= 0 {
			return
		}
		g := grid{epoch: epoch, every: every, phase: time.Duration(phase * float64(every)), claims: t.claimsOf(name)}
		wg.Go(func() { openLoop(ctx, g, inFlight, t.MaxOps, next, func() { c.skip(name) }) })
	}
	regions := make([]string, 0, len(t.Bridges))
	for r := range t.Bridges {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for n, region := range regions {
		rng := rand.New(rand.NewPCG(uint64(t.Seed), uint64(n)))
		loop("login-"+region, t.LoginEvery, float64(n)/float64(len(regions)), loginsInFlight, func(int, int) func(context.Context) {
			u := t.Users[rng.IntN(len(t.Users))]
			return func(ctx context.Context) { t.httpLogin(ctx, c, region, u) }
		})
	}
	pools := t.sessionPools()
	for n, region := range regions {
		pool := pools[region]
		if cap(pool) == 0 {
			continue
		}
		loop("session-"+region, t.SessionEvery, (float64(n)+0.5)/float64(len(regions)), cap(pool), func(int, int) func(context.Context) {
			return func(ctx context.Context) {
				// One is free unless a run that is stopping still holds it.
				var s *Session
				select {
				case s = <-pool:
				case <-ctx.Done():
					return
				}
				defer func() { pool <- s }()
				t.sessionLogin(ctx, c, region, s)
			}
		})
	}
	for n, region := range regions {
		if len(t.Sessions[region]) == 0 {
			continue
		}
		// Path probes only read: they share a session with its logins.
		s := t.Sessions[region][0]
		loop("path-"+region, t.PathEvery, (float64(n)+0.25)/float64(len(regions)), pathsInFlight, func(int, int) func(context.Context) {
			return func(ctx context.Context) { t.reach(ctx, c, region, s) }
		})
	}
	writers := slices.Sorted(maps.Keys(t.Writers))
	for n, region := range writers {
		w := t.Writers[region]
		loop("write-"+region, t.WriteEvery, (float64(n)+0.6)/float64(len(writers)), writesInFlight, func(k, _ int) func(context.Context) {
			// The epoch keeps a rerun with the same seed on the same
			// stack from writing a key twice.
			key := fmt.Sprintf("%d-%d-%s-%s-%d-%s", epoch.UnixMilli(), t.Seed, t.Tag, part, k, region)
			return func(ctx context.Context) { t.write(ctx, c, region, w, key) }
		})
	}
	loop("register", t.RegisterEvery, 0.37, 2, func(k, n int) func(context.Context) {
		region := regions[n%len(regions)]
		email := fmt.Sprintf("chaos-%d-%s-%s-%d-%s@example.com", t.Seed, t.Tag, part, k, region)
		return func(ctx context.Context) { t.register(ctx, c, region, email) }
	})
	if t.Browser != nil && t.App != nil {
		rng := rand.New(rand.NewPCG(uint64(t.Seed), 99))
		var real []string
		for _, r := range regions {
			if r != Global {
				real = append(real, r)
			}
		}
		loop("browser", t.BrowserEvery, 0.71, 1, func(_, n int) func(context.Context) {
			region, u := real[n%len(real)], t.Users[rng.IntN(len(t.Users))]
			return func(ctx context.Context) { t.browserLogin(ctx, c, region, u) }
		})
	}
	loop("keys", t.KeyPollEvery, 0, 1, func(int, int) func(context.Context) {
		return func(ctx context.Context) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if set, err := FetchJWKS(cctx, t.HTTP, t.JWKSURL); err == nil {
				now := time.Now()
				for _, k := range set.Keys {
					c.sawKey(k.KeyID, now)
				}
			}
		}
	})
	stopProgress := t.progress(ctx, c, part)
	wg.Wait()
	stopProgress()
	return c.report()
}

// progress writes a line every 5 s to t.Log: the run's part, its elapsed
// time, the logins it made and how many failed.
func (t *Traffic) progress(ctx context.Context, c *collector, part string) func() {
	if t.Log == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				n, failed := c.counts()
				fmt.Fprintf(t.Log, "    traffic part %s %3.0fs  %4d logins, %d failed\n", part, time.Since(start).Seconds(), n, failed)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// grid is a loop's schedule: ticks at epoch + phase + k·every for k = 0,
// 1, 2, …. Every run of one Traffic ticks on the same grid, so a
// scenario's parts form one steady schedule: a part does not restart the
// phases (a probe rarer than a part would never fire). Runs that overlap
// (one stopping as the next starts) share the loop's claims, so no tick
// fires twice.
type grid struct {
	epoch        time.Time
	every, phase time.Duration
	claims       *claims
}

// claims hands out a loop's ticks and counts its started operations,
// across the runs of one Traffic.
type claims struct {
	mu      sync.Mutex
	next    int // the first tick nobody has claimed
	started int
}

// claim takes tick k unless a run took it already; it reports whether
// the caller has it.
func (c *claims) claim(k int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k < c.next {
		return false
	}
	c.next = k + 1
	return true
}

// from is the first tick not claimed yet.
func (c *claims) from() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

// start counts one started operation and returns how many started
// before it: what picks the target of the loops that go round their
// targets, so that a skipped tick never skips a target.
func (c *claims) start() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started++
	return c.started - 1
}

// after returns the first tick at or after now whose index is at least
// from, and its index.
func (g grid) after(now time.Time, from int) (int, time.Time) {
	k := 0
	if d := now.Sub(g.epoch.Add(g.phase)); d > 0 {
		k = int((d + g.every - 1) / g.every)
	}
	k = max(k, from)
	return k, g.epoch.Add(g.phase + time.Duration(k)*g.every)
}

// openLoop starts up to max operations, one per tick of g that it claims,
// with at most inFlight running; a tick at the bound calls skipped
// instead. For each operation it starts it calls next(k, n), k the tick's
// index and n the loop's count of operations started before (over every
// run of the Traffic), on its own goroutine, in order (so seeded picks
// repeat), runs what it returns on another, and returns when ctx is done
// or max ticks have passed, once every operation it started has returned.
// A tick it was too late for (the process stalled) is dropped, not made
// up with a burst.
func openLoop(ctx context.Context, g grid, inFlight, max int, next func(k, n int) func(ctx context.Context), skipped func()) {
	var ops sync.WaitGroup
	defer ops.Wait()
	slots := make(chan struct{}, inFlight)
	for ticks := 0; ticks < max; {
		k, at := g.after(time.Now(), g.claims.from())
		if !sleepUntil(ctx, at) {
			return
		}
		if !g.claims.claim(k) {
			continue // an overlapping run fired it
		}
		ticks++
		select {
		case slots <- struct{}{}:
			op := next(k, g.claims.start())
			ops.Go(func() {
				defer func() { <-slots }()
				op(ctx)
			})
		default:
			skipped()
		}
	}
}

// sleepUntil waits until at or until ctx is done; it reports whether ctx
// is still live.
func sleepUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return ctx.Err() == nil
	}
}

// loginsInFlight bounds each region's open password-login loop: four in
// flight absorb answers of up to four periods without a skipped tick.
// pathsInFlight bounds a region's path probes likewise: a path probe
// waiting on a frozen replica must not hold back the next one, which
// the edge sends elsewhere.
// writesInFlight bounds a region's writes: a write waits out a failover
// (up to its 20 s bound), and the ones after it must go on sampling.
const (
	loginsInFlight = 4
	pathsInFlight  = 4
	writesInFlight = 48
)

// opContext bounds one operation to 15 s. It outlives the run's context,
// so an operation under way when the traffic stops finishes and is
// recorded.
func opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
}

func (t *Traffic) httpLogin(ctx context.Context, c *collector, region string, u User) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	tok, err := Login(octx, t.HTTP, t.Client, region, u.Email, u.Password)
	t.recordLogin(octx, c, chaos.ProbeHTTPLogin, region, start, tok, err)
}

func (t *Traffic) sessionLogin(ctx context.Context, c *collector, region string, s *Session) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	tok, err := s.Authorize(octx)
	t.recordLogin(octx, c, chaos.ProbeSessionLogin, region, start, tok, err)
}

func (t *Traffic) reach(ctx context.Context, c *collector, region string, s *Session) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	err := s.Reach(octx, t.Bridges[region])
	ev := chaos.Event{Probe: chaos.ProbePath, Region: region, Start: start, Latency: time.Since(start), OK: err == nil}
	if err != nil {
		ev.Err = err.Error()
	}
	c.add(ev)
}

func (t *Traffic) recordLogin(ctx context.Context, c *collector, kind chaos.ProbeKind, region string, start time.Time, tok Tokens, err error) {
	ev := chaos.Event{Probe: kind, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Subject: tok.Subject, Kid: tok.Kid,
		CodeAt: tok.CodeAt, ExchangeStart: tok.ExchangeStart, ExchangeEnd: tok.ExchangeEnd}
	if err != nil {
		ev.Err = err.Error()
	}
	c.add(ev)
	if err == nil {
		t.verify(ctx, c, region, tok)
	}
}

func (t *Traffic) verify(ctx context.Context, c *collector, region string, tok Tokens) {
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
	c.add(ev)
}

func (t *Traffic) register(ctx context.Context, c *collector, region, email string) {
	if ctx.Err() != nil {
		return
	}
	octx, cancel := opContext(ctx)
	defer cancel()
	start := time.Now()
	err := Register(octx, t.HTTP, t.Bridges[region], email, t.Password)
	ev := chaos.Event{Probe: chaos.ProbeRegister, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Email: email}
	if err != nil {
		ev.Err = err.Error()
	}
	c.add(ev)
}

// write runs one write. It has its own bound (dbprobe.Route) and is never
// cut short by the run's end: a write abandoned mid-commit would say
// nothing of whether it was acknowledged.
func (t *Traffic) write(ctx context.Context, c *collector, region string, w Writer, key string) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	ack, err := w.Write(context.WithoutCancel(ctx), key)
	ev := chaos.Event{Probe: chaos.ProbeWrite, Region: region, Start: start, Latency: time.Since(start), OK: err == nil, Key: key, Server: ack.Server, Timeline: ack.Timeline}
	if err != nil {
		ev.Err = err.Error()
	}
	c.add(ev)
}

func (t *Traffic) browserLogin(ctx context.Context, c *collector, region string, u User) {
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
	c.add(ev)
	if ok {
		t.verify(octx, c, region, tok)
	}
}
