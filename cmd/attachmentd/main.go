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

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "attachmentd:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends, then shuts down gracefully. It returns an error
// only when the server cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))

	if cfg.sandbox {
		stopSandbox, err := startSandbox(&cfg.booking)
		if err != nil {
			return err
		}
		defer stopSandbox()
		logger.Warn("serving against the built-in Booking sandbox: nothing reaches Booking", "sandbox_url", cfg.booking.BaseURL)
	}
	booking, err := bookingapi.New(cfg.booking)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	return serve(ctx, lis, service.New(booking, logger), logger, cfg.shutdownTimeout)
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

// serve runs the gRPC server on lis until ctx ends. Then it reports
// NOT_SERVING, lets running calls finish for up to shutdownTimeout, and
// stops.
func serve(ctx context.Context, lis net.Listener, svc attachmentsv1.AttachmentServiceServer, logger *slog.Logger, shutdownTimeout time.Duration) error {
	callLogger := logging.LoggerFunc(func(ctx context.Context, level logging.Level, msg string, fields ...any) {
		logger.Log(ctx, slog.Level(level), msg, fields...)
	})
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(logging.UnaryServerInterceptor(callLogger, logOpts...)),
		grpc.ChainStreamInterceptor(logging.StreamServerInterceptor(callLogger, logOpts...)),
	)
	attachmentsv1.RegisterAttachmentServiceServer(srv, svc)
	healthServer := health.NewServer()
	healthServer.SetServingStatus(attachmentsv1.AttachmentService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, healthServer)
	reflection.Register(srv)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	logger.Info("attachmentd is serving", "listen", lis.Addr().String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new calls, running calls may finish", "timeout", shutdownTimeout.String())
	healthServer.Shutdown()
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(shutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
		logger.Info("stopped: every call finished")
	case <-timer.C:
		srv.Stop()
		logger.Warn("stopped: calls still running at the shutdown timeout were cancelled")
	}
	return nil
}
