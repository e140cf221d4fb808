// Command attachmentd serves attachments.v1.AttachmentService: it puts images
// into Booking.com guest conversations and reads them back, speaking Booking's
// Messaging API on its callers' behalf.
//
// Run it with --sandbox to serve against a built-in emulation of Booking's
// API; otherwise it needs BOOKING_CLIENT_ID and BOOKING_CLIENT_SECRET. See
// the README for all settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/term"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	"github.com/booking-attachment-gateway/gateway/service"
	"github.com/booking-attachment-gateway/gateway/service/membudget"
	"github.com/booking-attachment-gateway/gateway/telemetry"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "attachmentd:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends, then shuts down gracefully. It returns an error
// only when the server cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.showVersion {
		fmt.Fprintln(stdout, "attachmentd", version)
		return nil
	}
	if cfg.logFormat == "" {
		cfg.logFormat = "json"
		if f, ok := stderr.(*os.File); ok && cfg.sandbox && term.IsTerminal(int(f.Fd())) {
			cfg.logFormat = "text" // a person runs it, and reads the lines
		}
	}
	logger := newLogger(cfg.logFormat, stderr)

	tracing, err := telemetry.NewTracing(ctx, getenv, version)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tracing.Shutdown(flushCtx)
	}()
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := telemetry.NewMetrics(registry)

	if cfg.sandbox {
		stopSandbox, err := startSandbox(&cfg.booking)
		if err != nil {
			return err
		}
		defer stopSandbox()
	}
	memory := membudget.New(cfg.maxMemoryBytes, cfg.memoryWait)
	registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "attachmentd_memory_held_bytes",
		Help: "Bytes of their data that running calls hold now, reserved from --max-memory.",
	}, func() float64 { return float64(memory.Held()) }))
	cfg.booking.Memory = memory
	// No client timeout: bookingapi bounds each attempt and each request.
	cfg.booking.HTTPClient = &http.Client{Transport: tracing.Transport(bookingapi.NewTransport(cfg.booking.MaxInFlight))}
	cfg.booking.Observer = metrics
	cfg.booking.Logger = logger
	booking, err := bookingapi.New(cfg.booking)
	if err != nil {
		return err
	}
	registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "attachmentd_booking_requests_in_flight",
		Help: "Requests to Booking in flight now, at most --booking-max-in-flight.",
	}, func() float64 { return float64(booking.InFlight()) }))
	svc := service.New(booking, service.Options{
		Logger:            logger,
		Metrics:           metrics,
		UploadIdleTimeout: cfg.uploadIdleTimeout,
		RequestIDTTL:      cfg.requestIDTTL,
		MaxRequestIDs:     cfg.maxRequestIDs,
	})

	srv, err := newServer(cfg, svc, logger, registry, tracing)
	if err != nil {
		return err
	}
	lis, err := listen(cfg.listen)
	if err != nil {
		return inUse(err, "--listen or ATTACHMENTD_LISTEN")
	}
	var metricsLis net.Listener
	if cfg.metricsListen != "" {
		if metricsLis, err = net.Listen("tcp", cfg.metricsListen); err != nil {
			lis.Close()
			return inUse(fmt.Errorf("metrics listener: %w", err), `--metrics-listen or ATTACHMENTD_METRICS_LISTEN (or "" for none)`)
		}
	}
	logger.Info("attachmentd is serving",
		"version", version,
		"listen", describeAddr(lis),
		"metrics_listen", describeAddr(metricsLis),
		"tls", cfg.tlsCert != "",
		"mutual_tls", cfg.tlsClientCA != "",
		"tracing", tracing.Enabled(),
		"sandbox", cfg.sandbox)
	if cfg.sandbox {
		logger.Warn("serving against the built-in Booking sandbox: nothing reaches Booking", "sandbox_url", cfg.booking.BaseURL)
	}
	return srv.serve(ctx, lis, metricsLis, booking, !cfg.sandbox)
}

// newLogger returns the process's logger, JSON or text, on w.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// startSandbox serves the Booking sandbox on a loopback port and points
// booking at it with the sandbox's credentials.
func startSandbox(booking *bookingapi.Config) (stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sandbox.New(sandbox.Options{}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(lis)
	base := "http://" + lis.Addr().String()
	booking.BaseURL = base
	booking.AuthURL = base + "/token-based-authentication/exchange"
	booking.ClientID = sandbox.DefaultClientID
	booking.ClientSecret = sandbox.DefaultClientSecret
	return func() { srv.Close() }, nil
}

// describeAddr names a listener's address for the log, or "" for none.
func describeAddr(lis net.Listener) string {
	switch {
	case lis == nil:
		return ""
	case lis.Addr().Network() == "unix":
		return "unix://" + lis.Addr().String()
	}
	return lis.Addr().String()
}

// inUse adds to the error of a listener whose address is taken which
// setting moves it.
func inUse(err error, setting string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another process listens there; choose another address with %s", err, setting)
	}
	return err
}
