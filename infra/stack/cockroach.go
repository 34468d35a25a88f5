package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/idstack/idstack"
	"github.com/idstack/idstack/infra/config"
)

// cockroachImage is the CockroachDB image the cockroach database kind runs.
// idstack cannot build it here: it must already be on the engine.
func cockroachImage() string { return idstack.Version("COCKROACH_IMAGE") }

// cockroachNodeCount is the cluster size: three, or one per region if more.
func (s *Stack) cockroachNodeCount() int {
	if n := len(s.Topology.Regions); n > 3 {
		return n
	}
	return 3
}

// cockroachNodes spreads the cluster over the regions, round robin: node i
// joins region i mod len(regions) with --locality=region=<r>. Each node is on
// its region's network (as db.idstack.internal, so services there use their
// own region's nodes) and on the WAN, where the nodes talk to each other.
func (s *Stack) cockroachNodes() []nodeSpec {
	t := s.Topology
	n := s.cockroachNodeCount()
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("%s-%d", s.globalName(RoleDatabase), i))
	}
	var nodes []nodeSpec
	for i, name := range names {
		r := t.Regions[i%len(t.Regions)]
		nodes = append(nodes, nodeSpec{
			name: name, role: RoleDatabase, region: r, image: cockroachImage(),
			cmd: []string{"start", "--insecure", "--join=" + strings.Join(names, ","),
				"--locality=region=" + r, "--listen-addr=:26257", "--http-addr=:8080",
				"--advertise-addr=" + name, "--cache=.1", "--max-sql-memory=.1"},
			networks: []attachment{{s.wanNetwork(), []string{config.DatabaseUpstreamHost}}, {s.regionNetwork(r), []string{config.DatabaseHost}}},
			volumes:  map[string]string{s.cockroachVolume(i + 1): "/cockroach/cockroach-data"},
			probe:    &probe{path: "/health", port: 8080},
		})
	}
	return nodes
}

// checkCockroachImage fails fast when the image is not on the engine.
func (s *Stack) checkCockroachImage() error {
	if _, err := s.pool.Client.InspectImage(cockroachImage()); err != nil {
		return fmt.Errorf("%w: %s", ErrCockroachUnavailable, cockroachImage())
	}
	return nil
}

func (s *Stack) cockroachVolume(i int) string { return fmt.Sprintf("%s-%d", s.volume("db"), i) }

// initCockroach runs `cockroach init` once every node is up.
func (s *Stack) initCockroach(ctx context.Context, first container) error {
	out, err := s.exec(ctx, first.id, "/cockroach/cockroach", "init", "--insecure", "--host="+first.spec.name)
	if err != nil {
		return fmt.Errorf("cockroach init: %w\n%s", err, out)
	}
	return nil
}
