package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dc "github.com/ory/dockertest/v3/docker"

	"github.com/idstack/idstack/infra/config"
)

// attachment is a network a node joins, with the names it answers to there.
type attachment struct {
	network string
	aliases []string
}

// probe is how the host checks that a node is ready.
type probe struct {
	// HTTP path on port of the node's first-network address; empty for TCP.
	path string
	port int
	// ok decides an HTTP status; nil means 200 only.
	ok func(status int) bool
}

// nodeSpec is one container of the stack.
type nodeSpec struct {
	name       string
	role       string
	region     string
	image      string
	entrypoint []string
	cmd        []string
	env        []string
	files      []config.File
	networks   []attachment // the first is the one its probe address is on
	publish    []int        // same port on 127.0.0.1 and in the container
	volumes    map[string]string
	user       string
	stopSignal string
	probe      *probe
	oneshot    bool   // runs to completion (migrations); Up waits for exit 0
	profileDir string // host directory for the CPU profile; empty: not profiled
}

// profileMount is where a profiled node's TMPDIR is, in the container.
const profileMount = "/profile"

// profiled makes n write a CPU profile into dir/<name> when it stops
// (Ory's PROFILING=cpu writes under TMPDIR). It runs as the caller's user
// so that the profile belongs to whoever asked for it.
func (n nodeSpec) profiled(dir string) nodeSpec {
	if dir == "" {
		return n
	}
	n.profileDir = filepath.Join(dir, n.name)
	n.env = append(n.env, "PROFILING=cpu", "TMPDIR="+profileMount)
	if n.user == "" {
		n.user = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	}
	return n
}

// container is a created node.
type container struct {
	spec nodeSpec
	id   string
}

func (s *Stack) labels(role, region string) map[string]string {
	return map[string]string{LabelStack: s.Topology.Name, LabelRole: role, LabelRegion: region}
}

// run creates the node's container, uploads its files, joins its networks
// and starts it.
func (s *Stack) run(ctx context.Context, n nodeSpec, networkIDs map[string]string) (container, error) {
	exposed := map[dc.Port]struct{}{}
	bindings := map[dc.Port][]dc.PortBinding{}
	for _, p := range n.publish {
		port := dc.Port(strconv.Itoa(p) + "/tcp")
		exposed[port] = struct{}{}
		bindings[port] = []dc.PortBinding{{HostIP: "127.0.0.1", HostPort: strconv.Itoa(p)}}
	}
	var binds []string
	for vol, target := range n.volumes {
		binds = append(binds, vol+":"+target)
	}
	labels := s.labels(n.role, n.region)
	if n.profileDir != "" {
		// World-writable: with user namespaces (rootless Docker) the
		// container's user is not this one on the host.
		if err := os.MkdirAll(n.profileDir, 0o777); err != nil {
			return container{}, fmt.Errorf("profile directory for %s: %w", n.name, err)
		}
		if err := os.Chmod(n.profileDir, 0o777); err != nil {
			return container{}, fmt.Errorf("profile directory for %s: %w", n.name, err)
		}
		binds = append(binds, n.profileDir+":"+profileMount)
		labels[LabelProfiled] = "cpu"
	}
	first := n.networks[0]
	stopSignal := n.stopSignal
	if stopSignal == "" {
		stopSignal = "SIGTERM"
	}
	restart := dc.RestartPolicy{}
	c, err := s.pool.Client.CreateContainer(dc.CreateContainerOptions{
		Name:    n.name,
		Context: ctx,
		Config: &dc.Config{
			Hostname:     n.name,
			Image:        n.image,
			Entrypoint:   n.entrypoint,
			Cmd:          n.cmd,
			Env:          n.env,
			Labels:       labels,
			ExposedPorts: exposed,
			User:         n.user,
			StopSignal:   stopSignal,
		},
		HostConfig: &dc.HostConfig{
			PortBindings:  bindings,
			Binds:         binds,
			Tmpfs:         map[string]string{"/tmp": "rw,size=64m,mode=1777"},
			RestartPolicy: restart,
			Init:          false,
			LogConfig:     dc.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "2"}},
		},
		NetworkingConfig: &dc.NetworkingConfig{EndpointsConfig: map[string]*dc.EndpointConfig{
			networkIDs[first.network]: {Aliases: first.aliases},
		}},
	})
	if err != nil {
		return container{}, fmt.Errorf("create %s: %w", n.name, err)
	}
	created := container{spec: n, id: c.ID}
	if len(n.files) > 0 {
		archive, err := tarFiles(n.files)
		if err != nil {
			return created, err
		}
		if err := s.pool.Client.UploadToContainer(c.ID, dc.UploadToContainerOptions{
			InputStream: archive, Path: "/", Context: ctx,
		}); err != nil {
			return created, fmt.Errorf("upload files to %s: %w", n.name, err)
		}
	}
	// Docker API 1.41 takes one network at create; join the others before start.
	for _, a := range n.networks[1:] {
		if err := s.pool.Client.ConnectNetwork(networkIDs[a.network], dc.NetworkConnectionOptions{
			Container: c.ID, EndpointConfig: &dc.EndpointConfig{Aliases: a.aliases}, Context: ctx,
		}); err != nil {
			return created, fmt.Errorf("connect %s to %s: %w", n.name, a.network, err)
		}
	}
	if err := s.pool.Client.StartContainerWithContext(c.ID, nil, ctx); err != nil {
		return created, fmt.Errorf("start %s: %w", n.name, err)
	}
	return created, nil
}

// tarFiles packs files, with their parent directories, for UploadToContainer.
func tarFiles(files []config.File) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	now := time.Now()
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.Path); d != "/" && d != "." && !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			dirs[d] = true
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: now}); err != nil {
				return nil, err
			}
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o444
		}
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(f.Path, "/"), Mode: mode, Size: int64(len(f.Data)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// address returns the node's IP on its first network.
func (s *Stack) address(ctx context.Context, id, networkName string) (string, error) {
	c, err := s.pool.Client.InspectContainerWithContext(id, ctx)
	if err != nil {
		return "", fmt.Errorf("inspect: %w", err)
	}
	if c.NetworkSettings == nil {
		return "", fmt.Errorf("container %s has no network settings", c.Name)
	}
	ep, ok := c.NetworkSettings.Networks[networkName]
	if !ok || ep.IPAddress == "" {
		return "", fmt.Errorf("container %s has no address on %s", strings.TrimPrefix(c.Name, "/"), networkName)
	}
	return ep.IPAddress, nil
}

// LogTail returns the last n lines a container wrote.
func (s *Stack) LogTail(id string, n int) string {
	var out bytes.Buffer
	err := s.pool.Client.Logs(dc.LogsOptions{
		Container: id, OutputStream: &out, ErrorStream: &out,
		Stdout: true, Stderr: true, Tail: strconv.Itoa(n), RawTerminal: false,
	})
	if err != nil {
		return fmt.Sprintf("(logs unavailable: %v)", err)
	}
	return out.String()
}
