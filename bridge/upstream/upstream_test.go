package upstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idstack/idstack/bridge"
	"github.com/idstack/idstack/bridge/fake"
)

type flaky struct {
	bridge.Kratos
	fails int
	err   error
	calls int
}

func (f *flaky) Identity(ctx context.Context, id string) (bridge.Identity, error) {
	f.calls++
	if f.calls <= f.fails {
		return bridge.Identity{}, f.err
	}
	return bridge.Identity{ID: id}, nil
}

func (f *flaky) EndBrowserSession(ctx context.Context, cookie string) error {
	f.calls++
	return f.err
}

type counter struct{ ok, failed int }

func (c *counter) ObserveUpstream(_, _ string, _ time.Time, err error) {
	if err != nil {
		c.failed++
	} else {
		c.ok++
	}
}

func TestReadsRetryTransientErrorsOnly(t *testing.T) {
	r := Retry{Attempts: 3, Backoff: time.Millisecond}
	transient := errors.New("connection refused")
	f := &flaky{Kratos: &fake.Kratos{}, fails: 2, err: transient}
	c := &counter{}
	k := Kratos{Next: f, Observer: c, Retry: r}
	if _, err := k.Identity(context.Background(), "x"); err != nil || f.calls != 3 || c.failed != 2 || c.ok != 1 {
		t.Fatalf("err %v after %d calls (%+v), want success on the third", err, f.calls, c)
	}
	f = &flaky{Kratos: &fake.Kratos{}, fails: 5, err: transient}
	k.Next = f
	if _, err := k.Identity(context.Background(), "x"); err == nil || f.calls != 3 {
		t.Fatalf("got %v after %d calls, want failure after 3", err, f.calls)
	}
	f = &flaky{Kratos: &fake.Kratos{}, fails: 5, err: bridge.ErrNoSession}
	k.Next = f
	if _, err := k.Identity(context.Background(), "x"); !errors.Is(err, bridge.ErrNoSession) || f.calls != 1 {
		t.Fatalf("a definitive answer was retried (%d calls)", f.calls)
	}
}

func TestReadsRetryOnlyTransientAnswers(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"transport error", errors.New("dial tcp: connection refused"), 3},
		{"500", &bridge.StatusError{Op: "get identity", Code: 500}, 3},
		{"503", &bridge.StatusError{Op: "get identity", Code: 503}, 3},
		{"429", &bridge.StatusError{Op: "get identity", Code: 429}, 3},
		{"400", &bridge.StatusError{Op: "get identity", Code: 400}, 1},
		{"401", &bridge.StatusError{Op: "get identity", Code: 401}, 1},
		{"404", &bridge.StatusError{Op: "get identity", Code: 404}, 1},
		{"wrapped 403", fmt.Errorf("whoami: %w", &bridge.StatusError{Op: "whoami", Code: 403}), 1},
		{"flow gone", bridge.ErrFlowGone, 1},
		{"unknown challenge", bridge.ErrUnknownChallenge, 1},
		{"deadline", context.DeadlineExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{Kratos: &fake.Kratos{}, fails: 10, err: tt.err}
			k := Kratos{Next: f, Retry: Retry{Attempts: 3, Backoff: time.Millisecond}}
			if _, err := k.Identity(context.Background(), "x"); !errors.Is(err, tt.err) || f.calls != tt.wantCalls {
				t.Errorf("got %v after %d calls, want %d calls", err, f.calls, tt.wantCalls)
			}
		})
	}
}

func TestWritesAreNeverRetried(t *testing.T) {
	f := &flaky{Kratos: &fake.Kratos{}, err: errors.New("timeout")}
	k := Kratos{Next: f, Retry: Retry{Attempts: 5, Backoff: time.Millisecond}}
	if err := k.EndBrowserSession(context.Background(), "ory_kratos_session=s"); err == nil || f.calls != 1 {
		t.Fatalf("a write was tried %d times", f.calls)
	}
}

func TestRetriesStopAtTheDeadline(t *testing.T) {
	f := &flaky{Kratos: &fake.Kratos{}, fails: 100, err: errors.New("503")}
	k := Kratos{Next: f, Retry: Retry{Attempts: 100, Backoff: 20 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	k.Identity(ctx, "x")
	if time.Since(start) > time.Second {
		t.Fatal("retries ran past the request's deadline")
	}
}
