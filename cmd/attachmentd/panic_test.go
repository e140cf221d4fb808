package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/telemetry"
)

// panicking is an AttachmentService whose every method panics.
type panicking struct {
	attachmentsv1.UnimplementedAttachmentServiceServer
}

func (panicking) GetAttachmentInfo(context.Context, *attachmentsv1.GetAttachmentInfoRequest) (*attachmentsv1.GetAttachmentInfoResponse, error) {
	panic("a bug in a unary handler")
}

func (panicking) DownloadAttachment(*attachmentsv1.DownloadAttachmentRequest, grpc.ServerStreamingServer[attachmentsv1.DownloadAttachmentResponse]) error {
	panic("a bug in a streaming handler")
}

// A panic in a handler comes back as INTERNAL with a plain message; the
// stack goes to the log, and the server keeps serving.
func TestPanicBecomesInternal(t *testing.T) {
	logs := &lines{}
	tracing, err := telemetry.NewTracing(context.Background(), func(string) string { return "" }, "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig([]string{"--sandbox"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(cfg, panicking{}, slog.New(slog.NewJSONHandler(logs, nil)), prometheus.NewRegistry(), tracing)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.grpc.Serve(lis)
	t.Cleanup(srv.grpc.Stop)
	client := attachmentsv1.NewAttachmentServiceClient(dial(t, lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())))

	_, unaryErr := client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{})
	stream, err := client.DownloadAttachment(context.Background(), &attachmentsv1.DownloadAttachmentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, streamErr := stream.Recv()
	for _, err := range []error{unaryErr, streamErr} {
		st := status.Convert(err)
		if st.Code() != codes.Internal || strings.Contains(st.Message(), "goroutine") || strings.Contains(st.Message(), ".go:") || strings.Contains(st.Message(), "bug") {
			t.Errorf("client got %v, want INTERNAL with a plain message", err)
		}
	}
	for _, method := range []string{"GetAttachmentInfo", "DownloadAttachment"} {
		line := logs.waitFor(t, "finished call", "grpc.method", method)
		if line["grpc.code"] != "Internal" {
			t.Errorf("%s log line %v, want code Internal", method, line)
		}
	}
	panics := logs.match("panic in a handler")
	if len(panics) != 2 || !strings.Contains(panics[0]["stack"].(string), "goroutine") {
		t.Errorf("log has %d panic lines, want 2 with their stacks: %v", len(panics), panics)
	}
}
