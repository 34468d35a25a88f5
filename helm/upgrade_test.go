package helm_test

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// apiServer answers the two requests Helm's lookup makes for a Secret:
// discovery of /api/v1 and GET of one Secret. It holds what `helm install`
// created, as a real API server would after the install.
type apiServer struct {
	mu      sync.Mutex
	secrets map[string]*corev1.Secret // by name, in namespace
	lookups []string                  // names of Secrets Helm asked for
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/api/v1" {
		_ = json.NewEncoder(w).Encode(metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: "v1",
			APIResources: []metav1.APIResource{{Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: metav1.Verbs{"get", "list"}}},
		})
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/api/v1/namespaces/"+namespace+"/secrets/")
	if !ok || r.Method != http.MethodGet {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":400}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups = append(s.lookups, name)
	sec, found := s.secrets[name]
	if !found {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound,
			Message: "secrets \"" + name + "\" not found",
		})
		return
	}
	out := sec.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}
	out.Namespace = namespace
	_ = json.NewEncoder(w).Encode(out)
}

// restGetter points Helm's lookup at the test API server. Capabilities are
// preset, so discovery and the REST mapper are never asked for.
type restGetter struct{ host string }

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return &rest.Config{Host: g.host}, nil }
func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return nil, errors.New("discovery not available in this test")
}
func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	return nil, errors.New("REST mapper not available in this test")
}

// TestHelmUpgradeKeepsGeneratedSecrets runs Helm's own install and upgrade
// actions (helm.sh/helm/v3/pkg/action; releases in the memory driver, a
// fake kube client that applies nothing) with `lookup` going over HTTP, the
// way `helm upgrade` does, to a test API server that holds the Secrets the
// install generated. The upgraded release must carry the same values.
func TestHelmUpgradeKeepsGeneratedSecrets(t *testing.T) {
	api := &apiServer{secrets: map[string]*corev1.Secret{}}
	srv := httptest.NewServer(api)
	defer srv.Close()

	cfg := &action.Configuration{
		Releases:         storage.Init(driver.NewMemory()),
		KubeClient:       &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities:     chartutil.DefaultCapabilities,
		RESTClientGetter: restGetter{host: srv.URL},
		Log:              func(string, ...any) {},
	}
	vals := readValues(t, umbrella, "contract")

	install := action.NewInstall(cfg)
	install.ReleaseName = releaseName
	install.Namespace = namespace
	rel, err := install.Run(loadChart(t, umbrella), vals)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	installed := generated(decodeStrict(t, rel.Manifest))
	want := []string{"eu-bridge-csrf", "eu-hydra-secrets", "eu-kratos-secrets"}
	if got := slices.Sorted(maps.Keys(installed)); !slices.Equal(got, want) {
		t.Fatalf("install generated %v, want %v", got, want)
	}
	api.mu.Lock()
	if got := slices.Sorted(slices.Values(api.lookups)); !isSuperset(got, want) {
		t.Errorf("install looked up %v, want at least %v", got, want)
	}
	maps.Copy(api.secrets, installed) // what the API server holds after the install
	api.lookups = nil
	api.mu.Unlock()

	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = namespace
	rel2, err := upgrade.Run(releaseName, loadChart(t, umbrella), vals)
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if rel2.Version != 2 {
		t.Errorf("upgrade made release version %d, want 2", rel2.Version)
	}
	upgraded := generated(decodeStrict(t, rel2.Manifest))
	for name, s := range installed {
		u, ok := upgraded[name]
		if !ok {
			t.Errorf("upgrade dropped Secret %s", name)
			continue
		}
		if !maps.EqualFunc(s.Data, u.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Errorf("helm upgrade changed the generated values of Secret %s", name)
		}
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if !isSuperset(slices.Sorted(slices.Values(api.lookups)), want) {
		t.Errorf("upgrade looked up %v, want at least %v", api.lookups, want)
	}
}

func isSuperset(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
