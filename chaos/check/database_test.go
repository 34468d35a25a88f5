package check

import (
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
)

// writes is a writer probe's history: one write per second and region,
// each taking 100 ms, acknowledged by the member and timeline the
// function gives (server "" for a failed write).
func writes(start time.Time, n int, by func(i int, region string) (server string, timeline int)) []chaos.Event {
	var out []chaos.Event
	for i := range n {
		for _, r := range []string{"eu", "us"} {
			srv, tl := by(i, r)
			e := chaos.Event{Probe: chaos.ProbeWrite, Region: r, Start: start.Add(time.Duration(i) * time.Second), Latency: 100 * time.Millisecond,
				OK: srv != "", Key: r + "-" + string(rune('a'+i)), Server: srv, Timeline: tl}
			out = append(out, e)
		}
	}
	return out
}

func TestOneFailoverIsOneWriterAtATime(t *testing.T) {
	start := time.Unix(1700000000, 0)
	h := chaos.History{Start: start, WritesRead: true, Events: writes(start, 20, func(i int, _ string) (string, int) {
		switch {
		case i < 8:
			return "pg-eu", 1
		case i < 12:
			return "", 0 // the failover
		default:
			return "pg-us", 2
		}
	})}
	checks := Invariants(h)
	for _, name := range []string{NoLostWrite, SingleWriter} {
		if c := find(t, checks, name); !c.OK {
			t.Errorf("%s: %s", name, c.Detail)
		}
	}
	if d := find(t, checks, NoLostWrite).Detail; !strings.Contains(d, "eu 5s") {
		t.Errorf("detail %q, want the 5 s gap of the failover", d)
	}
}

func TestADemotedPrimaryThatStillWritesFails(t *testing.T) {
	start := time.Unix(1700000000, 0)
	h := chaos.History{Start: start, WritesRead: true, Events: writes(start, 20, func(i int, r string) (string, int) {
		switch {
		case i < 8:
			return "pg-eu", 1
		case r == "eu" && i < 15:
			return "pg-eu", 1 // eu's route still reaches the isolated old primary
		default:
			return "pg-us", 2
		}
	})}
	c := find(t, Invariants(h), SingleWriter)
	if c.OK || !strings.Contains(c.Detail, "on timeline 1 after pg-us had acknowledged timeline 2") {
		t.Errorf("got %+v, want a stale timeline reported", c)
	}
}

func TestTwoServersOnOneTimelineFail(t *testing.T) {
	start := time.Unix(1700000000, 0)
	h := chaos.History{Start: start, WritesRead: true, Events: writes(start, 4, func(i int, r string) (string, int) {
		if r == "us" {
			return "pg-us", 1
		}
		return "pg-eu", 1
	})}
	if c := find(t, Invariants(h), SingleWriter); c.OK || !strings.Contains(c.Detail, "timeline 1 acknowledged by") {
		t.Errorf("got %+v, want two owners of timeline 1", c)
	}
}

func TestLostWrites(t *testing.T) {
	start := time.Unix(1700000000, 0)
	evs := writes(start, 3, func(int, string) (string, int) { return "pg-eu", 1 })
	for _, tc := range []struct {
		name string
		h    chaos.History
		want string
	}{
		{"missing", chaos.History{Events: evs, WritesRead: true, WritesMissing: []string{"eu-b"}}, "acknowledged, then missing: eu-b"},
		{"unreadable", chaos.History{Events: evs, WritesErr: "connection refused"}, "6 acknowledged writes could not be read back: connection refused"},
		{"never read", chaos.History{Events: evs}, "never read back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := find(t, Invariants(tc.h), NoLostWrite)
			if c.OK || !strings.Contains(c.Detail, tc.want) {
				t.Errorf("got %+v, want %q", c, tc.want)
			}
		})
	}
	if c := find(t, Invariants(chaos.History{}), NoLostWrite); !c.OK {
		t.Errorf("no writer probe: %+v, want OK", c)
	}
}

func TestDuplicateIdentities(t *testing.T) {
	if c := find(t, Invariants(chaos.History{Duplicates: []string{"a@example.com"}}), NoDuplicate); c.OK || !strings.Contains(c.Detail, "a@example.com") {
		t.Errorf("got %+v", c)
	}
	if c := find(t, Invariants(chaos.History{DuplicatesErr: "no route"}), NoDuplicate); c.OK {
		t.Errorf("a failed lookup passed: %+v", c)
	}
}
