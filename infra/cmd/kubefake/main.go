// Command kubefake serves package kubefake's TokenReview endpoint. Tokens
// come from KUBEFAKE_TOKENS, a JSON object of token → "namespace/name".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/idstack/idstack/infra/kubefake"
	"github.com/idstack/idstack/internal/svc"
)

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kubefake:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	addr := ":8443"
	fs := svc.NewFlags("kubefake", "KUBEFAKE", os.LookupEnv)
	fs.String(&addr, "listen-addr", "listen address")
	var raw string
	fs.String(&raw, "tokens", `token → "namespace/name", as a JSON object`)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	tokens := map[string]string{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &tokens); err != nil {
			return fmt.Errorf("tokens: %w", err)
		}
	}
	srv := &http.Server{Addr: addr, Handler: kubefake.Handler(tokens), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
