package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idstack/idstack/internal/svc"
)

func runRevoke(ctx context.Context, args []string) error {
	var kid, reason string
	wait := 5 * time.Minute
	cfg, r, err := setup(ctx, "revoke", args, func(fs *svc.Flags) {
		fs.String(&kid, "kid", "the key to revoke")
		fs.String(&reason, "reason", "why, for the journal")
		fs.Duration(&wait, "wait", "how long to wait for every region to stop serving the key")
	})
	if err != nil {
		return err
	}
	if kid == "" {
		return errors.New("revoke: --kid is required")
	}
	rep, err := r.Revoke(ctx, kid, reason, wait)
	if rep.Set != "" {
		fmt.Printf("revoked %s in %s\n", rep.Kid, rep.Set)
		if rep.Promoted != "" {
			fmt.Printf("  signing now:            %s\n", rep.Promoted)
			if rep.PromotedBeforeLead {
				fmt.Printf("  WARNING: it had not been served for the full lead time; verifiers with an older JWKS cache may reject new tokens until they refetch\n")
			}
		}
		fmt.Printf("  new standby:            %s\n", rep.NewStandby)
		fmt.Printf("  removed from Hydra:     %s\n", rep.Removed.Round(time.Millisecond))
		if rep.GoneEverywhere > 0 {
			fmt.Printf("  gone from every region: %s\n", rep.GoneEverywhere.Round(time.Millisecond))
			fmt.Printf("  time to safe:           %s (plus the verifiers' JWKS cache TTL %s)\n", rep.SafeAfter.Round(time.Millisecond), r.Policy.VerifierCacheTTL)
		}
	}
	if merr := writeMetrics(ctx, cfg, r); merr != nil && err == nil {
		err = merr
	}
	return err
}
