package svc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	var addr string
	var n int
	var d time.Duration
	fs := NewFlags("x", "APP", env(map[string]string{"APP_LISTEN_ADDR": ":9", "APP_COUNT": "3", "APP_WAIT": "2s"}))
	fs.String(&addr, "listen-addr", "")
	fs.Int(&n, "count", "")
	fs.Duration(&d, "wait", "")
	if err := fs.Parse([]string{"-count", "4"}); err != nil {
		t.Fatal(err)
	}
	if addr != ":9" || n != 4 || d != 2*time.Second {
		t.Errorf("got %q %d %s; the flag must win over the environment, which wins over the default", addr, n, d)
	}
}

func TestFlagsNameTheBadVariable(t *testing.T) {
	var n int
	fs := NewFlags("x", "APP", env(map[string]string{"APP_COUNT": "many"}))
	fs.Int(&n, "count", "")
	if err := fs.Parse(nil); err == nil || !strings.Contains(err.Error(), "APP_COUNT") {
		t.Fatalf("got %v, want an error naming APP_COUNT", err)
	}
}

func TestSecretsNeverAppearInUsage(t *testing.T) {
	var tok string
	fs := NewFlags("x", "APP", env(map[string]string{"APP_TOKEN": "hvs.supersecret"}))
	fs.Secret(&tok, "token", "a token")
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse([]string{"-h"})
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("got %v, want ErrHelp", err)
	}
	if strings.Contains(out.String(), "supersecret") {
		t.Fatalf("usage shows the secret:\n%s", out.String())
	}
	if tok != "hvs.supersecret" {
		t.Error("the secret must still be read from the environment")
	}
}
