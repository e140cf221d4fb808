package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// An upload stream whose client sends no message for the idle timeout ends
// with DEADLINE_EXCEEDED, gives back the budget it held, and commits nothing
// at Booking, whatever it had sent before stalling.
func TestIdleUploadEnds(t *testing.T) {
	t.Parallel()
	const size = 2_500_000
	content := image("image/png", size, 1)
	tests := []struct {
		name        string
		messages    []*attachmentsv1.UploadAttachmentRequest
		wantActions []string // the chunks Booking saw
	}{
		{"before the metadata", nil, nil},
		{"after the metadata", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("idle.png", size))}, nil},
		{"after a chunk went to Booking", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("idle.png", size)), data(content[:1_500_000])}, []string{"start"}},
		{"after some data of an undeclared size", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("idle.png", 0)), data(content[:1_500_000])}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, sandbox.Options{}, envConfig{uploadIdleTimeout: 300 * time.Millisecond})
			// The bound only keeps a broken service from hanging the test.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stream, err := e.client.UploadAttachment(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.messages {
				if err := stream.Send(m); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
			// Wait for the end of the call without closing the stream, which
			// would be a message of its own.
			err = stream.RecvMsg(&attachmentsv1.UploadAttachmentResponse{})
			wantCode(t, err, codes.DeadlineExceeded)
			const want = "no upload message arrived for 300ms (the gateway's upload idle timeout); nothing was committed"
			if msg := status.Convert(err).Message(); msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
			if held := e.memory.Held(); held != 0 {
				t.Errorf("%d bytes still held after the idle upload ended, want 0", held)
			}
			if got := e.actions(); !slices.Equal(got, tt.wantActions) || len(e.requests(sandbox.EndpointUpload)) != 0 {
				t.Errorf("Booking saw chunks %v and %d single uploads, want chunks %v and none", got, len(e.requests(sandbox.EndpointUpload)), tt.wantActions)
			}
		})
	}
}

// The idle timeout is the longest a client may pause between messages, not
// a bound on the whole upload; and time the service spends sending to
// Booking is not the client's.
func TestIdleTimeoutSparesSlowUploads(t *testing.T) {
	t.Parallel()
	const idle = time.Second
	t.Run("a slow but steady client", func(t *testing.T) {
		t.Parallel()
		e := newEnvWith(t, sandbox.Options{}, envConfig{uploadIdleTimeout: idle})
		content := image("image/png", 150_000, 2)
		stream, err := e.client.UploadAttachment(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(meta(metadata("slow.png", len(content)))); err != nil {
			t.Fatal(err)
		}
		// Fifteen pauses of a tenth of the timeout: the upload lasts longer
		// than the timeout, and no pause comes near it.
		for rest := content; len(rest) > 0; rest = rest[min(len(rest), 10_000):] {
			time.Sleep(idle / 10)
			if err := stream.Send(data(rest[:min(len(rest), 10_000)])); err != nil {
				break // CloseAndRecv says why
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatalf("a client that sent a message every %v: %v", idle/10, err)
		}
		e.readBack(t, resp.GetAttachmentId(), content)
	})
	t.Run("Booking slower than the timeout", func(t *testing.T) {
		t.Parallel()
		e := newEnvWith(t, sandbox.Options{}, envConfig{uploadIdleTimeout: idle})
		e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "start", Delay: 2 * idle})
		content := image("image/png", 1_200_000, 3)
		resp, err := e.upload(context.Background(), metadata("booking-slow.png", len(content)), content, evenSplit(100_000))
		if err != nil {
			t.Fatalf("an upload whose chunk start took Booking %v: %v", 2*idle, err)
		}
		e.readBack(t, resp.GetAttachmentId(), content)
	})
}

// No goroutine outlives an upload that the service ended while its client
// still held the stream open: neither one that went idle nor one that failed
// a check.
func TestEndedUploadsLeaveNoGoroutine(t *testing.T) {
	e := newEnvWith(t, sandbox.Options{}, envConfig{uploadIdleTimeout: 300 * time.Millisecond})
	bad := metadata("bad.png", 0)
	bad.PropertyId = 0
	// The connection's own goroutines are there to stay.
	e.upload(context.Background(), bad, nil, evenSplit(1))
	running := goleak.IgnoreCurrent()

	for _, first := range []*attachmentsv1.UploadAttachmentRequest{meta(metadata("idle.png", 0)), meta(bad)} {
		stream, err := e.client.UploadAttachment(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(first); err != nil {
			t.Fatal(err)
		}
		if err := stream.RecvMsg(&attachmentsv1.UploadAttachmentResponse{}); err == nil {
			t.Fatal("the upload succeeded")
		}
	}
	goleak.VerifyNone(t, running)
}
