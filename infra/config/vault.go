package config

import (
	"fmt"

	"github.com/idstack/idstack/infra"
)

// Vault paths and mounts.
const (
	VaultConfigPath = "/etc/idstack/vault.hcl"
	VaultDataPath   = "/vault/data"
	// VaultKVMount is the KV v2 mount keyrotation keeps its journal in.
	VaultKVMount = "idstack"
	// VaultTransitMount is the transit mount.
	VaultTransitMount = "transit"
)

// Vault renders Vault's server configuration: file storage on a volume, so a
// restarted Vault comes back sealed with its data, as a real one does.
func Vault(t infra.Topology) File {
	hcl := fmt.Sprintf(`# Vault. Rendered by idstack infra/config; do not edit.
ui = false
disable_mlock = true
api_addr = %q

storage "file" {
  path = %q
}

listener "tcp" {
  address     = "0.0.0.0:%d"
  tls_disable = true
}
`, t.VaultURL(), VaultDataPath, t.Ports().Vault())
	return File{Path: VaultConfigPath, Mode: 0o444, Data: []byte(hcl)}
}
