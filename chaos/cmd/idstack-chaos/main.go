// Command idstack-chaos runs idstack's fault scenarios under live logins
// and gates a release on the verdict.
//
//	idstack-chaos list [flags]        the scenario catalogue
//	idstack-chaos run [flags]         run a suite or named scenarios, write the report
//	idstack-chaos render REPORT.json  render a kept report again (HTML, Markdown)
//	idstack-chaos summary REPORT.json...  one line per report: verdict and figures
//
// Exit codes: 0 every scenario that ran passed; 1 an SLO or invariant
// failed, or a fault could not be healed (the gate is closed); 2 the run
// could not be made (bad flags, no stack, probe load beyond the headroom,
// the steady state not met before a fault, a scenario named on the
// command line that cannot run on the target).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/idstack/idstack/internal/svc"
)

// Exit codes.
const (
	exitPass   = 0
	exitFailed = 1
	exitError  = 2
)

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	code := Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

const usage = `usage: idstack-chaos <list|run|render|summary> [flags]
run "idstack-chaos <command> -h" for its flags`

// errGateClosed says the run finished and at least one scenario failed.
var errGateClosed = errors.New("gate closed: a scenario failed its SLO or an invariant")

// Run runs a subcommand and returns the process exit code.
func Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return exitError
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "list":
		err = runList(rest)
	case "run":
		err = runRun(ctx, rest)
	case "render":
		err = runRender(rest)
	case "summary":
		err = runSummary(rest)
	case "-h", "--help", "help":
		fmt.Println(usage)
		return exitPass
	default:
		err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	code := exitCode(err)
	if code != exitPass {
		fmt.Fprintln(os.Stderr, "idstack-chaos:", err)
	}
	return code
}

// exitCode maps a command's error to the process exit code.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, svc.ErrHelp):
		return exitPass
	case errors.Is(err, errGateClosed):
		return exitFailed
	default:
		return exitError
	}
}
