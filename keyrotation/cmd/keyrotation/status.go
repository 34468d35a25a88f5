package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/idstack/idstack/internal/svc"
)

func runStatus(ctx context.Context, args []string) error {
	var asJSON bool
	_, r, err := setup(ctx, "status", args, func(fs *svc.Flags) { fs.Bool(&asJSON, "json", "print JSON") })
	if err != nil {
		return err
	}
	statuses, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statuses)
	}
	now := time.Now()
	for _, st := range statuses {
		if st.Missing {
			fmt.Printf("%s: not managed yet (keyrotation step adopts it)\n\n", st.Set)
			continue
		}
		fmt.Printf("%s  (journal v%d, %d entries, last success %s)\n", st.Set, st.Journal.Version, len(st.Journal.Entries), ago(st.Journal.LastSuccessAt, now))
		tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  KID\tALG\tSTATE\tAGE\tSINCE")
		for _, k := range st.Journal.Keys {
			since := k.GeneratedAt
			for _, t := range []*time.Time{k.PublishedAt, k.ActivatedAt, k.RetiringAt, k.RetiredAt, k.DestroyedAt} {
				if t != nil && t.After(since) {
					since = *t
				}
			}
			origin := ""
			if k.Adopted {
				origin = " (adopted)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%s\n", shortKid(k.Kid), k.Alg, k.State, origin,
				now.Sub(k.GeneratedAt).Round(time.Second), since.Format(time.RFC3339))
		}
		tw.Flush()
		fmt.Printf("  next: %s %s at %s (in %s)\n\n", st.Next.What, shortKid(st.Next.Kid), st.Next.At.Format(time.RFC3339),
			max(0, st.Next.At.Sub(now)).Round(time.Second))
	}
	return nil
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}
