package stack

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
)

// bootstrapStep is one statement of the SQL that gives each Ory service its
// own database owned by its own user. Steps after the CREATE DATABASE ones
// run in a transaction (see inTx).
type bootstrapStep struct {
	// sql runs with args; guard, when set, is a query whose non-empty result
	// means the step is already done (PostgreSQL lacks IF NOT EXISTS for roles
	// and databases).
	sql   string
	args  []any
	guard string
	// tx: run in a transaction (inTx); CREATE DATABASE cannot run in a
	// PostgreSQL transaction.
	tx bool
}

func bootstrapSteps(t infra.Topology, s config.Secrets) []bootstrapStep {
	var steps []bootstrapStep
	for _, db := range config.Databases {
		steps = append(steps, bootstrapStep{
			guard: fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", db),
			sql:   "CREATE DATABASE " + db,
		})
	}
	for _, db := range config.Databases {
		create := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s", db, quoteLiteral(s.DatabaseUserPassword(db)))
		if t.Database == infra.DatabaseCockroach {
			create = "CREATE USER " + db // insecure local cluster: no passwords
		}
		steps = append(steps,
			bootstrapStep{guard: fmt.Sprintf("SELECT 1 FROM pg_roles WHERE rolname = '%s'", db), sql: create, tx: true},
			bootstrapStep{sql: fmt.Sprintf("ALTER DATABASE %s OWNER TO %s", db, db), tx: true},
		)
	}
	if t.Database == infra.DatabaseCockroach {
		for _, db := range config.Databases {
			steps = append(steps, bootstrapStep{sql: fmt.Sprintf("ALTER DATABASE %s SET PRIMARY REGION %q", db, t.Primary()), tx: true})
			for _, r := range t.Regions[1:] {
				steps = append(steps, bootstrapStep{
					guard: fmt.Sprintf("SELECT 1 FROM [SHOW REGIONS FROM DATABASE %s] WHERE region = '%s'", db, r),
					sql:   fmt.Sprintf("ALTER DATABASE %s ADD REGION %q", db, r), tx: true,
				})
			}
			goal := "ZONE"
			if len(t.Regions) >= 3 {
				goal = "REGION"
			}
			steps = append(steps, bootstrapStep{sql: fmt.Sprintf("ALTER DATABASE %s SURVIVE %s FAILURE", db, goal), tx: true})
		}
	}
	return steps
}

// bootstrapDatabase connects from the host to the database node at ip and
// runs the bootstrap. It is idempotent.
func (s *Stack) bootstrapDatabase(ctx context.Context, ip string, secrets config.Secrets) error {
	var dsn string
	if s.Topology.Database == infra.DatabaseCockroach {
		dsn = fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", net.JoinHostPort(ip, strconv.Itoa(config.CockroachPort)))
	} else {
		dsn = fmt.Sprintf("postgres://%s:%s@%s/postgres?sslmode=disable&connect_timeout=5",
			config.DatabaseSuperuser, secrets.DatabasePassword, net.JoinHostPort(ip, strconv.Itoa(config.PostgresPort)))
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("bootstrap database: %w", err)
	}
	defer db.Close()
	// The server may accept TCP before it accepts logins.
	if err := Poll(ctx, 60*time.Second, 250*time.Millisecond, db.PingContext); err != nil {
		return fmt.Errorf("bootstrap database: connect: %w", err)
	}
	for _, step := range bootstrapSteps(s.Topology, secrets) {
		if step.guard != "" {
			var one int
			err := db.QueryRowContext(ctx, step.guard).Scan(&one)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("bootstrap database: %s: %w", redact(step.guard), err)
			}
		}
		run := func(exec func(context.Context, string, ...any) (sql.Result, error)) error {
			_, err := exec(ctx, step.sql, step.args...)
			return err
		}
		if step.tx {
			err = s.inTx(ctx, db, func(tx *sql.Tx) error { return run(tx.ExecContext) })
		} else {
			err = run(db.ExecContext)
		}
		if err != nil {
			return fmt.Errorf("bootstrap database: %s: %w", redact(step.sql), err)
		}
	}
	return nil
}

// inTx runs fn in a transaction. On CockroachDB, crdb.ExecuteTx retries
// its serialization errors through SAVEPOINT cockroach_restart. That
// protocol relies on CockroachDB's RELEASE semantics: on PostgreSQL it
// would drop the final COMMIT's error, so there the whole transaction is
// retried instead, and a failed COMMIT is an error.
func (s *Stack) inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	if s.Topology.Database == infra.DatabaseCockroach {
		return crdb.ExecuteTx(ctx, db, nil, fn)
	}
	return retryTx(ctx, db, 5, fn)
}

// retryTx runs fn in a transaction and commits it, up to attempts times
// while the error is a serialization failure or a deadlock (SQLSTATE
// 40001, 40P01), which PostgreSQL asks the client to retry.
func retryTx(ctx context.Context, db *sql.DB, attempts int, fn func(*sql.Tx) error) error {
	var err error
	for range attempts {
		if err = onceTx(ctx, db, fn); err == nil || !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, err)
}

func onceTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// retryable reports a PostgreSQL error the client should retry the
// transaction on.
func retryable(err error) bool {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		switch coded.SQLState() {
		case "40001", "40P01":
			return true
		}
	}
	return false
}

// quoteLiteral quotes s as an SQL string literal. Role and database names
// are constants of this package; only the passwords need quoting.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// redact hides passwords in SQL for error messages.
func redact(sql string) string {
	if i := strings.Index(sql, "PASSWORD"); i >= 0 {
		return sql[:i] + "PASSWORD '…'"
	}
	return sql
}

// DatabaseURL returns a DSN the host can use to reach database db ("kratos"
// or "hydra") as the user that owns it, for tests that must look at or
// change what the services stored.
func (s *Stack) DatabaseURL(ctx context.Context, db string) (string, error) {
	return s.RouteURL(ctx, s.Topology.Primary(), db)
}

// RouteURL is DatabaseURL through region's own route to the database:
// its router on the Patroni tier (whichever member leads), the one node
// otherwise.
func (s *Stack) RouteURL(ctx context.Context, region, db string) (string, error) {
	st, err := s.LoadState()
	if err != nil {
		return "", err
	}
	if s.Topology.RegionIndex(region) < 0 {
		return "", fmt.Errorf("database route: no region %q", region)
	}
	if s.Topology.Database == infra.DatabasePatroni {
		addr, err := s.routerAddress(ctx, region)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=5",
			db, st.Secrets.DatabaseUserPassword(db), addr, db), nil
	}
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if n.Role != RoleDatabase || n.State != "running" {
			continue
		}
		ip, err := s.address(ctx, n.ID, s.wanNetwork())
		if err != nil {
			return "", err
		}
		if s.Topology.Database == infra.DatabaseCockroach {
			return fmt.Sprintf("postgres://root@%s/%s?sslmode=disable", net.JoinHostPort(ip, strconv.Itoa(config.CockroachPort)), db), nil
		}
		return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable&connect_timeout=5",
			db, st.Secrets.DatabaseUserPassword(db), net.JoinHostPort(ip, strconv.Itoa(config.PostgresPort)), db), nil
	}
	return "", fmt.Errorf("database %s: %w: no running database node", db, ErrNotUp)
}
