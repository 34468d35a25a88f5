//go:build e2e

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/e2e/browser"
	"github.com/idstack/idstack/e2e/flows"
	"github.com/idstack/idstack/infra/infratest"
)

// flowTimeout bounds every flow; a flow is a handful of page loads.
const flowTimeout = 60 * time.Second

// environment is the deployed environment named by IDSTACK_E2E_*, or the
// local topology brought up for this test.
func environment(t *testing.T) e2e.Env {
	t.Helper()
	env, ok, err := e2e.FromEnvironment(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Logf("running against %s", env.Issuer)
		return env
	}
	s, _ := infratest.Establish(t, infratest.WithName("idstack-e2e"), infratest.WithBasePort(5030))
	return e2e.FromTopology(s.Topology, s.DatabaseURL)
}

func resultsDir(t *testing.T) string {
	if d := os.Getenv(e2e.EnvResults); d != "" {
		return d
	}
	return filepath.Join(infratest.Root(t), ".cache", "e2e")
}

// suite runs flows and keeps what they did, for the figures and the
// results file.
type suite struct {
	t      *testing.T
	env    e2e.Env
	runner *flows.Runner
	app    *e2e.App

	mu      sync.Mutex
	results []flows.Result
	emails  []string
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
	t.Cleanup(cancel)
	return ctx
}

// record keeps a result and fails the test with the flow's artefacts when
// the flow failed.
func (s *suite) record(t *testing.T) func(flows.Result, error) flows.Result {
	return func(res flows.Result, err error) flows.Result {
		t.Helper()
		return s.keep(t, res, err)
	}
}

func (s *suite) keep(t *testing.T, res flows.Result, err error) flows.Result {
	t.Helper()
	s.mu.Lock()
	s.results = append(s.results, res)
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("%v (artefacts: %s)", err, res.Artefacts)
	}
	return res
}

func (s *suite) newUser() flows.User {
	u := flows.NewUser()
	s.mu.Lock()
	s.emails = append(s.emails, u.Email)
	s.mu.Unlock()
	return u
}

// TestBrowserFlows signs people up, in and out in Chromium through the
// bridge, Kratos and Hydra, and checks what the app received.
func TestBrowserFlows(t *testing.T) {
	start := time.Now()
	env := environment(t)
	dir := resultsDir(t)
	os.RemoveAll(dir)
	b, err := browser.Launch(context.Background(), browser.Options{HostRules: env.HostRules, ResultsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := env.StartApp(ctx, e2e.AppOptions{Name: "e2e app"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeApp(t, app) })
	s := &suite{t: t, env: env, app: app, runner: &flows.Runner{Browser: b, Target: env.Target(app.URL)}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.DeleteIdentities(ctx, s.emails); err != nil {
			t.Errorf("clean up identities: %v", err)
		}
		s.report(t, dir, time.Since(start))
	})

	regions := env.Target("").Regions()
	sort.Strings(regions)
	home, away := regions[0], regions[len(regions)-1]
	u := s.newUser()

	t.Run("sign up through the app, consent, land signed in", func(t *testing.T) {
		res := s.record(t)(s.runner.SignUp(s.ctx(t), home, u))
		if !res.ConsentShown {
			t.Error("a new client's first login must ask for consent")
		}
		login, ok := app.Login(res.Probe)
		if !ok {
			t.Fatal("the app saw no login for this flow")
		}
		if login.Claims["email"] != u.Email || login.Userinfo["sub"] != res.Subject || login.Claims["name"] != u.First+" "+u.Last {
			t.Errorf("claims %v, userinfo %v", login.Claims, login.Userinfo)
		}
	})
	t.Run("sign in again: consent remembered", func(t *testing.T) {
		s.record(t)(s.runner.SignIn(s.ctx(t), home, u, flows.NotAsked))
	})
	t.Run("deny consent: the app gets access_denied", func(t *testing.T) {
		other, err := env.StartApp(s.ctx(t), e2e.AppOptions{Name: "other app"})
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp(t, other)
		r := &flows.Runner{Browser: b, Target: env.Target(other.URL)}
		res := s.record(t)(r.SignIn(s.ctx(t), home, u, flows.Deny))
		if res.AppError != "access_denied" || !res.ConsentShown {
			t.Errorf("app error %q, consent shown %v", res.AppError, res.ConsentShown)
		}
	})
	t.Run("a first-party client skips consent", func(t *testing.T) {
		if env.FirstPartyClientID == "" {
			t.Skip("the environment names no first-party client id (" + e2e.EnvFirstParty + ")")
		}
		fp, err := env.StartApp(s.ctx(t), e2e.AppOptions{Name: "first-party app", ClientID: env.FirstPartyClientID})
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp(t, fp)
		r := &flows.Runner{Browser: b, Target: env.Target(fp.URL)}
		s.record(t)(r.SignIn(s.ctx(t), home, u, flows.NotAsked))
	})
	t.Run("wrong password shows Kratos' message", func(t *testing.T) {
		s.record(t)(s.runner.WrongPassword(s.ctx(t), home, u))
	})
	t.Run("unknown user gets the same message", func(t *testing.T) {
		s.record(t)(s.runner.UnknownUser(s.ctx(t), home))
	})
	t.Run("an expired login flow restarts and still signs in", func(t *testing.T) {
		if env.ExpireLoginFlow == nil {
			t.Skip("only the local topology lets the suite expire a flow")
		}
		s.record(t)(s.runner.ExpiredLogin(s.ctx(t), home, u, env.ExpireLoginFlow))
	})
	t.Run("verification by e-mail code, then email_verified", func(t *testing.T) {
		s.record(t)(s.runner.Verify(s.ctx(t), home, u))
		res := s.record(t)(s.runner.SignIn(s.ctx(t), home, u, flows.NotAsked))
		if login, _ := app.Login(res.Probe); login.Claims["email_verified"] != true {
			t.Errorf("email_verified = %v after verification", login.Claims["email_verified"])
		}
	})
	t.Run("sign out ends the Kratos and the Hydra session", func(t *testing.T) {
		s.record(t)(s.runner.SignOut(s.ctx(t), home, u))
	})
	t.Run("session refresh asks for the password again", func(t *testing.T) {
		s.record(t)(s.runner.Refresh(s.ctx(t), home, u))
	})
	t.Run("change the password in settings, then sign in with it", func(t *testing.T) {
		res, nu, err := s.runner.ChangePassword(s.ctx(t), home, u, "a changed passphrase "+flows.NewUser().Password)
		s.keep(t, res, err)
		u = nu
	})
	t.Run("recovery by e-mail code, a new password, then sign in with it", func(t *testing.T) {
		res, nu, err := s.runner.Recover(s.ctx(t), home, u, "a recovered passphrase "+flows.NewUser().Password)
		s.keep(t, res, err)
		u = nu
		s.record(t)(s.runner.SignIn(s.ctx(t), away, u, flows.NotAsked))
	})
	t.Run("sign up through one region, sign in through another", func(t *testing.T) {
		results, err := s.runner.CrossRegion(s.ctx(t), home, away, s.newUser())
		for _, r := range results[:len(results)-1] {
			s.keep(t, r, nil)
		}
		s.keep(t, results[len(results)-1], err)
	})
	// Repeat the two flows every login is made of, for the figures.
	t.Run("repeat sign-up and remembered sign-in for timings", func(t *testing.T) {
		for range 4 {
			nu := s.newUser()
			s.record(t)(s.runner.SignUp(s.ctx(t), home, nu))
			s.record(t)(s.runner.SignIn(s.ctx(t), home, nu, flows.NotAsked))
		}
	})
	t.Run("pages load at most one stylesheet and no script", func(t *testing.T) {
		for _, res := range s.results {
			for _, st := range res.Steps {
				pages := 0
				for _, h := range st.Hops {
					if h.Status == 0 {
						pages++
					}
				}
				if n := st.Subresources["Script"]; n > 0 {
					t.Errorf("%s/%s loaded %d scripts", res.Flow, st.Name, n)
				}
				if n := st.Subresources["Stylesheet"]; n > pages {
					t.Errorf("%s/%s loaded %d stylesheets for %d pages", res.Flow, st.Name, n, pages)
				}
			}
		}
	})
}

func closeApp(t *testing.T, a *e2e.App) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Errorf("close app: %v", err)
	}
}

// report writes every result to results.json and logs p50/p95 per flow:
// the whole flow and its navigation (typing left out).
func (s *suite) report(t *testing.T, dir string, wall time.Duration) {
	if b, err := json.MarshalIndent(s.results, "", "  "); err == nil {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644)
	}
	byFlow := map[string][]flows.Result{}
	for _, r := range s.results {
		if r.OK() {
			byFlow[r.Flow] = append(byFlow[r.Flow], r)
		}
	}
	var names []string
	for n := range byFlow {
		names = append(names, n)
	}
	sort.Strings(names)
	var out strings.Builder
	fmt.Fprintf(&out, "\n| flow | runs | p50 | p95 | navigation p50 | navigation p95 |\n|---|---|---|---|---|---|\n")
	for _, n := range names {
		var took, nav []time.Duration
		for _, r := range byFlow[n] {
			took = append(took, r.Took)
			nav = append(nav, r.Navigation())
		}
		fmt.Fprintf(&out, "| %s | %d | %s | %s | %s | %s |\n", n, len(took), pct(took, 50), pct(took, 95), pct(nav, 50), pct(nav, 95))
	}
	fmt.Fprintf(&out, "\nstep p50 per flow (navigation steps; a submit step runs until the page after its last redirect shows):\n")
	for _, n := range names {
		var order []string
		steps := map[string][]time.Duration{}
		for _, r := range byFlow[n] {
			for _, st := range r.Steps {
				if st.Name == flows.StepType {
					continue
				}
				if _, ok := steps[st.Name]; !ok {
					order = append(order, st.Name)
				}
				steps[st.Name] = append(steps[st.Name], st.Took)
			}
		}
		var parts []string
		for _, name := range order {
			parts = append(parts, fmt.Sprintf("%s %s", name, pct(steps[name], 50)))
		}
		fmt.Fprintf(&out, "- %s: %s\n", n, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&out, "\nsuite wall time (stack up included): %s\n", wall.Round(time.Second))
	t.Log(out.String())
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	i := (len(d)*p + 99) / 100
	if i > 0 {
		i--
	}
	return d[i].Round(time.Millisecond)
}
