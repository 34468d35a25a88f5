package main

import (
	"context"
	"os"
	"time"

	"github.com/idstack/idstack/keyrotation"
)

func runMetrics(ctx context.Context, args []string) error {
	_, r, err := setup(ctx, "metrics", args, nil)
	if err != nil {
		return err
	}
	st, err := r.Status(ctx)
	if err != nil {
		return err
	}
	return keyrotation.WriteMetrics(os.Stdout, r.Issuer, st, time.Now())
}
