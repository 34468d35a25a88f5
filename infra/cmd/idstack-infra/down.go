package main

import (
	"context"
	"os"

	"github.com/idstack/idstack/infra/stack"
)

func runDown(ctx context.Context, args []string) error {
	c, fs := newCommon("down")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	s, err := stack.Connect(c.topology, stack.Options{Root: c.root, StateDir: c.stateDir, Log: os.Stdout})
	if err != nil {
		return err
	}
	// Down must finish even after Ctrl-C: it is the clean-up.
	return s.Down(context.WithoutCancel(ctx))
}
