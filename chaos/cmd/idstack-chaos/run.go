package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idstack/idstack/chaos"
	"github.com/idstack/idstack/chaos/report"
	"github.com/idstack/idstack/chaos/runner"
	"github.com/idstack/idstack/chaos/scenario"
	"github.com/idstack/idstack/chaos/target"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/stack"
	"github.com/idstack/idstack/internal/svc"
)

// runRun runs the selected scenarios against the target and writes the
// report. The stack is healed on every way out (and removed, with --up).
func runRun(ctx context.Context, args []string) (err error) {
	c := defaultConfig()
	fs := c.flags("run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Named on the command line, not by --replay (a replayed suite has
	// its not-run scenarios too).
	named := c.Scenarios != ""
	if err := c.validate(); err != nil {
		return err
	}
	top, err := c.topology()
	if err != nil {
		return err
	}
	all := scenario.Catalogue(top, int64(c.Seed))
	if c.Strict {
		all = scenario.Strict(all)
	}
	selected, err := scenario.Select(all, c.Suite, svc.SplitList(c.Scenarios))
	if err != nil {
		return err
	}
	suiteName := c.Suite
	if c.Scenarios != "" {
		suiteName = "scenarios " + c.Scenarios
	}
	fmt.Fprintf(os.Stderr, "idstack-chaos: %s on %s:%s, seed %d, %d scenarios\n", suiteName, c.Target, top.Name, c.Seed, len(selected))
	if c.DryRun {
		for _, s := range selected {
			fmt.Print(s.Plan())
		}
		return nil
	}

	s, err := stack.Connect(top, stack.Options{Root: c.Root, StateDir: c.StateDir, Log: os.Stderr})
	if err != nil {
		return err
	}
	if c.Up {
		tags, err := images.Builder{Pool: s.DockerPool(), Root: c.Root}.Tags()
		if err != nil {
			return fmt.Errorf("images (run make images): %w", err)
		}
		if err := s.Down(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("remove leftovers of %s: %w", top.Name, err)
		}
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			if derr := s.Down(dctx); derr != nil {
				err = errors.Join(err, fmt.Errorf("down: %w", derr))
			}
		}()
		if err := s.Up(ctx, tags); err != nil {
			return fmt.Errorf("up: %w", err)
		}
	} else if _, err := s.LoadState(); err != nil {
		return fmt.Errorf("no stack %q is running here (make up, or pass --up): %w", top.Name, err)
	}

	tgt, err := target.NewLocal(s)
	if err != nil {
		return err
	}
	o := c.Options
	o.Seed, o.Log, o.ResultsDir = int64(c.Seed), os.Stderr, filepath.Join(c.ReportDir, "browser")
	res, runErr := runner.Run(ctx, tgt, selected, o)
	res.Suite = suiteName
	if len(res.Results) > 0 {
		if werr := writeReport(c.ReportDir, res, true); werr != nil {
			return errors.Join(runErr, werr)
		}
	}
	return verdictError(res, runErr, named)
}

// verdictError is the run's outcome as the error the exit code follows:
// a fault that could not be healed or a failed scenario closes the gate
// (exit 1); a run that could not be made (the steady state not met, the
// load beyond the headroom), or a scenario named on the command line that
// could not run, is an error (exit 2); else nil.
func verdictError(res chaos.SuiteResult, runErr error, named bool) error {
	var notRun []string
	failed := false
	for _, r := range res.Results {
		switch {
		case r.NotRun != "":
			notRun = append(notRun, r.History.Scenario+": "+r.NotRun)
		case !r.Passed && r.Aborted == "":
			failed = true // it ran, and failed
		}
	}
	switch {
	case errors.Is(runErr, runner.ErrHealFailed), runErr != nil && failed:
		// A scenario that ran and failed closes the gate, whatever
		// stopped the run after it.
		return fmt.Errorf("%w: %w", errGateClosed, runErr)
	case runErr != nil:
		return runErr
	case !res.Passed && len(notRun) == len(res.Results):
		return fmt.Errorf("no scenario ran: %s", strings.Join(notRun, "; "))
	case !res.Passed:
		return errGateClosed
	case named && len(notRun) > 0:
		return fmt.Errorf("a scenario named with --scenario did not run: %s", strings.Join(notRun, "; "))
	}
	return nil
}

// writeReport writes report.json (unless only rendering), report.html and
// report.md into dir and prints the Markdown.
func writeReport(dir string, r chaos.SuiteResult, withJSON bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	writers := map[string]func(io.Writer, chaos.SuiteResult) error{
		"report.md": report.WriteMarkdown, "report.html": report.WriteHTML,
	}
	if withJSON {
		writers["report.json"] = report.WriteJSON
	}
	for name, write := range writers {
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if name == "report.md" {
			os.Stdout.Write(b.Bytes())
		}
	}
	fmt.Fprintf(os.Stderr, "idstack-chaos: report in %s (report.html has the timelines)\n", dir)
	return nil
}
