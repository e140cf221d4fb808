package service

import (
	"context"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func (s *server) GetAttachmentInfo(ctx context.Context, req *attachmentsv1.GetAttachmentInfoRequest) (*attachmentsv1.GetAttachmentInfoResponse, error) {
	if err := validateAttachment(req.GetPropertyId(), req.GetConversationId(), req.GetAttachmentId()); err != nil {
		return nil, err
	}
	info, err := s.booking.FileInfo(ctx, attachmentRef(req.GetPropertyId(), req.GetConversationId(), req.GetAttachmentId()))
	if err != nil {
		return nil, s.toStatus(ctx, "GetAttachmentInfo", err)
	}
	return &attachmentsv1.GetAttachmentInfoResponse{Info: infoMessage(info)}, nil
}
