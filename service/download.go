package service

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

type downloadStream = grpc.ServerStreamingServer[attachmentsv1.DownloadAttachmentResponse]

func (s *server) DownloadAttachment(req *attachmentsv1.DownloadAttachmentRequest, stream downloadStream) error {
	ctx := stream.Context()
	if err := s.download(ctx, req, stream); err != nil {
		return s.toStatus(ctx, "DownloadAttachment", err)
	}
	return nil
}

// download sends the attachment's info, then the selected bytes as Booking
// returns them, range by range.
func (s *server) download(ctx context.Context, req *attachmentsv1.DownloadAttachmentRequest, stream downloadStream) error {
	if err := validateAttachment(req.GetPropertyId(), req.GetConversationId(), req.GetAttachmentId()); err != nil {
		return err
	}
	offset, limit := req.GetReadOffset(), req.GetReadLimit()
	if offset < 0 || limit < 0 {
		return invalid("read_offset and read_limit must not be negative, got %d and %d", offset, limit)
	}
	ref := attachmentRef(req.GetPropertyId(), req.GetConversationId(), req.GetAttachmentId())
	info, err := s.booking.FileInfo(ctx, ref)
	if err != nil {
		return err
	}
	if offset > info.Size {
		return status.Errorf(codes.OutOfRange, "read_offset %d is past the end of the %d-byte attachment", offset, info.Size)
	}
	length := info.Size - offset
	if limit > 0 {
		length = min(length, limit)
	}
	if err := stream.Send(&attachmentsv1.DownloadAttachmentResponse{
		Part: &attachmentsv1.DownloadAttachmentResponse_Info{Info: infoMessage(info)},
	}); err != nil {
		return err
	}
	reader, err := s.booking.NewReader(ctx, ref, info.Size, offset, length)
	if err != nil {
		return err
	}
	defer reader.Close()
	sent, err := reader.WriteTo(dataWriter{stream})
	s.metrics.Downloaded(sent)
	if err != nil {
		return err
	}
	if sent != length {
		return status.Errorf(codes.DataLoss, "streamed %d bytes where %d were expected", sent, length)
	}
	return nil
}

func attachmentRef(propertyID int64, conversationID, attachmentID string) bookingapi.AttachmentRef {
	return bookingapi.AttachmentRef{PropertyID: propertyID, ConversationID: conversationID, AttachmentID: attachmentID}
}

func infoMessage(info bookingapi.FileInfo) *attachmentsv1.AttachmentInfo {
	return &attachmentsv1.AttachmentInfo{FileName: info.Name, FileType: info.Type, FileSize: info.Size}
}
