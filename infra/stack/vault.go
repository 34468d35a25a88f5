package stack

import (
	"context"
	"errors"
	"fmt"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/idstack/idstack/infra/config"
)

// VaultClient returns a Vault client for the host, with the root token.
func (s *Stack) VaultClient(token string) (*vault.Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = s.Topology.VaultURL()
	cfg.HttpClient = s.Topology.HTTPClient(10 * time.Second)
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.SetToken(token)
	return c, nil
}

// initVault initialises Vault with one key share, unseals it and mounts KV
// v2 and transit. It records the root token and unseal key in st.
func (s *Stack) initVault(ctx context.Context, st *State) error {
	c, err := s.VaultClient("")
	if err != nil {
		return err
	}
	resp, err := c.Sys().InitWithContext(ctx, &vault.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		return fmt.Errorf("vault init: %w", err)
	}
	st.VaultRootToken, st.VaultUnsealKey = resp.RootToken, resp.Keys[0]
	if err := s.saveState(*st); err != nil {
		return err
	}
	if err := UnsealVault(ctx, c, st.VaultUnsealKey); err != nil {
		return err
	}
	c.SetToken(st.VaultRootToken)
	mounts := map[string]*vault.MountInput{
		config.VaultKVMount:      {Type: "kv", Description: "idstack keyrotation journal and keys", Options: map[string]string{"version": "2"}},
		config.VaultTransitMount: {Type: "transit", Description: "idstack transit"},
	}
	for path, in := range mounts {
		if err := c.Sys().MountWithContext(ctx, path, in); err != nil {
			return fmt.Errorf("vault mount %s: %w", path, err)
		}
	}
	// A new KV v2 mount upgrades in the background; wait until it serves.
	return Poll(ctx, 30*time.Second, 200*time.Millisecond, func(ctx context.Context) error {
		_, err := c.Logical().ReadWithContext(ctx, config.VaultKVMount+"/config")
		return err
	})
}

// UnsealVault unseals Vault with key and waits until it is active.
func UnsealVault(ctx context.Context, c *vault.Client, key string) error {
	return Poll(ctx, 30*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		st, err := c.Sys().SealStatusWithContext(ctx)
		if err != nil {
			return fmt.Errorf("vault seal status: %w", err)
		}
		if !st.Initialized {
			return errors.New("vault is not initialised")
		}
		if st.Sealed {
			if _, err := c.Sys().UnsealWithContext(ctx, key); err != nil {
				return fmt.Errorf("vault unseal: %w", err)
			}
		}
		h, err := c.Sys().HealthWithContext(ctx)
		if err != nil {
			return fmt.Errorf("vault health: %w", err)
		}
		if h.Sealed || h.Standby {
			return errors.New("vault not active yet")
		}
		return nil
	})
}

// UnsealVault unseals the stack's Vault (after a restart) with the recorded key.
func (s *Stack) UnsealVault(ctx context.Context) error {
	st, err := s.LoadState()
	if err != nil {
		return err
	}
	c, err := s.VaultClient(st.VaultRootToken)
	if err != nil {
		return err
	}
	return UnsealVault(ctx, c, st.VaultUnsealKey)
}
