package service_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Running uploads hold at most MaxUploadBytes together, reserved as their
// bytes arrive: an upload whose bytes do not fit is refused with
// RESOURCE_EXHAUSTED and never committed, one whose bytes fit goes through,
// and the budget comes back when an upload ends.
func TestUploadMemoryBudget(t *testing.T) {
	e := newEnvWith(t, sandbox.Options{}, envConfig{maxUploadBytes: 3_000_000})
	first := image("image/png", 2_000_000, 1)

	// The first upload holds the 1,500,000 bytes it sent while its client
	// dawdles.
	stream, err := e.client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(meta(metadata("first.png", len(first))))
	stream.Send(data(first[:1_500_000]))
	waitFor(t, "the first upload to hold only the 1,500,000 bytes it sent", func() bool { return e.metrics.held.Load() == 1_500_000 })

	second := image("image/png", 1_600_000, 2)
	_, err = e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(400_000))
	wantCode(t, err, codes.ResourceExhausted)
	_, err = e.upload(context.Background(), metadata("undeclared.png", 0), second, evenSplit(400_000))
	wantCode(t, err, codes.ResourceExhausted)
	if got := e.actions(); slices.Contains(got, "finish") || len(e.requests(sandbox.EndpointUpload)) != 0 {
		t.Errorf("refused uploads were committed: chunks %v, %d single uploads", got, len(e.requests(sandbox.EndpointUpload)))
	}
	// Bytes that fit go through, whatever the size declared.
	fits := image("image/png", 1_400_000, 3)
	resp, err := e.upload(context.Background(), metadata("fits.png", len(fits)), fits, evenSplit(300_000))
	if err != nil {
		t.Fatalf("an upload within the budget left: %v", err)
	}
	e.readBack(t, resp.GetAttachmentId(), fits)

	stream.Send(data(first[1_500_000:]))
	resp, err = stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("first upload: %v", err)
	}
	e.readBack(t, resp.GetAttachmentId(), first)
	if held := e.metrics.held.Load(); held != 0 {
		t.Errorf("%d bytes held once every upload ended, want 0", held)
	}
	// Its bytes are free again.
	again, err := e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(400_000))
	if err != nil {
		t.Fatalf("the second upload once the first ended: %v", err)
	}
	e.readBack(t, again.GetAttachmentId(), second)
}

// Streams that declare the largest size and then stall hold only the bytes
// they sent: with the default budget of 256 MiB, forty of them leave room
// for an ordinary upload from another client.
func TestStalledUploadsLeaveTheBudgetFree(t *testing.T) {
	t.Parallel()
	const stalled, sent = 40, 64 << 10
	e := newEnvWith(t, sandbox.Options{}, envConfig{maxUploadBytes: 256 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the stalled streams
	head := image("image/png", sent, 1)
	for i := range stalled {
		stream, err := e.client.UploadAttachment(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stream.Send(meta(metadata(fmt.Sprintf("stalled-%d.png", i), 10<<20)))
		stream.Send(data(head))
	}
	// A stream that declares 10 MiB and sends nothing more than its metadata
	// holds nothing.
	for range stalled {
		stream, err := e.client.UploadAttachment(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stream.Send(meta(metadata("metadata-only.png", 10<<20)))
	}
	waitFor(t, fmt.Sprintf("%d stalled uploads to hold only the %d bytes each sent", stalled, sent), func() bool {
		return e.metrics.held.Load() == stalled*sent
	})

	other := attachmentsv1.NewAttachmentServiceClient(e.dial(t))
	content := image("image/jpeg", 7_000_000, 2)
	resp, err := uploadWith(context.Background(), other, metadata("ordinary.jpg", len(content)), content, evenSplit(256<<10))
	if err != nil {
		t.Fatalf("a 7 MB upload beside %d stalled ones: %v", stalled, err)
	}
	e.readBack(t, resp.GetAttachmentId(), content)
}
