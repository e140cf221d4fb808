package service_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// An upload of a declared size reserves its whole file, with a request body,
// at its first data, and waits for room if there is none; one that finds no
// room in time gets RESOURCE_EXHAUSTED and commits nothing; one of an
// undeclared size reserves as its bytes arrive; and what an upload holds
// comes back when it ends.
func TestUploadMemoryBudget(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, sandbox.Options{}, envConfig{maxMemoryBytes: 10_000_000, memoryWait: 300 * time.Millisecond})
	first := image("image/png", 5_000_000, 1)

	// The first upload sent part of its file and dawdles: it holds all of
	// it and a request body, 6.3 MB of the 10.
	stream, err := e.client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(meta(metadata("first.png", len(first))))
	stream.Send(data(first[:1_500_000]))
	waitFor(t, "the first upload to hold its file", func() bool { return e.memory.Held() > 5_000_000 })

	second := image("image/png", 3_000_000, 2)
	_, err = e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(400_000))
	wantCode(t, err, codes.ResourceExhausted)
	_, err = e.upload(context.Background(), metadata("undeclared.png", 0), second, evenSplit(400_000))
	wantCode(t, err, codes.ResourceExhausted)
	if got := e.actions(); slices.Contains(got, "finish") || len(e.requests(sandbox.EndpointUpload)) != 0 {
		t.Errorf("refused uploads were committed: chunks %v, %d single uploads", got, len(e.requests(sandbox.EndpointUpload)))
	}
	// What fits goes through.
	fits := image("image/png", 600_000, 3)
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
	waitFor(t, "every upload to give back what it held", func() bool { return e.memory.Held() == 0 })
	again, err := e.upload(context.Background(), metadata("second.png", len(second)), second, evenSplit(400_000))
	if err != nil {
		t.Fatalf("the second upload once the first ended: %v", err)
	}
	e.readBack(t, again.GetAttachmentId(), second)
}

// An upload that waits for room gets it as soon as another ends.
func TestUploadWaitsForRoom(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, sandbox.Options{}, envConfig{maxMemoryBytes: 10_000_000, memoryWait: 30 * time.Second})
	first := image("image/png", 5_000_000, 1)
	stream, err := e.client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(meta(metadata("first.png", len(first))))
	stream.Send(data(first[:1_500_000]))
	waitFor(t, "the first upload to hold its file", func() bool { return e.memory.Held() > 5_000_000 })

	second := image("image/png", 3_000_000, 2)
	waited := make(chan error, 1)
	go func() {
		_, err := uploadWith(context.Background(), attachmentsv1.NewAttachmentServiceClient(e.dial(t)),
			metadata("patient.png", len(second)), second, evenSplit(400_000))
		waited <- err
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-waited:
		t.Fatalf("the second upload ended (%v) while the first held the room it needs", err)
	default:
	}
	stream.Send(data(first[1_500_000:]))
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatalf("first upload: %v", err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the upload that waited for room: %v", err)
	}
}

// Streams that declare the largest size and send nothing more hold nothing:
// with the default budget of 256 MiB, forty of them leave room for an
// ordinary upload from another client. Streams that sent some bytes and
// stall hold their file until the idle timeout ends them; an upload that
// waits for room then gets it.
func TestStalledUploadsLeaveTheBudgetFree(t *testing.T) {
	t.Parallel()
	const stalled = 40
	for _, sends := range []bool{false, true} {
		t.Run(map[bool]string{false: "metadata only", true: "some data"}[sends], func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, sandbox.Options{}, envConfig{maxMemoryBytes: 256 << 20, memoryWait: 30 * time.Second,
				uploadIdleTimeout: 2 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // ends the stalled streams
			head := image("image/png", 64<<10, 1)
			for i := range stalled {
				stream, err := e.client.UploadAttachment(ctx)
				if err != nil {
					t.Fatal(err)
				}
				stream.Send(meta(metadata(fmt.Sprintf("stalled-%d.png", i), 10<<20)))
				if sends {
					stream.Send(data(head))
				}
			}
			if sends {
				waitFor(t, "the stalled uploads to fill the budget", func() bool { return e.memory.Held() > 200<<20 })
			}
			other := attachmentsv1.NewAttachmentServiceClient(e.dial(t))
			content := image("image/jpeg", 7_000_000, 2)
			resp, err := uploadWith(context.Background(), other, metadata("ordinary.jpg", len(content)), content, evenSplit(256<<10))
			if err != nil {
				t.Fatalf("a 7 MB upload beside %d stalled ones: %v", stalled, err)
			}
			e.readBack(t, resp.GetAttachmentId(), content)
		})
	}
}
