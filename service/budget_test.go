package service_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// Running uploads hold at most MaxUploadBytes together: one that would go
// over is refused with RESOURCE_EXHAUSTED, at once and before reaching
// Booking when its size is declared, and the budget comes back when an
// upload ends.
func TestUploadMemoryBudget(t *testing.T) {
	e := newEnvWith(t, sandbox.Options{}, envConfig{maxUploadBytes: 3_000_000})
	first := image("image/png", 2_000_000, 1)

	// The first upload holds 2,000,000 bytes while its client dawdles.
	stream, err := e.client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(meta(metadata("first.png", len(first))))
	stream.Send(data(first[:1_500_000]))
	waitFor(t, "the first upload's start", func() bool { return len(e.actions()) == 1 })

	second := image("image/png", 1_500_000, 2)
	_, err = e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(500_000))
	wantCode(t, err, codes.ResourceExhausted)
	_, err = e.upload(context.Background(), metadata("undeclared.png", 0), second, evenSplit(500_000))
	wantCode(t, err, codes.ResourceExhausted)
	if got := e.actions(); len(got) != 1 || len(e.requests(sandbox.EndpointUpload)) != 0 {
		t.Errorf("refused uploads reached Booking: chunks %v, %d single uploads", got, len(e.requests(sandbox.EndpointUpload)))
	}
	small := image("image/png", 900_000, 3)
	if _, err := e.upload(context.Background(), metadata("fits.png", len(small)), small, evenSplit(300_000)); err != nil {
		t.Fatalf("an upload within the budget left: %v", err)
	}

	stream.Send(data(first[1_500_000:]))
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("first upload: %v", err)
	}
	e.readBack(t, resp.GetAttachmentId(), first)
	// Its bytes are free again.
	again, err := e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(500_000))
	if err != nil {
		t.Fatalf("the second upload once the first ended: %v", err)
	}
	e.readBack(t, again.GetAttachmentId(), second)
}
