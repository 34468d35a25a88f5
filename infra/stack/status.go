package stack

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/idstack/idstack/infra"
)

// NodeStatus is one container of the stack as Docker reports it.
type NodeStatus struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Role   string `json:"role"`
	Region string `json:"region,omitempty"`
	State  string `json:"state"` // running, paused, exited, ...
	Status string `json:"status"`
}

// Nodes lists the stack's containers, sorted by name.
func (s *Stack) Nodes(ctx context.Context) ([]NodeStatus, error) {
	cs, err := s.containers(false)
	if err != nil {
		return nil, err
	}
	out := make([]NodeStatus, 0, len(cs))
	for _, c := range cs {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, NodeStatus{
			Name: name, ID: c.ID, Role: c.Labels[LabelRole], Region: c.Labels[LabelRegion],
			State: c.State, Status: c.Status,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// URLCheck is one readiness URL and its result.
type URLCheck struct {
	URL string `json:"url"`
	Err string `json:"error,omitempty"`
}

// CheckURLs checks every readiness URL through the edges.
func (s *Stack) CheckURLs(ctx context.Context) []URLCheck {
	var out []URLCheck
	for _, u := range HealthURLs(s.Topology) {
		c := URLCheck{URL: u}
		if err := s.getOK(ctx, u); err != nil {
			c.Err = err.Error()
		}
		out = append(out, c)
	}
	return out
}

// WriteStatus prints the nodes and the health of every URL; it returns the
// number of problems found.
func (s *Stack) WriteStatus(ctx context.Context, w io.Writer) (int, error) {
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	if len(nodes) == 0 {
		fmt.Fprintf(w, "stack %q is not up\n", s.Topology.Name)
		return 1, nil
	}
	problems := 0
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tREGION\tSTATE\tSTATUS")
	for _, n := range nodes {
		if n.State != "running" && n.Role != RoleMigrate {
			problems++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.Role, dash(n.Region), n.State, n.Status)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if s.Topology.Database == infra.DatabasePatroni {
		problems += s.writeCluster(ctx, w)
	}
	for _, c := range s.CheckURLs(ctx) {
		mark := "ok  "
		if c.Err != "" {
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(w, "%s %s", mark, c.URL)
		if c.Err != "" {
			fmt.Fprintf(w, "  (%s)", c.Err)
		}
		fmt.Fprintln(w)
	}
	return problems, nil
}

// writeCluster prints the Patroni tier's members (role, state, timeline,
// lag) and returns 1 when the tier is not healthy.
func (s *Stack) writeCluster(ctx context.Context, w io.Writer) int {
	members, err := s.Cluster(ctx)
	if err != nil {
		fmt.Fprintf(w, "FAIL database cluster: %v\n\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tSTATE\tTIMELINE\tLAG (bytes)")
	for _, m := range members {
		lag := strconv.FormatInt(m.Lag, 10)
		if m.IsLeader() {
			lag = "-"
		} else if m.Lag < 0 {
			lag = "unknown"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, m.Role, m.State, m.Timeline, lag)
	}
	tw.Flush()
	problems := 0
	if err := ClusterHealthy(members, len(s.Topology.DatabaseSites())); err != nil {
		fmt.Fprintf(w, "FAIL database cluster: %v\n", err)
		problems = 1
	} else {
		fmt.Fprintln(w, "ok   database cluster: one leader, every standby streaming on its timeline, no lag")
	}
	fmt.Fprintln(w)
	return problems
}

// WriteURLs prints every URL a person uses, and how to reach them.
func WriteURLs(w io.Writer, t infra.Topology, statePath string) {
	fmt.Fprintf(w, "\nidstack %q is up: %d regions (%s), database %s.\n\n", t.Name, len(t.Regions), strings.Join(t.Regions, ", "), t.Database)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Demo app (OAuth2 client)\t%s\n", DemoAppURL(t))
	fmt.Fprintf(tw, "OIDC issuer (global)\t%s\n", t.IssuerURL())
	fmt.Fprintf(tw, "Sign-in UI (global)\t%s/login\n", t.PublicURL(infra.HostLogin, ""))
	for _, r := range t.Regions {
		fmt.Fprintf(tw, "region %s: sign-in UI\t%s/login\n", r, t.PublicURL(infra.HostLogin, r))
		fmt.Fprintf(tw, "region %s: Kratos public / admin\t%s  %s\n", r, t.PublicURL(infra.HostKratos, r), t.AdminURL(infra.HostKratos, r))
		fmt.Fprintf(tw, "region %s: Hydra public / admin\t%s  %s\n", r, t.PublicURL(infra.HostHydra, r), t.AdminURL(infra.HostHydra, r))
	}
	fmt.Fprintf(tw, "Vault (root token in %s)\t%s\n", statePath, t.VaultURL())
	fmt.Fprintf(tw, "Mail sink API\t%s/api/messages\n", t.MailURL())
	tw.Flush()
	fmt.Fprintf(w, `
Every name under %[1]s resolves to 127.0.0.1 for the host. Either add the
names above to /etc/hosts, or start Chromium with
  chromium --host-resolver-rules=%[2]q

To sign in: open the demo app (%[5]s), choose Sign in, follow the
sign-up link and register with any e-mail address; the app shows the ID
token's claims and userinfo. Or use a region's sign-in UI directly (e.g.
%[3]s/registration). Mail (verification and recovery codes) arrives in the
sink and never leaves this machine:
  curl -s %[4]s/api/messages
`, t.Domain, t.ChromiumHostRules(), t.PublicURL(infra.HostLogin, t.Primary()), "http://127.0.0.1:"+fmt.Sprint(t.Ports().Mail()), DemoAppURL(t))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
