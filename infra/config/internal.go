package config

import (
	"fmt"

	"github.com/idstack/idstack/infra"
)

// Internal names: resolved through Docker network aliases only, never by a
// browser. Inside a region, the region's WAN gateway answers for the global
// services it forwards (database, SMTP sink).
const (
	InternalDomain = "idstack.internal"
	DatabaseHost   = "db." + InternalDomain
	MailHost       = "mail." + InternalDomain
	// DatabaseUpstreamHost is the database's own name on the WAN network,
	// which only gateways and global services use.
	DatabaseUpstreamHost = "db.wan." + InternalDomain
	MailUpstreamHost     = "mail.wan." + InternalDomain
)

// Container ports of the services.
const (
	KratosPublicPort = 4433
	KratosAdminPort  = 4434
	HydraPublicPort  = 4444
	HydraAdminPort   = 4445
	PostgresPort     = 5432
	CockroachPort    = 26257
	ToxiproxyAPIPort = 8474
)

// DatabaseSuperuser is the PostgreSQL superuser the bootstrap connects as.
const DatabaseSuperuser = "idstack"

// Databases are created by the bootstrap, one per Ory service and the
// probe database, each owned by a user of the same name.
var Databases = []string{"kratos", "hydra", ProbeDatabase}

// ProbeDatabase holds what the chaos writer probe writes through every
// region's route to the database: a table of its own, apart from the
// services' data.
const ProbeDatabase = "probe"

// DSN is the connection string a regional service uses for database db, as
// the user owning it. It goes through the region's WAN gateway (the single
// PostgreSQL node), the region's database router (the Patroni tier: to the
// primary, through the gateways when it is at another site) or the
// region's own node (CockroachDB), so link faults apply to it.
func DSN(t infra.Topology, s Secrets, db string) string {
	switch t.Database {
	case infra.DatabaseCockroach:
		// Kratos and Hydra pick the CockroachDB dialect by the cockroach://
		// scheme. The local cluster runs insecure, which has no passwords.
		return fmt.Sprintf("cockroach://%s@%s:%d/%s?sslmode=disable&max_conns=20&max_idle_conns=4",
			db, DatabaseHost, CockroachPort, db)
	default:
		return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable&max_conns=20&max_idle_conns=4",
			db, s.DatabaseUserPassword(db), DatabaseHost, PostgresPort, db)
	}
}
