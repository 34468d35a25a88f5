// Command bridge serves idstack's login, consent and logout pages between
// Hydra and Kratos. Every flag falls back to BRIDGE_<FLAG>.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/idstack/idstack/bridge"
	"github.com/idstack/idstack/bridge/ory"
	"github.com/idstack/idstack/bridge/server"
	"github.com/idstack/idstack/bridge/upstream"
	"github.com/idstack/idstack/internal/svc"
)

// Config is the bridge's configuration.
type Config struct {
	ListenAddr      string
	KratosPublicURL string
	KratosAdminURL  string
	HydraAdminURL   string
	ReturnTo        string // allow-list: hosts or *.suffix, comma-separated
	FormActions     string // extra CSP form-action sources, comma-separated
	FirstParty      string // client ids that skip consent, comma-separated
	ClaimMapping    string // JSON object claim → trait path; "" for bridge.DefaultClaimMapping
	RememberFor     time.Duration
	CSRFSecretFile  string
	TLSCert, TLSKey string
	ExternalTLS     bool // browsers reach the bridge over HTTPS through a proxy that ends TLS
	UpstreamTimeout time.Duration
	ShutdownTimeout time.Duration
	Region          string
}

// Default returns the defaults; no URL points anywhere until configured.
func Default() Config {
	return Config{ListenAddr: ":4455", RememberFor: 30 * 24 * time.Hour, UpstreamTimeout: 10 * time.Second, ShutdownTimeout: 20 * time.Second}
}

// Validate names the first wrong field.
func (c Config) Validate() error {
	for _, u := range []struct{ name, v string }{
		{"kratos-public-url", c.KratosPublicURL}, {"kratos-admin-url", c.KratosAdminURL}, {"hydra-admin-url", c.HydraAdminURL},
	} {
		p, err := url.Parse(u.v)
		if u.v == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v)
		}
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		return fmt.Errorf("listen-addr: %w", err)
	}
	if err := bridge.AllowList(svc.SplitList(c.ReturnTo)).Validate(); err != nil {
		return fmt.Errorf("return-to: %w", err)
	}
	for _, src := range svc.SplitList(c.FormActions) {
		if !formActionPattern.MatchString(src) {
			return fmt.Errorf("form-actions: %q: want an http(s) origin such as https://kratos.example.com or http://*.example.test:*", src)
		}
	}
	if _, err := c.claims(); err != nil {
		return fmt.Errorf("claim-mapping: %w", err)
	}
	if c.CSRFSecretFile == "" {
		return errors.New("csrf-secret-file: required (32 bytes or more, the same on every replica)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls-cert, tls-key: give both or neither")
	}
	if c.UpstreamTimeout <= 0 {
		return errors.New("upstream-timeout: must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("shutdown-timeout: must be positive")
	}
	if c.RememberFor < 0 {
		return errors.New("remember-for: must not be negative (0: forever)")
	}
	return nil
}

// formActionPattern is a CSP host-source with a scheme: wildcards for the
// first label and the port, an optional path, nothing that would end the
// directive.
var formActionPattern = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9.-]+(:([0-9]+|\*))?(/[^\s;,'"]*)?$`)

// tls reports whether browsers reach the bridge over HTTPS: it serves TLS
// itself, or a proxy in front of it ends TLS (an ingress).
func (c Config) tls() bool { return c.TLSCert != "" || c.ExternalTLS }

// serverConfig is the server's configuration; c must be valid.
func (c Config) serverConfig(secret []byte, metrics *server.Metrics) server.Config {
	claims, _ := c.claims() // Validate checked it
	return server.Config{
		FirstParty: svc.SplitList(c.FirstParty), RememberFor: c.RememberFor, ReturnTo: bridge.AllowList(svc.SplitList(c.ReturnTo)),
		FormActions: svc.SplitList(c.FormActions), Claims: claims,
		CSRF: bridge.CSRF{Key: secret}, UpstreamTimeout: c.UpstreamTimeout, TLS: c.tls(), // TLS: HSTS, Secure cookies
		Metrics: metrics,
	}
}

// claims is the configured claim mapping, or the default one.
func (c Config) claims() (bridge.ClaimMapping, error) {
	if c.ClaimMapping == "" {
		return bridge.DefaultClaimMapping(), nil
	}
	return bridge.ParseClaimMapping(c.ClaimMapping)
}

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil && !errors.Is(err, svc.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// Parse reads the defaults, then the BRIDGE_<FLAG> variables (through
// lookup), then args. It does not validate.
func Parse(args []string, lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	fs := svc.NewFlags("bridge", "BRIDGE", lookup)
	fs.String(&c.ListenAddr, "listen-addr", "listen address")
	fs.String(&c.KratosPublicURL, "kratos-public-url", "Kratos public API, as this server reaches it and as browsers do")
	fs.String(&c.KratosAdminURL, "kratos-admin-url", "Kratos admin API")
	fs.String(&c.HydraAdminURL, "hydra-admin-url", "Hydra admin API")
	fs.String(&c.ReturnTo, "return-to", "allowed return hosts, comma-separated (host or *.suffix)")
	fs.String(&c.FormActions, "form-actions", "extra CSP form-action sources, comma-separated (Kratos' and Hydra's public origins)")
	fs.String(&c.FirstParty, "first-party", "OAuth2 client ids that skip consent, comma-separated")
	fs.String(&c.ClaimMapping, "claim-mapping", `ID-token claims from identity traits, a JSON object of claim to trait path, e.g. {"given_name":"name.first"} (default: email, name.first, name.last)`)
	fs.Duration(&c.RememberFor, "remember-for", "how long Hydra remembers a consent (0: forever)")
	fs.String(&c.CSRFSecretFile, "csrf-secret-file", "file with the CSRF secret")
	fs.String(&c.TLSCert, "tls-cert", "TLS certificate file (serve HTTPS)")
	fs.String(&c.TLSKey, "tls-key", "TLS key file")
	fs.Bool(&c.ExternalTLS, "external-tls", "browsers reach the bridge over HTTPS through a proxy that ends TLS (HSTS, Secure cookies while serving HTTP)")
	fs.Duration(&c.UpstreamTimeout, "upstream-timeout", "timeout of each Kratos or Hydra call")
	fs.Duration(&c.ShutdownTimeout, "shutdown-timeout", "how long SIGTERM waits for requests in flight")
	fs.String(&c.Region, "region", "region name, on every log line")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Run parses args and serves until ctx is done, then drains.
func Run(ctx context.Context, args []string) error {
	c, err := Parse(args, os.LookupEnv)
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	secret, err := os.ReadFile(c.CSRFSecretFile)
	if err != nil {
		return fmt.Errorf("csrf-secret-file: %w", err)
	}
	if secret = []byte(strings.TrimSpace(string(secret))); len(secret) < 32 {
		return errors.New("csrf-secret-file: the secret must be at least 32 bytes")
	}
	log := svc.Logger(os.Stderr, "bridge", slog.LevelInfo, "region", c.Region)
	httpClient := &http.Client{Timeout: c.UpstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	metrics := server.NewMetrics()
	kratos := upstream.Kratos{Next: ory.NewKratos(c.KratosPublicURL, c.KratosAdminURL, httpClient), Observer: metrics, Retry: upstream.DefaultRetry}
	hydra := upstream.Hydra{Next: ory.NewHydra(c.HydraAdminURL, httpClient), Observer: metrics, Retry: upstream.DefaultRetry}
	s, err := server.New(c.serverConfig(secret, metrics), kratos, hydra, log)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr: c.ListenAddr, Handler: requestLog(log, s),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
	}
	log.Info("listening", "addr", c.ListenAddr)
	err = svc.ServeHTTP(ctx, srv, c.TLSCert, c.TLSKey, c.ShutdownTimeout)
	log.Info("stopped", "err", err)
	return err
}

// requestLog writes one JSON line per request: id, method, path (never the
// query, which carries challenges and codes), status, duration.
func requestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(server.WithRequestID(r.Context(), id)))
		if r.URL.Path == server.PathAlive || r.URL.Path == server.PathReady || r.URL.Path == server.PathMetrics {
			return
		}
		log.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
