// Package telemetry makes attachmentd observable: a per-call record that the
// one log line of each RPC is written from, the service's own Prometheus
// metrics, and OpenTelemetry tracing that is switched on by the standard
// OTEL_EXPORTER_OTLP_ENDPOINT variable.
//
// Nothing here ever records file bytes, tokens or secrets: only ids, counts,
// durations, HTTP statuses and Booking's ruids.
package telemetry
