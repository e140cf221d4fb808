package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service"
	"github.com/booking-attachment-gateway/gateway/telemetry"
)

// livenessService is the health service name that reports SERVING for as
// long as the process runs, shutdown included: liveness probes ask for it,
// readiness probes for the overall status "".
const livenessService = "liveness"

// The HTTP/2 flow-control windows of the server's connections: 1 MiB per
// call (a message of the size clients use) and 8 MiB per connection, enough
// for a stream of 1 GB/s at 1 ms round trips, and 10 MB/s at 100 ms.
const (
	streamWindowBytes = 1 << 20
	connWindowBytes   = 8 << 20
)

// readinessServices are the health service names that report readiness: the
// overall status and the service's own.
var readinessServices = []string{"", attachmentsv1.AttachmentService_ServiceDesc.ServiceName}

// server is the gRPC server with its health, and the metrics endpoint.
type server struct {
	cfg     config
	grpc    *grpc.Server
	health  *health.Server
	metrics http.Handler
	logger  *slog.Logger
}

// newServer builds the gRPC server: interceptors (call record, metrics,
// logging, panic recovery, in that order, and for unary calls the record
// of the response last), limits and keepalive, health,
// reflection and the service, registered so that undecodable requests are
// INVALID_ARGUMENT.
func newServer(cfg config, svc attachmentsv1.AttachmentServiceServer, logger *slog.Logger, registry *prometheus.Registry, tracing *telemetry.Tracing) (*server, error) {
	creds, err := transportCredentials(cfg)
	if err != nil {
		return nil, err
	}
	grpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	registry.MustRegister(grpcMetrics)

	callLogger := logging.LoggerFunc(func(ctx context.Context, level logging.Level, msg string, fields ...any) {
		logger.Log(ctx, slog.Level(level), msg, fields...)
	})
	logOpts := []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithFieldsFromContext(func(ctx context.Context) logging.Fields {
			return telemetry.CallFrom(ctx).LogFields()
		}),
	}
	// Probes call health every few seconds; their lines would drown the rest.
	notHealth := selector.MatchFunc(func(_ context.Context, call interceptors.CallMeta) bool {
		return call.Service != healthpb.Health_ServiceDesc.ServiceName
	})
	recoveryOpt := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in a handler", "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error in the attachment gateway")
	})

	g := grpc.NewServer(
		service.ServerOption(),
		grpc.Creds(creds),
		grpc.StatsHandler(tracing.ServerHandler()),
		grpc.ChainUnaryInterceptor(
			telemetry.UnaryServerInterceptor(),
			grpcMetrics.UnaryServerInterceptor(),
			selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(callLogger, logOpts...), notHealth),
			recovery.UnaryServerInterceptor(recoveryOpt),
			telemetry.UnaryResponseInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			telemetry.StreamServerInterceptor(),
			grpcMetrics.StreamServerInterceptor(),
			selector.StreamServerInterceptor(logging.StreamServerInterceptor(callLogger, logOpts...), notHealth),
			recovery.StreamServerInterceptor(recoveryOpt),
		),
		grpc.MaxConcurrentStreams(uint32(cfg.maxConcurrentStreams)),
		grpc.MaxRecvMsgSize(cfg.maxRecvMsgBytes),
		// Fixed flow-control windows, instead of ones that grow with the
		// link's bandwidth-delay product to 16 MiB: what a client may send
		// ahead of the handler, while an upload waits for Booking or for
		// memory, stays bounded, outside the memory budget.
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      cfg.maxConnectionAge,
			MaxConnectionAgeGrace: cfg.maxConnectionAgeGrace,
			Time:                  cfg.keepaliveTime,
			Timeout:               cfg.keepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             cfg.keepaliveMinTime,
			PermitWithoutStream: true,
		}),
	)
	service.Register(g, svc)
	healthServer := health.NewServer()
	healthpb.RegisterHealthServer(g, healthServer)
	reflection.Register(g)
	grpcMetrics.InitializeMetrics(g)

	s := &server{
		cfg:     cfg,
		grpc:    g,
		health:  healthServer,
		metrics: promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}),
		logger:  logger,
	}
	s.setReady(healthpb.HealthCheckResponse_NOT_SERVING)
	healthServer.SetServingStatus(livenessService, healthpb.HealthCheckResponse_SERVING)
	return s, nil
}

func (s *server) setReady(st healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range readinessServices {
		s.health.SetServingStatus(name, st)
	}
}

// serve runs until ctx ends. Health turns SERVING once the listener is up
// and, when checkBooking is set, Booking has accepted the credentials once;
// it stays SERVING while Booking is down, so that an outage of Booking does
// not empty the mesh's list of endpoints. When ctx ends: NOT_SERVING at
// once, serving on for the drain delay, then a graceful stop bounded by the
// shutdown timeout, then a hard stop.
func (s *server) serve(ctx context.Context, lis, metricsLis net.Listener, booking *bookingapi.Client, checkBooking bool) error {
	served := make(chan error, 2)
	go func() { served <- s.grpc.Serve(lis) }()
	var metricsServer *http.Server
	if metricsLis != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics)
		metricsServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsServer.Serve(metricsLis); !errors.Is(err, http.ErrServerClosed) {
				served <- err
			}
		}()
	}
	readyCtx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	if checkBooking {
		go s.readyWhenBookingAnswers(readyCtx, booking)
	} else {
		s.setReady(healthpb.HealthCheckResponse_SERVING)
	}

	select {
	case err := <-served:
		s.grpc.Stop()
		return err
	case <-ctx.Done():
	}
	s.setReady(healthpb.HealthCheckResponse_NOT_SERVING)
	s.logger.Info("shutting down: NOT_SERVING, still serving for the drain delay",
		"drain_delay", s.cfg.drainDelay.String(), "shutdown_timeout", s.cfg.shutdownTimeout.String())
	time.Sleep(s.cfg.drainDelay)

	s.logger.Info("shutting down: no new calls, running calls may finish")
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.cfg.shutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
		s.logger.Info("stopped: every call finished")
	case <-timer.C:
		s.grpc.Stop()
		s.logger.Warn("stopped: calls still running at the shutdown timeout were cancelled")
	}
	if metricsServer != nil {
		metricsServer.Close()
	}
	return nil
}

// readyWhenBookingAnswers exchanges the credentials until Booking accepts
// them, backing off from one second to thirty, then reports SERVING.
func (s *server) readyWhenBookingAnswers(ctx context.Context, booking *bookingapi.Client) {
	wait := time.Second
	for {
		err := booking.Authenticate(ctx)
		if err == nil {
			s.setReady(healthpb.HealthCheckResponse_SERVING)
			s.logger.Info("Booking accepted the credentials: SERVING")
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("Booking did not accept the credentials yet: NOT_SERVING", "error", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}
