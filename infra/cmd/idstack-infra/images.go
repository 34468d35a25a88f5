package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/stack"
)

func runImages(ctx context.Context, args []string) error {
	c, fs := newCommon("images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := stack.Pool()
	if err != nil {
		return err
	}
	start := time.Now()
	tags, err := images.Builder{Pool: pool, Root: c.root, Log: os.Stdout}.Build(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("images: %d ready in %s\n", len(tags), time.Since(start).Round(100*time.Millisecond))
	return nil
}
