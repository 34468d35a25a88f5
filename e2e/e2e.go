// Package e2e runs idstack's browser flows (package flows) against an
// environment: the local topology of package infra, or a deployed one
// given its URLs and admin credentials by environment variables. It
// registers a relying party (package rp) as an OAuth2 client, serves it on
// loopback, and removes the client and the identities it created when done.
// The chaos suite uses the same pieces as its probes.
package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	ory "github.com/ory/client-go"

	"github.com/idstack/idstack/e2e/flows"
	"github.com/idstack/idstack/e2e/rp"
	"github.com/idstack/idstack/infra"
)

// Environment variables that point the suite at a deployed environment.
const (
	EnvIssuer      = "IDSTACK_E2E_ISSUER"         // Hydra's issuer URL
	EnvLoginURLs   = "IDSTACK_E2E_LOGIN_URLS"     // region=bridge URL,...
	EnvAuthURLs    = "IDSTACK_E2E_AUTH_URLS"      // region=authorization endpoint,... (optional)
	EnvHydraAdmin  = "IDSTACK_E2E_HYDRA_ADMIN"    // Hydra admin URL
	EnvKratosAdmin = "IDSTACK_E2E_KRATOS_ADMIN"   // Kratos admin URL
	EnvAdminToken  = "IDSTACK_E2E_ADMIN_TOKEN"    // bearer token for both admin APIs (optional)
	EnvMail        = "IDSTACK_E2E_MAIL_URL"       // mail sink API (optional; recovery and verification need it)
	EnvHostRules   = "IDSTACK_E2E_HOST_RESOLVER"  // Chromium --host-resolver-rules (optional)
	EnvResults     = "IDSTACK_E2E_RESULTS"        // where failed flows leave their artefacts
	EnvFirstParty  = "IDSTACK_E2E_FIRST_PARTY_ID" // a client id the bridge treats as first-party (optional)
)

// Env is an environment the flows run against.
type Env struct {
	Issuer string
	// GlobalLogin is the bridge's URL under the global name ("" when the
	// environment has none).
	GlobalLogin string
	Login       map[string]string // region → bridge URL
	AuthURLs    map[string]string // region → authorization endpoint on the region's own host
	HydraAdmin  string
	KratosAdmin string
	AdminToken  string
	Mail        string
	HostRules   string
	// FirstPartyClientID is a client id the bridge skips consent for; ""
	// when the environment has none.
	FirstPartyClientID string
	// HTTP reaches every URL above from this host; it has a timeout.
	HTTP *http.Client
	// ExpireLoginFlow ends a Kratos login flow now; nil where the
	// environment gives no such access (only the local topology does).
	ExpireLoginFlow func(ctx context.Context, flowID string) error
}

// FromTopology is the local topology's environment. databaseURL, when not
// nil, gives the Kratos database's DSN, for ExpireLoginFlow.
func FromTopology(top infra.Topology, databaseURL func(ctx context.Context, db string) (string, error)) Env {
	e := Env{
		Issuer: top.IssuerURL(), Login: map[string]string{}, AuthURLs: map[string]string{},
		HydraAdmin: top.AdminURL(infra.HostHydra, top.Primary()), KratosAdmin: top.AdminURL(infra.HostKratos, top.Primary()),
		Mail: top.MailURL(), HostRules: top.ChromiumHostRules(), HTTP: top.HTTPClient(30 * time.Second),
		FirstPartyClientID: infra.FirstPartyTestID, GlobalLogin: top.PublicURL(infra.HostLogin, ""),
	}
	for _, r := range top.Regions {
		e.Login[r] = top.PublicURL(infra.HostLogin, r)
		e.AuthURLs[r] = top.PublicURL(infra.HostHydra, r) + "/oauth2/auth"
	}
	if databaseURL != nil {
		e.ExpireLoginFlow = func(ctx context.Context, flowID string) error {
			dsn, err := databaseURL(ctx, "kratos")
			if err != nil {
				return err
			}
			return expireLoginFlow(ctx, dsn, flowID)
		}
	}
	return e
}

// expireLoginFlow moves a login flow's expiry into the past, as if its
// lifespan had gone by.
func expireLoginFlow(ctx context.Context, dsn, flowID string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ExecContext(ctx, `UPDATE selfservice_login_flows SET expires_at = now() - interval '1 minute' WHERE id = $1`, flowID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("login flow %s: %d rows", flowID, n)
	}
	return nil
}

// FromEnvironment reads a deployed environment from the IDSTACK_E2E_*
// variables; ok is false when EnvIssuer is not set.
func FromEnvironment(lookup func(string) (string, bool)) (e Env, ok bool, err error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	if get(EnvIssuer) == "" {
		return Env{}, false, nil
	}
	e = Env{
		Issuer: get(EnvIssuer), HydraAdmin: get(EnvHydraAdmin), KratosAdmin: get(EnvKratosAdmin),
		AdminToken: get(EnvAdminToken), Mail: get(EnvMail), HostRules: get(EnvHostRules),
		FirstPartyClientID: get(EnvFirstParty),
		HTTP:               &http.Client{Timeout: 30 * time.Second},
	}
	if e.Login, err = parsePairs(EnvLoginURLs, get(EnvLoginURLs)); err != nil {
		return Env{}, true, err
	}
	if e.AuthURLs, err = parsePairs(EnvAuthURLs, get(EnvAuthURLs)); err != nil {
		return Env{}, true, err
	}
	if len(e.Login) == 0 {
		return Env{}, true, fmt.Errorf("%s: at least one region=URL is required", EnvLoginURLs)
	}
	if e.HydraAdmin == "" || e.KratosAdmin == "" {
		return Env{}, true, fmt.Errorf("%s and %s are required with %s", EnvHydraAdmin, EnvKratosAdmin, EnvIssuer)
	}
	return e, true, nil
}

// parsePairs reads "a=x,b=y".
func parsePairs(name, s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%s: %q is not region=URL", name, part)
		}
		out[k] = v
	}
	return out, nil
}

// Target is the flows' view of the environment, with app as the relying
// party's base URL.
func (e Env) Target(app string) flows.Target {
	return flows.Target{App: app, Login: e.Login, Mail: e.Mail, HTTP: e.HTTP}
}

func (e Env) adminAPI(base string) *ory.APIClient {
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: base}}
	cfg.HTTPClient = e.HTTP
	if e.AdminToken != "" {
		cfg.AddDefaultHeader("Authorization", "Bearer "+e.AdminToken)
	}
	return ory.NewAPIClient(cfg)
}

// App is a relying party served on loopback for a run, with its own OAuth2
// client. Close removes the client.
type App struct {
	*rp.App
	URL      string
	ClientID string
	secret   string

	env    Env
	srv    *http.Server
	mu     sync.Mutex
	logins map[string]rp.Login // by probe
}

// AppOptions change the app a run registers.
type AppOptions struct {
	// Name is the client name the consent page shows.
	Name string
	// ClientID asks for this client id (e.g. one the bridge treats as
	// first-party) instead of a generated one.
	ClientID string
	// OnLogin is told of every completed login too.
	OnLogin func(rp.Login)
}

// StartApp registers an OAuth2 client for a relying party on 127.0.0.1 and
// serves it until Close, which removes the client.
func (e Env) StartApp(ctx context.Context, o AppOptions) (*App, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	a := &App{URL: base, env: e, logins: map[string]rp.Login{}}
	if o.Name == "" {
		o.Name = "idstack e2e app"
	}
	c := ory.NewOAuth2Client()
	if o.ClientID != "" {
		c.SetClientId(o.ClientID)
	}
	c.SetClientName(o.Name)
	c.SetGrantTypes([]string{"authorization_code", "refresh_token"})
	c.SetResponseTypes([]string{"code"})
	c.SetRedirectUris([]string{base + rp.PathCallback})
	c.SetPostLogoutRedirectUris([]string{base + rp.PathLoggedOut})
	c.SetScope("openid email profile offline_access")
	c.SetTokenEndpointAuthMethod("client_secret_basic")
	created, _, err := e.adminAPI(e.HydraAdmin).OAuth2API.CreateOAuth2Client(ctx).OAuth2Client(*c).Execute()
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("register the app's OAuth2 client: %w", err)
	}
	a.ClientID, a.secret = created.GetClientId(), created.GetClientSecret()
	app, err := rp.New(rp.Config{
		Issuer: e.Issuer, ClientID: a.ClientID, ClientSecret: created.GetClientSecret(), BaseURL: base,
		Scopes: []string{"email", "profile"}, AuthURLs: e.AuthURLs,
		CookieSecret: []byte(randomSecret()), HTTPClient: e.HTTP,
		OnLogin: func(l rp.Login) {
			a.mu.Lock()
			a.logins[l.Probe] = l
			a.mu.Unlock()
			if o.OnLogin != nil {
				o.OnLogin(l)
			}
		},
	})
	if err != nil {
		ln.Close()
		return nil, errors.Join(err, a.deleteClient(ctx))
	}
	a.App = app
	a.srv = &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

// ClientSecret is the app's OAuth2 client secret (the chaos probes sign in
// with the app's client over HTTP too).
func (a *App) ClientSecret() string { return a.secret }

// Login returns the login a flow tagged with probe completed at the app.
func (a *App) Login(probe string) (rp.Login, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.logins[probe]
	return l, ok
}

// Close stops serving and removes the client the app registered.
func (a *App) Close(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	return errors.Join(err, a.deleteClient(ctx))
}

func (a *App) deleteClient(ctx context.Context) error {
	if _, err := a.env.adminAPI(a.env.HydraAdmin).OAuth2API.DeleteOAuth2Client(ctx, a.ClientID).Execute(); err != nil {
		return fmt.Errorf("delete OAuth2 client %s: %w", a.ClientID, err)
	}
	return nil
}

// DeleteIdentities removes the identities registered under emails, so a
// run against a deployed environment leaves nothing behind.
func (e Env) DeleteIdentities(ctx context.Context, emails []string) error {
	api := e.adminAPI(e.KratosAdmin)
	var errs []error
	for _, email := range emails {
		ids, _, err := api.IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(email).Execute()
		if err != nil {
			errs = append(errs, fmt.Errorf("find identity %s: %w", email, err))
			continue
		}
		for _, id := range ids {
			if _, err := api.IdentityAPI.DeleteIdentity(ctx, id.Id).Execute(); err != nil {
				errs = append(errs, fmt.Errorf("delete identity %s: %w", email, err))
			}
		}
	}
	return errors.Join(errs...)
}

func randomSecret() string { return rand.Text() + rand.Text() }

// CreateIdentity creates an identity with a password through the admin
// API (faster than a registration: the chaos probes' users).
func (e Env) CreateIdentity(ctx context.Context, email, password string) error {
	body := ory.CreateIdentityBody{SchemaId: "default", Traits: map[string]any{"email": email}}
	pw := ory.IdentityWithCredentialsPasswordConfig{}
	pw.SetPassword(password)
	creds := ory.IdentityWithCredentialsPassword{}
	creds.SetConfig(pw)
	body.SetCredentials(ory.IdentityWithCredentials{Password: &creds})
	_, _, err := e.adminAPI(e.KratosAdmin).IdentityAPI.CreateIdentity(ctx).CreateIdentityBody(body).Execute()
	if err != nil {
		return fmt.Errorf("create identity %s: %w", email, err)
	}
	return nil
}

// IdentityExists reports whether an identity signs in with email.
func (e Env) IdentityExists(ctx context.Context, email string) (bool, error) {
	ids, _, err := e.adminAPI(e.KratosAdmin).IdentityAPI.ListIdentities(ctx).CredentialsIdentifier(email).Execute()
	if err != nil {
		return false, fmt.Errorf("find identity %s: %w", email, err)
	}
	return len(ids) > 0, nil
}
