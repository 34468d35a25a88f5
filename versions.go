// Package idstack holds what every component shares at the root of the
// repository: the pinned upstream versions from versions.env.
package idstack

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// Versions returns every pin in versions.env as KEY → value.
func Versions() map[string]string {
	v, err := ParseVersions(versionsEnv)
	if err != nil {
		// versions.env is embedded and covered by TestVersionsFileParses.
		panic(err)
	}
	return v
}

// Version returns one pin by key, such as "KRATOS_VERSION"; it panics on an
// unknown key, which is a programming error caught by the tests.
func Version(key string) string {
	v, ok := Versions()[key]
	if !ok {
		panic("idstack: no " + key + " in versions.env")
	}
	return v
}

// ParseVersions reads KEY=value lines; blank lines and # comments are skipped.
func ParseVersions(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") || strings.ContainsAny(value, " \t\"'") {
			return nil, fmt.Errorf("versions.env line %d: want KEY=value without spaces or quotes, got %q", i+1, line)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("versions.env line %d: %s set twice", i+1, key)
		}
		out[key] = value
	}
	return out, nil
}

// VersionKeys lists the keys in a stable order, for reports.
func VersionKeys() []string {
	v := Versions()
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
