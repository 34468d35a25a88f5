// Package cpuuse measures CPU use over a span from Linux's /proc: the
// whole machine's (every process, the stack's containers included) and
// this process tree's alone (the chaos harness and the Chromium it
// started), each as a share of every core. Elsewhere it reports nothing.
package cpuuse

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
)

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc.
const clockTicks = 100

// Span is a measurement in progress.
type Span struct {
	start       time.Time
	busy, total uint64
	tree        uint64
	ok          bool
}

// Start begins a span.
func Start() *Span {
	s := &Span{start: time.Now()}
	s.busy, s.total, s.ok = machine()
	s.tree = treeTicks(os.Getpid())
	return s
}

// Stop ends the span and returns the use over it (zero when /proc could
// not be read).
func (s *Span) Stop() chaos.CPUUse {
	busy, total, ok := machine()
	tree := treeTicks(os.Getpid())
	cores := runtime.NumCPU()
	u := chaos.CPUUse{Cores: cores}
	if !ok || !s.ok || total <= s.total {
		return u
	}
	u.Machine = float64(busy-s.busy) / float64(total-s.total)
	if el := time.Since(s.start).Seconds(); el > 0 && tree >= s.tree {
		u.Harness = float64(tree-s.tree) / clockTicks / el / float64(cores)
	}
	return u
}

// machine reads the busy and total jiffies of every core from /proc/stat.
func machine() (busy, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// treeTicks sums the user and system ticks of root and its descendants
// alive now, each with the ticks of the children it has waited for
// (cutime, cstime): a helper that exits during a span (a Chromium
// renderer, a child the harness ran) still counts once its parent in the
// tree has reaped it; one not reaped yet is still in /proc.
func treeTicks(root int) uint64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	parent := map[int]int{}
	ticks := map[int]uint64{}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0] is state, f[1] ppid, f[11] utime, f[12] stime, f[13]
		// cutime, f[14] cstime.
		if len(f) < 15 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		var sum uint64
		for _, k := range f[11:15] {
			n, _ := strconv.ParseUint(k, 10, 64) // cutime and cstime are signed in the kernel, never negative in practice
			sum += n
		}
		parent[pid], ticks[pid] = pp, sum
	}
	var sum uint64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				sum += t
				break
			}
			if _, ok := parent[p]; !ok {
				break
			}
		}
	}
	return sum
}
