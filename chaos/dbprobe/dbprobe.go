// Package dbprobe writes through one region's route to the database and
// reads what it wrote back: the writer probe of the chaos suite. Each
// write is one row in a table of the probe database, on a connection of
// its own (so each one follows the route to whichever member leads now),
// committed in a transaction whose COMMIT must succeed before the write
// counts as acknowledged. The member that took it reports its address and
// its WAL timeline, which is what lets the checks tell two primaries
// apart.
//
// A write is never cancelled: a COMMIT cancelled while it waits for the
// synchronous standby returns success with only a warning, which would be
// a false acknowledgement, and the cancel leaves the row committed on the
// primary alone. A write that outlives its bound has its connection
// closed instead (no cancel request: pgx would open a second connection
// to send one, which the probe's dialer refuses), and a COMMIT that comes
// back with that warning anyway counts as not acknowledged.
package dbprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/idstack/idstack/infra/config"
)

// Table is where the probe writes, in the probe database.
const Table = "probe_writes"

// Ack is what the member that committed a write said about itself.
type Ack struct {
	// Server is the member's name (config.MemberSetting), or where it
	// has none, its address as it sees the connection.
	Server string
	// Timeline is the member's WAL timeline at the write: a promotion
	// starts a new one, so a write on an older timeline after one on a
	// newer was acknowledged by a demoted primary.
	Timeline int
}

// ErrLocalOnly is a COMMIT that succeeded with PostgreSQL's warning that
// the wait for synchronous replication was cancelled: committed on the
// primary alone, which is not an acknowledgement.
var ErrLocalOnly = errors.New("commit not acknowledged by a synchronous standby")

// Route writes through one DSN.
type Route struct {
	DSN    string
	Region string
	// Bound is how long one write may take before its connection is
	// closed (0: 20 s).
	Bound time.Duration
}

// Prepare creates the table if it is not there.
func Prepare(ctx context.Context, dsn string) error {
	conn, err := connect(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+Table+
		" (key text PRIMARY KEY, region text NOT NULL, server text NOT NULL, timeline int NOT NULL, written_at timestamptz NOT NULL DEFAULT now())")
	if err != nil {
		return fmt.Errorf("prepare %s: %w", Table, err)
	}
	return nil
}

// ErrNoCancel is what a connection's dialer answers once the connection
// is open: pgx opens a second connection to send a cancel request when
// a statement's deadline passes (pgconn's asyncClose), and the probe
// never cancels.
var ErrNoCancel = errors.New("the writer probe sends no cancel requests")

// connect opens one connection whose context ends close the socket and
// never send a cancel request: the context watcher only sets a deadline,
// and the dialer refuses every dial after the first connection is made
// (the cancel request's). Notices go to onNotice.
func connect(ctx context.Context, dsn string, onNotice func(*pgconn.Notice)) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("probe DSN: %w", err)
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	var connected atomic.Bool
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if connected.Load() {
			return nil, ErrNoCancel
		}
		return dial(ctx, network, addr)
	}
	if onNotice != nil {
		cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { onNotice(n) }
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	connected.Store(true)
	return conn, nil
}

// Write inserts key and commits, and reports the member that took it. An
// error means the write is not acknowledged: it may or may not be there
// afterwards.
func (r Route) Write(ctx context.Context, key string) (Ack, error) {
	bound := r.Bound
	if bound <= 0 {
		bound = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var mu sync.Mutex
	var warnings []string
	conn, err := connect(ctx, r.DSN, func(n *pgconn.Notice) {
		mu.Lock()
		warnings = append(warnings, n.Message)
		mu.Unlock()
	})
	if err != nil {
		return Ack{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ack Ack
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var wal string
		err := tx.QueryRow(ctx, "SELECT coalesce(nullif(current_setting('"+config.MemberSetting+"', true), ''), inet_server_addr()::text, 'local'), pg_walfile_name(pg_current_wal_lsn())").Scan(&ack.Server, &wal)
		if err != nil {
			return err
		}
		if ack.Timeline, err = TimelineOf(wal); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+Table+" (key, region, server, timeline) VALUES ($1, $2, $3, $4)", key, r.Region, ack.Server, ack.Timeline)
		return err
	})
	if err != nil {
		return Ack{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	for _, w := range warnings {
		if strings.Contains(w, "synchronous replication") {
			return Ack{}, fmt.Errorf("%w: %s", ErrLocalOnly, w)
		}
	}
	return ack, nil
}

// TimelineOf reads the timeline from a WAL file name (its first eight hex
// digits).
func TimelineOf(walFile string) (int, error) {
	if len(walFile) != 24 {
		return 0, fmt.Errorf("WAL file name %q: want 24 hex digits", walFile)
	}
	tl, err := strconv.ParseUint(walFile[:8], 16, 32)
	if err != nil || tl == 0 {
		return 0, fmt.Errorf("WAL file name %q: no timeline", walFile)
	}
	return int(tl), nil
}

// Present returns which of keys the table holds, read through dsn.
func Present(ctx context.Context, dsn string, keys []string) (map[string]bool, error) {
	conn, err := connect(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT key FROM "+Table+" WHERE key = ANY($1)", keys)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(found))
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}

// Duplicates returns which of emails more than one Kratos identity holds
// as its email trait, read from Kratos' database through dsn: an
// identity created twice (a retried registration that both attempts
// committed) would not show through Kratos' API, whose lookup by
// credentials identifier finds one.
func Duplicates(ctx context.Context, dsn string, emails []string) ([]string, error) {
	conn, err := connect(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT traits->>'email' FROM identities WHERE traits->>'email' = ANY($1) GROUP BY 1 HAVING count(*) > 1 ORDER BY 1", emails)
	if err != nil {
		return nil, fmt.Errorf("look for duplicate identities: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
