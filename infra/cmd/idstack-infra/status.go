package main

import (
	"context"
	"fmt"
	"os"

	"github.com/idstack/idstack/infra/stack"
)

func runStatus(ctx context.Context, args []string) error {
	c, fs := newCommon("status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	// The recorded topology wins over flags: it is what is running.
	if st, err := stack.ReadState(c.stateDir, c.topology.Name); err == nil {
		c.topology = st.Topology
	}
	s, err := stack.Connect(c.topology, stack.Options{Root: c.root, StateDir: c.stateDir})
	if err != nil {
		return err
	}
	problems, err := s.WriteStatus(ctx, os.Stdout)
	if err != nil {
		return err
	}
	if problems > 0 {
		fmt.Printf("\n%d problems\n", problems)
		return exitCode(1)
	}
	return nil
}
