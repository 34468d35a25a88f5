//go:build integration

package dbprobe_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/check"
	"github.com/idstack/idstack/chaos/dbprobe"
	"github.com/idstack/idstack/chaos/target"
	"github.com/idstack/idstack/e2e"
	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
)

// TestTheChecksCatchLossWithoutSynchronousReplication is the must-fail
// control: on a real Patroni tier with synchronous replication turned off
// and the primary's member closed to the other sites (no standby
// streams), registrations and writes the primary acknowledges exist on
// it alone; when it is killed a standby without them takes over, and the
// old primary rejoins through pg_rewind, discarding them. The same set
// checks the chaos suite runs (check.Lost for registrations, the lost
// write check for the writer probe) must report them lost: proof that
// the checks catch real loss on a real database, which the synchronous
// default never shows them.
func TestTheChecksCatchLossWithoutSynchronousReplication(t *testing.T) {
	s, inj := infratest.Establish(t, infratest.WithName("idstack-ctl"), infratest.WithBasePort(5330),
		infratest.WithDatabase(infra.DatabasePatroni), infratest.WithReplicas(infra.ServiceKratos, 1),
		infratest.WithReplicas(infra.ServiceHydra, 1), infratest.WithReplicas(infra.ServiceBridge, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	top := s.Topology
	primarySite := top.Primary()
	dsn, err := s.RouteURL(ctx, primarySite, config.ProbeDatabase)
	if err != nil {
		t.Fatal(err)
	}
	// The table, while every commit still reaches a standby.
	if err := dbprobe.Prepare(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if err := s.PatchClusterConfig(ctx, map[string]any{"synchronous_mode": false, "synchronous_mode_strict": false}); err != nil {
		t.Fatal(err)
	}
	// Patroni empties synchronous_standby_names within a loop or two.
	poll(t, "no synchronous standby left", 30*time.Second, func(ctx context.Context) error {
		members, err := s.Cluster(ctx)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.Role == "sync_standby" || m.Role == "quorum_standby" {
				return fmt.Errorf("%s is still a %s", m.Name, m.Role)
			}
		}
		return nil
	})
	if err := inj.CutReplication(ctx, primarySite); err != nil {
		t.Fatal(err)
	}

	env := e2e.FromTopology(top, s.DatabaseURL)
	var h chaos.History
	route := dbprobe.Route{DSN: dsn, Region: primarySite}
	for i := range 20 {
		start := time.Now()
		key := fmt.Sprintf("control-%d-%d", start.UnixNano(), i)
		ack, err := route.Write(ctx, key)
		h.Events = append(h.Events, chaos.Event{Probe: chaos.ProbeWrite, Region: primarySite, Start: start, Latency: time.Since(start),
			OK: err == nil, Key: key, Server: ack.Server, Timeline: ack.Timeline})
		if err != nil {
			t.Fatalf("write %d with replication cut: %v", i, err)
		}
		email := fmt.Sprintf("control-%d-%d@example.com", start.UnixNano(), i)
		start = time.Now()
		if err := env.CreateIdentity(ctx, email, "control passphrase 1234"); err != nil {
			t.Fatalf("register %s: %v", email, err)
		}
		h.Events = append(h.Events, chaos.Event{Probe: chaos.ProbeRegister, Region: primarySite, Start: start, Latency: time.Since(start), OK: true, Email: email})
	}

	primary := top.SiteNode(primarySite, stack.RoleDatabase)
	if err := inj.Kill(ctx, primary); err != nil {
		t.Fatal(err)
	}
	poll(t, "a new leader", 60*time.Second, func(ctx context.Context) error {
		members, err := s.Cluster(ctx)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.IsLeader() && m.Name != config.MemberName(primarySite) {
				return nil
			}
		}
		return fmt.Errorf("no new leader: %+v", members)
	})
	time.Sleep(5 * time.Second) // the new leader settles before the old primary comes back
	if err := inj.Start(ctx, primary); err != nil {
		t.Fatal(err)
	}
	if err := inj.RestoreReplication(ctx, primarySite); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReplicating(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Kratos' pools reconnect through the routers to the new primary.
	poll(t, "Kratos answering on the new primary", time.Minute, func(ctx context.Context) error {
		_, err := env.IdentityExists(ctx, "nobody@example.com")
		return err
	})

	// Read back as the chaos runner does, through the local target.
	local, err := target.NewLocal(s)
	if err != nil {
		t.Fatal(err)
	}
	present, err := local.DatabaseProbe().Present(ctx, check.AcknowledgedWrites(h.Events))
	if err != nil {
		t.Fatal(err)
	}
	h.WritesRead = true
	for _, k := range check.AcknowledgedWrites(h.Events) {
		if !present[k] {
			h.WritesMissing = append(h.WritesMissing, k)
		}
	}
	for _, e := range check.Acknowledged(h.Events) {
		ok, err := env.IdentityExists(ctx, e)
		h.ReadBack = append(h.ReadBack, chaos.RegistrationRead{Email: e, Found: ok && err == nil, Err: errString(err)})
	}
	lostRegs := check.Lost(h)
	var lostWrites, lostRegsCheck chaos.CheckResult
	for _, c := range check.Invariants(h) {
		switch c.Name {
		case check.NoLostWrite:
			lostWrites = c
		case check.NoLostRegistration:
			lostRegsCheck = c
		}
	}
	t.Logf("with replication cut and synchronous mode off: %d of 20 writes and %d of 20 registrations lost after the failover", len(h.WritesMissing), len(lostRegs))
	if lostWrites.OK || len(h.WritesMissing) == 0 {
		t.Errorf("the lost-write check passed (%s): it cannot see real loss", lostWrites.Detail)
	}
	if lostRegsCheck.OK || len(lostRegs) == 0 || !strings.Contains(lostRegsCheck.Detail, "acknowledged, then missing") {
		t.Errorf("the registration set check passed (%s): it cannot see real loss", lostRegsCheck.Detail)
	}
	// Loss, not lookups that failed: at least one address was looked up
	// and not found.
	missing := 0
	for _, r := range h.ReadBack {
		if !r.Found && r.Err == "" {
			missing++
		}
	}
	if missing == 0 {
		t.Errorf("no registration was read back and found missing: %+v", h.ReadBack)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func poll(t *testing.T, what string, timeout time.Duration, fn func(context.Context) error) {
	t.Helper()
	if err := stack.Poll(context.Background(), timeout, 500*time.Millisecond, fn); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
