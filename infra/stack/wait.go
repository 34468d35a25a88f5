package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Poll calls check every gap until it returns nil, ctx is done or timeout
// passes; the error then carries check's last error. A check that returns a
// Permanent error stops the polling at once.
func Poll(ctx context.Context, timeout, gap time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, gap+2*time.Second)
		last = check(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		var p permanent
		if errors.As(last, &p) {
			return p.err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, last)
		case <-time.After(gap):
		}
	}
}

// probeOnce checks a node once from the host, on its first network's address.
func (s *Stack) probeOnce(ctx context.Context, c container) error {
	p := c.spec.probe
	ip, err := s.address(ctx, c.id, c.spec.networks[0].network)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(p.port))
	if p.path == "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.path, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	ok := p.ok
	if ok == nil {
		ok = func(status int) bool { return status == http.StatusOK }
	}
	if !ok(resp.StatusCode) {
		return fmt.Errorf("GET %s: status %d", p.path, resp.StatusCode)
	}
	return nil
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that polling again cannot fix.
func Permanent(err error) error { return permanent{err} }

var probeClient = &http.Client{Timeout: 2 * time.Second}

// waitHealthy waits for c's probe to pass. If it never does, the error says
// which node and carries its last 50 log lines.
func (s *Stack) waitHealthy(ctx context.Context, c container) error {
	if c.spec.probe == nil {
		return s.waitRunning(ctx, c)
	}
	err := Poll(ctx, s.opts.HealthTimeout, 250*time.Millisecond, func(ctx context.Context) error {
		if err := s.checkRunning(c); err != nil {
			return Permanent(err) // nothing restarts it
		}
		return s.probeOnce(ctx, c)
	})
	if err != nil {
		return s.unhealthy(c, err)
	}
	return nil
}

// waitRunning waits a moment and checks that c is still running (a node
// without a probe, such as the courier, that would crash on bad config).
func (s *Stack) waitRunning(ctx context.Context, c container) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Second):
	}
	if err := s.checkRunning(c); err != nil {
		return s.unhealthy(c, err)
	}
	return nil
}

func (s *Stack) checkRunning(c container) error {
	info, err := s.pool.Client.InspectContainer(c.id)
	if err != nil {
		return err
	}
	if !info.State.Running {
		return fmt.Errorf("exited with code %d", info.State.ExitCode)
	}
	return nil
}

func (s *Stack) unhealthy(c container, err error) error {
	return fmt.Errorf("%w: %s: %v\n--- last 50 log lines of %s ---\n%s", ErrUnhealthy, c.spec.name, err, c.spec.name, s.LogTail(c.id, 50))
}

// waitExit waits for a one-shot node to exit 0.
func (s *Stack) waitExit(ctx context.Context, c container) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	code, err := s.pool.Client.WaitContainerWithContext(c.id, ctx)
	if err != nil {
		return s.unhealthy(c, fmt.Errorf("wait: %w", err))
	}
	if code != 0 {
		return s.unhealthy(c, fmt.Errorf("exited with code %d", code))
	}
	return nil
}
