package helm_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// leafKeys lists the dotted paths of every leaf in a values tree (an empty
// map or list is a leaf too).
func leafKeys(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		*out = append(*out, prefix)
		return
	}
	for k, child := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		leafKeys(p, child, out)
	}
}

// TestReadmeListsEveryValue: each chart's README has a values table row for
// every key of its values.yaml (a row for a key covers the keys below it).
func TestReadmeListsEveryValue(t *testing.T) {
	for _, name := range charts {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(name, "values.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var vals map[string]any
			if err := yaml.Unmarshal(data, &vals); err != nil {
				t.Fatal(err)
			}
			readme, err := os.ReadFile(filepath.Join(name, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			leafKeys("", vals, &keys)
			sort.Strings(keys)
			for _, k := range keys {
				covered := false
				parts := strings.Split(k, ".")
				for i := len(parts); i > 0 && !covered; i-- {
					covered = strings.Contains(string(readme), "| `"+strings.Join(parts[:i], ".")+"` |")
				}
				if !covered {
					t.Errorf("README.md: no values table row for %s", k)
				}
			}
		})
	}
}
