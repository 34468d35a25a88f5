package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idstack/idstack/internal/svc"
	"github.com/idstack/idstack/keyrotation"
	"github.com/idstack/idstack/keyrotation/hydra"
	krvault "github.com/idstack/idstack/keyrotation/vault"
)

// Config is everything a command needs.
type Config struct {
	Vault    krvault.Config
	KVMount  string
	KVPrefix string
	// HydraAdminURL is one Hydra admin API (regions share the database).
	HydraAdminURL string
	Issuer        string
	// Regions maps region name to its Hydra public URL.
	Regions     map[string]string
	Policy      keyrotation.Policy
	HydraConfig string // optional hydra.yml to read token TTLs from
	Actor       string
	HTTPTimeout time.Duration
	MetricsFile string
	// Resolve maps a domain suffix to an IP for every connection, like
	// curl's --resolve: a host outside the deployment's DNS can reach it.
	Resolve map[string]string

	regions, sets, resolveFlag string // raw flag values
}

// Default returns the defaults: nothing points at a real deployment.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		Vault:       krvault.Config{Address: os.Getenv("VAULT_ADDR"), Method: krvault.AuthToken, Token: os.Getenv("VAULT_TOKEN"), Timeout: 10 * time.Second},
		KVMount:     "idstack",
		KVPrefix:    "keyrotation",
		Policy:      keyrotation.DefaultPolicy(),
		Actor:       host + ":" + strconv.Itoa(os.Getpid()),
		HTTPTimeout: 10 * time.Second,
		sets:        "hydra.openid.id-token:RS256:3072,hydra.jwt.access-token:RS256:3072",
	}
}

// flags registers the shared flags; every one falls back to KEYROTATION_*.
func (c *Config) flags(name string) *svc.Flags {
	fs := svc.NewFlags("keyrotation "+name, "KEYROTATION", os.LookupEnv)
	fs.String(&c.Vault.Address, "vault-addr", "Vault address (default $VAULT_ADDR)")
	fs.String(&c.Vault.Method, "vault-auth", "Vault auth: token, approle or kubernetes")
	fs.Secret(&c.Vault.Token, "vault-token", "Vault token (default $VAULT_TOKEN)")
	fs.String(&c.Vault.RoleID, "vault-role-id", "AppRole role id")
	fs.String(&c.Vault.SecretIDFile, "vault-secret-id-file", "file holding the AppRole secret id")
	fs.String(&c.Vault.Role, "vault-role", "Kubernetes auth role")
	fs.String(&c.Vault.ServiceAccountTokenFile, "vault-sa-token-file", "service account token (default: the pod's)")
	fs.String(&c.Vault.MountPath, "vault-auth-mount", "auth method mount path, when not the default")
	fs.Duration(&c.Vault.Timeout, "vault-timeout", "timeout of each Vault request")
	fs.String(&c.KVMount, "kv-mount", "Vault KV v2 mount")
	fs.String(&c.KVPrefix, "kv-prefix", "path prefix under the mount")
	fs.String(&c.HydraAdminURL, "hydra-admin-url", "Hydra admin API base URL")
	fs.String(&c.Issuer, "issuer", "Hydra's issuer URL (journals are kept per issuer)")
	fs.String(&c.regions, "regions", "region=Hydra public URL, comma-separated, e.g. eu=https://hydra.eu.example.com")
	fs.String(&c.sets, "sets", "key sets as name:alg[:rsa-bits], comma-separated")
	fs.Duration(&c.Policy.Cadence, "cadence", "how long a key signs before rotation")
	fs.Duration(&c.Policy.Lead, "lead", "how long a key is served everywhere before it signs")
	fs.Duration(&c.Policy.Overlap, "overlap", "how long a key stays served after it stops signing")
	fs.Duration(&c.Policy.Skew, "skew", "clock skew allowed")
	fs.Duration(&c.Policy.VerifierCacheTTL, "verifier-cache-ttl", "longest JWKS cache of any verifier")
	fs.Duration(&c.Policy.MaxTokenLifetime, "max-token-lifetime", "longest token lifetime (raised by --hydra-config and client lifespans)")
	fs.Duration(&c.Policy.LeaseTTL, "lease-ttl", "how long a crashed run blocks the next")
	fs.String(&c.HydraConfig, "hydra-config", "Hydra's config file, to read ttl.access_token and ttl.id_token")
	fs.String(&c.Actor, "actor", "this run's name in leases and the journal")
	fs.Duration(&c.HTTPTimeout, "http-timeout", "timeout of each Hydra request")
	fs.String(&c.MetricsFile, "metrics-file", "write Prometheus metrics here after the command (textfile collector)")
	fs.String(&c.resolveFlag, "resolve", "domain=ip, comma-separated: connect to ip for every name under domain")
	return fs
}

// resolve parses the list flags and validates everything but the policy
// (which needs Hydra's TTLs first); errors name the flag.
func (c *Config) resolve() error {
	if c.HydraAdminURL == "" {
		return errors.New("hydra-admin-url: required")
	}
	if _, err := url.ParseRequestURI(c.HydraAdminURL); err != nil {
		return fmt.Errorf("hydra-admin-url: %w", err)
	}
	if c.Issuer == "" {
		return errors.New("issuer: required")
	}
	c.Regions = map[string]string{}
	for _, kv := range svc.SplitList(c.regions) {
		name, u, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return fmt.Errorf("regions: %q is not name=url", kv)
		}
		if _, err := url.ParseRequestURI(u); err != nil {
			return fmt.Errorf("regions: %s: %w", name, err)
		}
		c.Regions[name] = u
	}
	if len(c.Regions) == 0 {
		return errors.New("regions: at least one region=url is required")
	}
	c.Policy.Sets = nil
	for _, s := range svc.SplitList(c.sets) {
		parts := strings.Split(s, ":")
		sp := keyrotation.SetPolicy{Name: parts[0], Alg: keyrotation.RS256, RSABits: 3072}
		if len(parts) > 1 {
			sp.Alg = parts[1]
		}
		if len(parts) > 2 {
			bits, err := strconv.Atoi(parts[2])
			if err != nil {
				return fmt.Errorf("sets: %q: rsa bits is not a number", s)
			}
			sp.RSABits = bits
		}
		c.Policy.Sets = append(c.Policy.Sets, sp)
	}
	if c.HTTPTimeout <= 0 {
		return errors.New("http-timeout: must be positive")
	}
	c.Resolve = map[string]string{}
	for _, kv := range svc.SplitList(c.resolveFlag) {
		domain, ip, ok := strings.Cut(kv, "=")
		if !ok || domain == "" || net.ParseIP(ip) == nil {
			return fmt.Errorf("resolve: %q is not domain=ip", kv)
		}
		c.Resolve[strings.ToLower(domain)] = ip
	}
	return c.Vault.Validate()
}

// dial dials like net.Dialer, honouring --resolve.
func (c *Config) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		for domain, ip := range c.Resolve {
			if host == domain || strings.HasSuffix(host, "."+domain) {
				addr = net.JoinHostPort(ip, port)
				break
			}
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// httpClient returns a client with timeout that honours --resolve and
// never follows a redirect (Hydra's admin API does not redirect).
func (c *Config) httpClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, DialContext: c.dial, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// rotator connects to Vault and Hydra and returns a Rotator whose policy has
// been raised to Hydra's token lifetimes and validated.
func (c *Config) rotator(ctx context.Context, log *slog.Logger) (*keyrotation.Rotator, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	if err := c.Policy.Validate(); err != nil {
		return nil, err
	}
	if longest := 3 * max(c.Vault.Timeout*3, c.HTTPTimeout); c.Policy.LeaseTTL < longest {
		return nil, fmt.Errorf("lease-ttl: %s is shorter than 3 × the longest call (vault-timeout × 3 retries, http-timeout) = %s", c.Policy.LeaseTTL, longest)
	}
	httpClient := c.httpClient(c.HTTPTimeout)
	admin := hydra.NewAdmin(c.HydraAdminURL, httpClient)
	longest, err := c.tokenLifetime(ctx, admin)
	if err != nil {
		return nil, err
	}
	if longest > c.Policy.MaxTokenLifetime {
		log.Info("max token lifetime raised to Hydra's", "from", c.Policy.MaxTokenLifetime.String(), "to", longest.String())
		c.Policy.MaxTokenLifetime = longest
	}
	if err := c.Policy.Validate(); err != nil {
		return nil, err
	}
	vc, err := krvault.Connect(ctx, c.Vault, c.dial)
	if err != nil {
		return nil, err
	}
	return &keyrotation.Rotator{
		Store:   krvault.New(vc, c.KVMount, c.KVPrefix),
		Hydra:   admin,
		Regions: hydra.NewRegions(c.Regions, httpClient),
		Policy:  c.Policy,
		Issuer:  c.Issuer,
		Actor:   c.Actor,
		Log:     log,
	}, nil
}

// tokenLifetime is the longest lifetime of a token Hydra signs: its config
// file's ttl.access_token and ttl.id_token (Hydra's default is 1h each),
// and every client's custom lifespans.
func (c *Config) tokenLifetime(ctx context.Context, admin *hydra.Admin) (time.Duration, error) {
	var longest time.Duration
	if c.HydraConfig != "" {
		data, err := os.ReadFile(c.HydraConfig)
		if err != nil {
			return 0, fmt.Errorf("hydra-config: %w", err)
		}
		var cfg struct {
			TTL map[string]string `yaml:"ttl"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			return 0, fmt.Errorf("hydra-config: %w", err)
		}
		longest = time.Hour // Hydra's default for both
		for _, key := range []string{"access_token", "id_token"} {
			if v, ok := cfg.TTL[key]; ok {
				d, err := time.ParseDuration(v)
				if err != nil {
					return 0, fmt.Errorf("hydra-config: ttl.%s: %w", key, err)
				}
				longest = max(longest, d)
			}
		}
	}
	clients, err := admin.LongestClientTokenLifespan(ctx)
	if err != nil {
		return 0, err
	}
	return max(longest, clients), nil
}
