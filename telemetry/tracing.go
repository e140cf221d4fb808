package telemetry

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/stats"
)

// Tracing carries trace context from incoming RPCs to the calls to Booking,
// always, and records spans only when OTLP export is configured.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// NewTracing returns the server's tracing. When getenv gives
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, spans
// are exported over OTLP/HTTP, configured by the standard OTEL_* variables;
// otherwise no span is recorded. Either way the W3C traceparent of an
// incoming RPC reaches the HTTP requests made on its behalf.
func NewTracing(ctx context.Context, getenv func(string) string, version string) (*Tracing, error) {
	t := &Tracing{
		provider:   noop.NewTracerProvider(),
		propagator: propagation.TraceContext{},
		shutdown:   func(context.Context) error { return nil },
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return t, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read last, win.
	resource, err := sdkresource.New(ctx,
		sdkresource.WithAttributes(
			attribute.String("service.name", "attachmentd"),
			attribute.String("service.version", version)),
		sdkresource.WithFromEnv())
	if err != nil {
		return nil, err
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(resource))
	t.provider, t.shutdown = provider, provider.Shutdown
	return t, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool {
	_, isNoop := t.provider.(noop.TracerProvider)
	return !isNoop
}

// ServerHandler is the gRPC stats handler that reads incoming trace context
// and, when enabled, records a span per RPC.
func (t *Tracing) ServerHandler() stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.provider), otelgrpc.WithPropagators(t.propagator))
}

// Transport wraps base so that every request carries the caller's trace
// context in a traceparent header and, when enabled, gets a client span.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "Booking " + r.Method }))
}

// Shutdown flushes the spans not yet exported.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
