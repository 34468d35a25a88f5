// Package runner runs chaos scenarios against a target: it checks the
// steady state, starts the probes, injects and heals each fault on its
// schedule, lets the system settle, stops the probes, checks the
// invariants and measures, and hands back a verdict per scenario. Faults
// are healed on every exit path: success, failure, panic, SIGINT, SIGTERM.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/check"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/chaos/probe"
	"github.com/idstack/idstack/chaos/scenario"
	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/e2e/browser"
	"github.com/idstack/idstack/e2e/flows"
)

// ErrSteadyState is returned when the system was not healthy before any
// fault: the run stops and blames no fault.
var ErrSteadyState = errors.New("steady state does not hold before any fault")

// Target is a deployment a scenario runs against.
type Target interface {
	Name() string
	// Env is the deployment's URLs and admin access (package e2e).
	Env() e2e.Env
	// Faults is what faults act on.
	Faults() fault.Env
	// Health lists what is unhealthy right now (nothing when healthy).
	Health(ctx context.Context) []string
	// HealAll undoes every fault still active.
	HealAll(ctx context.Context) error
	// Versions of the components, for the report.
	Versions() map[string]string
	// KeyLead is the rotation policy's lead (0 when nothing rotates).
	KeyLead() time.Duration
}

// Options shape a run.
type Options struct {
	Seed int64
	// Warmup is the traffic before the first fault; Settle the traffic
	// after the last heal.
	Warmup, Settle time.Duration
	LoginEvery     time.Duration // HTTP logins, per region (global included)
	RegisterEvery  time.Duration
	BrowserEvery   time.Duration // 0: no browser probe
	KeyPollEvery   time.Duration
	// VerifierTTL is how long the token verifier caches the JWKS.
	VerifierTTL time.Duration
	// ResultsDir receives failed browser flows' artefacts.
	ResultsDir string
	Log        io.Writer
}

// DefaultOptions are the rates and timings of the default suite.
func DefaultOptions() Options {
	return Options{
		Warmup: 6 * time.Second, Settle: 12 * time.Second,
		LoginEvery: time.Second, RegisterEvery: 2 * time.Second,
		// A real Chromium sign-in (the e2e flows) every 5 s, beside the
		// HTTP logins; --browser-every 0 turns it off.
		BrowserEvery: 5 * time.Second,
		KeyPollEvery: time.Second, VerifierTTL: 4 * time.Second,
	}
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// probeUsers is how many identities the login probes share.
const probeUsers = 4

// Run runs scenarios in order against target and returns the suite's
// result. It stops early, with ErrSteadyState, when the steady state fails
// before a scenario's first fault.
func Run(ctx context.Context, target Target, scenarios []scenario.Scenario, o Options) (chaos.SuiteResult, error) {
	suite := chaos.SuiteResult{Seed: o.Seed, Target: target.Name(), Versions: target.Versions(), Start: time.Now(), Passed: true}
	env := target.Env()
	f, err := setup(ctx, target, o)
	if err != nil {
		return suite, err
	}
	defer f.close(env)
	for i, sc := range scenarios {
		if ctx.Err() != nil {
			break
		}
		o.logf("[%d/%d] %s", i+1, len(scenarios), strings.TrimRight(sc.Plan(), "\n"))
		res, err := runOne(ctx, target, f, sc, o)
		suite.Results = append(suite.Results, res)
		suite.Passed = suite.Passed && res.Passed
		if res.Aborted != "" {
			o.logf("  %s", res.Aborted)
		} else {
			m := res.Measurements
			o.logf("  %s: %.1f%% of %d logins ok; unavailable %s; recovery %s", verdict(res.Passed), 100*m.SuccessRate, m.Attempts, worst(m.Unavailable), worst(m.Recovery))
			for _, c := range res.Checks {
				if !c.OK {
					o.logf("    FAILED %s: %s", c.Name, c.Detail)
				}
			}
		}
		if err != nil {
			suite.End = time.Now()
			return suite, err
		}
	}
	suite.End = time.Now()
	return suite, ctx.Err()
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func worst(m map[string]time.Duration) string {
	var w time.Duration
	var where string
	for r, d := range m {
		if d > w || where == "" {
			w, where = d, r
		}
	}
	if where == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", w.Round(10*time.Millisecond), where)
}

// fixture is what every scenario of a run shares: probe users, the OAuth2
// client and app, the browser.
type fixture struct {
	users   []probe.User
	emails  []string
	app     *e2e.App
	browser *browser.Browser
	client  probe.Client
	bridges map[string]string

	mu    sync.Mutex
	acked []string // registrations acknowledged, over the whole run
}

func setup(ctx context.Context, target Target, o Options) (*fixture, error) {
	env := target.Env()
	f := &fixture{bridges: map[string]string{}}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for i := range probeUsers {
		u := probe.User{Email: fmt.Sprintf("chaos-probe-%d-%d@example.com", o.Seed, i), Password: "chaos probe passphrase " + fmt.Sprint(o.Seed)}
		if err := env.CreateIdentity(sctx, u.Email, u.Password); err != nil {
			f.close(env)
			return nil, fmt.Errorf("create probe user: %w", err)
		}
		f.users, f.emails = append(f.users, u), append(f.emails, u.Email)
	}
	app, err := env.StartApp(sctx, e2e.AppOptions{Name: "idstack chaos probe", ClientID: env.FirstPartyClientID})
	if err != nil {
		f.close(env)
		return nil, err
	}
	f.app = app
	f.client = probe.Client{ID: app.ClientID, Secret: app.ClientSecret(), RedirectURL: app.RedirectURL(),
		AuthURL: map[string]string{probe.Global: strings.TrimSuffix(env.Issuer, "/") + "/oauth2/auth"}, TokenURL: strings.TrimSuffix(env.Issuer, "/") + "/oauth2/token"}
	for r, u := range env.AuthURLs {
		f.client.AuthURL[r] = u
	}
	for r, u := range env.Login {
		f.bridges[r] = u
	}
	if env.GlobalLogin != "" {
		f.bridges[probe.Global] = env.GlobalLogin
	}
	if o.BrowserEvery > 0 {
		b, err := browser.Launch(context.WithoutCancel(ctx), browser.Options{HostRules: env.HostRules, ResultsDir: o.ResultsDir})
		if err != nil {
			f.close(env)
			return nil, err
		}
		f.browser = b
	}
	return f, nil
}

func (f *fixture) close(env e2e.Env) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if f.browser != nil {
		f.browser.Close()
	}
	if f.app != nil {
		f.app.Close(ctx)
	}
	f.mu.Lock()
	emails := append(append([]string(nil), f.emails...), f.acked...)
	f.mu.Unlock()
	env.DeleteIdentities(ctx, emails)
}

func runOne(ctx context.Context, target Target, f *fixture, sc scenario.Scenario, o Options) (res chaos.Result, err error) {
	fenv := target.Faults()
	for _, t := range sc.Faults {
		if err := t.Fault.Available(fenv); err != nil {
			return chaos.Result{History: chaos.History{Scenario: sc.Name, Seed: o.Seed}, SLO: sc.SLO, Passed: true, Aborted: "skipped: " + err.Error()}, nil
		}
	}
	h := chaos.History{Scenario: sc.Name, Seed: o.Seed, Versions: target.Versions(), KeyLead: target.KeyLead()}
	if lead := target.KeyLead(); lead > o.KeyPollEvery {
		// A key is seen up to one poll after it is published.
		h.KeyLead = lead - o.KeyPollEvery
	}
	for r := range f.bridges {
		h.Regions = append(h.Regions, r)
	}
	sort.Strings(h.Regions)
	if problems := steadyState(ctx, target, f); len(problems) > 0 {
		msg := "aborted: " + ErrSteadyState.Error() + ": " + strings.Join(problems, "; ")
		return chaos.Result{History: h, SLO: sc.SLO, Aborted: msg}, fmt.Errorf("%s: %w: %s", sc.Name, ErrSteadyState, strings.Join(problems, "; "))
	}
	env := target.Env()
	rec := probe.NewRecorder()
	var revokedMu sync.Mutex
	fenv.Revoked = func(kid string) { revokedMu.Lock(); h.Revoked = append(h.Revoked, kid); revokedMu.Unlock() }
	fenv.Log = func(format string, args ...any) { o.logf("    "+format, args...) }
	// Keys published before the run carry a zero time.
	jctx, jcancel := context.WithTimeout(ctx, 10*time.Second)
	if set, err := probe.FetchJWKS(jctx, env.HTTP, jwksURL(env)); err == nil {
		for _, k := range set.Keys {
			rec.SawKey(k.KeyID, time.Time{})
		}
	}
	jcancel()
	tr := &probe.Traffic{
		HTTP: env.HTTP, Client: f.client, Bridges: f.bridges, Users: f.users,
		Verifier: &probe.Verifier{JWKSURL: jwksURL(env), Issuer: env.Issuer, Audience: f.client.ID, TTL: o.VerifierTTL, HTTP: env.HTTP},
		JWKSURL:  jwksURL(env), LoginEvery: o.LoginEvery, RegisterEvery: o.RegisterEvery, KeyPollEvery: o.KeyPollEvery,
		MaxOps: 10000, Seed: o.Seed, Tag: sc.Name, Rec: rec, Password: "chaos registration passphrase",
		OnRegistered: func(email string) { f.mu.Lock(); f.acked = append(f.acked, email); f.mu.Unlock() },
	}
	if f.browser != nil {
		tr.Browser, tr.App, tr.BrowserEvery = &flows.Runner{Browser: f.browser, Target: env.Target(f.app.URL)}, f.app, o.BrowserEvery
	}
	h.Start = time.Now()
	tctx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	var trafficDone sync.WaitGroup
	trafficDone.Add(1)
	go func() { defer trafficDone.Done(); tr.Run(tctx) }()
	stopProgress := progress(o, rec, h.Start)

	windows, ferr := schedule(ctx, fenv, sc, o, &h)
	h.Faults = windows
	if !h.Healed.IsZero() {
		sleep(ctx, o.Settle)
	}
	stopTraffic()
	trafficDone.Wait()
	stopProgress()
	h.End = time.Now()
	if err := target.HealAll(context.WithoutCancel(ctx)); err != nil {
		ferr = errors.Join(ferr, fmt.Errorf("heal: %w", err))
	}
	h.Events, h.Keys, h.SkippedTicks = rec.Events(), rec.Keys(), rec.SkippedTicks()
	h.HealthAfter = waitHealthy(ctx, target, 60*time.Second)
	h.Missing = missing(ctx, env, registered(h.Events))
	res = check.Judge(h, sc.SLO)
	if ferr != nil {
		res.Checks = append(res.Checks, chaos.CheckResult{Name: "faults injected and healed", OK: false, Detail: ferr.Error()})
		res.Passed = false
	}
	return res, nil
}

// schedule injects and heals sc's faults on their timing, after the
// warm-up, and records their windows. Every fault injected is healed, also
// when ctx ends.
func schedule(ctx context.Context, fenv fault.Env, sc scenario.Scenario, o Options, h *chaos.History) ([]chaos.FaultWindow, error) {
	sleep(ctx, o.Warmup)
	h.FaultsStart = time.Now()
	var mu sync.Mutex
	var windows []chaos.FaultWindow
	var errs []error
	var wg sync.WaitGroup
	for _, t := range sc.Faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleep(ctx, t.At)
			if ctx.Err() != nil {
				return // interrupted before its time: never injected
			}
			w := chaos.FaultWindow{Fault: t.Fault.Name(), Target: t.Fault.Target(), Start: time.Now()}
			ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			err := guard(func() error { return t.Fault.Inject(ictx, fenv) })
			cancel()
			if err != nil {
				w.Err = "inject: " + err.Error()
			} else {
				o.logf("    +%s injected %s %s", time.Since(h.Start).Round(100*time.Millisecond), w.Fault, w.Target)
				sleep(ctx, t.For)
			}
			// Heal also after a failed or panicking inject: part of it may
			// have happened.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			if herr := guard(func() error { return t.Fault.Heal(hctx, fenv) }); herr != nil {
				w.Err = strings.TrimPrefix(w.Err+"; heal: "+herr.Error(), "; ")
			}
			cancel()
			w.End = time.Now()
			o.logf("    +%s healed %s %s", time.Since(h.Start).Round(100*time.Millisecond), w.Fault, w.Target)
			mu.Lock()
			windows = append(windows, w)
			if w.Err != "" {
				errs = append(errs, fmt.Errorf("%s %s: %s", w.Fault, w.Target, w.Err))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, w := range windows {
		if w.End.After(h.Healed) {
			h.Healed = w.End
		}
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i].Start.Before(windows[j].Start) })
	return windows, errors.Join(errs...)
}

// guard runs fn and turns a panic into an error, so that one fault's bug
// cannot leave the others unhealed.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}

// steadyState checks health and signs a probe user in through every
// region once.
func steadyState(ctx context.Context, target Target, f *fixture) []string {
	problems := target.Health(ctx)
	env := target.Env()
	for r := range f.bridges {
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		if _, err := probe.Login(lctx, env.HTTP, f.client, r, f.users[0].Email, f.users[0].Password); err != nil {
			problems = append(problems, fmt.Sprintf("login through %s: %v", r, err))
		}
		cancel()
	}
	sort.Strings(problems)
	return problems
}

// waitHealthy waits up to limit for target to be healthy and returns what
// still is not.
func waitHealthy(ctx context.Context, target Target, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	for {
		problems := target.Health(ctx)
		if len(problems) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return problems
		}
		sleep(ctx, time.Second)
	}
}

func registered(events []chaos.Event) []string {
	var out []string
	for _, e := range events {
		if e.Probe == chaos.ProbeRegister && e.OK {
			out = append(out, e.Email)
		}
	}
	return out
}

// missing lists the acknowledged registrations the identity store does not
// have; an address it cannot look up counts as missing, with the reason.
func missing(ctx context.Context, env e2e.Env, emails []string) []string {
	var out []string
	for _, e := range emails {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := env.IdentityExists(lctx, e)
		cancel()
		switch {
		case err != nil:
			out = append(out, e+" (lookup failed: "+err.Error()+")")
		case !ok:
			out = append(out, e)
		}
	}
	return out
}

// progress prints a line every 5 s: elapsed time, logins so far, failures.
func progress(o Options, rec *probe.Recorder, start time.Time) func() {
	if o.Log == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var n, failed int
				for _, e := range rec.Events() {
					if e.Probe == chaos.ProbeHTTPLogin || e.Probe == chaos.ProbeBrowserLogin {
						n++
						if !e.OK {
							failed++
						}
					}
				}
				o.logf("    %3.0fs  %4d logins, %d failed", time.Since(start).Seconds(), n, failed)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func jwksURL(env e2e.Env) string {
	return strings.TrimSuffix(env.Issuer, "/") + "/.well-known/jwks.json"
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
