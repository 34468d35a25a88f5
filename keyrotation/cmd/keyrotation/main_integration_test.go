//go:build integration

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/keyrotation"
	krvault "github.com/idstack/idstack/keyrotation/vault"
)

// TestCommandsAgainstTheLocalTopology runs every subcommand as an operator
// would, against real Vault and Hydra.
func TestCommandsAgainstTheLocalTopology(t *testing.T) {
	s, _ := infratest.Establish(t, infratest.WithName("idstack-krcli"), infratest.WithBasePort(4730))
	top := s.Topology
	st, err := s.LoadState()
	if err != nil {
		t.Fatal(err)
	}
	metrics := filepath.Join(t.TempDir(), "keyrotation.prom")
	base := []string{
		"--vault-addr", top.VaultURL(), "--vault-token", st.VaultRootToken,
		"--hydra-admin-url", top.AdminURL(infra.HostHydra, top.Primary()),
		"--issuer", top.IssuerURL(),
		"--regions", "eu=" + top.PublicURL(infra.HostHydra, "eu") + ",us=" + top.PublicURL(infra.HostHydra, "us"),
		"--resolve", top.Domain + "=127.0.0.1",
		"--sets", "hydra.jwt.access-token:ES256",
		// Test durations: nothing has to wait for the lead.
		"--cadence", "1h", "--lead", "0s", "--skew", "0s", "--verifier-cache-ttl", "0s",
		"--overlap", "2h", "--metrics-file", metrics,
	}
	run := func(args ...string) error {
		t.Helper()
		return Run(context.Background(), append(args, base...))
	}
	ctx := context.Background()
	vc, _ := s.VaultClient(st.VaultRootToken)
	store := krvault.New(vc, config.VaultKVMount, "keyrotation")
	journal := func() keyrotation.Journal {
		j, err := store.ReadJournal(ctx, keyrotation.SetRef{Issuer: top.IssuerURL(), Set: keyrotation.SetAccessToken})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}

	if err := run("step"); err != nil {
		t.Fatalf("step: %v", err)
	}
	first := journal().Active().Kid
	if err := run("status", "--json"); err != nil {
		t.Fatalf("status: %v", err)
	}
	if err := run("verify"); err != nil {
		t.Fatalf("verify on a fresh rotation: %v", err)
	}
	if err := run("rotate", "--now"); err != nil {
		t.Fatalf("rotate --now: %v", err)
	}
	second := journal().Active().Kid
	if second == first {
		t.Fatal("rotate --now did not promote the standby")
	}
	if err := run("revoke", "--kid", second, "--reason", "cli test", "--wait", "30s"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if a := journal().Active().Kid; a == second {
		t.Fatal("the revoked key still signs")
	}
	if err := run("metrics"); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	data, err := os.ReadFile(metrics)
	if err != nil || !strings.Contains(string(data), "idstack_keyrotation_last_success_timestamp_seconds") {
		t.Fatalf("metrics file: %v\n%s", err, data)
	}

	// Drift: delete the active key from Hydra by hand; verify exits 2.
	admin := top.AdminURL(infra.HostHydra, top.Primary()) + "/admin/keys/hydra.jwt.access-token/" + journal().Active().Kid
	req, _ := newDelete(admin)
	resp, err := top.HTTPClient(0).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var exit exitCode
	if err := run("verify"); !errors.As(err, &exit) || exit != exitDrift {
		t.Fatalf("verify after drift: got %v, want exit %d", err, exitDrift)
	}
	// The next step repairs it.
	if err := run("step"); err != nil {
		t.Fatal(err)
	}
	if err := run("verify"); err != nil {
		t.Fatalf("verify after the repairing step: %v", err)
	}

	// Bad input is refused with the flag named, before anything runs.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"step", "--lead", "1s", "--verifier-cache-ttl", "1m"}, "lead"},
		{[]string{"step", "--regions", "eu"}, "regions"},
		{[]string{"step", "--vault-auth", "ldap"}, "vault-auth"},
		{[]string{"revoke"}, "--kid"},
	} {
		// The command's own values come last, so they win over base's.
		err := Run(ctx, append(append([]string{tt.args[0]}, base...), tt.args[1:]...))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error naming %s", tt.args, err, tt.want)
		}
	}
}
