// Package config renders every file the nodes of a local topology read:
// Kratos and Hydra configuration, the identity schema, HAProxy edge
// configuration, Vault's server configuration and the database bootstrap.
//
// Rendering is pure: the same Topology and Secrets give the same bytes, so
// golden files under testdata pin the output (go test -run Golden -update).
package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Secrets are generated once per stack and shared by every region, since
// every region reads and writes the same database.
type Secrets struct {
	KratosCookie string `json:"kratos_cookie"`
	KratosCipher string `json:"kratos_cipher"` // exactly 32 characters
	HydraSystem  string `json:"hydra_system"`
	// DatabasePassword is the database superuser's, used by the bootstrap only.
	DatabasePassword string `json:"database_password"`
	// KratosDatabasePassword and HydraDatabasePassword belong to the users
	// that own the kratos and hydra databases.
	KratosDatabasePassword string `json:"kratos_database_password"`
	HydraDatabasePassword  string `json:"hydra_database_password"`
	// ProbeDatabasePassword belongs to the user that owns the probe
	// database, where the chaos writer probe writes (never the services'
	// data).
	ProbeDatabasePassword string `json:"probe_database_password"`
	// ReplicationPassword and RewindPassword belong to the Patroni tier's
	// replication user and the user pg_rewind connects as.
	ReplicationPassword string `json:"replication_password"`
	RewindPassword      string `json:"rewind_password"`
	// BridgeCSRF keys the bridge's CSRF tokens; every replica shares it.
	BridgeCSRF string `json:"bridge_csrf"`
	// DemoClientSecret is the demo app's OAuth2 client secret; DemoCookie
	// seals its cookies (every replica shares both).
	DemoClientSecret string `json:"demo_client_secret"`
	DemoCookie       string `json:"demo_cookie"`
}

// DatabaseUserPassword returns the password of the user owning database db.
func (s Secrets) DatabaseUserPassword(db string) string {
	switch db {
	case "kratos":
		return s.KratosDatabasePassword
	case "hydra":
		return s.HydraDatabasePassword
	case ProbeDatabase:
		return s.ProbeDatabasePassword
	}
	return ""
}

// NewSecrets returns fresh random secrets.
func NewSecrets() (Secrets, error) {
	gen := func(n int) (string, error) {
		b := make([]byte, n/2)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generate secret: %w", err)
		}
		return hex.EncodeToString(b), nil
	}
	var s Secrets
	var err error
	for _, f := range []struct {
		dst *string
		n   int
	}{{&s.KratosCookie, 32}, {&s.KratosCipher, 32}, {&s.HydraSystem, 32},
		{&s.DatabasePassword, 24}, {&s.KratosDatabasePassword, 24}, {&s.HydraDatabasePassword, 24}, {&s.ProbeDatabasePassword, 24},
		{&s.ReplicationPassword, 24}, {&s.RewindPassword, 24}, {&s.BridgeCSRF, 64},
		{&s.DemoClientSecret, 32}, {&s.DemoCookie, 64},
	} {
		if *f.dst, err = gen(f.n); err != nil {
			return Secrets{}, err
		}
	}
	return s, nil
}

// File is one rendered file and the path it is mounted at in a container.
type File struct {
	Path string
	Mode int64
	Data []byte
}

func marshalYAML(header string, v any) []byte {
	var buf bytes.Buffer
	buf.WriteString("# " + header + "\n# Rendered by idstack infra/config; do not edit.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		// Only maps, slices, strings, numbers and bools are encoded here.
		panic(fmt.Sprintf("config: encode yaml: %v", err))
	}
	return buf.Bytes()
}
