// Package service implements attachments.v1.AttachmentService on top of
// Booking's Messaging API: it turns gRPC streams into bookingapi calls and
// back, validates input before anything reaches Booking, and maps every error
// to a gRPC status in one place. It knows nothing of HTTP or JSON.
package service

import (
	"log/slog"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// server is the AttachmentService.
type server struct {
	attachmentsv1.UnimplementedAttachmentServiceServer
	booking *bookingapi.Client
	log     *slog.Logger
}

var _ attachmentsv1.AttachmentServiceServer = (*server)(nil)

// New returns the AttachmentService, calling Booking through booking. It
// logs to log only what the per-call log line cannot show: the causes of
// internal errors, which clients are not told.
func New(booking *bookingapi.Client, log *slog.Logger) attachmentsv1.AttachmentServiceServer {
	return &server{booking: booking, log: log}
}
