package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idstack/idstack/chaos/report"
	"github.com/idstack/idstack/internal/svc"
)

// runRender renders a kept report.json again as HTML and Markdown beside
// it (or into -out), and prints the Markdown.
func runRender(args []string) error {
	// Its own flags only: the run's (seed, stack, rates) mean nothing here.
	fs := svc.NewFlags("idstack-chaos render", "IDSTACK_CHAOS", os.LookupEnv)
	var out string
	fs.String(&out, "out", "directory for report.html and report.md (default: beside the JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("render: want one report.json")
	}
	in := fs.Arg(0)
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return fmt.Errorf("render %s: %w", in, err)
	}
	if out == "" {
		out = filepath.Dir(in)
	}
	return writeReport(out, r, false)
}

// runSummary prints one line per report.json: verdict and figures, for
// comparing runs (make gate-stability).
func runSummary(args []string) error {
	if len(args) == 0 {
		return errors.New("summary: want one or more report.json")
	}
	for _, in := range args {
		f, err := os.Open(in)
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		r, err := report.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("summary %s: %w", in, err)
		}
		fmt.Println(report.Summary(r))
	}
	return nil
}
