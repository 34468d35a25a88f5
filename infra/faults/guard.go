package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// healTimeout bounds HealAll when Guard runs it.
const healTimeout = 2 * time.Minute

// Guard runs f and then heals every fault i injected, whatever happens: f
// returns, fails or panics, or the process gets SIGINT or SIGTERM (which
// cancels f's context). A panic is re-raised after healing.
func (i *Injector) Guard(ctx context.Context, f func(context.Context) error) (err error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		healCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
		defer cancel()
		herr := i.HealAll(healCtx)
		if r := recover(); r != nil {
			if herr != nil {
				fmt.Fprintln(os.Stderr, "faults: heal after panic:", herr)
			}
			panic(r)
		}
		if herr != nil {
			err = errors.Join(err, herr)
		}
	}()
	return f(ctx)
}
