package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

var benchSizes = []int{100_000, 1_000_000, 5_000_000, 10_000_000}

// BenchmarkUpload measures an upload through gRPC, the service and the
// sandbox over HTTP, against the same upload made directly with bookingapi:
// the ratio of the two is what the gRPC layer costs. Allocations include the
// sandbox's, which run in the same process.
func BenchmarkUpload(b *testing.B) {
	for _, size := range benchSizes {
		content := image("image/png", size, 1)
		b.Run(fmt.Sprintf("grpc/%dB", size), func(b *testing.B) {
			e := newEnv(b, sandbox.Options{MaxStoredBytes: 1 << 40})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.upload(context.Background(), metadata("bench.png", size), content, evenSplit(256<<10)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("bookingapi/%dB", size), func(b *testing.B) {
			client := benchClient(b)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				up, err := client.NewUploader(context.Background(), bookingapi.Conversation{PropertyID: 1, ConversationID: "c"},
					bookingapi.FileHeader{Name: "bench.png", Type: "image/png", Size: int64(size)})
				if err != nil {
					b.Fatal(err)
				}
				for rest := content; len(rest) > 0; rest = rest[min(len(rest), 256<<10):] {
					if _, err := up.Write(rest[:min(len(rest), 256<<10)]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := up.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDownload is BenchmarkUpload's counterpart for reading back.
func BenchmarkDownload(b *testing.B) {
	for _, size := range benchSizes {
		content := image("image/jpeg", size, 2)
		b.Run(fmt.Sprintf("grpc/%dB", size), func(b *testing.B) {
			e := newEnv(b, sandbox.Options{})
			id := e.mustUpload(b, metadata("bench.jpg", size), content).GetAttachmentId()
			req := &attachmentsv1.DownloadAttachmentRequest{PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				stream, err := e.client.DownloadAttachment(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				var n int
				for {
					msg, err := stream.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += len(msg.GetData())
				}
				if n != size {
					b.Fatalf("read %d bytes, want %d", n, size)
				}
			}
		})
		b.Run(fmt.Sprintf("bookingapi/%dB", size), func(b *testing.B) {
			client := benchClient(b)
			up, _ := client.NewUploader(context.Background(), bookingapi.Conversation{PropertyID: 1, ConversationID: "c"},
				bookingapi.FileHeader{Name: "bench.jpg", Type: "image/jpeg"})
			up.Write(content)
			att, err := up.Close()
			if err != nil {
				b.Fatal(err)
			}
			ref := bookingapi.AttachmentRef{PropertyID: 1, ConversationID: "c", AttachmentID: att.ID}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				info, err := client.FileInfo(context.Background(), ref)
				if err != nil {
					b.Fatal(err)
				}
				var sink bytes.Buffer
				r, err := client.NewReader(context.Background(), ref, info.Size, 0, info.Size)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.WriteTo(&sink); err != nil || sink.Len() != size {
					b.Fatalf("read %d bytes (%v), want %d", sink.Len(), err, size)
				}
				r.Close()
			}
		})
	}
}

func benchClient(b *testing.B) *bookingapi.Client {
	b.Helper()
	srv := httptest.NewServer(sandbox.New(sandbox.Options{MaxStoredBytes: 1 << 40}))
	b.Cleanup(srv.Close)
	return bookingClient(b, srv.URL, sandbox.DefaultClientSecret, nil)
}
