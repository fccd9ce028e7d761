package migrate

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// OnSignals turns SIGINT and SIGTERM into the runner's two ways to stop:
// the first cancels the returned context (the run stops between
// migrations, after the running one finishes), the second closes kill (the
// running statement is cancelled on the server). notify is told each time
// (nil: silent). stop releases the signals.
func OnSignals(parent context.Context, notify func(n int, sig os.Signal)) (ctx context.Context, kill <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	k := make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				n++
				if notify != nil {
					notify(n, s)
				}
				if n == 1 {
					cancel()
				} else {
					once.Do(func() { close(k) })
				}
			}
		}
	}()
	return ctx, k, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}
