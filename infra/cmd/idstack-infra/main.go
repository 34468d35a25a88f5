// Command idstack-infra brings idstack's local multi-region topology up on
// the Docker engine, reports its status and tears it down.
//
//	idstack-infra images            build every image that is missing
//	idstack-infra up [flags]        start the topology, print its URLs
//	idstack-infra status [flags]    nodes and health; exit 1 on a problem
//	idstack-infra down [flags]      remove exactly what up created
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/idstack/idstack/infra"
	"github.com/idstack/idstack/internal/svc"
)

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, svc.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "idstack-infra:", err)
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		os.Exit(1)
	}
}

type exitCode int

func (e exitCode) Error() string { return "exit " + strconv.Itoa(int(e)) }

const usage = `usage: idstack-infra <images|up|status|down> [flags]
run "idstack-infra <command> -h" for its flags`

// Run dispatches a subcommand.
func Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "images":
		return runImages(ctx, rest)
	case "up":
		return runUp(ctx, rest)
	case "status":
		return runStatus(ctx, rest)
	case "down":
		return runDown(ctx, rest)
	case "-h", "--help", "help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// common are the flags every subcommand shares.
type common struct {
	topology infra.Topology
	regions  string
	replicas string
	database string
	root     string
	stateDir string
}

func newCommon(name string) (*common, *svc.Flags) {
	c := &common{topology: infra.Default()}
	c.regions = strings.Join(c.topology.Regions, ",")
	c.replicas = formatReplicas(c.topology.Replicas)
	c.database = string(c.topology.Database)
	c.root = "."
	fs := svc.NewFlags("idstack-infra "+name, "IDSTACK", os.LookupEnv)
	fs.String(&c.topology.Name, "name", "stack name (label value and name prefix)")
	fs.String(&c.regions, "regions", "comma-separated regions; the first is primary")
	fs.String(&c.replicas, "replicas", "replicas per service per region, e.g. kratos=2,hydra=2,bridge=2")
	fs.String(&c.database, "database", "database tier: patroni (replicated, fails over by itself), postgres (one node) or cockroach (needs its image)")
	fs.String(&c.topology.Domain, "domain", "parent domain of every host name")
	fs.Int(&c.topology.BasePort, "base-port", "first loopback port of the port plan")
	fs.String(&c.root, "root", "repository root (bin/ and .cache/ are there)")
	fs.String(&c.stateDir, "state-dir", "directory for stack state (default ROOT/.run)")
	return c, fs
}

// resolve turns the flag strings into a validated Topology.
func (c *common) resolve() error {
	c.topology.Regions = svc.SplitList(c.regions)
	reps, err := parseReplicas(c.replicas)
	if err != nil {
		return err
	}
	c.topology.Replicas = reps
	c.topology.Database = infra.DatabaseKind(c.database)
	if c.stateDir == "" {
		c.stateDir = filepath.Join(c.root, ".run")
	}
	return c.topology.Validate()
}

func parseReplicas(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, kv := range svc.SplitList(s) {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("replicas: %q is not service=count", kv)
		}
		out[strings.TrimSpace(k)] = n
	}
	return out, nil
}

func formatReplicas(m map[string]int) string {
	var parts []string
	for _, k := range infra.KnownServices {
		if n, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
	}
	return strings.Join(parts, ",")
}
