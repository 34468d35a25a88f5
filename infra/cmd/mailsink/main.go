// Command mailsink is the local topology's SMTP sink: it accepts mail for any
// recipient and serves it over an HTTP API (see package mailsink).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/idstack/idstack/infra/mailsink"
	"github.com/idstack/idstack/internal/svc"
)

// Config is mailsink's configuration.
type Config struct {
	SMTPAddr string
	HTTPAddr string
	Hostname string
	Capacity int
}

// Default returns the default configuration.
func Default() Config {
	return Config{SMTPAddr: ":1025", HTTPAddr: ":8025", Hostname: "mailsink", Capacity: 10000}
}

// Validate names the first field that is wrong.
func (c Config) Validate() error {
	for _, f := range []struct{ name, addr string }{{"smtp-addr", c.SMTPAddr}, {"http-addr", c.HTTPAddr}} {
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			return fmt.Errorf("%s: %q is not host:port: %w", f.name, f.addr, err)
		}
	}
	if c.Capacity < 1 || c.Capacity > 1_000_000 {
		return fmt.Errorf("capacity: %d, want 1 to 1000000", c.Capacity)
	}
	if c.Hostname == "" {
		return errors.New("hostname: must not be empty")
	}
	return nil
}

func main() {
	ctx, stop := svc.SignalContext(context.Background())
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mailsink:", err)
		os.Exit(1)
	}
}

// Run parses args and serves until ctx is done.
func Run(ctx context.Context, args []string) error {
	cfg := Default()
	fs := svc.NewFlags("mailsink", "MAILSINK", os.LookupEnv)
	fs.String(&cfg.SMTPAddr, "smtp-addr", "SMTP listen address")
	fs.String(&cfg.HTTPAddr, "http-addr", "HTTP API listen address")
	fs.String(&cfg.Hostname, "hostname", "name in the SMTP greeting")
	fs.Int(&cfg.Capacity, "capacity", "messages kept in memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := svc.Logger(os.Stderr, "mailsink", slog.LevelInfo)
	store := mailsink.NewStore(cfg.Capacity)
	smtpL, err := net.Listen("tcp", cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("listen smtp: %w", err)
	}
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           mailsink.Handler(store),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      40 * time.Second,
	}
	// Either server failing stops both.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	smtpErr := make(chan error, 1)
	go func() {
		err := (&mailsink.SMTPServer{Store: store, Hostname: cfg.Hostname, Log: log}).Serve(ctx, smtpL)
		cancel()
		smtpErr <- err
	}()
	log.Info("listening", "smtp", cfg.SMTPAddr, "http", cfg.HTTPAddr)
	httpErr := svc.ServeHTTP(ctx, srv, "", "", 5*time.Second)
	cancel()
	return errors.Join(httpErr, <-smtpErr)
}
