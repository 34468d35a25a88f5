package cpuuse

import (
	"runtime"
	"testing"
	"time"
)

// A span over a busy loop on this process shows the harness's share, and
// the machine's is at least as large.
func TestSpanSeesThisProcessBusy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	s := Start()
	deadline := time.Now().Add(300 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	u := s.Stop()
	if u.Cores != runtime.NumCPU() {
		t.Errorf("cores %d, want %d", u.Cores, runtime.NumCPU())
	}
	// One core busy for the span is 1/cores of the machine; ticks are
	// coarse (10 ms), so ask for half of that.
	if want := 0.5 / float64(u.Cores); u.Harness < want {
		t.Errorf("harness share %.3f, want at least %.3f after a busy loop", u.Harness, want)
	}
	if u.Machine < u.Harness*0.5 || u.Machine > 1 {
		t.Errorf("machine share %.3f with harness %.3f", u.Machine, u.Harness)
	}
}
