package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"
)

// Auth methods.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthKubernetes = "kubernetes"
)

// Config says how to reach and log in to Vault.
type Config struct {
	Address string
	// Method is token, approle or kubernetes.
	Method string
	// Token (token auth).
	Token string
	// RoleID and SecretIDFile (approle auth; the secret id is read from a file).
	RoleID       string
	SecretIDFile string
	// Role and ServiceAccountTokenFile (kubernetes auth).
	Role                    string
	ServiceAccountTokenFile string
	// MountPath of the auth method, when not the default (approle, kubernetes).
	MountPath string
	// Timeout bounds every request.
	Timeout time.Duration
}

// Validate names the first wrong field.
func (c Config) Validate() error {
	if c.Address == "" {
		return errors.New("vault-addr: required")
	}
	switch c.Method {
	case AuthToken:
		if c.Token == "" {
			return errors.New("vault-token: required with vault-auth=token")
		}
	case AuthAppRole:
		if c.RoleID == "" {
			return errors.New("vault-role-id: required with vault-auth=approle")
		}
		if c.SecretIDFile == "" {
			return errors.New("vault-secret-id-file: required with vault-auth=approle")
		}
	case AuthKubernetes:
		if c.Role == "" {
			return errors.New("vault-role: required with vault-auth=kubernetes")
		}
	default:
		return fmt.Errorf("vault-auth: %q, want token, approle or kubernetes", c.Method)
	}
	if c.Timeout <= 0 {
		return errors.New("vault-timeout: must be positive")
	}
	return nil
}

// Connect returns a logged-in client. It keeps the Vault API's own HTTP
// client (TLS settings from VAULT_CACERT and friends, no redirects that
// would carry the token, VAULT_NAMESPACE); dial, when not nil, replaces
// only how connections are made (--resolve).
func Connect(ctx context.Context, c Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*vault.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cfg := vault.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault config from environment: %w", cfg.Error)
	}
	cfg.Address = c.Address
	cfg.Timeout = c.Timeout
	cfg.MaxRetries = 2
	if dial != nil {
		if t, ok := cfg.HttpClient.Transport.(*http.Transport); ok {
			t.DialContext = dial
		}
	}
	client, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	switch c.Method {
	case AuthToken:
		client.SetToken(c.Token)
		return client, nil
	case AuthAppRole:
		var opts []approle.LoginOption
		if c.MountPath != "" {
			opts = append(opts, approle.WithMountPath(c.MountPath))
		}
		auth, err := approle.NewAppRoleAuth(c.RoleID, &approle.SecretID{FromFile: c.SecretIDFile}, opts...)
		if err != nil {
			return nil, fmt.Errorf("vault approle: %w", err)
		}
		return login(ctx, client, auth, "approle")
	case AuthKubernetes:
		var opts []kubernetes.LoginOption
		if c.MountPath != "" {
			opts = append(opts, kubernetes.WithMountPath(c.MountPath))
		}
		if c.ServiceAccountTokenFile != "" {
			opts = append(opts, kubernetes.WithServiceAccountTokenPath(c.ServiceAccountTokenFile))
		}
		auth, err := kubernetes.NewKubernetesAuth(c.Role, opts...)
		if err != nil {
			return nil, fmt.Errorf("vault kubernetes auth: %w", err)
		}
		return login(ctx, client, auth, "kubernetes")
	}
	return nil, fmt.Errorf("vault-auth: %q unsupported", c.Method)
}

func login(ctx context.Context, client *vault.Client, auth vault.AuthMethod, name string) (*vault.Client, error) {
	secret, err := client.Auth().Login(ctx, auth)
	if err != nil {
		return nil, fmt.Errorf("vault %s login: %w", name, classify("login", err))
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return nil, fmt.Errorf("vault %s login: no token returned", name)
	}
	return client, nil
}
