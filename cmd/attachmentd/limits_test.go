package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// A message over --max-recv-msg-size is refused with RESOURCE_EXHAUSTED.
func TestMaxRecvMsgSize(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--max-recv-msg-size", "65536")
	conn := inst.client(t)
	if _, err := upload(context.Background(), conn, "fits.png", pngBytes(60_000)); err != nil {
		t.Fatalf("upload in messages under the limit: %v", err)
	}
	stream := beginUpload(t, context.Background(), conn, "big.png", 0, pngBytes(100_000))
	if _, err := stream.CloseAndRecv(); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a 100 kB message against a 64 KiB limit: %v, want RESOURCE_EXHAUSTED", err)
	}
}

// connCounter counts the connections a client opens.
type connCounter struct{ opened atomic.Int32 }

func (c *connCounter) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (c *connCounter) HandleRPC(context.Context, stats.RPCStats)                         {}
func (c *connCounter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c *connCounter) HandleConn(_ context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnBegin); ok {
		c.opened.Add(1)
	}
}

// --max-connection-age closes connections so that clients reconnect (and
// spread over replicas), while a call running at that moment finishes
// within the grace.
func TestMaxConnectionAge(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--max-connection-age", "300ms", "--max-connection-age-grace", "10s")
	counter := &connCounter{}
	conn := dial(t, inst.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(counter))

	content := pngBytes(50_000)
	stream := beginUpload(t, context.Background(), conn, "long.png", len(content), content[:100])
	time.Sleep(time.Second) // the connection outlives its age while the call runs
	sendData(stream, content[100:])
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatalf("a call running when the connection reached its age: %v", err)
	}
	if _, err := upload(context.Background(), conn, "after.png", pngBytes(100)); err != nil {
		t.Fatalf("a call after the connection was closed for its age: %v", err)
	}
	if n := counter.opened.Load(); n < 2 {
		t.Errorf("the client opened %d connection(s), want a new one after the first reached its age", n)
	}
}

// --max-concurrent-streams holds back calls beyond the limit on one
// connection until a running one ends.
func TestMaxConcurrentStreams(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--max-concurrent-streams", "1")
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING) // its stream has ended by now

	stream := beginUpload(t, context.Background(), conn, "first.png", 0, pngBytes(100))

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := upload(ctx, conn, "second.png", pngBytes(100)); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a second call while the only stream is taken: %v, want it held back until its deadline", err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if _, err := upload(context.Background(), conn, "third.png", pngBytes(100)); err != nil {
		t.Errorf("a call after the first ended: %v", err)
	}
}

// --upload-idle-timeout ends an upload whose client stopped sending, with a
// status that says so, and the bytes it held are free again.
func TestUploadIdleTimeout(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--upload-idle-timeout", "300ms")
	conn := inst.client(t)
	// The bound only keeps a server that never ends the call from hanging
	// the test.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream := beginUpload(t, ctx, conn, "idle.png", 50_000, pngBytes(100))
	err := stream.RecvMsg(&attachmentsv1.UploadAttachmentResponse{})
	if st := status.Convert(err); st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "no upload message arrived for 300ms") {
		t.Fatalf("an upload idle for longer than --upload-idle-timeout 300ms: %v, want DEADLINE_EXCEEDED that names the timeout", err)
	}
	if line := inst.logs.waitFor(t, "finished call", "grpc.method", "UploadAttachment"); line["grpc.code"] != "DeadlineExceeded" {
		t.Errorf("log line %v, want code DeadlineExceeded", line)
	}
	if held := value(scrape(t, inst.metricsAddr), "attachmentd_memory_held_bytes"); held != 0 {
		t.Errorf("attachmentd_memory_held_bytes = %v after the idle upload ended, want 0", held)
	}
}
