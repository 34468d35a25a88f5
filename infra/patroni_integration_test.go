//go:build integration

package infra_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
)

// ackWriter inserts a row every gap through the primary region's router,
// one connection per insert, and remembers the id of every insert whose
// commit was acknowledged. It never cancels a statement: a commit
// cancelled while it waits for the synchronous standby returns success
// with only a warning, so a cancelled commit would be a false
// acknowledgement.
type ackWriter struct {
	mu    sync.Mutex
	acked []ackedRow
	errs  int
}

type ackedRow struct {
	id int64
	at time.Time
}

func (w *ackWriter) run(ctx context.Context, dsn string, gap time.Duration, max int) {
	for i := 0; i < max && ctx.Err() == nil; i++ {
		func() {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				return
			}
			defer db.Close()
			var id int64
			// No deadline on the statement (see ackWriter); the connection
			// attempt is bounded by connect_timeout in the DSN, a dead
			// primary's sessions are shut by the router.
			err = db.QueryRowContext(context.WithoutCancel(ctx), "INSERT INTO ha_probe (at) VALUES (now()) RETURNING id").Scan(&id)
			w.mu.Lock()
			defer w.mu.Unlock()
			if err != nil {
				w.errs++
				return
			}
			w.acked = append(w.acked, ackedRow{id, time.Now()})
		}()
		select {
		case <-ctx.Done():
		case <-time.After(gap):
		}
	}
}

// longestGap is the longest time between two acknowledged inserts after
// from.
func (w *ackWriter) longestGap(from time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var longest time.Duration
	prev := from
	for _, r := range w.acked {
		if r.at.Before(from) {
			continue
		}
		longest = max(longest, r.at.Sub(prev))
		prev = r.at
	}
	return longest
}

// TestPatroniTierSurvivesThePrimary: the Patroni tier comes up over three
// sites (two regions and a witness), every health URL answers through the
// edges on it, and when the primary's container is SIGKILLed, another
// member takes over by itself, writes resume through the routers, no
// acknowledged insert is lost, and the old primary rejoins as a standby
// (pg_rewind) once started again.
func TestPatroniTierSurvivesThePrimary(t *testing.T) {
	s, inj := infratest.Establish(t, infratest.WithName("idstack-ha"), infratest.WithBasePort(4630),
		infratest.WithDatabase(infra.DatabasePatroni))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	for _, u := range stack.HealthURLs(s.Topology) {
		if err := stack.GetOK(ctx, s.Topology, u); err != nil {
			t.Error(err)
		}
	}
	members, err := s.Cluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stack.ClusterHealthy(members, 3); err != nil {
		t.Fatalf("cluster after up: %v (%+v)", err, members)
	}
	var leader string
	for _, m := range members {
		if m.IsLeader() {
			leader = m.Name
		}
	}
	if leader != config.MemberName(s.Topology.Primary()) {
		t.Fatalf("leader %s, want the primary region's member %s", leader, config.MemberName(s.Topology.Primary()))
	}

	dsn, err := s.DatabaseURL(ctx, "kratos")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE ha_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	w := &ackWriter{}
	wctx, stopWriter := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.run(wctx, dsn, 100*time.Millisecond, 3000) }()
	time.Sleep(3 * time.Second)

	primary := s.Topology.SiteNode(s.Topology.Primary(), stack.RoleDatabase)
	if err := inj.Kill(ctx, primary); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	// Down longer than the leader lock's ttl: a member restarted within
	// it takes its lock back and no failover happens.
	newLeader := ""
	eventually(t, "a new leader", 60*time.Second, func(ctx context.Context) error {
		members, err := s.Cluster(ctx)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.IsLeader() && m.Name != leader {
				newLeader = m.Name
				return nil
			}
		}
		return fmt.Errorf("no new leader yet: %+v", members)
	})
	if d := time.Until(killedAt.Add(time.Duration(config.PatroniTTL+10) * time.Second)); d > 0 {
		time.Sleep(d)
	}
	if err := inj.Start(ctx, primary); err != nil {
		t.Fatal(err)
	}
	rejoin := eventually(t, "the old primary streaming again", 2*time.Minute, func(ctx context.Context) error {
		members, err := s.Cluster(ctx)
		if err != nil {
			return err
		}
		return stack.ClusterHealthy(members, 3)
	})
	time.Sleep(2 * time.Second)
	stopWriter()
	<-done

	gap := w.longestGap(killedAt.Add(-time.Second))
	t.Logf("primary %s killed: %s leads; longest gap between acknowledged inserts %s; old primary streaming %s after its restart; %d inserts acknowledged, %d failed",
		leader, newLeader, gap.Round(100*time.Millisecond), rejoin.Round(100*time.Millisecond), len(w.acked), w.errs)
	if gap > 40*time.Second {
		t.Errorf("writes stopped for %s after the primary died, want them back within ttl and a few loops", gap)
	}

	// Every acknowledged insert is there, on the new primary.
	db, err = sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	present := map[int64]bool{}
	rows, err := db.QueryContext(ctx, "SELECT id FROM ha_probe")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		present[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, r := range w.acked {
		if !present[r.id] {
			lost++
		}
	}
	if lost > 0 || len(w.acked) < 50 {
		t.Errorf("%d of %d acknowledged inserts lost (want 0 of at least 50)", lost, len(w.acked))
	}
}
