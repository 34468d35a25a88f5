//go:build integration

package keyrotation_test

import (
	"os"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

var (
	vaultAuthInput      = vault.EnableAuthOptions{Type: "approle"}
	kubernetesAuthInput = vault.EnableAuthOptions{Type: "kubernetes"}
)

// putKeyrotationPolicy grants what a rotation job needs, and nothing else.
func putKeyrotationPolicy(t *testing.T, root *vault.Client) {
	t.Helper()
	policy := `path "idstack/data/keyrotation-test/*" { capabilities = ["create","read","update"] }
path "idstack/metadata/keyrotation-test/*" { capabilities = ["read","list"] }
path "idstack/destroy/keyrotation-test/*" { capabilities = ["update"] }`
	if err := root.Sys().PutPolicy("keyrotation", policy); err != nil {
		t.Fatal(err)
	}
}

// wanNetworkID returns the id of the stack's WAN network.
func (l *live) wanNetworkID(t *testing.T) string {
	t.Helper()
	n, err := l.s.DockerPool().Client.NetworkInfo(l.top.Name + "-wan")
	if err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
