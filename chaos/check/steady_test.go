package check

import (
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/chaos"
)

func TestSteady(t *testing.T) {
	quietFull := chaos.Percentiles{N: 8, P50: 500 * time.Millisecond, P95: 600 * time.Millisecond}
	quietSession := chaos.Percentiles{N: 12, P50: 100 * time.Millisecond, P95: 120 * time.Millisecond}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ev := func(kind chaos.ProbeKind, i int, latency time.Duration, ok bool) chaos.Event {
		e := chaos.Event{Probe: kind, Region: "eu", Start: t0.Add(time.Duration(i) * 100 * time.Millisecond), Latency: latency, OK: ok}
		if !ok {
			e.Err = "502 from the edge"
		}
		return e
	}
	healthy := func() []chaos.Event {
		var out []chaos.Event
		for i := range 4 {
			out = append(out, ev(chaos.ProbeHTTPLogin, i, 700*time.Millisecond, true))
		}
		for i := range 20 {
			out = append(out, ev(chaos.ProbeSessionLogin, i, 150*time.Millisecond, true))
		}
		return append(out, ev(chaos.ProbeRegister, 1, 600*time.Millisecond, true), chaos.Event{Probe: chaos.ProbeVerify, OK: false})
	}
	for _, tt := range []struct {
		name   string
		events func() []chaos.Event
		ok     bool
		detail string
	}{
		{"within the factor", healthy, true, "password p50 1.40x"},
		{"a failed registration", func() []chaos.Event { return append(healthy(), ev(chaos.ProbeRegister, 3, time.Second, false)) }, false, "1 of 2 register failed"},
		{"a failed session login", func() []chaos.Event { return append(healthy(), ev(chaos.ProbeSessionLogin, 3, time.Second, false)) }, false, "session-login in eu: 502"},
		{"one password login behind another's hash", func() []chaos.Event {
			return append(healthy(), ev(chaos.ProbeHTTPLogin, 5, 3*time.Second, true))
		}, true, "5 password and 20 session logins ok"},
		{"two slow password logins of a few", func() []chaos.Event {
			return append(healthy(), ev(chaos.ProbeHTTPLogin, 5, 3*time.Second, true), ev(chaos.ProbeHTTPLogin, 6, 3*time.Second, true))
		}, false, "2 of 6 password logins took over 1.2s, 2.0x the quiet p95 600ms (one may): password logins slow"},
		{"password logins slow in the median", func() []chaos.Event {
			var out []chaos.Event
			for i := range 3 {
				out = append(out, ev(chaos.ProbeHTTPLogin, i, 1100*time.Millisecond, true))
			}
			return out
		}, false, "password logins p50 1.1s is 2.2x the quiet 500ms"},
		{"a tail of enough password logins", func() []chaos.Event {
			var out []chaos.Event
			for i := range 20 {
				out = append(out, ev(chaos.ProbeHTTPLogin, i, 700*time.Millisecond, true))
			}
			// 2 of 22 beyond the bound: the p95 (the 21st) is one of them.
			return append(out, ev(chaos.ProbeHTTPLogin, 21, 3*time.Second, true), ev(chaos.ProbeHTTPLogin, 22, 3*time.Second, true))
		}, false, "password logins p95 3s is 5.0x the quiet 600ms (at most 2.0x): password logins slow"},
		{"one slow login of twenty-one", func() []chaos.Event {
			var out []chaos.Event
			for i := range 20 {
				out = append(out, ev(chaos.ProbeHTTPLogin, i, 700*time.Millisecond, true))
			}
			return append(out, ev(chaos.ProbeHTTPLogin, 21, 3*time.Second, true))
		}, true, "21 password"},
		{"slow session logins", func() []chaos.Event {
			out := healthy()
			for i := range 25 {
				out = append(out, ev(chaos.ProbeSessionLogin, 30+i, time.Second, true))
			}
			return out
		}, false, "session logins p50"},
		{"nothing finished", func() []chaos.Event { return nil }, false, "no login finished"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := Steady(tt.events(), quietFull, quietSession, DefaultSteadyFactor)
			if st.OK != tt.ok || !strings.Contains(st.Detail, tt.detail) {
				t.Errorf("got ok=%v %q, want ok=%v naming %q", st.OK, st.Detail, tt.ok, tt.detail)
			}
		})
	}
}
