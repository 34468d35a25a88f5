package keyrotation

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteMetrics writes the sets' state in the Prometheus text exposition
// format (for a node-exporter textfile collector or a Pushgateway):
//
//	idstack_keyrotation_key_age_seconds{set,kid,state}
//	idstack_keyrotation_keys{set,state}
//	idstack_keyrotation_next_transition_seconds{set,what}
//	idstack_keyrotation_last_success_timestamp_seconds{set}
func WriteMetrics(w io.Writer, issuer string, statuses []SetStatus, now time.Time) error {
	var b strings.Builder
	help := func(name, typ, text string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	}
	iss := label(issuer)
	help("idstack_keyrotation_key_age_seconds", "gauge", "Seconds since the key was generated, per key that is not destroyed.")
	for _, st := range statuses {
		for _, k := range st.Journal.Keys {
			if k.State == StateDestroyed {
				continue
			}
			fmt.Fprintf(&b, "idstack_keyrotation_key_age_seconds{issuer=%s,set=%s,kid=%s,state=%s} %.0f\n",
				iss, label(st.Set), label(k.Kid), label(string(k.State)), now.Sub(k.GeneratedAt).Seconds())
		}
	}
	help("idstack_keyrotation_keys", "gauge", "Keys per state.")
	for _, st := range statuses {
		counts := map[State]int{}
		for _, k := range st.Journal.Keys {
			counts[k.State]++
		}
		states := make([]string, 0, len(counts))
		for s := range counts {
			states = append(states, string(s))
		}
		sort.Strings(states)
		for _, s := range states {
			fmt.Fprintf(&b, "idstack_keyrotation_keys{issuer=%s,set=%s,state=%s} %d\n", iss, label(st.Set), label(s), counts[State(s)])
		}
	}
	help("idstack_keyrotation_next_transition_seconds", "gauge", "Seconds until the set's next transition is due (0: due now).")
	for _, st := range statuses {
		if st.Missing {
			continue
		}
		fmt.Fprintf(&b, "idstack_keyrotation_next_transition_seconds{issuer=%s,set=%s,what=%s} %.0f\n",
			iss, label(st.Set), label(st.Next.What), max(0, st.Next.At.Sub(now).Seconds()))
	}
	help("idstack_keyrotation_last_success_timestamp_seconds", "gauge", "Unix time of the last step that completed for the set.")
	for _, st := range statuses {
		if st.Journal.LastSuccessAt != nil {
			fmt.Fprintf(&b, "idstack_keyrotation_last_success_timestamp_seconds{issuer=%s,set=%s} %d\n",
				iss, label(st.Set), st.Journal.LastSuccessAt.Unix())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// label quotes a label value per the exposition format.
func label(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}
