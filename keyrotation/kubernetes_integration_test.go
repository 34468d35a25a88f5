//go:build integration

package keyrotation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/dockertest/v3"

	"github.com/idstack/idstack/infra/config"
	"github.com/idstack/idstack/infra/images"
	"github.com/idstack/idstack/infra/infratest"
	"github.com/idstack/idstack/infra/stack"
	krvault "github.com/idstack/idstack/keyrotation/vault"
)

// serviceAccountToken makes a token shaped like a Kubernetes service
// account's (Vault reads its claims; the TokenReview decides).
func serviceAccountToken(t *testing.T, namespace, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io/serviceaccount/namespace": namespace,
		"kubernetes.io/serviceaccount/service-account.name": name,
		"kubernetes.io/serviceaccount/service-account.uid":  "uid-" + namespace + ":" + name,
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKubernetesLogin logs in to the real Vault with Kubernetes auth: Vault
// reviews the service-account token with kubefake's TokenReview endpoint,
// which stands in for the cluster this machine does not have.
func TestKubernetesLogin(t *testing.T) {
	l := establish(t)
	ctx := context.Background()
	token := serviceAccountToken(t, "idstack", "keyrotation")
	tags, err := images.Builder{Pool: l.s.DockerPool(), Root: infratest.Root(t)}.Tags()
	if err != nil {
		t.Fatal(err)
	}
	repo, tag, _ := strings.Cut(tags[images.Kubefake], ":")
	name := l.top.Name + "-kubefake"
	kube, err := l.s.DockerPool().RunWithOptions(&dockertest.RunOptions{
		Name: name, Repository: repo, Tag: tag, NetworkID: l.wanNetworkID(t),
		Env:    []string{`KUBEFAKE_TOKENS={"` + token + `":"idstack/keyrotation"}`},
		Labels: map[string]string{stack.LabelStack: l.top.Name, stack.LabelRole: "kubefake"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.s.DockerPool().Purge(kube) })

	st, _ := l.s.LoadState()
	root, _ := l.s.VaultClient(st.VaultRootToken)
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, "kubernetes", &kubernetesAuthInput); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "auth/kubernetes/config", map[string]any{
		"kubernetes_host": "http://" + name + ":8443", "disable_local_ca_jwt": true,
	}); err != nil {
		t.Fatal(err)
	}
	putKeyrotationPolicy(t, root)
	if _, err := root.Logical().WriteWithContext(ctx, "auth/kubernetes/role/keyrotation", map[string]any{
		"bound_service_account_names": "keyrotation", "bound_service_account_namespaces": "idstack",
		"token_policies": "keyrotation", "token_ttl": "10m",
	}); err != nil {
		t.Fatal(err)
	}
	file := t.TempDir() + "/token"
	writeFile(t, file, token)
	login := func(role, tokenFile string) error {
		vc, err := krvault.Connect(ctx, krvault.Config{
			Address: l.top.VaultURL(), Method: krvault.AuthKubernetes, Role: role,
			ServiceAccountTokenFile: tokenFile, Timeout: 10 * time.Second,
		}, l.top.DialContext)
		if err != nil {
			return err
		}
		r := l.rotator("kubernetes")
		r.Store = krvault.New(vc, config.VaultKVMount, "keyrotation-test")
		step(t, r)
		noDrift(t, r)
		return nil
	}
	// kubefake has just started: Vault denies every login until it can
	// review a token through it, so wait for the first one to go through.
	if err := stack.Poll(ctx, 30*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		_, err := krvault.Connect(ctx, krvault.Config{
			Address: l.top.VaultURL(), Method: krvault.AuthKubernetes, Role: "keyrotation",
			ServiceAccountTokenFile: file, Timeout: 10 * time.Second,
		}, l.top.DialContext)
		return err
	}); err != nil {
		t.Fatalf("kubernetes login never went through: %v", err)
	}
	if err := login("keyrotation", file); err != nil {
		t.Fatalf("kubernetes login: %v", err)
	}
	other := t.TempDir() + "/other"
	writeFile(t, other, serviceAccountToken(t, "default", "intruder"))
	if err := login("keyrotation", other); err == nil {
		t.Fatal("a token the cluster does not recognise logged in")
	}
}
