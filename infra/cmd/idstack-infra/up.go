package main

import (
	"context"
	"os"
	"time"

	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/stack"
)

func runUp(ctx context.Context, args []string) error {
	c, fs := newCommon("up")
	var timeout time.Duration = 90 * time.Second
	fs.Duration(&timeout, "health-timeout", "how long each service may take to turn healthy")
	var keep bool
	fs.Bool(&keep, "keep-on-failure", "leave the containers of a failed up for inspection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	s, err := stack.Connect(c.topology, stack.Options{Root: c.root, StateDir: c.stateDir, Log: os.Stdout, HealthTimeout: timeout, KeepOnFailure: keep})
	if err != nil {
		return err
	}
	tags, err := images.Builder{Pool: s.DockerPool(), Root: c.root}.Tags()
	if err != nil {
		return err
	}
	if err := s.Up(ctx, tags); err != nil {
		return err
	}
	stack.WriteURLs(os.Stdout, c.topology, s.StatePath())
	return nil
}
