package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	var profileDir string
	fs.String(&profileDir, "profile-dir", "run Kratos and Hydra with CPU profiling; down writes their profiles under this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.resolve(); err != nil {
		return err
	}
	if profileDir != "" {
		abs, err := filepath.Abs(profileDir)
		if err != nil {
			return fmt.Errorf("--profile-dir: %w", err)
		}
		profileDir = abs
	}
	s, err := stack.Connect(c.topology, stack.Options{Root: c.root, StateDir: c.stateDir, Log: os.Stdout, HealthTimeout: timeout, KeepOnFailure: keep, ProfileDir: profileDir})
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
