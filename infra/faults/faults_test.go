package faults

import (
	"context"
	"errors"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestHealAllHealsNewestFirstAndKeepsFailures(t *testing.T) {
	var order []string
	inj := &Injector{}
	heal := func(name string, err error) func(context.Context) error {
		return func(context.Context) error { order = append(order, name); return err }
	}
	boom := errors.New("engine unreachable")
	inj.record("kill", "a", heal("a", nil))
	inj.record("pause", "b", heal("b", boom))
	inj.record("disconnect", "c@wan", heal("c", nil))

	err := inj.HealAll(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the failed heal's error", err)
	}
	if want := []string{"c", "b", "a"}; !reflect.DeepEqual(order, want) {
		t.Errorf("healed in order %v, want %v", order, want)
	}
	if got := inj.Active(); len(got) != 1 || got[0].Node != "b" {
		t.Fatalf("after a failed heal, active = %v, want only b", got)
	}
}

func TestForgetDropsOnlyNamedFaults(t *testing.T) {
	inj := &Injector{}
	noop := func(context.Context) error { return nil }
	inj.record("kill", "a", noop)
	inj.record("pause", "a", noop)
	inj.record("kill", "b", noop)
	inj.forget("a", "kill", "stop")
	var got []string
	for _, a := range inj.Active() {
		got = append(got, a.String())
	}
	if want := []string{"pause a", "kill b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestGuardHealsOnErrorAndPanic(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		inj := &Injector{}
		healed := false
		fail := errors.New("scenario failed")
		err := inj.Guard(context.Background(), func(ctx context.Context) error {
			inj.record("kill", "a", func(context.Context) error { healed = true; return nil })
			return fail
		})
		if !errors.Is(err, fail) || !healed {
			t.Fatalf("got err %v healed %v, want the scenario error and a heal", err, healed)
		}
	})
	t.Run("panic", func(t *testing.T) {
		inj := &Injector{}
		healed := false
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("got panic %v, want it re-raised", r)
			}
			if !healed {
				t.Fatal("not healed after a panic")
			}
		}()
		inj.Guard(context.Background(), func(ctx context.Context) error {
			inj.record("pause", "a", func(context.Context) error { healed = true; return nil })
			panic("boom")
		})
	})
}

func TestWithoutShortID(t *testing.T) {
	id := "0123456789abcdef0123"
	got := withoutShortID([]string{"0123456789ab", "db.idstack.internal"}, id)
	if !reflect.DeepEqual(got, []string{"db.idstack.internal"}) {
		t.Errorf("got %v", got)
	}
}

func TestGuardHealsOnSIGINT(t *testing.T) {
	inj := &Injector{}
	healed := false
	err := inj.Guard(context.Background(), func(ctx context.Context) error {
		inj.record("kill", "a", func(context.Context) error { healed = true; return nil })
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("SIGINT did not cancel the guarded context")
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context cancelled by SIGINT", err)
	}
	if !healed {
		t.Fatal("not healed after SIGINT")
	}
}
