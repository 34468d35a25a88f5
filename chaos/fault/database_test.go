package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idstack/idstack/infra"
)

// fakeDatabase is a tier of members at sites a, b and c; Switchover moves
// the lead, every call is recorded.
type fakeDatabase struct {
	mu     sync.Mutex
	leader string
	calls  []string
}

func (d *fakeDatabase) rec(s string) {
	d.mu.Lock()
	d.calls = append(d.calls, s)
	d.mu.Unlock()
}

func (d *fakeDatabase) MemberAt(site string) (Member, error) {
	if !slices.Contains([]string{"eu", "us", "witness"}, site) {
		return Member{}, fmt.Errorf("no site %s", site)
	}
	return Member{Name: "pg-" + site, Node: "node-" + site, Site: site}, nil
}

func (d *fakeDatabase) Primary(context.Context) (Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.MemberAt(d.leader)
}

func (d *fakeDatabase) Standbys(context.Context) ([]Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Member
	// The witness first: a switchover must still pick a region's member.
	for _, s := range []string{"witness", "eu", "us"} {
		if s != d.leader {
			m, _ := d.MemberAt(s)
			out = append(out, m)
		}
	}
	return out, nil
}

func (d *fakeDatabase) Switchover(_ context.Context, from, to Member) error {
	d.rec("switchover " + from.Name + " " + to.Name)
	d.mu.Lock()
	d.leader = to.Site
	d.mu.Unlock()
	return nil
}

func (d *fakeDatabase) WaitReplicating(context.Context, time.Duration) error {
	d.rec("wait")
	return nil
}

func patroniEnv() (Env, *fakeNodes, *fakeDatabase) {
	e, n, _ := env()
	e.Topology.Database = infra.DatabasePatroni
	d := &fakeDatabase{leader: "eu"}
	e.Database = d
	return e, n, d
}

func TestDatabaseFaultsHitTheMemberTheyName(t *testing.T) {
	ctx := context.Background()
	e, n, d := patroniEnv()
	for _, f := range []Fault{&KillPrimary{}, &KillStandby{Pick: 1}, &PausePrimary{}, &CutPrimarySite{Site: "eu"}} {
		if err := f.Available(e); err != nil {
			t.Fatalf("%s unavailable: %v", f.Name(), err)
		}
		if err := f.Inject(ctx, e); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if f.Name() == "kill-db-primary" {
			d.leader = "us" // a failover while it is down: the heal still starts the node it killed
		}
		if err := f.Heal(ctx, e); err != nil {
			t.Fatalf("%s heal: %v", f.Name(), err)
		}
		d.leader = "eu"
	}
	want := []string{"kill node-eu", "start node-eu", "kill node-us", "start node-us", "pause node-eu", "unpause node-eu", "cut eu", "restore eu"}
	if !slices.Equal(n.calls, want) {
		t.Errorf("calls %q, want %q", n.calls, want)
	}
}

func TestCutPrimarySiteRefusesAnotherSite(t *testing.T) {
	e, n, _ := patroniEnv()
	err := (&CutPrimarySite{Site: "us"}).Inject(context.Background(), e)
	if err == nil || !strings.Contains(err.Error(), "not at us") {
		t.Errorf("got %v, want a refusal naming the site", err)
	}
	if len(n.calls) != 0 {
		t.Errorf("cut %q anyway", n.calls)
	}
}

func TestPlacePrimarySwitchesOverOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	e, _, d := patroniEnv()
	if moved, err := PlacePrimary(ctx, e, "eu"); err != nil || moved {
		t.Fatalf("at eu already: moved %v, %v", moved, err)
	}
	if moved, err := PlacePrimary(ctx, e, "us"); err != nil || !moved {
		t.Fatalf("to us: moved %v, %v", moved, err)
	}
	want := []string{"wait", "wait", "switchover pg-eu pg-us", "wait"}
	if !slices.Equal(d.calls, want) {
		t.Errorf("calls %q, want %q", d.calls, want)
	}
	e.Topology.Database = infra.DatabasePostgres
	if _, err := PlacePrimary(ctx, e, "eu"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("on postgres: %v, want ErrUnavailable", err)
	}
}

func TestRollingRestartTakesThePrimaryLast(t *testing.T) {
	ctx := context.Background()
	e, n, d := patroniEnv()
	f := &RollingRestart{Grace: time.Second}
	if err := f.Inject(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := f.Heal(ctx, e); err != nil {
		t.Fatal(err)
	}
	want := []string{"restart node-witness", "restart node-us", "restart node-eu"}
	if !slices.Equal(n.calls, want) {
		t.Errorf("calls %q, want %q", n.calls, want)
	}
	if waits := strings.Count(strings.Join(d.calls, " "), "wait"); waits != 3 {
		t.Errorf("%d waits for replication, want one after each restart", waits)
	}
}

func TestDatabaseFaultAvailability(t *testing.T) {
	e, _, _ := patroniEnv()
	for _, f := range []Fault{&KillPrimary{}, &KillStandby{}, &PausePrimary{}, &CutPrimarySite{Site: "eu"}, &Switchover{To: "us"}, &RollingRestart{}} {
		if err := f.Available(e); err != nil {
			t.Errorf("%s on patroni: %v", f.Name(), err)
		}
	}
	e.Topology.Database = infra.DatabasePostgres
	if err := (&KillPrimary{}).Available(e); err != nil {
		t.Errorf("kill-db-primary on one node: %v, want it available", err)
	}
	for _, f := range []Fault{&KillStandby{}, &PausePrimary{}, &CutPrimarySite{Site: "eu"}, &Switchover{To: "us"}, &RollingRestart{}} {
		if err := f.Available(e); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "needs the Patroni tier") {
			t.Errorf("%s on postgres: %v, want ErrUnavailable naming Patroni", f.Name(), err)
		}
	}
	e.Topology.Database = infra.DatabaseCockroach
	if err := (&KillPrimary{}).Available(e); !errors.Is(err, ErrUnavailable) {
		t.Errorf("kill-db-primary on cockroach: %v, want ErrUnavailable", err)
	}
}

// A fault whose inject failed before it hit anything heals nothing, and
// so does not stop the suite with a failed heal; a fault value run again
// forgets the member it hit before.
func TestHealAfterAFailedInjectDoesNothing(t *testing.T) {
	ctx := context.Background()
	e, n, _ := patroniEnv()
	cut := &CutPrimarySite{Site: "us"}
	if err := cut.Inject(ctx, e); err == nil {
		t.Fatal("cut a site that does not hold the primary")
	}
	if err := cut.Heal(ctx, e); err != nil || len(n.calls) != 0 {
		t.Errorf("heal after a refused cut: %v, calls %q", err, n.calls)
	}
	k := &KillPrimary{}
	if err := k.Inject(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.Database = failingDatabase{e.Database}
	if err := k.Inject(ctx, e); err == nil {
		t.Fatal("inject with no primary to find succeeded")
	}
	if err := k.Heal(ctx, e); err != nil {
		t.Fatal(err)
	}
	if want := []string{"kill node-eu"}; !slices.Equal(n.calls, want) {
		t.Errorf("calls %q, want %q: the second heal must not start the first run's node", n.calls, want)
	}
}

type failingDatabase struct{ Database }

func (failingDatabase) Primary(context.Context) (Member, error) {
	return Member{}, errors.New("no member answered")
}

func TestDatabaseFaultsSayWhatTheyHit(t *testing.T) {
	e, _, _ := patroniEnv()
	k := &KillPrimary{}
	if err := k.Inject(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	obs := k.Observed()
	if len(obs.Notes) != 1 || !strings.Contains(obs.Notes[0].Note, "pg-eu") {
		t.Errorf("notes %+v, want the member killed", obs.Notes)
	}
}

func TestSwitchoverPicksAStandbyInARegion(t *testing.T) {
	e, _, d := patroniEnv()
	if err := (&Switchover{}).Inject(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if want := []string{"switchover pg-eu pg-us"}; !slices.Equal(d.calls, want) {
		t.Errorf("calls %q, want %q (the witness is no candidate)", d.calls, want)
	}
	if err := (&Switchover{To: "us"}).Inject(context.Background(), e); err == nil {
		t.Error("switched over to the member that leads")
	}
}

// refusingDatabase refuses its first switchover, as Patroni does while
// the candidate is not a synchronous standby yet.
type refusingDatabase struct {
	*fakeDatabase
	refused bool
}

func (d *refusingDatabase) Switchover(ctx context.Context, from, to Member) error {
	if !d.refused {
		d.refused = true
		d.rec("refused")
		return errors.New("503 Service Unavailable: Switchover failed")
	}
	return d.fakeDatabase.Switchover(ctx, from, to)
}

func TestPlacePrimaryRetriesARefusedSwitchover(t *testing.T) {
	e, _, d := patroniEnv()
	e.Database = &refusingDatabase{fakeDatabase: d}
	if moved, err := PlacePrimary(context.Background(), e, "us"); err != nil || !moved {
		t.Fatalf("moved %v, %v", moved, err)
	}
	if want := []string{"wait", "refused", "wait", "switchover pg-eu pg-us", "wait"}; !slices.Equal(d.calls, want) {
		t.Errorf("calls %q, want %q", d.calls, want)
	}
}
