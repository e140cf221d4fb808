package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// scrape reads the instance's /metrics.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// value returns the value of the series of family with the given labels
// (name=value pairs), summed over the labels not given; histograms give
// their sample count.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	var sum float64
	for _, m := range families[family].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, l := range labels {
			name, val, _ := strings.Cut(l, "=")
			match = match && have[name] == val
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// After an upload of each kind, a download and a failure, /metrics counts
// each of them where an SRE would look.
func TestMetricsAfterUploadsAndDownloads(t *testing.T) {
	sb, env := sandboxEnv(t, "right-secret", nil)
	inst := start(t, env)
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)

	small, large := pngBytes(1_000), pngBytes(2_500_000)
	// The first resume fails once: the upload restarts from start.
	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "resume", Status: http.StatusServiceUnavailable})
	// The first download GET fails once: it is retried.
	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Status: http.StatusTooManyRequests})
	if _, err := upload(context.Background(), conn, "small.png", small); err != nil {
		t.Fatal(err)
	}
	resp, err := upload(context.Background(), conn, "large.png", large)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := download(context.Background(), conn, resp.GetAttachmentId()); err != nil || len(got) != len(large) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
	if _, err := download(context.Background(), conn, "missing"); err == nil {
		t.Fatal("download of a missing attachment succeeded")
	}

	// An upload of a declared size still running holds its whole file, and
	// more: the request body of a chunk, its message.
	running := beginUpload(t, context.Background(), conn, "running.png", 50_000, pngBytes(100))
	defer running.CloseSend()
	deadline := time.Now().Add(5 * time.Second)
	for value(scrape(t, inst.metricsAddr), "attachmentd_memory_held_bytes") <= 50_000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	m := scrape(t, inst.metricsAddr)
	checks := []struct {
		family string
		labels []string
		want   float64
	}{
		{"grpc_server_handled_total", []string{"grpc_method=UploadAttachment", "grpc_code=OK"}, 2},
		{"grpc_server_handled_total", []string{"grpc_method=DownloadAttachment", "grpc_code=OK"}, 1},
		{"grpc_server_handled_total", []string{"grpc_method=DownloadAttachment", "grpc_code=NotFound"}, 1},
		{"grpc_server_handling_seconds", []string{"grpc_method=UploadAttachment"}, 2},
		{"attachmentd_uploads_total", []string{"path=single"}, 1},
		{"attachmentd_uploads_total", []string{"path=chunked"}, 1},
		{"attachmentd_uploaded_bytes_total", nil, float64(len(small) + len(large))},
		{"attachmentd_downloaded_bytes_total", nil, float64(len(large))},
		{"attachmentd_token_exchanges_total", []string{"result=ok"}, 1},
		{"attachmentd_upload_restarts_total", nil, 1},
		{"attachmentd_booking_retries_total", []string{"call=download"}, 1},
		{"attachmentd_booking_requests_total", []string{"call=chunk start", "status=200"}, 2},
		{"attachmentd_booking_requests_total", []string{"call=chunk resume", "status=503"}, 1},
		{"attachmentd_booking_requests_total", []string{"call=upload", "status=200"}, 1},
		{"attachmentd_booking_requests_total", []string{"call=file_info", "status=404"}, 1},
		{"attachmentd_booking_request_duration_seconds", []string{"call=chunk finish"}, 1},
	}
	for _, c := range checks {
		if got := value(m, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	// The counts match what Booking saw.
	var chunks int
	for _, r := range sb.Requests() {
		if r.Endpoint == sandbox.EndpointChunks {
			chunks++
		}
	}
	var counted float64
	for _, call := range []string{"chunk start", "chunk resume", "chunk finish"} {
		counted += value(m, "attachmentd_booking_requests_total", "call="+call)
	}
	if counted != float64(chunks) {
		t.Errorf("metrics count %v chunk requests, Booking saw %d", counted, chunks)
	}
	if held := value(m, "attachmentd_memory_held_bytes"); held < 50_000+50_000*4/3 || held > 200_000 {
		t.Errorf("attachmentd_memory_held_bytes = %v while a 50,000-byte upload runs, want its file, a body and its message", held)
	}
	for family := range m {
		if strings.Contains(family, "secret") {
			t.Errorf("metric %s", family)
		}
	}
}
