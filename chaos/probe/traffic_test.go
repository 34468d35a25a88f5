package probe

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A slow operation must not hold the next tick's back (an open loop), and
// no more than the bound may run at once: the rest are counted as skipped.
func TestOpenLoopKeepsItsRateAndItsBound(t *testing.T) {
	var started, running, peak, skipped atomic.Int64
	release := make(chan struct{})
	next := func(int) func(context.Context) {
		return func(context.Context) {
			started.Add(1)
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release // every operation hangs until the test lets go
			running.Add(-1)
		}
	}
	done := make(chan struct{})
	go func() {
		openLoop(context.Background(), time.Millisecond, 3, 10, next, func() { skipped.Add(1) })
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	for started.Load()+skipped.Load() < 10 {
		select {
		case <-deadline:
			t.Fatalf("ticks stalled behind hung operations: %d started, %d skipped", started.Load(), skipped.Load())
		case <-time.After(time.Millisecond):
		}
	}
	close(release)
	<-done
	if started.Load() != 3 || skipped.Load() != 7 || peak.Load() != 3 {
		t.Errorf("started %d, skipped %d, peak in flight %d; want 3, 7, 3", started.Load(), skipped.Load(), peak.Load())
	}
}

// The loop stops at cancel and waits for what it started.
func TestOpenLoopStopsAndWaits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var finished atomic.Int64
	next := func(int) func(context.Context) {
		return func(ctx context.Context) {
			<-ctx.Done()
			finished.Add(1)
		}
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	openLoop(ctx, time.Millisecond, 2, 1_000_000, next, func() {})
	if finished.Load() != 2 {
		t.Errorf("%d operations finished before the loop returned, want 2", finished.Load())
	}
}
