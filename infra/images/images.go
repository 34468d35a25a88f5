// Package images builds idstack's container images on the local Docker
// engine, with no registry: FROM scratch images around static Go binaries,
// and Debian root filesystems (debootstrap): bookworm for PostgreSQL and
// HAProxy, trixie for the Patroni tier (Patroni, etcd, PostgreSQL 17).
//
// Every image is tagged by a hash of exactly what goes into it, so Build is
// a no-op when nothing changed and Tags can name the images without building.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"

	"github.com/idstack/idstack"
)

// Repository prefix of every idstack image.
const Repository = "idstack/"

// ErrMissing is returned when an image or an input it needs is missing.
var ErrMissing = errors.New("image missing")

// Image names.
const (
	Kratos    = "kratos"
	Hydra     = "hydra"
	Vault     = "vault"
	Toxiproxy = "toxiproxy"
	Mailsink  = "mailsink"
	Bridge    = "bridge"
	DemoApp   = "demo-app"
	// Kubefake answers Vault's TokenReview calls in tests (no cluster here).
	Kubefake = "kubefake"
	Debian   = "debian" // PostgreSQL and HAProxy
	// DBTier is the Patroni tier's image: Patroni, etcd and PostgreSQL.
	DBTier = "dbtier"
)

// Rootfs is an image imported from a Debian root filesystem: the suite,
// the packages and the pinned versions come from versions.env under the
// key prefix (SUITE, PACKAGES, EXPECT).
type Rootfs struct {
	Name, Prefix string
}

// RootfsImages are built by debootstrap.
var RootfsImages = []Rootfs{{Debian, "DEBIAN"}, {DBTier, "DBTIER"}}

func (r Rootfs) suite() string    { return idstack.Version(r.Prefix + "_SUITE") }
func (r Rootfs) packages() string { return idstack.Version(r.Prefix + "_PACKAGES") }

// expect is the pin list (package=version prefix, …).
func (r Rootfs) expect() string { return idstack.Version(r.Prefix + "_EXPECT") }

// Spec is one FROM scratch image: a static binary as its entrypoint.
type Spec struct {
	Name   string
	Binary string // file name under the bin directory
}

// ScratchImages are built from binaries under bin/ by make tools.
var ScratchImages = []Spec{
	{Kratos, "kratos"}, {Hydra, "hydra"}, {Vault, "vault"}, {Toxiproxy, "toxiproxy"}, {Mailsink, "mailsink"},
	{Bridge, "bridge"}, {DemoApp, "demo-app"}, {Kubefake, "kubefake"},
}

// Builder builds and names images.
type Builder struct {
	Pool *dockertest.Pool
	// Root is the repository root (bin/, .cache/ and infra/images live there).
	Root string
	// Log receives progress lines.
	Log io.Writer
}

// Tags maps an image name to its full reference (idstack/kratos:3f2a…).
type Tags map[string]string

// Tags computes every image's content tag without building anything.
func (b Builder) Tags() (Tags, error) {
	tags := Tags{}
	for _, s := range ScratchImages {
		h, err := b.scratchHash(s)
		if err != nil {
			return nil, err
		}
		tags[s.Name] = Repository + s.Name + ":" + h
	}
	for _, r := range RootfsImages {
		tags[r.Name] = Repository + r.Name + ":" + b.rootfsHash(r)
	}
	return tags, nil
}

// Build builds every image that is not present yet.
func (b Builder) Build(ctx context.Context) (Tags, error) {
	tags, err := b.Tags()
	if err != nil {
		return nil, err
	}
	for _, s := range ScratchImages {
		if err := b.ensure(ctx, tags[s.Name], func() error { return b.buildScratch(ctx, s, tags[s.Name]) }); err != nil {
			return nil, err
		}
	}
	for _, r := range RootfsImages {
		if err := b.ensure(ctx, tags[r.Name], func() error { return b.buildRootfs(ctx, r, tags[r.Name]) }); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

func (b Builder) ensure(ctx context.Context, ref string, build func() error) error {
	if _, err := b.Pool.Client.InspectImage(ref); err == nil {
		b.logf("%s: up to date", ref)
		return nil
	}
	start := time.Now()
	if err := build(); err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	b.logf("%s: built in %s", ref, time.Since(start).Round(100*time.Millisecond))
	return ctx.Err()
}

func (b Builder) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, "images: "+format+"\n", args...)
	}
}

func scratchDockerfile(s Spec) string {
	return "FROM scratch\nCOPY " + s.Binary + " /bin/" + s.Binary + "\nENTRYPOINT [\"/bin/" + s.Binary + "\"]\n"
}

func (b Builder) scratchHash(s Spec) (string, error) {
	path := filepath.Join(b.Root, "bin", s.Binary)
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s (run make tools): %v", ErrMissing, path, err)
	}
	defer f.Close()
	h := sha256.New()
	io.WriteString(h, scratchDockerfile(s))
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (b Builder) buildScratch(ctx context.Context, s Spec, ref string) error {
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	df := scratchDockerfile(s)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df))}); err != nil {
		return err
	}
	io.WriteString(tw, df)
	bin, err := os.ReadFile(filepath.Join(b.Root, "bin", s.Binary))
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: s.Binary, Mode: 0o755, Size: int64(len(bin))}); err != nil {
		return err
	}
	tw.Write(bin)
	if err := tw.Close(); err != nil {
		return err
	}
	var out bytes.Buffer
	err = b.Pool.Client.BuildImage(dc.BuildImageOptions{
		Context:             ctx,
		Name:                ref,
		InputStream:         &ctxTar,
		OutputStream:        &out,
		Labels:              map[string]string{"dev.idstack.image": s.Name},
		RmTmpContainer:      true,
		ForceRmTmpContainer: true,
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out.String(), 20))
	}
	return nil
}

func (b Builder) debianScript() string {
	return filepath.Join(b.Root, "infra", "images", "debian-rootfs.sh")
}

// rootfsHash covers the build script and what it is given; the Debian
// archive itself is a dated snapshot on these machines.
func (b Builder) rootfsHash(r Rootfs) string {
	h := sha256.New()
	script, _ := os.ReadFile(b.debianScript())
	h.Write(script)
	fmt.Fprintf(h, "\x00%s\x00%s\x00%s", r.suite(), r.packages(), r.expect())
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (b Builder) buildRootfs(ctx context.Context, r Rootfs, ref string) error {
	tarball := filepath.Join(b.Root, ".cache", r.Name+"-rootfs-"+b.rootfsHash(r)+".tar")
	if _, err := os.Stat(tarball); err != nil {
		cmd := exec.CommandContext(ctx, b.debianScript(), r.suite(), r.packages(), tarball, r.expect())
		cmd.Stdout, cmd.Stderr = b.Log, b.Log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s root filesystem (%s): %w", r.Name, r.suite(), err)
		}
	}
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	repo, tag := splitRef(ref)
	var out bytes.Buffer
	if err := b.Pool.Client.ImportImage(dc.ImportImageOptions{
		Repository: repo, Tag: tag, Source: "-", InputStream: f, OutputStream: &out, Context: ctx,
	}); err != nil {
		return fmt.Errorf("docker import: %w\n%s", err, tail(out.String(), 20))
	}
	return nil
}

func splitRef(ref string) (repo, tag string) {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			return ref[:i], ref[i+1:]
		}
	}
	return ref, "latest"
}

func tail(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
