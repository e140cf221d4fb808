package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// newHandler returns the one handler of the listener: the control API
// under controlPrefix, at once, and Booking's endpoints, after latency,
// for every other path. Both serve sb, which holds all the state, so any
// number of clients on any number of connections share it.
func newHandler(sb *sandbox.Server, latency time.Duration) http.Handler {
	booking := withLatency(sb, latency)
	ctl := newControl(sb)
	// Not an http.ServeMux: it would redirect paths that are not clean,
	// where the sandbox answers 404 as Booking's fixed URLs call for.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControl(r.URL.Path) {
			ctl.ServeHTTP(w, r)
			return
		}
		booking.ServeHTTP(w, r)
	})
}

// serve serves h on lis until ctx ends, then shuts down: it stops
// accepting connections, lets running requests finish for up to timeout,
// then ends those still running (their clients see the connection
// closed). It returns nil after a shutdown, or why serving failed.
func serve(ctx context.Context, h http.Handler, lis net.Listener, timeout time.Duration, stderr io.Writer) error {
	// Every request's context derives from base, so that cancelling it ends
	// the waits of latency, Delay and Hang when the time is up.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          log.New(stderr, "booking-sandbox: ", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintf(stderr, "booking-sandbox: stopping: no new connections; running requests have %v to finish\n", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cancelBase()
		srv.Close()
		fmt.Fprintln(stderr, "booking-sandbox: stopped: requests still running at the shutdown timeout were cut off")
	} else {
		fmt.Fprintln(stderr, "booking-sandbox: stopped: every request finished")
	}
	<-served // http.ErrServerClosed
	return nil
}
