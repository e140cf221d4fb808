package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

const (
	incomingTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	incomingParent  = "00f067aa0ba902b7"
)

// headerRecorder keeps the traceparent of every request to Booking.
type headerRecorder struct {
	mu           sync.Mutex
	traceparents []string
}

func (h *headerRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/exchange") {
			h.mu.Lock()
			h.traceparents = append(h.traceparents, r.Header.Get("traceparent"))
			h.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (h *headerRecorder) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.traceparents)
}

// callWithTraceparent calls GetAttachmentInfo as a traced client would.
func callWithTraceparent(t *testing.T, inst *instance) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "traceparent", "00-"+incomingTraceID+"-"+incomingParent+"-01")
	attachmentsv1.NewAttachmentServiceClient(inst.client(t)).GetAttachmentInfo(ctx,
		&attachmentsv1.GetAttachmentInfoRequest{PropertyId: 1, ConversationId: "c1", AttachmentId: "a1"})
}

// Without any OpenTelemetry setting, the caller's traceparent still reaches
// Booking, so that a trace can be followed across the gateway.
func TestTraceparentReachesBooking(t *testing.T) {
	rec := &headerRecorder{}
	_, env := sandboxEnv(t, "right-secret", rec.wrap)
	inst := start(t, env)
	if line := inst.logs.waitFor(t, "attachmentd is serving"); line["tracing"] != false {
		t.Errorf("tracing is %v without OTEL_EXPORTER_OTLP_ENDPOINT, want false", line["tracing"])
	}
	callWithTraceparent(t, inst)
	got := rec.all()
	if len(got) != 1 || !strings.HasPrefix(got[0], "00-"+incomingTraceID+"-") {
		t.Fatalf("Booking received traceparent %q, want the caller's trace %s", got, incomingTraceID)
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a span per RPC and one per call to
// Booking are exported, in the caller's trace, and the traceparent sent to
// Booking names the client span.
func TestSpansAreExportedWithOTLP(t *testing.T) {
	var mu sync.Mutex
	var spans []spanSeen
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, spanSeen{name: s.GetName(), traceID: hex.EncodeToString(s.GetTraceId()),
						spanID: hex.EncodeToString(s.GetSpanId()), parentID: hex.EncodeToString(s.GetParentSpanId())})
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(nil)
	}))
	defer collector.Close()

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	rec := &headerRecorder{}
	_, env := sandboxEnv(t, "right-secret", rec.wrap)
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.URL
	inst := start(t, env)
	if line := inst.logs.waitFor(t, "attachmentd is serving"); line["tracing"] != true {
		t.Errorf("tracing is %v with OTEL_EXPORTER_OTLP_ENDPOINT set, want true", line["tracing"])
	}
	callWithTraceparent(t, inst)
	inst.stop() // shutdown flushes the spans
	select {
	case <-inst.done:
		inst.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}

	mu.Lock()
	defer mu.Unlock()
	var rpc, booking *spanSeen
	for i, s := range spans {
		switch {
		case s.name == "attachments.v1.AttachmentService/GetAttachmentInfo":
			rpc = &spans[i]
		case s.name == "Booking GET":
			booking = &spans[i]
		}
	}
	if rpc == nil || booking == nil {
		t.Fatalf("exported spans %v, want the RPC's and a Booking GET", spans)
	}
	if rpc.traceID != incomingTraceID || rpc.parentID != incomingParent {
		t.Errorf("RPC span %+v, want trace %s with parent %s", *rpc, incomingTraceID, incomingParent)
	}
	if booking.traceID != incomingTraceID || booking.parentID != rpc.spanID {
		t.Errorf("Booking span %+v, want a child of the RPC span %s", *booking, rpc.spanID)
	}
	if got := rec.all(); len(got) != 1 || got[0] != "00-"+incomingTraceID+"-"+booking.spanID+"-01" {
		t.Errorf("Booking received traceparent %q, want the Booking span %s", got, booking.spanID)
	}
}

type spanSeen struct{ name, traceID, spanID, parentID string }
