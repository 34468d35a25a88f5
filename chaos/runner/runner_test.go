package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/fault"
	"github.com/idstack/idstack/chaos/probe"
	"github.com/idstack/idstack/e2e"
)

// healTarget is a Target that only counts and fails its heals.
type healTarget struct {
	heals   int
	healErr error
}

func (h *healTarget) Name() string                    { return "fake" }
func (h *healTarget) Env() e2e.Env                    { return e2e.Env{} }
func (h *healTarget) Faults() fault.Env               { return fault.Env{} }
func (h *healTarget) Health(context.Context) []string { return nil }
func (h *healTarget) Versions() map[string]string     { return nil }
func (h *healTarget) KeyLead() time.Duration          { return 0 }
func (h *healTarget) DatabaseProbe() DatabaseProbe    { return nil }
func (h *healTarget) HealAll(context.Context) error   { h.heals++; return h.healErr }

func TestHealOnExitHealsAndRaisesAPanicAgain(t *testing.T) {
	tgt := &healTarget{}
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v, want the panic raised again", p)
		}
		if tgt.heals != 1 {
			t.Fatalf("healed %d times, want 1", tgt.heals)
		}
	}()
	var err error
	func() {
		defer healOnExit(context.Background(), tgt, &err)
		panic("boom")
	}()
}

func TestHealOnExitJoinsAFailedHeal(t *testing.T) {
	tgt := &healTarget{healErr: errors.New("vault sealed")}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an interrupted run still heals
	err := errors.New("scenario failed")
	healOnExit(ctx, tgt, &err)
	if tgt.heals != 1 || !errors.Is(err, ErrHealFailed) || err.Error() == "" {
		t.Fatalf("heals %d, err %v; want one heal and ErrHealFailed joined", tgt.heals, err)
	}
	if !strings.Contains(err.Error(), "scenario failed") || !strings.Contains(err.Error(), "vault sealed") {
		t.Fatalf("err %q lost a cause", err)
	}
}

func TestJoinKeysKeepsEachKeysFirstSighting(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	before := []chaos.KeySighting{{Kid: "old"}}
	a := probe.Report{Keys: []chaos.KeySighting{{Kid: "old", Published: t0}, {Kid: "next", Published: t0.Add(2 * time.Second)}}}
	b := probe.Report{Keys: []chaos.KeySighting{{Kid: "next", Published: t0.Add(time.Second)}, {Kid: "new", Published: t0.Add(5 * time.Second)}}}
	got := joinKeys(before, a, b)
	want := []chaos.KeySighting{{Kid: "old"}, {Kid: "next", Published: t0.Add(time.Second)}, {Kid: "new", Published: t0.Add(5 * time.Second)}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestAddSkipped(t *testing.T) {
	got := addSkipped(addSkipped(nil, map[string]int{"login-eu": 1}), map[string]int{"login-eu": 2, "register": 1})
	if got["login-eu"] != 3 || got["register"] != 1 || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if addSkipped(nil, nil) != nil {
		t.Fatal("nothing skipped should stay nil")
	}
}
