package idstack

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestVersionsFileParses(t *testing.T) {
	v := Versions()
	for _, key := range []string{"KRATOS_VERSION", "HYDRA_VERSION", "VAULT_VERSION", "TOXIPROXY_VERSION", "COCKROACH_IMAGE", "GO_VERSION"} {
		if v[key] == "" {
			t.Errorf("versions.env: %s is empty", key)
		}
	}
}

func TestParseVersionsRejectsBadLines(t *testing.T) {
	tests := []struct{ name, text string }{
		{"no equals", "KRATOS_VERSION v1"},
		{"space in value", "A=b c"},
		{"quoted", `A="b"`},
		{"duplicate", "A=1\nA=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseVersions(tt.text); err == nil {
				t.Errorf("ParseVersions(%q): got nil error, want one", tt.text)
			}
		})
	}
}

// TestToolLocksMatchVersions keeps versions.env the one place to change a
// server's version: tools/<name>/go.mod is a lock derived from it.
func TestToolLocksMatchVersions(t *testing.T) {
	v := Versions()
	for _, name := range []string{"kratos", "hydra", "vault", "toxiproxy"} {
		t.Run(name, func(t *testing.T) {
			up := strings.ToUpper(name)
			path := filepath.Join("tools", name, "go.mod")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read lock: %v (run make tools-lock)", err)
			}
			f, err := modfile.Parse(path, data, nil)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			var got string
			for _, r := range f.Require {
				if r.Mod.Path == v[up+"_MODULE"] {
					got = r.Mod.Version
				}
			}
			if want := v[up+"_VERSION"]; got != want {
				t.Errorf("%s requires %s %s, versions.env says %s: run make tools-lock", path, v[up+"_MODULE"], got, want)
			}
			wantReplace := map[string]string{}
			if r := v[up+"_REPLACE"]; r != "" {
				for _, pair := range strings.Split(r, ",") {
					from, to, _ := strings.Cut(pair, "=")
					wantReplace[from] = to
				}
			}
			gotReplace := map[string]string{}
			for _, r := range f.Replace {
				from := r.Old.Path
				if r.Old.Version != "" {
					from += "@" + r.Old.Version
				}
				gotReplace[from] = r.New.Path + "@" + r.New.Version
			}
			if !maps.Equal(gotReplace, wantReplace) {
				t.Errorf("%s replaces %v, versions.env says %v: run make tools-lock", path, gotReplace, wantReplace)
			}
			if f.Go == nil || f.Go.Version != v["GO_VERSION"] {
				t.Errorf("%s: go line differs from GO_VERSION %s", path, v["GO_VERSION"])
			}
		})
	}
}
