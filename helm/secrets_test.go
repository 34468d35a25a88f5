package helm_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// cluster answers Helm's `lookup` from client-go's fake dynamic client,
// holding what the API server would hold. Only Secrets are looked up.
type cluster struct {
	client *dynamicfake.FakeDynamicClient
}

func newCluster(t *testing.T, secrets ...*corev1.Secret) cluster {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	objs := make([]runtime.Object, 0, len(secrets))
	for _, s := range secrets {
		s = s.DeepCopy()
		s.Namespace = namespace
		objs = append(objs, s)
	}
	return cluster{client: dynamicfake.NewSimpleDynamicClient(scheme, objs...)}
}

func (c cluster) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	if apiVersion != "v1" || kind != "Secret" {
		return nil, false, fmt.Errorf("unexpected lookup of %s %s", apiVersion, kind)
	}
	return c.client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}), true, nil
}

// renderAgainst renders a chart the way `helm install` (revision 1) or
// `helm upgrade` (revision 2) does, with Helm's own engine and lookup
// function, against the given cluster.
func renderAgainst(t *testing.T, chartName string, vals map[string]any, c cluster, upgrade bool) []object {
	t.Helper()
	ch := loadChart(t, chartName)
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		t.Fatalf("dependencies: %v", err)
	}
	opts := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, IsInstall: !upgrade, IsUpgrade: upgrade, Revision: 1}
	if upgrade {
		opts.Revision = 2
	}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.RenderWithClientProvider(ch, rv, c)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, ".yaml") {
			b.WriteString("\n---\n" + files[name])
		}
	}
	return decodeStrict(t, b.String())
}

// generated returns the Secrets a render generated (resource-policy keep).
func generated(objs []object) map[string]*corev1.Secret {
	out := map[string]*corev1.Secret{}
	for _, o := range objs {
		if s, ok := o.Obj.(*corev1.Secret); ok && s.Annotations["helm.sh/resource-policy"] == "keep" {
			out[s.Name] = s
		}
	}
	return out
}

// TestUpgradeKeepsGeneratedSecrets installs (no Secret in the cluster, so
// values are generated), stores what was generated in the cluster as the
// API server would, then upgrades: every generated value must come back
// unchanged (ory/k8s#339). The control renders the upgrade against an empty
// cluster and must see new values, which proves the lookup is what keeps them.
func TestUpgradeKeepsGeneratedSecrets(t *testing.T) {
	tests := []struct {
		chart  string
		values string   // values file under testdata/values/<chart>
		want   []string // generated Secret names
	}{
		{"kratos", "minimal", []string{"eu-kratos-secrets"}},
		{"hydra", "minimal", []string{"eu-hydra-secrets"}},
		{"bridge", "minimal", []string{"eu-bridge-csrf"}},
		// The primary region: a secondary one must name the shared Secrets.
		{umbrella, "contract", []string{"eu-bridge-csrf", "eu-hydra-secrets", "eu-kratos-secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			vals := readValues(t, tt.chart, tt.values)
			installed := generated(renderAgainst(t, tt.chart, vals, newCluster(t), false))
			if got := slices.Sorted(maps.Keys(installed)); !slices.Equal(got, tt.want) {
				t.Fatalf("install generated %v, want %v", got, tt.want)
			}
			var stored []*corev1.Secret
			for _, s := range installed {
				if len(s.Data) == 0 {
					t.Fatalf("%s: no data generated", s.Name)
				}
				for k, v := range s.Data {
					if len(v) < 32 {
						t.Errorf("%s/%s: %d bytes generated, want at least 32", s.Name, k, len(v))
					}
				}
				stored = append(stored, s)
			}

			upgraded := generated(renderAgainst(t, tt.chart, vals, newCluster(t, stored...), true))
			for name, s := range installed {
				u, ok := upgraded[name]
				if !ok {
					t.Errorf("upgrade dropped Secret %s (helm would delete it)", name)
					continue
				}
				if !maps.EqualFunc(s.Data, u.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
					t.Errorf("upgrade changed Secret %s: got keys %v, want the installed values kept", name, slices.Sorted(maps.Keys(u.Data)))
				}
			}

			control := generated(renderAgainst(t, tt.chart, vals, newCluster(t), true))
			for name, s := range installed {
				if maps.EqualFunc(s.Data, control[name].Data, func(a, b []byte) bool { return string(a) == string(b) }) {
					t.Errorf("control: without the Secret in the cluster, %s came out the same; the test cannot tell lookup from chance", name)
				}
			}
		})
	}
}

// TestExistingSecretChangeRollsPods: with an existing Secret, the pods
// carry a checksum of that Secret's data as the cluster has it, so a new
// secret value rolls them on the next upgrade.
func TestExistingSecretChangeRollsPods(t *testing.T) {
	tests := []struct {
		chart, path, secret, key, deployment string
	}{
		{"kratos", "secrets.existingSecret", "kratos-secrets", "secretsCookie", "eu-kratos"},
		{"hydra", "secrets.existingSecret", "hydra-secrets", "secretsSystem", "eu-hydra"},
		{"bridge", "csrf.existingSecret", "bridge-csrf", "csrf-secret", "eu-bridge"},
	}
	for _, tt := range tests {
		t.Run(tt.chart, func(t *testing.T) {
			vals := readValues(t, tt.chart, "minimal")
			set(vals, tt.path, tt.secret)
			sum := func(value string) string {
				s := &corev1.Secret{Data: map[string][]byte{tt.key: []byte(value)}}
				s.Name = tt.secret
				for _, o := range renderAgainst(t, tt.chart, vals, newCluster(t, s), true) {
					if d, ok := o.Obj.(*appsv1.Deployment); ok && o.Name == tt.deployment {
						return d.Spec.Template.Annotations["checksum/secrets"]
					}
				}
				t.Fatalf("no Deployment %s", tt.deployment)
				return ""
			}
			a, b := sum(strings.Repeat("a", 32)), sum(strings.Repeat("b", 32))
			if a == "" || a == b {
				t.Errorf("checksum/secrets: got %q then %q, want two different non-empty sums", a, b)
			}
		})
	}
}

// TestConfigChangeRollsPods: a config value change changes checksum/config.
func TestConfigChangeRollsPods(t *testing.T) {
	sum := func(lifespan string) string {
		vals := readValues(t, "kratos", "minimal")
		vals["config"] = map[string]any{"session": map[string]any{"lifespan": lifespan}}
		for _, o := range renderAgainst(t, "kratos", vals, newCluster(t), false) {
			if d, ok := o.Obj.(*appsv1.Deployment); ok && o.Name == "eu-kratos" {
				return d.Spec.Template.Annotations["checksum/config"]
			}
		}
		t.Fatal("no Deployment eu-kratos")
		return ""
	}
	if a, b := sum("24h"), sum("12h"); a == b {
		t.Errorf("checksum/config unchanged (%s) after a config change", a)
	}
}
