package helm_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint/support"
)

var update = flag.Bool("update", false, "rewrite the golden manifests under testdata/golden")

// TestLint runs `helm lint` (strict: warnings fail too) on every chart with
// every values file under testdata/values/<chart>.
func TestLint(t *testing.T) {
	for _, name := range charts {
		dir := chartDir(t, name)
		for _, vf := range valuesFiles(t, name) {
			t.Run(name+"/"+vf, func(t *testing.T) {
				lint := action.NewLint()
				lint.Strict = true
				lint.Namespace = namespace
				res := lint.Run([]string{dir}, readValues(t, name, vf))
				for _, m := range res.Messages {
					if m.Severity >= support.WarningSev {
						t.Errorf("lint: %s", m)
					}
				}
				for _, err := range res.Errors {
					t.Errorf("lint error: %v", err)
				}
			})
		}
	}
}

// generatedSecret masks the random values of generated Secrets, so golden
// files stay stable. Only the keys the charts generate are masked.
var generatedSecret = regexp.MustCompile(`(?m)^(  (?:secretsCookie|secretsCipher|secretsDefault|secretsSystem|csrfSecret): )"[A-Za-z0-9+/=]+"$`)

// TestRender renders every chart with every values file, compares it with
// the golden manifest, decodes every document strictly into its Kubernetes
// API type and checks every pod's hardening.
func TestRender(t *testing.T) {
	for _, name := range charts {
		ch := loadChart(t, name)
		for _, vf := range valuesFiles(t, name) {
			t.Run(name+"/"+vf, func(t *testing.T) {
				out, err := render(t, ch, readValues(t, name, vf))
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				golden(t, filepath.Join("testdata", "golden", name, vf+".yaml"), generatedSecret.ReplaceAllString(out, `$1"<generated>"`))
				objs := decodeStrict(t, out)
				if len(objs) == 0 {
					t.Fatal("rendered no objects")
				}
				for _, o := range objs {
					checkObject(t, name, o)
				}
			})
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (go test -run TestRender -update writes it): %v", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from the rendered manifest (run go test -run TestRender -update and review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(no line differs)"
}
