package cpuuse

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used, by its own account.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A span over a busy loop on this process shows the harness's share as
// the process itself counts it, and the machine's is at least as large.
// The loop runs until the process has used 300 ms of CPU, however busy
// the machine is with other work.
func TestSpanSeesThisProcessBusy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	begin, cpu0 := time.Now(), processCPU(t)
	s := Start()
	for n := 0; processCPU(t)-cpu0 < 300*time.Millisecond && time.Since(begin) < 10*time.Second; n++ {
	}
	u := s.Stop()
	used, wall := processCPU(t)-cpu0, time.Since(begin)
	if u.Cores != runtime.NumCPU() {
		t.Errorf("cores %d, want %d", u.Cores, runtime.NumCPU())
	}
	// Ticks are coarse (10 ms): ask for half of what the process counts.
	if want := 0.5 * used.Seconds() / (wall.Seconds() * float64(u.Cores)); u.Harness < want {
		t.Errorf("harness share %.3f, want at least %.3f (%s of CPU in %s)", u.Harness, want, used, wall)
	}
	if u.Machine < u.Harness*0.5 || u.Machine > 1 {
		t.Errorf("machine share %.3f with harness %.3f", u.Machine, u.Harness)
	}
}

// A child that burns CPU and exits within the span counts, once reaped.
func TestSpanCountsAChildThatExited(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	s := Start()
	begin := time.Now()
	// About a core-second of shell arithmetic, bounded by the loop count.
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	u := s.Stop()
	wall := time.Since(begin)
	if want := 0.5 * child.Seconds() / (wall.Seconds() * float64(u.Cores)); u.Harness < want {
		t.Errorf("harness share %.3f, want at least %.3f (the child used %s of CPU in %s)", u.Harness, want, child, wall)
	}
}
