package service

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"google.golang.org/grpc"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

type uploadStream = grpc.ClientStreamingServer[attachmentsv1.UploadAttachmentRequest, attachmentsv1.UploadAttachmentResponse]

func (s *server) UploadAttachment(stream uploadStream) error {
	ctx := stream.Context()
	resp, err := s.upload(ctx, stream)
	if err != nil {
		return s.toStatus(ctx, "UploadAttachment", err)
	}
	return stream.SendAndClose(resp)
}

// upload validates the metadata and the file's first bytes, then streams the
// bytes to Booking while hashing them, and commits only once the client has
// closed its stream and the declared size and digest hold. It gives up on a
// client that sends no message for the idle timeout.
func (s *server) upload(ctx context.Context, stream uploadStream) (*attachmentsv1.UploadAttachmentResponse, error) {
	messages := newReceiver(stream, s.idle)
	defer messages.stop()
	first, err := messages.Recv()
	if errors.Is(err, io.EOF) {
		return nil, invalid("the stream ended before the metadata message")
	}
	if err != nil {
		return nil, err
	}
	meta := first.GetMetadata()
	if meta == nil {
		return nil, invalid("the first message must carry the metadata")
	}
	if err := validateMetadata(meta); err != nil {
		return nil, err
	}

	body := bufio.NewReaderSize(&messageReader{messages: messages}, signaturePeekSize)
	head, err := body.Peek(signaturePeekSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	fileType, err := imageType(head, meta.GetFileType())
	if err != nil {
		return nil, err
	}

	file := bookingapi.FileHeader{Name: meta.GetFileName(), Type: fileType, Size: meta.GetFileSize()}
	uploader, err := s.booking.NewUploader(ctx,
		bookingapi.Conversation{PropertyID: meta.GetPropertyId(), ConversationID: meta.GetConversationId()}, file)
	if err != nil {
		return nil, err
	}
	held := &budgetedWriter{budget: s.budget, w: uploader}
	defer held.release()
	hash := sha256.New()
	size, err := body.WriteTo(io.MultiWriter(hash, held))
	if err != nil {
		return nil, err
	}
	digest := hex.EncodeToString(hash.Sum(nil))
	if want := meta.GetSha256(); want != "" && want != digest {
		return nil, invalid("sha256 mismatch: the %d bytes received hash to %s, not %s", size, digest, want)
	}
	attachment, err := uploader.Close()
	if err != nil {
		return nil, err
	}
	s.metrics.Uploaded(attachment.Chunked, size)
	return &attachmentsv1.UploadAttachmentResponse{
		AttachmentId: attachment.ID,
		Info:         &attachmentsv1.AttachmentInfo{FileName: file.Name, FileType: file.Type, FileSize: size},
		Sha256:       digest,
	}, nil
}
