// Package svc holds the few helpers every idstack binary shares: flags with
// environment-variable fallbacks, a JSON logger, and a context cancelled by
// SIGINT or SIGTERM. It imports no idstack component.
package svc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Flags wraps a FlagSet whose every flag falls back to an environment
// variable: flag -listen-addr reads PREFIX_LISTEN_ADDR when not given.
type Flags struct {
	*flag.FlagSet
	prefix string
	lookup func(string) (string, bool)
	errs   []error
}

// NewFlags returns a FlagSet named name with environment prefix prefix
// (e.g. "MAILSINK"); lookup is os.LookupEnv in production.
func NewFlags(name, prefix string, lookup func(string) (string, bool)) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Flags{FlagSet: fs, prefix: prefix, lookup: lookup}
}

// EnvName is the environment variable of flag name.
func (f *Flags) EnvName(name string) string {
	return f.prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (f *Flags) env(name string) (string, bool) {
	if f.lookup == nil {
		return "", false
	}
	return f.lookup(f.EnvName(name))
}

// String defines a string flag.
func (f *Flags) String(p *string, name, usage string) {
	if v, ok := f.env(name); ok {
		*p = v
	}
	f.StringVar(p, name, *p, usage+" (env "+f.EnvName(name)+")")
}

// Secret defines a string flag whose value (from the environment or a
// default) is never printed in usage.
func (f *Flags) Secret(p *string, name, usage string) {
	f.String(p, name, usage)
	f.Lookup(name).DefValue = ""
}

// Int defines an int flag.
func (f *Flags) Int(p *int, name, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s: %q is not an integer", f.EnvName(name), v))
		} else {
			*p = n
		}
	}
	f.IntVar(p, name, *p, usage+" (env "+f.EnvName(name)+")")
}

// Duration defines a duration flag.
func (f *Flags) Duration(p *time.Duration, name, usage string) {
	if v, ok := f.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s: %q is not a duration", f.EnvName(name), v))
		} else {
			*p = d
		}
	}
	f.DurationVar(p, name, *p, usage+" (env "+f.EnvName(name)+")")
}

// Bool defines a bool flag.
func (f *Flags) Bool(p *bool, name, usage string) {
	if v, ok := f.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s: %q is not a boolean", f.EnvName(name), v))
		} else {
			*p = b
		}
	}
	f.BoolVar(p, name, *p, usage+" (env "+f.EnvName(name)+")")
}

// ErrHelp is returned by Parse for -h: usage was printed, nothing failed.
var ErrHelp = flag.ErrHelp

// Parse parses args; environment errors come first, since they were read first.
func (f *Flags) Parse(args []string) error {
	if len(f.errs) > 0 {
		return f.errs[0]
	}
	return f.FlagSet.Parse(args)
}

// SplitList splits a comma-separated flag value, trimming spaces and
// dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Logger returns a JSON logger with the component (and any attrs) on every line.
func Logger(w io.Writer, component string, level slog.Level, attrs ...any) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h).With(append([]any{"component", component}, attrs...)...)
}

// ServeHTTP serves srv (HTTPS when certFile is set) until ctx is done,
// then stops accepting and drains requests in flight for up to drain. It
// returns the server's error if it fails before that.
func ServeHTTP(ctx context.Context, srv *http.Server, certFile, keyFile string, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" {
			err = srv.ListenAndServeTLS(certFile, keyFile)
		} else {
			err = srv.ListenAndServe()
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// SignalContext returns a context cancelled by SIGINT or SIGTERM.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
