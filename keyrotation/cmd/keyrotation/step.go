package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/idstack/idstack/internal/svc"
	"github.com/idstack/idstack/keyrotation"
)

func logger() *slog.Logger { return svc.Logger(os.Stderr, "keyrotation", slog.LevelInfo) }

// setup parses args into a Config and connects; extra registers a
// command's own flags.
func setup(ctx context.Context, name string, args []string, extra func(*svc.Flags)) (*Config, *keyrotation.Rotator, error) {
	cfg := Default()
	fs := cfg.flags(name)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	r, err := cfg.rotator(ctx, logger())
	if err != nil {
		return nil, nil, err
	}
	return &cfg, r, nil
}

func runStep(ctx context.Context, args []string) error {
	cfg, r, err := setup(ctx, "step", args, nil)
	if err != nil {
		return err
	}
	outcomes, err := r.Step(ctx)
	printOutcomes(outcomes)
	if merr := writeMetrics(ctx, cfg, r); merr != nil && err == nil {
		err = merr
	}
	return err
}

func printOutcomes(outcomes []keyrotation.Outcome) {
	for _, o := range outcomes {
		switch {
		case o.Busy:
			fmt.Printf("%s: another run (%s) holds the lease; nothing to do here\n", o.Set, o.BusyHolder)
		default:
			fmt.Printf("%s: %d transitions; next: %s", o.Set, len(o.Transitions), o.Next.What)
			if o.Next.Kid != "" {
				fmt.Printf(" %s", shortKid(o.Next.Kid))
			}
			fmt.Printf(" at %s\n", o.Next.At.Format(time.RFC3339))
			for _, e := range o.Transitions {
				fmt.Printf("  %s %-9s %s → %s %s\n", shortKid(e.Kid), e.Event, dash(string(e.From)), e.To, e.Reason)
			}
		}
	}
}

func writeMetrics(ctx context.Context, cfg *Config, r *keyrotation.Rotator) error {
	if cfg.MetricsFile == "" {
		return nil
	}
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	tmp := cfg.MetricsFile + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("metrics-file: %w", err)
	}
	if err := keyrotation.WriteMetrics(f, r.Issuer, st, time.Now()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, cfg.MetricsFile)
}

func shortKid(kid string) string {
	if len(kid) > 12 {
		return kid[:12]
	}
	return kid
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
