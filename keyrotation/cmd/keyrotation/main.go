// Command keyrotation rotates Hydra's signing keys with keys kept in Vault.
//
//	keyrotation step                 do whatever is due (what a CronJob runs)
//	keyrotation status [--json]      every set's keys and next transition
//	keyrotation rotate --now         promote the standby ahead of schedule
//	keyrotation revoke --kid K       emergency: remove K everywhere now
//	keyrotation verify               journal vs Hydra, regions and Vault; exit 2 on drift
//	keyrotation metrics              Prometheus text format on stdout
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/idstack/idstack/internal/svc"
)

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	err := Run(ctx, os.Args[1:])
	var exit exitCode
	switch {
	case errors.Is(err, svc.ErrHelp):
		os.Exit(0)
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case err != nil:
		fmt.Fprintln(os.Stderr, "keyrotation:", err)
		os.Exit(1)
	}
}

// exitCode ends the process with a code and no message (the command has
// printed what went wrong).
type exitCode int

func (e exitCode) Error() string { return "exit " + strconv.Itoa(int(e)) }

const usage = `usage: keyrotation <step|status|rotate|revoke|verify|metrics> [flags]
run "keyrotation <command> -h" for the flags`

// Run dispatches a subcommand.
func Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "step":
		return runStep(ctx, rest)
	case "status":
		return runStatus(ctx, rest)
	case "rotate":
		return runRotate(ctx, rest)
	case "revoke":
		return runRevoke(ctx, rest)
	case "verify":
		return runVerify(ctx, rest)
	case "metrics":
		return runMetrics(ctx, rest)
	case "-h", "--help", "help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
