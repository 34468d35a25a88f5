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
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/calibrate"
	"github.com/idstack/idstack/chaos/check"
	"github.com/idstack/idstack/chaos/cpuuse"
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
	// DatabaseProbe is the writer probe's access to the database (nil
	// where the target has none).
	DatabaseProbe() DatabaseProbe
}

// DatabaseProbe is what the writer probe needs of a target's database:
// a writer through every region's route, and the read-backs after heal.
type DatabaseProbe interface {
	Writers(ctx context.Context) (map[string]probe.Writer, error)
	// Present says which of the written keys the database holds.
	Present(ctx context.Context, keys []string) (map[string]bool, error)
	// Duplicates lists which of the registered addresses more than one
	// identity holds.
	Duplicates(ctx context.Context, emails []string) ([]string, error)
}

// Calibrated is a probe period left to the plan (package calibrate).
const Calibrated time.Duration = -1

// Options shape a run.
type Options struct {
	Seed int64
	// Warmup is the traffic before the first fault (the window the steady
	// state is judged on); Settle the traffic after the last heal.
	Warmup, Settle time.Duration
	// Probe periods: Calibrated (the default) lets the plan choose, 0
	// turns a probe off, anything else overrides the plan, within the
	// headroom.
	LoginEvery    time.Duration // password logins, per region (global included)
	SessionEvery  time.Duration // session logins, per region
	RegisterEvery time.Duration
	BrowserEvery  time.Duration
	PathEvery     time.Duration // path probes, per region
	// WriteEvery is the writer probe's period per region (0: off). A
	// write is a connection and a row, no part of the login path's CPU,
	// so it is not calibrated.
	WriteEvery   time.Duration
	KeyPollEvery time.Duration
	// Headroom is the share of the measured capacity the probes may use.
	Headroom float64
	// SteadyFactor bounds the warm-up's password-login p95 and
	// session-login p50 over the quiet baseline's (check.Steady).
	SteadyFactor float64
	// VerifierTTL is how long the token verifier caches the JWKS.
	VerifierTTL time.Duration
	// ResultsDir receives failed browser flows' artefacts.
	ResultsDir string
	Log        io.Writer
}

// DefaultOptions are the rates and timings of the default suite.
func DefaultOptions() Options {
	return Options{
		Warmup: 8 * time.Second, Settle: 12 * time.Second,
		LoginEvery: Calibrated, SessionEvery: Calibrated, RegisterEvery: Calibrated, BrowserEvery: Calibrated, PathEvery: Calibrated,
		Headroom: calibrate.DefaultHeadroom, SteadyFactor: check.DefaultSteadyFactor,
		KeyPollEvery: time.Second, VerifierTTL: 4 * time.Second, WriteEvery: time.Second,
	}
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// probeUsers is how many identities the login probes share;
// sessionsPerRegion how many signed-in clients each region's session
// probe has (its bound of session logins in flight).
const (
	probeUsers        = 4
	sessionsPerRegion = 2
)

// Run runs scenarios in order against target and returns the suite's
// result. It first measures what the stack sustains and plans the probe
// load (an error when the plan would exceed the headroom). It stops early
// with ErrSteadyState when the steady state fails before a scenario's
// first fault, and with ErrHealFailed when a fault could not be healed;
// the scenarios left are then not run.
func Run(ctx context.Context, target Target, scenarios []scenario.Scenario, o Options) (suite chaos.SuiteResult, err error) {
	defer healOnExit(ctx, target, &err)
	suite = chaos.SuiteResult{Seed: o.Seed, Target: target.Name(), Versions: target.Versions(), Start: time.Now()}
	env := target.Env()
	f, err := setup(ctx, target, o)
	if err != nil {
		return suite, err
	}
	defer f.close(env)
	load, err := planLoad(ctx, f, scenarios, o)
	suite.Load = &load
	if err != nil {
		suite.End = time.Now()
		return suite, err
	}
	o.logf("%s", describeLoad(load))
	var stop error
	for i, sc := range scenarios {
		if stop == nil && ctx.Err() != nil {
			stop = ctx.Err()
		}
		if stop != nil {
			suite.Results = append(suite.Results, notRun(sc, o, "the suite stopped before it: "+stop.Error()))
			continue
		}
		o.logf("[%d/%d] %s", i+1, len(scenarios), strings.TrimRight(sc.Plan(), "\n"))
		res, err := runOne(ctx, target, f, sc, o, load)
		suite.Results = append(suite.Results, res)
		f.acked = append(f.acked, check.Acknowledged(res.History.Events)...)
		logResult(o, res)
		stop = err
	}
	suite.End = time.Now()
	suite.Passed = suitePassed(suite.Results)
	if stop == nil {
		stop = ctx.Err()
	}
	return suite, stop
}

// healOnExit is the run's one heal-on-exit path: whatever ends the run (a
// return, an error, an interrupt, a panic, which it re-raises once the
// stack is healed), every fault still injected is healed, and a heal that
// fails joins *err as ErrHealFailed.
func healOnExit(ctx context.Context, target Target, err *error) {
	p := recover()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if herr := target.HealAll(hctx); herr != nil {
		*err = errors.Join(*err, fmt.Errorf("%w: heal on exit: %w", ErrHealFailed, herr))
	}
	if p != nil {
		panic(p)
	}
}

// suitePassed is the verdict over the scenarios that ran: every one of
// them passed, and at least one ran. A scenario not run neither passes
// nor fails the suite; the report lists it.
func suitePassed(results []chaos.Result) bool {
	ran := 0
	for _, r := range results {
		if r.NotRun != "" {
			continue
		}
		ran++
		if !r.Passed {
			return false
		}
	}
	return ran > 0
}

func notRun(sc scenario.Scenario, o Options, why string) chaos.Result {
	return chaos.Result{History: chaos.History{Scenario: sc.Name, Seed: o.Seed}, SLO: sc.SLO, NotRun: why}
}

func logResult(o Options, res chaos.Result) {
	switch {
	case res.NotRun != "":
		o.logf("  NOT RUN: %s", res.NotRun)
	case res.Aborted != "":
		o.logf("  %s", res.Aborted)
	default:
		m := res.Measurements
		line := fmt.Sprintf("  %s: %.2f%% of %d logins ok; unavailable %s; recovery %s", verdict(res.Passed), 100*m.SuccessRate, m.Attempts, worst(m.Unavailable), worst(m.Recovery))
		if res.Steady != nil {
			line += fmt.Sprintf("; steady p50 %.2fx, p95 %.2fx quiet", res.Steady.P50Ratio, res.Steady.P95Ratio)
		}
		if res.CPU != nil {
			line += fmt.Sprintf("; cpu %.0f%% machine, %.0f%% harness", 100*res.CPU.Machine, 100*res.CPU.Harness)
		}
		o.logf("%s", line)
		for _, c := range res.Checks {
			if !c.OK {
				o.logf("    FAILED %s: %s", c.Name, c.Detail)
			}
		}
	}
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
// client and app, the browser, the signed-in sessions.
type fixture struct {
	users    []probe.User
	emails   []string
	app      *e2e.App
	browser  *browser.Browser
	client   probe.Client
	bridges  map[string]string
	sessions map[string][]*probe.Session
	writers  map[string]probe.Writer
	hc       *http.Client
	acked    []string // registrations acknowledged, over the whole run
	runs     int      // scenarios run so far: tells apart the registrations of a scenario named twice
}

func setup(ctx context.Context, target Target, o Options) (*fixture, error) {
	env := target.Env()
	f := &fixture{bridges: map[string]string{}, sessions: map[string][]*probe.Session{}, hc: env.HTTP}
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
	for _, r := range slices.Sorted(maps.Keys(f.bridges)) {
		for i := range sessionsPerRegion {
			u := f.users[i%len(f.users)]
			s, err := probe.NewSession(sctx, env.HTTP, f.client, r, u.Email, u.Password)
			if err != nil {
				f.close(env)
				return nil, fmt.Errorf("sign the session probe in through %s: %w", r, err)
			}
			f.sessions[r] = append(f.sessions[r], s)
		}
	}
	if db := target.DatabaseProbe(); db != nil && o.WriteEvery > 0 {
		if f.writers, err = db.Writers(sctx); err != nil {
			f.close(env)
			return nil, fmt.Errorf("writer probe: %w", err)
		}
	}
	if o.BrowserEvery != 0 {
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
	env.DeleteIdentities(ctx, append(append([]string(nil), f.emails...), f.acked...))
}

// sessionRegion is the region s was signed in through.
func sessionRegion(f *fixture, s *probe.Session) string {
	for r, ss := range f.sessions {
		if slices.Contains(ss, s) {
			return r
		}
	}
	return ""
}

// allSessions lists every region's sessions.
func (f *fixture) allSessions() []*probe.Session {
	var out []*probe.Session
	for _, r := range slices.Sorted(maps.Keys(f.sessions)) {
		out = append(out, f.sessions[r]...)
	}
	return out
}

// planLoad measures the quiet baseline and the stack's capacity, then
// plans the probe periods (calibrate.Plan) for the smallest window the
// scenarios judge.
func planLoad(ctx context.Context, f *fixture, scenarios []scenario.Scenario, o Options) (chaos.Load, error) {
	o.logf("calibrating: quiet logins, then closed-loop bursts of password and session logins")
	regions := slices.Sorted(maps.Keys(f.bridges))
	full := func(ctx context.Context, w int) error {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		u := f.users[w%len(f.users)]
		_, err := probe.Login(lctx, f.hc, f.client, regions[w%len(regions)], u.Email, u.Password)
		return err
	}
	sessions := f.allSessions()
	session := func(ctx context.Context, w int) error {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := sessions[w%len(sessions)].Authorize(lctx)
		return err
	}
	var c calibrate.Capacity
	var err error
	cpu := cpuuse.Start()
	if c.QuietFull, err = calibrate.Quiet(ctx, 8, full); err != nil {
		return chaos.Load{}, fmt.Errorf("%w: calibration: %w", ErrSteadyState, err)
	}
	if c.QuietSession, err = calibrate.Quiet(ctx, 12, session); err != nil {
		return chaos.Load{}, fmt.Errorf("%w: calibration: %w", ErrSteadyState, err)
	}
	if c.FullPerSecond, err = calibrate.Throughput(ctx, calibrate.Burst{Workers: 4, Max: 24, For: 10 * time.Second}, full); err != nil {
		return chaos.Load{}, fmt.Errorf("%w: calibration: password logins: %w", ErrSteadyState, err)
	}
	// What the stack sustains is the best of three short bursts: a burst
	// that another process on the machine slowed measures that process.
	for range 3 {
		rate, err := calibrate.Throughput(ctx, calibrate.Burst{Workers: len(sessions), Max: 100, For: 5 * time.Second}, session)
		if err != nil {
			return chaos.Load{}, fmt.Errorf("%w: calibration: session logins: %w", ErrSteadyState, err)
		}
		c.SessionPerSecond = max(c.SessionPerSecond, rate)
	}
	bridges := make([]string, len(sessions))
	for i, s := range sessions {
		bridges[i] = f.bridges[sessionRegion(f, s)]
	}
	path := func(ctx context.Context, w int) error {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return sessions[w%len(sessions)].Reach(lctx, bridges[w%len(sessions)])
	}
	for range 2 {
		rate, err := calibrate.Throughput(ctx, calibrate.Burst{Workers: len(sessions), Max: 400, For: 3 * time.Second}, path)
		if err != nil {
			return chaos.Load{}, fmt.Errorf("%w: calibration: path probes: %w", ErrSteadyState, err)
		}
		c.PathPerSecond = max(c.PathPerSecond, rate)
	}
	use := cpu.Stop()
	c.CPU = &use
	o.logf("calibration: quiet password logins p50 %s p95 %s, session logins p50 %s p95 %s; bursts %.1f password logins, %.1f session logins and %.0f path probes/s",
		c.QuietFull.P50.Round(time.Millisecond), c.QuietFull.P95.Round(time.Millisecond), c.QuietSession.P50.Round(time.Millisecond), c.QuietSession.P95.Round(time.Millisecond),
		c.FullPerSecond, c.SessionPerSecond, c.PathPerSecond)
	need := calibrate.Need{Regions: len(regions), Window: smallestWindow(scenarios), Span: shortestSpan(scenarios, o), Browser: o.BrowserEvery != 0, Headroom: o.Headroom}
	var overrides []calibrate.Override
	for _, p := range []struct {
		flag  string
		every time.Duration
	}{{"login-every", o.LoginEvery}, {"session-every", o.SessionEvery}, {"register-every", o.RegisterEvery}, {"browser-every", o.BrowserEvery}, {"path-every", o.PathEvery}} {
		if p.every != Calibrated {
			overrides = append(overrides, calibrate.Override{Flag: p.flag, Every: p.every})
		}
	}
	return calibrate.Plan(c, need, overrides)
}

// smallestWindow is the smallest unavailability window the scenarios'
// SLOs judge.
func smallestWindow(scenarios []scenario.Scenario) time.Duration {
	var w time.Duration
	for _, sc := range scenarios {
		if d := sc.SLO.MaxUnavailable; d > 0 && (w == 0 || d < w) {
			w = d
		}
	}
	if w == 0 {
		w = 5 * time.Second
	}
	return w
}

// shortestSpan is a lower bound of the shortest history a scenario
// judges: its warm-up, its faults to the end of the last and the settling
// after (injecting and healing add to it; a scenario whose fault cannot
// run on this stack counts too, which only makes the bound lower).
func shortestSpan(scenarios []scenario.Scenario, o Options) time.Duration {
	var span time.Duration
	for _, sc := range scenarios {
		var end time.Duration
		for _, f := range sc.Faults {
			end = max(end, f.At+f.For)
		}
		if d := o.Warmup + end + o.Settle; span == 0 || d < span {
			span = d
		}
	}
	return span
}

func describeLoad(l chaos.Load) string {
	every := func(d time.Duration) string {
		if d <= 0 {
			return "off"
		}
		return "every " + d.String()
	}
	s := fmt.Sprintf("load: measured %.1f password logins/s, %.1f session logins/s and %.0f path probes/s (quiet login p50 %s and %s)",
		l.FullPerSecond, l.SessionPerSecond, l.PathPerSecond, l.QuietFull.P50.Round(time.Millisecond), l.QuietSession.P50.Round(time.Millisecond))
	if l.CPU != nil {
		s += fmt.Sprintf(", machine CPU %.0f%% while measuring", 100*l.CPU.Machine)
	}
	s += fmt.Sprintf("; probes at %.0f%% of that (headroom %.0f%%): password login %s, session login %s and path probe %s per region, registration %s, browser sign-in %s",
		100*l.Utilisation, 100*l.Headroom, every(l.LoginEvery), every(l.SessionEvery), every(l.PathEvery), every(l.RegisterEvery), every(l.BrowserEvery))
	if len(l.Overridden) > 0 {
		s += " (set by " + strings.Join(l.Overridden, " ") + ")"
	}
	return s
}

func runOne(ctx context.Context, target Target, f *fixture, sc scenario.Scenario, o Options, load chaos.Load) (chaos.Result, error) {
	fenv := target.Faults()
	for _, t := range sc.Faults {
		if err := t.Fault.Available(fenv); err != nil {
			return notRun(sc, o, err.Error()), nil
		}
	}
	h := chaos.History{Scenario: sc.Name, Seed: o.Seed, Versions: target.Versions(), KeyLead: target.KeyLead()}
	if lead := target.KeyLead(); lead > o.KeyPollEvery {
		// A key is seen up to one poll after it is published.
		h.KeyLead = lead - o.KeyPollEvery
	}
	h.Regions = slices.Sorted(maps.Keys(f.bridges))
	// A standby a few kilobytes behind, or a node still settling after
	// the last scenario's heal, is not yet a problem: wait a little.
	if problems := waitHealthy(ctx, target, healthBefore); len(problems) > 0 {
		detail := strings.Join(problems, "; ")
		return chaos.Result{History: h, SLO: sc.SLO, Aborted: "aborted: " + ErrSteadyState.Error() + ": " + detail}, fmt.Errorf("%s: %w: %s", sc.Name, ErrSteadyState, detail)
	}
	env := target.Env()
	f.runs++
	fenv.Log = func(format string, args ...any) { o.logf("    "+format, args...) }
	if sc.PrimaryAt != "" {
		moved, err := fault.PlacePrimary(ctx, fenv, sc.PrimaryAt)
		if err != nil {
			return chaos.Result{History: h, SLO: sc.SLO, Aborted: "aborted: " + ErrSteadyState.Error() + ": " + err.Error()}, fmt.Errorf("%s: %w: %w", sc.Name, ErrSteadyState, err)
		}
		if moved {
			// The pools reconnect and the standbys catch up: a
			// switchover's aftermath is no steady state to judge.
			sleep(ctx, o.Settle)
		}
	}
	// Keys published before the run carry a zero time.
	var before []chaos.KeySighting
	jctx, jcancel := context.WithTimeout(ctx, 10*time.Second)
	if set, err := probe.FetchJWKS(jctx, env.HTTP, jwksURL(env)); err == nil {
		for _, k := range set.Keys {
			before = append(before, chaos.KeySighting{Kid: k.KeyID})
		}
	}
	jcancel()
	tr := &probe.Traffic{
		HTTP: env.HTTP, Client: f.client, Bridges: f.bridges, Users: f.users, Sessions: f.sessions,
		Verifier: &probe.Verifier{JWKSURL: jwksURL(env), Issuer: env.Issuer, Audience: f.client.ID, TTL: o.VerifierTTL, HTTP: env.HTTP},
		JWKSURL:  jwksURL(env), LoginEvery: load.LoginEvery, SessionEvery: load.SessionEvery, RegisterEvery: load.RegisterEvery, PathEvery: load.PathEvery, KeyPollEvery: o.KeyPollEvery,
		Writers: f.writers, WriteEvery: o.WriteEvery,
		MaxOps: 10000, Seed: o.Seed, Tag: fmt.Sprintf("%s-%d", sc.Name, f.runs), Password: "chaos registration passphrase", Log: o.Log,
	}
	if f.browser != nil && load.BrowserEvery > 0 {
		tr.Browser, tr.App, tr.BrowserEvery = &flows.Runner{Browser: f.browser, Target: env.Target(f.app.URL)}, f.app, load.BrowserEvery
	}
	cpu := cpuuse.Start()
	// The judged history is the accepted warm-up window and the part of
	// the traffic that runs under the faults, joined.
	join := func(parts ...probe.Report) {
		h.End = time.Now()
		h.Keys = joinKeys(before, parts...)
		for _, p := range parts {
			h.Events = append(h.Events, p.Events...)
			h.SkippedTicks = addSkipped(h.SkippedTicks, p.SkippedTicks)
		}
		slices.SortStableFunc(h.Events, func(a, b chaos.Event) int { return a.Start.Compare(b.Start) })
	}
	warm, under, steady := warmUp(ctx, tr, o, load)
	h.Start = warm.start
	if ctx.Err() != nil || !steady.OK {
		join(warm.report)
		under.stop()
		use := cpu.Stop()
		if ctx.Err() != nil {
			return notRun(sc, o, "interrupted during the warm-up"), ctx.Err()
		}
		msg := "steady state not met: " + steady.Detail
		return chaos.Result{History: h, SLO: sc.SLO, Aborted: "aborted: " + msg, Steady: &steady, CPU: &use}, fmt.Errorf("%s: %w: %s", sc.Name, ErrSteadyState, steady.Detail)
	}
	s := schedule(ctx, fenv, sc.Faults, o.logf)
	h.Faults, h.FaultsStart, h.Healed = s.Windows, s.FaultsStart, s.Healed
	h.Promotions, h.Revocations, h.FaultNotes = s.Observed.Promotions, s.Observed.Revocations, s.Observed.Notes
	for _, r := range h.Revocations {
		h.Revoked = append(h.Revoked, r.Kid)
	}
	if !h.Healed.IsZero() && s.HealErr == nil {
		sleep(ctx, o.Settle)
	}
	join(warm.report, under.stop())
	use := cpu.Stop()
	var healErr error
	if err := target.HealAll(context.WithoutCancel(ctx)); err != nil {
		healErr = fmt.Errorf("%w: heal all: %w", ErrHealFailed, err)
	}
	healErr = errors.Join(s.HealErr, healErr)
	h.HealthAfter = waitHealthy(ctx, target, healthAfterHeal)
	// Read back also when interrupted: an acknowledgement is a promise.
	h.ReadBack = readBack(context.WithoutCancel(ctx), env.IdentityExists, check.Acknowledged(h.Events))
	if db := target.DatabaseProbe(); db != nil {
		readDatabase(context.WithoutCancel(ctx), db, &h)
	}
	res := check.Judge(h, sc.SLO)
	res.Steady, res.CPU = &steady, &use
	if s.InjectErr != nil || healErr != nil {
		res.Checks = append(res.Checks, chaos.CheckResult{Name: "faults injected and healed", OK: false, Detail: errors.Join(s.InjectErr, healErr).Error()})
		res.Passed = false
	}
	if healErr != nil {
		return res, fmt.Errorf("%s: %w", sc.Name, healErr)
	}
	return res, nil
}

// part is one run of the traffic (probe.Traffic.Run) in progress: when it
// began and how to stop it and get its report.
type part struct {
	start  time.Time
	cancel context.CancelFunc
	done   chan probe.Report
}

func startPart(ctx context.Context, tr *probe.Traffic, name string) *part {
	pctx, cancel := context.WithCancel(ctx)
	p := &part{start: time.Now(), cancel: cancel, done: make(chan probe.Report, 1)}
	go func() { p.done <- tr.Run(pctx, name) }()
	return p
}

// stop ends the part and returns its report, once every operation it
// started has returned.
func (p *part) stop() probe.Report {
	p.cancel()
	return <-p.done
}

// warmWindow is a warm-up window's traffic, stopped and reported.
type warmWindow struct {
	start  time.Time
	report probe.Report
}

// warmUp runs the traffic for o.Warmup and judges that window's steady
// state, every operation started in it included; a stack that is still
// settling gets up to maxWarmups windows before it is refused. The next
// part of the traffic starts as each window ends, so the probes never
// pause: warmUp returns the last window judged, the part running after it
// (the caller stops it) and the verdict.
func warmUp(ctx context.Context, tr *probe.Traffic, o Options, load chaos.Load) (warmWindow, *part, chaos.SteadyState) {
	const maxWarmups = 3
	cur := startPart(ctx, tr, "1")
	for n := 1; ; n++ {
		sleep(ctx, o.Warmup)
		next := startPart(ctx, tr, fmt.Sprint(n+1))
		win := warmWindow{start: cur.start, report: cur.stop()}
		if ctx.Err() != nil {
			return win, next, chaos.SteadyState{Detail: "interrupted", Windows: n}
		}
		st := check.Steady(win.report.Events, load.QuietFull, load.QuietSession, o.SteadyFactor)
		st.Windows = n
		if st.OK || n == maxWarmups {
			return win, next, st
		}
		o.logf("    steady state not met in warm-up window %d of %d: %s", n, maxWarmups, st.Detail)
		cur = next
	}
}

// joinKeys merges the key sightings of before (keys published before the
// run, at the zero time) and of the parts: each key at its first
// sighting, oldest first.
func joinKeys(before []chaos.KeySighting, parts ...probe.Report) []chaos.KeySighting {
	first := map[string]time.Time{}
	seen := func(k chaos.KeySighting) {
		if t, ok := first[k.Kid]; !ok || k.Published.Before(t) {
			first[k.Kid] = k.Published
		}
	}
	for _, k := range before {
		seen(k)
	}
	for _, p := range parts {
		for _, k := range p.Keys {
			seen(k)
		}
	}
	out := make([]chaos.KeySighting, 0, len(first))
	for k, t := range first {
		out = append(out, chaos.KeySighting{Kid: k, Published: t})
	}
	slices.SortFunc(out, func(a, b chaos.KeySighting) int {
		if c := a.Published.Compare(b.Published); c != 0 {
			return c
		}
		return strings.Compare(a.Kid, b.Kid)
	})
	return out
}

// addSkipped adds the skipped ticks of b to a.
func addSkipped(a, b map[string]int) map[string]int {
	for k, v := range b {
		if a == nil {
			a = map[string]int{}
		}
		a[k] += v
	}
	return a
}

// readBack looks every acknowledged registration up in the identity store.
func readBack(ctx context.Context, exists func(context.Context, string) (bool, error), emails []string) []chaos.RegistrationRead {
	out := make([]chaos.RegistrationRead, 0, len(emails))
	for _, e := range emails {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := exists(lctx, e)
		cancel()
		r := chaos.RegistrationRead{Email: e, Found: ok && err == nil}
		if err != nil {
			r.Err = err.Error()
		}
		out = append(out, r)
	}
	return out
}

// healthAfterHeal bounds the wait for a healthy stack after heal: a
// database member cut off with the primary's site took 78 s to stream
// again in the bare cluster (pg_rewind, then catching up).
const healthAfterHeal = 2 * time.Minute

// healthBefore bounds the wait for a healthy stack before a scenario.
const healthBefore = 30 * time.Second

// readDatabase reads back what the writer probe had acknowledged and
// looks for identities created twice among the run's registrations.
func readDatabase(ctx context.Context, db DatabaseProbe, h *chaos.History) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if keys := check.AcknowledgedWrites(h.Events); len(keys) > 0 {
		present, err := db.Present(ctx, keys)
		if err != nil {
			h.WritesErr = err.Error()
		} else {
			h.WritesRead = true
			for _, k := range keys {
				if !present[k] {
					h.WritesMissing = append(h.WritesMissing, k)
				}
			}
		}
	}
	var emails []string
	for _, e := range h.Events {
		if e.Probe == chaos.ProbeRegister {
			emails = append(emails, e.Email)
		}
	}
	if len(emails) > 0 {
		dups, err := db.Duplicates(ctx, emails)
		if err != nil {
			h.DuplicatesErr = err.Error()
		} else {
			h.DuplicatesRead = true
		}
		h.Duplicates = dups
	}
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
