//go:build integration

package bridge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ory "github.com/ory/client-go"
	dc "github.com/ory/dockertest/v3/docker"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/infratest"
)

// bcryptRate measures bcrypt cost-12 compares per second on every core,
// the bound password hashing puts on logins/s.
func bcryptRate(d time.Duration) float64 {
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery staple 42"), 12)
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) { // every core the test may use
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				bcrypt.CompareHashAndPassword(hash, []byte("correct horse battery staple 42"))
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkLoginsPerSecond signs in through the whole local stack with a
// browser-like client, four at a time, in two ways in one run:
//
//   - session: the bridge's own sign-in (edge, bridge, Kratos, database);
//   - oauth2: what a relying party's user does: authorize at Hydra, sign in
//     at the bridge, Kratos accepts the login challenge, consent is skipped
//     (first-party client), then the code is exchanged for tokens (edge,
//     Hydra, bridge, Kratos, database).
//
// Each reports logins/s next to the bcrypt bound (the mean of a
// measurement right before and right after the logins), and their ratio.
// It logs the CPU time each role of the stack spent per login (Docker's
// cumulative CPU counters, read before and after). The bridge replicas'
// resident memory is sampled every 250 ms while the logins run; the
// highest replica's peak is reported. One untimed login comes first.
// Bounded: 80 logins per way. Run it with
//
//	go test -tags integration -run '^$' -bench LoginsPerSecond -benchtime 1x ./bridge/
func BenchmarkLoginsPerSecond(b *testing.B) {
	s, _ := infratest.Establish(b, infratest.WithName("idstack-ld"), infratest.WithBasePort(4930))
	top := s.Topology
	region := top.Primary()
	const users, logins, parallel = 8, 80, 4
	password := "correct horse battery staple 42"

	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: top.AdminURL(infra.HostKratos, region)}}
	cfg.HTTPClient = top.HTTPClient(30 * time.Second)
	api := ory.NewAPIClient(cfg)
	var emails []string
	for i := range users {
		email := fmt.Sprintf("load-%d-%s", i, randomEmail())
		body := ory.CreateIdentityBody{SchemaId: "default", Traits: map[string]any{"email": email}}
		pw := ory.IdentityWithCredentialsPasswordConfig{}
		pw.SetPassword(password)
		creds := ory.IdentityWithCredentialsPassword{}
		creds.SetConfig(pw)
		body.SetCredentials(ory.IdentityWithCredentials{Password: &creds})
		if _, _, err := api.IdentityAPI.CreateIdentity(context.Background()).CreateIdentityBody(body).Execute(); err != nil {
			b.Fatal(err)
		}
		emails = append(emails, email)
	}
	bridgeURL := top.PublicURL(infra.HostLogin, region)
	oc := firstPartyClient(b, top, "http://app.idstack.test:4930/callback")
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, top.HTTPClient(30*time.Second))

	// signIn fills the bridge's password form on page and submits it.
	signIn := func(a *agent, page, email string) (*http.Response, string, error) {
		f, err := formWithE(page, "identifier")
		if err != nil {
			return nil, "", err
		}
		f.Fields.Set("identifier", email)
		f.Fields.Set("password", password)
		f.Fields.Set("method", "password")
		return a.postE(f.Action, f.Fields)
	}
	ways := []struct {
		name  string
		login func(email string) error
	}{
		{"session", func(email string) error {
			a := newAgent(b, top, "http://unused.invalid/")
			_, page, err := a.getE(bridgeURL + "/login")
			if err != nil {
				return err
			}
			resp, page, err := signIn(a, page, email)
			if err != nil {
				return err
			}
			if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
				return fmt.Errorf("login ended at %s", resp.Request.URL)
			}
			return nil
		}},
		{"oauth2", func(email string) error {
			a := newAgent(b, top, oc.RedirectURL)
			verifier, state := oauth2.GenerateVerifier(), "state-"+randomEmail()
			_, page, err := a.getE(oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				return err
			}
			resp, _, err := signIn(a, page, email)
			if err != nil {
				return err
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || !strings.HasPrefix(loc.String(), oc.RedirectURL) || loc.Query().Get("state") != state {
				return fmt.Errorf("login ended at %s (%d), not the callback", resp.Request.URL, resp.StatusCode)
			}
			tok, err := oc.Exchange(tokenCtx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				return err
			}
			if raw, _ := tok.Extra("id_token").(string); raw == "" {
				return fmt.Errorf("no ID token")
			}
			return nil
		}},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			// One untimed login first: Hydra generates its signing keys
			// on first use (seconds of RSA key generation, once per key
			// set), which is start-up work, not a login's.
			warm := time.Now()
			if err := w.login(emails[0]); err != nil {
				b.Fatalf("warm-up login: %v", err)
			}
			b.Logf("warm-up login: %s", time.Since(warm).Round(time.Millisecond))
			for b.Loop() {
				boundBefore := bcryptRate(5 * time.Second)
				cpuBefore := roleCPU(b, s.DockerPool().Client, top.Name)
				selfBefore := processCPU()
				stopSampling := sampleResident(b, s.DockerPool().Client, top.Name)
				var next, failed atomic.Int64
				start := time.Now()
				var wg sync.WaitGroup
				for range parallel {
					wg.Go(func() {
						for {
							i := next.Add(1)
							if i > logins {
								return
							}
							if err := w.login(emails[int(i)%users]); err != nil {
								if failed.Add(1) == 1 {
									b.Logf("first failure: %v", err)
								}
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				peak := stopSampling()
				spent := roleCPU(b, s.DockerPool().Client, top.Name).since(cpuBefore)
				spent["load client (this test)"] = processCPU() - selfBefore
				b.Logf("CPU per login, by role: %s", spent.perLogin(max(1, logins-int(failed.Load()))))
				rate := float64(logins-failed.Load()) / elapsed.Seconds()
				// The mean of a measurement right before and right after
				// the logins, so drift in the machine's speed cancels.
				bound := (boundBefore + bcryptRate(5*time.Second)) / 2
				b.ReportMetric(rate, "logins/s")
				b.ReportMetric(bound, "bcrypt12/s")
				b.ReportMetric(rate/bound, "ratio")
				b.ReportMetric(float64(failed.Load()), "failed")
				b.ReportMetric(peak/(1<<20), "peak-MiB")
			}
		})
	}
}

// firstPartyClient registers an OAuth2 client whose consent is skipped
// (skip_consent), as a first-party application's is, and returns its
// configuration against the global issuer.
func firstPartyClient(b *testing.B, top infra.Topology, callback string) *oauth2.Config {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: top.AdminURL(infra.HostHydra, top.Primary())}}
	cfg.HTTPClient = top.HTTPClient(10 * time.Second)
	c := ory.NewOAuth2Client()
	c.SetClientName("load")
	c.SetGrantTypes([]string{"authorization_code"})
	c.SetResponseTypes([]string{"code"})
	c.SetRedirectUris([]string{callback})
	c.SetScope("openid email")
	c.SetSkipConsent(true)
	created, _, err := ory.NewAPIClient(cfg).OAuth2API.CreateOAuth2Client(context.Background()).OAuth2Client(*c).Execute()
	if err != nil {
		b.Fatal(err)
	}
	issuer := top.IssuerURL()
	return &oauth2.Config{
		ClientID: created.GetClientId(), ClientSecret: created.GetClientSecret(), RedirectURL: callback,
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "oauth2/auth", TokenURL: issuer + "oauth2/token"},
		Scopes:   []string{"openid", "email"},
	}
}

// statsOnce is one sample of a container's stats from Docker, nil when
// Docker gives none.
func statsOnce(client *dc.Client, id string) *dc.Stats {
	stats := make(chan *dc.Stats, 1)
	go client.Stats(dc.StatsOptions{ID: id, Stats: stats, Stream: false, Timeout: 10 * time.Second})
	return <-stats
}

// cpuByRole is CPU time spent, summed over the containers of each role.
type cpuByRole map[string]time.Duration

// roleCPU reads the cumulative CPU time of every container of the stack,
// summed by role (Docker's stats API, one sample each).
func roleCPU(b *testing.B, client *dc.Client, stack string) cpuByRole {
	cs, err := client.ListContainers(dc.ListContainersOptions{Filters: map[string][]string{"label": {"dev.idstack.stack=" + stack}}})
	if err != nil {
		b.Fatalf("list containers: %v", err)
	}
	// All at once: Docker takes about a second per sample, and a tight
	// window keeps idle time out of the figures.
	usage := make([]time.Duration, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			if st := statsOnce(client, c.ID); st != nil {
				usage[i] = time.Duration(st.CPUStats.CPUUsage.TotalUsage)
			} else {
				usage[i] = -1
			}
		})
	}
	wg.Wait()
	for i, u := range usage {
		if u < 0 { // a missing reading would put a lifetime of CPU, or less than nothing, into a role
			b.Fatalf("no CPU reading for %s", strings.Join(cs[i].Names, ","))
		}
	}
	out := cpuByRole{}
	for i, c := range cs {
		out[c.Labels["dev.idstack.role"]] += usage[i]
	}
	return out
}

// since is the CPU spent from before to c, per role.
func (c cpuByRole) since(before cpuByRole) cpuByRole {
	out := cpuByRole{}
	for role, d := range c {
		out[role] = d - before[role]
	}
	return out
}

// perLogin formats the CPU per login of each role, the largest first,
// with its share of the total.
func (c cpuByRole) perLogin(logins int) string {
	var total time.Duration
	roles := make([]string, 0, len(c))
	for role, d := range c {
		total += d
		roles = append(roles, role)
	}
	sort.Slice(roles, func(i, j int) bool { return c[roles[i]] > c[roles[j]] })
	parts := make([]string, 0, len(roles))
	for _, role := range roles {
		parts = append(parts, fmt.Sprintf("%s %.1f ms (%.0f %%)", role, c[role].Seconds()*1000/float64(logins), 100*c[role].Seconds()/total.Seconds()))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; total %.1f ms", total.Seconds()*1000/float64(logins))
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleResident samples the resident memory (usage less page cache) of
// the stack's bridge containers every 250 ms until the returned function
// is called; that returns the highest any one replica reached.
func sampleResident(b *testing.B, client *dc.Client, stack string) func() float64 {
	cs, err := client.ListContainers(dc.ListContainersOptions{Filters: map[string][]string{"label": {"dev.idstack.role=bridge", "dev.idstack.stack=" + stack}}})
	if err != nil || len(cs) == 0 {
		b.Fatalf("bridge containers: %v (%d found)", err, len(cs))
	}
	done := make(chan struct{})
	result := make(chan float64, 1)
	go func() {
		var peak float64
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, c := range cs {
				if st := statsOnce(client, c.ID); st != nil {
					peak = max(peak, float64(st.MemoryStats.Usage-st.MemoryStats.Stats.Cache))
				}
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 { close(done); return <-result }
}
