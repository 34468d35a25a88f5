// Command demo-app serves the relying party of package rp: a web app a
// person can sign in to through idstack. The local topology runs it at
// app.<domain>. Every flag falls back to DEMO_APP_<FLAG>.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/idstack/idstack/e2e/rp"
	"github.com/idstack/idstack/internal/svc"
)

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil && !errors.Is(err, svc.ErrHelp) {
		fmt.Fprintln(os.Stderr, "demo-app:", err)
		os.Exit(1)
	}
}

// Run parses flags and serves until ctx is done.
func Run(ctx context.Context, args []string) error {
	var listen, issuer, clientID, clientSecretFile, baseURL, authURLs, scopes, cookieSecretFile string
	listen, scopes = ":4460", "email,profile"
	fs := svc.NewFlags("demo-app", "DEMO_APP", os.LookupEnv)
	fs.String(&listen, "listen-addr", "address to listen on")
	fs.String(&issuer, "issuer", "OpenID provider issuer URL")
	fs.String(&clientID, "client-id", "OAuth2 client id")
	fs.String(&clientSecretFile, "client-secret-file", "file holding the OAuth2 client secret")
	fs.String(&baseURL, "base-url", "URL browsers reach the app at (the redirect URI is this + /callback)")
	fs.String(&authURLs, "auth-urls", "region=authorization endpoint pairs, comma-separated, for /login?region=")
	fs.String(&scopes, "scopes", "scopes besides openid, comma-separated")
	fs.String(&cookieSecretFile, "cookie-secret-file", "file holding the cookie sealing secret (32+ bytes, same on every replica)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret, err := readSecret("client-secret-file", clientSecretFile)
	if err != nil {
		return err
	}
	cookie, err := readSecret("cookie-secret-file", cookieSecretFile)
	if err != nil {
		return err
	}
	regions := map[string]string{}
	for _, pair := range svc.SplitList(authURLs) {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("auth-urls: %q is not region=URL", pair)
		}
		regions[k] = v
	}
	log := svc.Logger(os.Stderr, "demo-app", slog.LevelInfo)
	app, err := rp.New(rp.Config{
		Issuer: issuer, ClientID: clientID, ClientSecret: secret, BaseURL: baseURL,
		Scopes: svc.SplitList(scopes), AuthURLs: regions, CookieSecret: []byte(cookie),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		OnLogin: func(l rp.Login) {
			log.Info("signed in", "subject", l.Subject, "region", l.Region)
		},
	})
	if err != nil {
		return err
	}
	log.Info("serving", "addr", listen, "base_url", baseURL)
	return svc.ServeHTTP(ctx, &http.Server{Addr: listen, Handler: app, ReadHeaderTimeout: 10 * time.Second}, "", "", 10*time.Second)
}

func readSecret(flag, path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%s: required", flag)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}
