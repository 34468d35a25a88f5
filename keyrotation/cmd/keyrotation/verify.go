package main

import (
	"context"
	"fmt"
)

// exitDrift is verify's exit code when it finds drift.
const exitDrift = 2

func runVerify(ctx context.Context, args []string) error {
	_, r, err := setup(ctx, "verify", args, nil)
	if err != nil {
		return err
	}
	drifts, err := r.Verify(ctx)
	if err != nil {
		return err
	}
	if len(drifts) == 0 {
		fmt.Println("no drift: journals, Hydra, every region and Vault agree")
		return nil
	}
	for _, d := range drifts {
		fmt.Println("DRIFT", d)
	}
	fmt.Printf("%d problems\n", len(drifts))
	return exitCode(exitDrift)
}
