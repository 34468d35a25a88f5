//go:build integration

package bridge_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ory "github.com/ory/client-go"
	dc "github.com/ory/dockertest/v3/docker"
	"golang.org/x/crypto/bcrypt"

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

// BenchmarkLoginsPerSecond signs in through the whole local stack (edge,
// bridge, Kratos, database) with a browser-like client, four at a time, and
// reports logins/s next to the bcrypt bound measured in the same run, and
// the bridge replicas' resident memory after the load. It is bounded: 40
// logins. Run it with
//
//	go test -tags integration -run '^$' -bench LoginsPerSecond -benchtime 1x ./bridge/
func BenchmarkLoginsPerSecond(b *testing.B) {
	s, _ := infratest.Establish(b, infratest.WithName("idstack-ld"), infratest.WithBasePort(4930))
	top := s.Topology
	region := top.Primary()
	const users, logins, parallel = 8, 40, 4
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
	loginOnce := func(email string) error {
		a := newAgent(b, top, "http://unused.invalid/")
		_, page, err := a.getE(bridgeURL + "/login")
		if err != nil {
			return err
		}
		f, err := formWithE(page, "identifier")
		if err != nil {
			return err
		}
		f.fields.Set("identifier", email)
		f.fields.Set("password", password)
		f.fields.Set("method", "password")
		resp, page, err := a.postE(f.action, f.fields)
		if err != nil {
			return err
		}
		if resp.Request.URL.Path != "/" || !strings.Contains(page, email) {
			return fmt.Errorf("login ended at %s", resp.Request.URL)
		}
		return nil
	}
	for b.Loop() {
		var next atomic.Int64
		var failed atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > logins {
						return
					}
					if err := loginOnce(emails[int(i)%users]); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		rate := float64(logins-failed.Load()) / elapsed.Seconds()
		bound := bcryptRate(5 * time.Second)
		b.ReportMetric(rate, "logins/s")
		b.ReportMetric(bound, "bcrypt12/s")
		b.ReportMetric(rate/bound, "ratio")
		b.ReportMetric(float64(failed.Load()), "failed")
	}
	// Resident memory of the bridge replicas right after the load.
	cs, _ := s.DockerPool().Client.ListContainers(dc.ListContainersOptions{Filters: map[string][]string{"label": {"dev.idstack.role=bridge", "dev.idstack.stack=" + top.Name}}})
	for _, c := range cs {
		stats := make(chan *dc.Stats, 1)
		done := make(chan bool)
		go s.DockerPool().Client.Stats(dc.StatsOptions{ID: c.ID, Stats: stats, Stream: false, Done: done, Timeout: 10 * time.Second})
		if st := <-stats; st != nil {
			b.Logf("%s: %.1f MiB resident after the load", strings.TrimPrefix(c.Names[0], "/"), float64(st.MemoryStats.Usage-st.MemoryStats.Stats.Cache)/(1<<20))
		}
	}
}
