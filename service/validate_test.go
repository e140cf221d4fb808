package service_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Bad input gets INVALID_ARGUMENT with a message naming the problem, and
// nothing reaches Booking: not even a token exchange.
func TestBadUploadReachesBookingWithNothing(t *testing.T) {
	png := image("image/png", 100, 1)
	jpeg := image("image/jpeg", 100, 2)
	with := func(change func(*attachmentsv1.UploadMetadata)) *attachmentsv1.UploadMetadata {
		m := metadata("ok.png", 0)
		change(m)
		return m
	}
	tests := []struct {
		name     string
		messages []*attachmentsv1.UploadAttachmentRequest
		wantText string
	}{
		{"no message at all", nil, "metadata"},
		{"data before metadata", []*attachmentsv1.UploadAttachmentRequest{data(png)}, "first message"},
		{"a first message with neither part", []*attachmentsv1.UploadAttachmentRequest{{}, data(png)}, "first message"},
		{"metadata twice", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 0)), data(png[:10]), meta(metadata("a.png", 0))}, "only once"},
		{"metadata twice in a row", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 0)), meta(metadata("a.png", 0)), data(png)}, "only once"},
		{"metadata after the declared bytes", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", len(png))), data(png), meta(metadata("a.png", 0))}, "only once"},
		{"zero property", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.PropertyId = 0 })), data(png)}, "property_id"},
		{"negative property", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.PropertyId = -5 })), data(png)}, "property_id"},
		{"no conversation", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = "" })), data(png)}, "conversation_id"},
		{"conversation with a slash", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = "a/b" })), data(png)}, "conversation_id"},
		{"conversation ..", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = ".." })), data(png)}, "conversation_id"},
		{"conversation .", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = "." })), data(png)}, "conversation_id"},
		{"conversation with a space", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = "a b" })), data(png)}, "conversation_id"},
		{"conversation of 129 characters", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.ConversationId = strings.Repeat("c", 129) })), data(png)}, "conversation_id"},
		{"no file name", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileName = "" })), data(png)}, "file_name"},
		{"file name of 256 bytes", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileName = strings.Repeat("é", 128) })), data(png)}, "file_name"},
		{"file name with a newline", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileName = "a\nb.png" })), data(png)}, "control"},
		{"file name with a path", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileName = "../etc/passwd" })), data(png)}, "path separators"},
		{"file name with a backslash", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileName = `a\b.png` })), data(png)}, "path separators"},
		{"gif type", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileType = "image/gif" })), data(png)}, "file_type"},
		{"negative size", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileSize = -1 })), data(png)}, "file_size"},
		{"declared size over 10 MiB", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileSize = 10<<20 + 1 })), data(png)}, "file_size"},
		{"short sha256", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.Sha256 = "abc" })), data(png)}, "sha256"},
		{"uppercase sha256", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.Sha256 = strings.Repeat("A", 64) })), data(png)}, "sha256"},
		{"empty file", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("empty.png", 0))}, "empty"},
		{"empty data messages only", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("empty.png", 0)), data(nil), data(nil)}, "empty"},
		{"not an image", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.gif", 0)), data([]byte("GIF89a and more"))}, "neither a JPEG nor a PNG"},
		{"declared PNG, sent JPEG", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileType = "image/png" })), data(jpeg)}, "file_type"},
		{"declared JPEG, sent PNG", []*attachmentsv1.UploadAttachmentRequest{meta(with(func(m *attachmentsv1.UploadMetadata) { m.FileType = "image/jpeg" })), data(png)}, "file_type"},
		{"more bytes than declared", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 50)), data(png)}, "declared"},
		{"fewer bytes than declared", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 500)), data(png)}, "declared"},
		{"a message with neither part", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 0)), data(png[:20]), {}}, "neither"},
		{"a message with neither part before any data", []*attachmentsv1.UploadAttachmentRequest{meta(metadata("a.png", 0)), {}, data(png)}, "neither"},
	}
	e := newEnv(t, sandbox.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, err := e.client.UploadAttachment(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tt.messages {
				if stream.Send(m) != nil {
					break
				}
			}
			_, err = stream.CloseAndRecv()
			wantCode(t, err, codes.InvalidArgument)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.wantText) || strings.Contains(msg, "\n") {
				t.Errorf("message %q should be one line that mentions %q", msg, tt.wantText)
			}
		})
	}
	if got := e.sandbox.Requests(); len(got) != 0 {
		t.Errorf("%d requests reached Booking, want none: %+v", len(got), got)
	}
}

// More than 10,485,760 bytes are refused at once: the service stops reading
// the stream and Booking sees nothing.
func TestUploadOverTheLimitIsRefusedAtOnce(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/png", 10<<20+1, 4)
	_, err := e.upload(context.Background(), metadata("big.png", 0), content, evenSplit(1<<20))
	wantCode(t, err, codes.InvalidArgument)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "10485760") {
		t.Errorf("message %q does not state the limit", msg)
	}
	if n := len(e.sandbox.Requests()); n != 0 {
		t.Errorf("%d requests reached Booking, want none", n)
	}
}

func TestBadDownloadAndInfoReachBookingWithNothing(t *testing.T) {
	ok := &attachmentsv1.DownloadAttachmentRequest{PropertyId: 1, ConversationId: "c", AttachmentId: "a"}
	with := func(change func(*attachmentsv1.DownloadAttachmentRequest)) *attachmentsv1.DownloadAttachmentRequest {
		r := &attachmentsv1.DownloadAttachmentRequest{
			PropertyId: ok.PropertyId, ConversationId: ok.ConversationId, AttachmentId: ok.AttachmentId,
		}
		change(r)
		return r
	}
	tests := []struct {
		name string
		req  *attachmentsv1.DownloadAttachmentRequest
	}{
		{"no property", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.PropertyId = 0 })},
		{"no conversation", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.ConversationId = "" })},
		{"no attachment", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.AttachmentId = "" })},
		{"attachment ..", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.AttachmentId = ".." })},
		{"attachment with a query", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.AttachmentId = "a?from=0" })},
		{"attachment with a slash", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.AttachmentId = "a/file_info" })},
		{"negative offset", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.ReadOffset = -1 })},
		{"negative limit", with(func(r *attachmentsv1.DownloadAttachmentRequest) { r.ReadLimit = -1 })},
	}
	e := newEnv(t, sandbox.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.download(t, tt.req)
			wantCode(t, err, codes.InvalidArgument)
			if tt.req.ReadOffset < 0 || tt.req.ReadLimit < 0 {
				return // GetAttachmentInfo has no offset or limit
			}
			_, err = e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
				PropertyId: tt.req.PropertyId, ConversationId: tt.req.ConversationId, AttachmentId: tt.req.AttachmentId,
			})
			wantCode(t, err, codes.InvalidArgument)
		})
	}
	if got := e.sandbox.Requests(); len(got) != 0 {
		t.Errorf("%d requests reached Booking, want none", len(got))
	}
}

func meta(m *attachmentsv1.UploadMetadata) *attachmentsv1.UploadAttachmentRequest {
	return &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: m}}
}

func data(b []byte) *attachmentsv1.UploadAttachmentRequest {
	return &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: b}}
}
