//go:build integration

package keyrotation_test

import (
	"os"
	"testing"

	vault "github.com/hashicorp/vault/api"
)

var vaultAuthInput = vault.EnableAuthOptions{Type: "approle"}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
