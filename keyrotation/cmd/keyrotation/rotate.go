package main

import (
	"context"
	"errors"

	"github.com/idstack/idstack/internal/svc"
)

func runRotate(ctx context.Context, args []string) error {
	var now bool
	cfg, r, err := setup(ctx, "rotate", args, func(fs *svc.Flags) {
		fs.Bool(&now, "now", "promote the standby as soon as the lead time allows")
	})
	if err != nil {
		return err
	}
	if !now {
		return errors.New("rotate: pass --now (rotation on schedule is what step does)")
	}
	outcomes, err := r.RequestRotation(ctx)
	printOutcomes(outcomes)
	if merr := writeMetrics(ctx, cfg, r); merr != nil && err == nil {
		err = merr
	}
	return err
}
