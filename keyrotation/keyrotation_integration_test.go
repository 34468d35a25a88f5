//go:build integration

package keyrotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
	"github.com/idstack/idstack/keyrotation"
	"github.com/idstack/idstack/keyrotation/fake"
	"github.com/idstack/idstack/keyrotation/hydra"
	krvault "github.com/idstack/idstack/keyrotation/vault"
)

// live is a real deployment: Vault and Hydra in two regions, with a client
// that gets JWT access tokens, and a simulated clock for the rotator.
type live struct {
	s        *stack.Stack
	top      infra.Topology
	http     *http.Client
	store    *krvault.Store
	admin    *hydra.Admin
	regions  *hydra.Regions
	clock    *clock
	clientID string
	secret   string
}

// integrationPolicy rotates the access-token set with test durations; the
// clock is simulated, so they cost no waiting.
func integrationPolicy() keyrotation.Policy {
	p := testPolicy()
	p.Sets = []keyrotation.SetPolicy{{Name: keyrotation.SetAccessToken, Alg: keyrotation.RS256, RSABits: 2048}}
	return p
}

func establish(t *testing.T) *live {
	t.Helper()
	s, _ := infratest.Establish(t, infratest.WithName("idstack-kr"), infratest.WithBasePort(4730))
	top := s.Topology
	st, err := s.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	vc, err := s.VaultClient(st.VaultRootToken)
	if err != nil {
		t.Fatal(err)
	}
	h := top.HTTPClient(10 * time.Second)
	public := map[string]string{}
	for _, r := range top.Regions {
		public[r] = top.PublicURL(infra.HostHydra, r)
	}
	l := &live{
		s: s, top: top, http: h,
		store:   krvault.New(vc, config.VaultKVMount, "keyrotation-test"),
		admin:   hydra.NewAdmin(top.AdminURL(infra.HostHydra, top.Primary()), h),
		regions: hydra.NewRegions(public, h),
		clock:   &clock{t: time.Now().UTC()},
	}
	l.clientID, l.secret = l.createClient(t)
	return l
}

func (l *live) rotator(actor string) *keyrotation.Rotator {
	return &keyrotation.Rotator{
		Store: l.store, Hydra: l.admin, Regions: l.regions, Policy: integrationPolicy(),
		Issuer: l.top.IssuerURL(), Actor: actor, Now: l.clock.Now,
	}
}

func (l *live) createClient(t *testing.T) (string, string) {
	t.Helper()
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: l.top.AdminURL(infra.HostHydra, l.top.Primary())}}
	cfg.HTTPClient = l.http
	api := ory.NewAPIClient(cfg)
	c := ory.NewOAuth2Client()
	c.SetClientName("keyrotation-test")
	c.SetGrantTypes([]string{"client_credentials"})
	c.SetTokenEndpointAuthMethod("client_secret_basic")
	got, resp, err := api.OAuth2API.CreateOAuth2Client(context.Background()).OAuth2Client(*c).Execute()
	if err != nil {
		t.Fatalf("create client: %v (%v)", err, resp)
	}
	return got.GetClientId(), got.GetClientSecret()
}

// token gets a JWT access token through region's Hydra.
func (l *live) token(t *testing.T, region string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, l.top.PublicURL(infra.HostHydra, region)+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(l.clientID), url.QueryEscape(l.secret))
	resp, err := l.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %s %s", resp.Status, body.Error)
	}
	return body.AccessToken
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Headers[0].KeyID
}

// verifyAt verifies token against region's public JWKS, as a resource
// server there would.
func (l *live) verifyAt(region, token string) error {
	resp, err := l.http.Get(l.top.PublicURL(infra.HostHydra, region) + "/.well-known/jwks.json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return err
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) == 0 {
		return fmt.Errorf("kid %s not in %s's JWKS", tok.Headers[0].KeyID, region)
	}
	var claims jwt.Claims
	return tok.Claims(keys[0].Key, &claims)
}

func (l *live) journal(t *testing.T) keyrotation.Journal {
	t.Helper()
	j, err := l.store.ReadJournal(context.Background(), keyrotation.SetRef{Issuer: l.top.IssuerURL(), Set: keyrotation.SetAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestRotationAgainstRealVaultAndHydra(t *testing.T) {
	l := establish(t)
	ctx := context.Background()
	r := l.rotator("it")
	eu, us := l.top.Regions[0], l.top.Regions[1]

	start := time.Now()
	step(t, r)
	j := l.journal(t)
	active, standby := j.Active(), j.Standby()
	if active == nil || standby == nil || standby.State != keyrotation.StatePublished {
		t.Fatalf("after the first step: active %v standby %v", active, standby)
	}
	t.Logf("first step (adopt or bootstrap, generate, publish, see it everywhere): %s", time.Since(start).Round(time.Millisecond))
	t0 := l.token(t, eu)
	if kidOf(t, t0) != active.Kid {
		t.Fatalf("a token is signed by %s, want the active key %s", kidOf(t, t0), active.Kid)
	}

	t.Run("published: served in every region, never signs", func(t *testing.T) {
		for _, region := range l.top.Regions {
			kids, err := l.regions.PublishedKids(ctx, region)
			if err != nil || !contains(kids, standby.Kid) {
				t.Fatalf("%s serves %v (err %v), want the standby %s", region, kids, err, standby.Kid)
			}
			if k := kidOf(t, l.token(t, region)); k != active.Kid {
				t.Fatalf("a token from %s is signed by %s, want the active key", region, k)
			}
		}
	})

	t.Run("promoted: signs; older tokens still verify", func(t *testing.T) {
		l.clock.Add(11 * time.Minute)
		start := time.Now()
		step(t, r)
		t.Logf("promotion step: %s", time.Since(start).Round(time.Millisecond))
		for _, region := range l.top.Regions {
			if k := kidOf(t, l.token(t, region)); k != standby.Kid {
				t.Fatalf("after promotion a token from %s is signed by %s, want %s", region, k, standby.Kid)
			}
			if err := l.verifyAt(region, t0); err != nil {
				t.Fatalf("a token of the retiring key no longer verifies at %s: %v", region, err)
			}
		}
	})

	t.Run("retired after the overlap: old tokens stop verifying", func(t *testing.T) {
		l.clock.Add(4 * time.Minute)
		step(t, r)
		if err := l.verifyAt(us, t0); err == nil {
			t.Fatal("a token of a retired key still verifies")
		}
		old, _ := l.journal(t).Key(active.Kid)
		if old.State != keyrotation.StateDestroyed {
			t.Fatalf("old key is %s, want destroyed", old.State)
		}
		noDrift(t, r)
	})
}

// TestCrashAfterEveryCallAgainstRealServers crashes successive rotations
// after each changing call in turn; each rerun must converge and tokens
// must be signed by the journal's active key.
func TestCrashAfterEveryCallAgainstRealServers(t *testing.T) {
	l := establish(t)
	step(t, l.rotator("setup"))
	counter := &fake.Crash{Budget: -1}
	r := l.rotator("count")
	r.Store = fake.CrashingStore{Store: l.store, Crash: counter}
	r.Hydra = fake.CrashingHydra{Hydra: l.admin, Crash: counter}
	l.clock.Add(11 * time.Minute)
	step(t, r)
	total := counter.Calls()
	t.Logf("a promotion step makes %d changing calls (Vault writes, Hydra PUT/DELETE)", total)
	for budget := 0; budget < total; budget++ {
		t.Run("crash after call "+strconv.Itoa(budget), func(t *testing.T) {
			l.clock.Add(11 * time.Minute) // the next rotation is due
			crash := &fake.Crash{Budget: budget}
			cr := l.rotator("crashy")
			cr.Store = fake.CrashingStore{Store: l.store, Crash: crash}
			cr.Hydra = fake.CrashingHydra{Hydra: l.admin, Crash: crash}
			if _, err := cr.Step(context.Background()); !errors.Is(err, fake.ErrCrash) {
				t.Fatalf("got %v, want the injected crash", err)
			}
			l.token(t, l.top.Primary()) // Hydra still signs
			l.clock.Add(31 * time.Second)
			rerun := l.rotator("rerun")
			step(t, rerun)
			a := l.journal(t).Active()
			if a == nil {
				t.Fatal("no active key after the rerun")
			}
			if k := kidOf(t, l.token(t, l.top.Primary())); k != a.Kid {
				t.Fatalf("tokens are signed by %s, the journal's active key is %s", k, a.Kid)
			}
			noDrift(t, rerun)
		})
	}
}

func TestConcurrentStepsAgainstRealVault(t *testing.T) {
	l := establish(t)
	step(t, l.rotator("setup"))
	l.clock.Add(11 * time.Minute)
	var wg sync.WaitGroup
	outs := make([][]keyrotation.Outcome, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = l.rotator("job-" + strconv.Itoa(i)).Step(context.Background())
		}()
	}
	wg.Wait()
	promotions := 0
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		for _, e := range outs[i][0].Transitions {
			if e.Event == "activate" {
				promotions++
			}
		}
		t.Logf("run %d: busy=%v, %d transitions", i, outs[i][0].Busy, len(outs[i][0].Transitions))
	}
	if promotions != 1 {
		t.Fatalf("%d promotions, want exactly 1", promotions)
	}
	noDrift(t, l.rotator("check"))
}

func TestSealedVaultMidRotationChangesNothingAndResumes(t *testing.T) {
	l := establish(t)
	ctx := context.Background()
	step(t, l.rotator("setup"))
	before := l.journal(t)
	hydraBefore, _ := l.admin.Keys(ctx, keyrotation.SetAccessToken)
	st, _ := l.s.LoadState()
	vc, _ := l.s.VaultClient(st.VaultRootToken)
	if err := vc.Sys().SealWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	l.clock.Add(11 * time.Minute)
	_, err := l.rotator("sealed").Step(ctx)
	if !errors.Is(err, krvault.ErrSealed) {
		t.Fatalf("got %v, want ErrSealed", err)
	}
	if !strings.Contains(err.Error(), "sealed") {
		t.Errorf("error does not say Vault is sealed: %v", err)
	}
	hydraAfter, _ := l.admin.Keys(ctx, keyrotation.SetAccessToken)
	if len(hydraAfter) != len(hydraBefore) || hydraAfter[0].KeyID != hydraBefore[0].KeyID {
		t.Fatal("a step against a sealed Vault changed Hydra")
	}
	if err := l.s.UnsealVault(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.journal(t); got.Version != before.Version {
		t.Fatalf("journal version %d, want %d unchanged", got.Version, before.Version)
	}
	step(t, l.rotator("resumed"))
	if a := l.journal(t).Active(); a == nil || a.Kid == before.Active().Kid {
		t.Fatal("the resumed run did not rotate")
	}
	noDrift(t, l.rotator("check"))
}

func TestHydraUnreachableChangesNothing(t *testing.T) {
	l := establish(t)
	step(t, l.rotator("setup"))
	before := l.journal(t)
	r := l.rotator("no-hydra")
	r.Hydra = hydra.NewAdmin("http://127.0.0.1:1", &http.Client{Timeout: time.Second})
	l.clock.Add(11 * time.Minute)
	if _, err := r.Step(context.Background()); err == nil || !strings.Contains(err.Error(), "Hydra") && !strings.Contains(err.Error(), "connect") {
		t.Fatalf("got %v, want a clear Hydra error", err)
	}
	after := l.journal(t)
	if after.Active().Kid != before.Active().Kid || len(after.Entries) != len(before.Entries) {
		t.Fatal("a step without Hydra changed the journal's keys")
	}
}

func TestRevokeEndToEnd(t *testing.T) {
	l := establish(t)
	ctx := context.Background()
	r := l.rotator("it")
	step(t, r)
	l.clock.Add(3 * time.Minute) // the standby has been served for the lead
	leaked := l.journal(t).Active().Kid
	old := l.token(t, l.top.Primary())
	rep, err := r.Revoke(ctx, leaked, "test: leaked", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("revoke: removed from Hydra after %s, gone from every region after %s, safe after %s (verifier cache TTL %s)",
		rep.Removed.Round(time.Millisecond), rep.GoneEverywhere.Round(time.Millisecond), rep.SafeAfter.Round(time.Millisecond), r.Policy.VerifierCacheTTL)
	if k := kidOf(t, l.token(t, l.top.Primary())); k != rep.Promoted || k == leaked {
		t.Fatalf("after revoke tokens are signed by %s, want the promoted standby %s", k, rep.Promoted)
	}
	for _, region := range l.top.Regions {
		if err := l.verifyAt(region, old); err == nil {
			t.Fatalf("%s still verifies a token of the revoked key", region)
		}
	}
	noDrift(t, r)
}

func TestAppRoleLogin(t *testing.T) {
	l := establish(t)
	ctx := context.Background()
	st, _ := l.s.LoadState()
	root, _ := l.s.VaultClient(st.VaultRootToken)
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &vaultAuthInput); err != nil {
		t.Fatal(err)
	}
	putKeyrotationPolicy(t, root)
	if _, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/keyrotation", map[string]any{"token_policies": "keyrotation", "token_ttl": "10m"}); err != nil {
		t.Fatal(err)
	}
	roleID, err := root.Logical().ReadWithContext(ctx, "auth/approle/role/keyrotation/role-id")
	if err != nil {
		t.Fatal(err)
	}
	secretID, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/keyrotation/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/secret-id"
	writeFile(t, file, secretID.Data["secret_id"].(string))
	vc, err := krvault.Connect(ctx, krvault.Config{
		Address: l.top.VaultURL(), Method: krvault.AuthAppRole, RoleID: roleID.Data["role_id"].(string),
		SecretIDFile: file, Timeout: 10 * time.Second,
	}, l.top.DialContext)
	if err != nil {
		t.Fatal(err)
	}
	r := l.rotator("approle")
	r.Store = krvault.New(vc, config.VaultKVMount, "keyrotation-test")
	step(t, r)
	noDrift(t, r)
	// The policy grants nothing outside keyrotation's own paths.
	if _, err := vc.KVv2(config.VaultKVMount).Get(ctx, "elsewhere/secret"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("reading outside its paths: got %v, want permission denied", err)
	}
}
