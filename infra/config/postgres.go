package config

import (
	_ "embed"
)

// PostgresEntrypointPath is the script the PostgreSQL container runs.
const PostgresEntrypointPath = "/usr/local/bin/idstack-postgres"

// PostgresDataPath is the data directory, on a volume.
const PostgresDataPath = "/var/lib/idstack/postgres"

//go:embed postgres-entrypoint.sh
var postgresEntrypoint []byte

// PostgresEntrypoint initialises the cluster on first start (superuser
// DatabaseUser, password from IDSTACK_DB_PASSWORD, scram auth), then runs
// postgres in the foreground with fsync on.
func PostgresEntrypoint() File {
	return File{Path: PostgresEntrypointPath, Mode: 0o555, Data: postgresEntrypoint}
}
