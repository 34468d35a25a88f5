package keyrotation_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/idstack/idstack/keyrotation"
)

func TestMetricsAndNextTransition(t *testing.T) {
	w := newWorld()
	r := w.rotator("job")
	step(t, r)
	w.clock.Add(time.Minute)
	statuses, err := r.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	next := statuses[0].Next
	// Activated at t0, cadence 10m; the standby has been visible since t0
	// (lead 2m): promotion is due at t0+10m, 9 minutes from now.
	if next.What != "promote the standby" || next.At.Sub(w.clock.Now()) != 9*time.Minute {
		t.Fatalf("next = %+v, want promotion in 9m", next)
	}
	var buf bytes.Buffer
	if err := keyrotation.WriteMetrics(&buf, "http://hydra.test/", statuses, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`idstack_keyrotation_keys{issuer="http://hydra.test/",set="hydra.jwt.access-token",state="active"} 1`,
		`idstack_keyrotation_next_transition_seconds{issuer="http://hydra.test/",set="hydra.jwt.access-token",what="promote the standby"} 540`,
		`state="published"} 60`,
		"# TYPE idstack_keyrotation_last_success_timestamp_seconds gauge",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s\n%s", want, out)
		}
	}
}
