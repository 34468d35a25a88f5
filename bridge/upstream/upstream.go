// Package upstream wraps the bridge's Kratos and Hydra clients: every call
// is timed for the metrics, and idempotent reads that fail for a transient
// reason (a transport error, a 5xx, a 429) are retried with backoff, a
// bounded number of times within the request's deadline. Other answers
// (4xx, "flow gone") are final, and writes are never retried.
package upstream

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/idstack/idstack/bridge"
)

var (
	_ bridge.Kratos = (*Kratos)(nil)
	_ bridge.Hydra  = (*Hydra)(nil)
)

// Observer records one upstream call.
type Observer interface {
	ObserveUpstream(service, op string, start time.Time, err error)
}

// Retry is how reads are retried.
type Retry struct {
	Attempts int           // in all, including the first
	Backoff  time.Duration // doubled after each attempt
}

// DefaultRetry tries a read three times: at once, after 50 ms, after 100 ms.
var DefaultRetry = Retry{Attempts: 3, Backoff: 50 * time.Millisecond}

// transient tells a failure a retry may cure (a transport error, a 5xx, a
// 429) from an answer it cannot change (a 4xx, "flow gone", a deadline).
func transient(err error) bool {
	if errors.Is(err, bridge.ErrFlowGone) || errors.Is(err, bridge.ErrNoSession) || errors.Is(err, bridge.ErrUnknownChallenge) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *bridge.StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	return true
}

func read[T any](ctx context.Context, o Observer, r Retry, service, op string, f func() (T, error)) (T, error) {
	var v T
	var err error
	wait := r.Backoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		v, err = f()
		if o != nil {
			o.ObserveUpstream(service, op, start, err)
		}
		if err == nil || !transient(err) || attempt >= r.Attempts {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func write[T any](o Observer, service, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	if o != nil {
		o.ObserveUpstream(service, op, start, err)
	}
	return v, err
}

// Kratos decorates a bridge.Kratos.
type Kratos struct {
	Next     bridge.Kratos
	Observer Observer
	Retry    Retry
}

// Flow implements bridge.Kratos (retried).
func (k Kratos) Flow(ctx context.Context, kind bridge.FlowKind, id, cookie string) (bridge.Flow, error) {
	return read(ctx, k.Observer, k.Retry, "kratos", "get_flow", func() (bridge.Flow, error) { return k.Next.Flow(ctx, kind, id, cookie) })
}

// FlowError implements bridge.Kratos (retried).
func (k Kratos) FlowError(ctx context.Context, id string) (bridge.FlowError, error) {
	return read(ctx, k.Observer, k.Retry, "kratos", "get_flow_error", func() (bridge.FlowError, error) { return k.Next.FlowError(ctx, id) })
}

// Whoami implements bridge.Kratos (retried).
func (k Kratos) Whoami(ctx context.Context, cookie string) (bridge.Session, error) {
	return read(ctx, k.Observer, k.Retry, "kratos", "whoami", func() (bridge.Session, error) { return k.Next.Whoami(ctx, cookie) })
}

// Identity implements bridge.Kratos (retried).
func (k Kratos) Identity(ctx context.Context, id string) (bridge.Identity, error) {
	return read(ctx, k.Observer, k.Retry, "kratos", "get_identity", func() (bridge.Identity, error) { return k.Next.Identity(ctx, id) })
}

// EndBrowserSession implements bridge.Kratos (a write: never retried).
func (k Kratos) EndBrowserSession(ctx context.Context, cookie string) error {
	_, err := write(k.Observer, "kratos", "end_browser_session", func() (struct{}, error) {
		return struct{}{}, k.Next.EndBrowserSession(ctx, cookie)
	})
	return err
}

// BrowserURL implements bridge.Kratos.
func (k Kratos) BrowserURL(kind bridge.FlowKind) string { return k.Next.BrowserURL(kind) }

// Ready implements bridge.Kratos.
func (k Kratos) Ready(ctx context.Context) error { return k.Next.Ready(ctx) }

// Hydra decorates a bridge.Hydra.
type Hydra struct {
	Next     bridge.Hydra
	Observer Observer
	Retry    Retry
}

// Login implements bridge.Hydra (retried).
func (h Hydra) Login(ctx context.Context, ch string) (bridge.LoginRequest, error) {
	return read(ctx, h.Observer, h.Retry, "hydra", "get_login", func() (bridge.LoginRequest, error) { return h.Next.Login(ctx, ch) })
}

// Consent implements bridge.Hydra (retried).
func (h Hydra) Consent(ctx context.Context, ch string) (bridge.ConsentRequest, error) {
	return read(ctx, h.Observer, h.Retry, "hydra", "get_consent", func() (bridge.ConsentRequest, error) { return h.Next.Consent(ctx, ch) })
}

// AcceptConsent implements bridge.Hydra.
func (h Hydra) AcceptConsent(ctx context.Context, ch string, a bridge.AcceptConsent) (string, error) {
	return write(h.Observer, "hydra", "accept_consent", func() (string, error) { return h.Next.AcceptConsent(ctx, ch, a) })
}

// RejectConsent implements bridge.Hydra.
func (h Hydra) RejectConsent(ctx context.Context, ch, reason string) (string, error) {
	return write(h.Observer, "hydra", "reject_consent", func() (string, error) { return h.Next.RejectConsent(ctx, ch, reason) })
}

// Logout implements bridge.Hydra (retried).
func (h Hydra) Logout(ctx context.Context, ch string) (bridge.LogoutRequest, error) {
	return read(ctx, h.Observer, h.Retry, "hydra", "get_logout", func() (bridge.LogoutRequest, error) { return h.Next.Logout(ctx, ch) })
}

// AcceptLogout implements bridge.Hydra.
func (h Hydra) AcceptLogout(ctx context.Context, ch string) (string, error) {
	return write(h.Observer, "hydra", "accept_logout", func() (string, error) { return h.Next.AcceptLogout(ctx, ch) })
}

// RejectLogout implements bridge.Hydra.
func (h Hydra) RejectLogout(ctx context.Context, ch string) error {
	_, err := write(h.Observer, "hydra", "reject_logout", func() (struct{}, error) { return struct{}{}, h.Next.RejectLogout(ctx, ch) })
	return err
}

// Ready implements bridge.Hydra.
func (h Hydra) Ready(ctx context.Context) error { return h.Next.Ready(ctx) }
