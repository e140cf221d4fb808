package service

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func (s *server) SendMessage(ctx context.Context, req *attachmentsv1.SendMessageRequest) (*attachmentsv1.SendMessageResponse, error) {
	const method = "SendMessage"
	if err := validateMessage(req); err != nil {
		return nil, err
	}
	if req.GetRequestId() == "" {
		resp, err := s.sendMessage(ctx, req)
		if err != nil {
			return nil, s.toStatus(ctx, method, err)
		}
		return resp, nil
	}
	unkeyed := proto.CloneOf(req)
	unkeyed.RequestId = ""
	resp, err := s.once(ctx, method, req.GetRequestId(), fingerprint(method, unkeyed), &attachmentsv1.SendMessageResponse{},
		func(ctx context.Context) (proto.Message, error) { return s.sendMessage(ctx, req) })
	if err != nil {
		return nil, err
	}
	return resp.(*attachmentsv1.SendMessageResponse), nil
}

// sendMessage posts req's message.
func (s *server) sendMessage(ctx context.Context, req *attachmentsv1.SendMessageRequest) (*attachmentsv1.SendMessageResponse, error) {
	posted, err := s.post(ctx, bookingapi.Conversation{PropertyID: req.GetPropertyId(), ConversationID: req.GetConversationId()},
		bookingapi.Message{Content: req.GetContent(), AttachmentIDs: req.GetAttachmentIds()})
	if err != nil {
		return nil, err
	}
	return &attachmentsv1.SendMessageResponse{MessageId: posted.ID}, nil
}

// post posts m to conv and counts the result.
func (s *server) post(ctx context.Context, conv bookingapi.Conversation, m bookingapi.Message) (bookingapi.PostedMessage, error) {
	posted, err := s.booking.PostMessage(ctx, conv, m)
	switch {
	case err == nil:
		s.metrics.MessagePosted("posted")
	case outcomeUnknown(err):
		s.metrics.MessagePosted("unknown")
	default:
		s.metrics.MessagePosted("failed")
	}
	return posted, err
}

// outcomeUnknown reports whether err is that of a message post that Booking
// may have processed: the message may be in the conversation.
func outcomeUnknown(err error) bool {
	var e *bookingapi.Error
	return errors.As(err, &e) && e.Op == bookingapi.OpMessage && e.Outcome == bookingapi.OutcomeMaybeProcessed
}

// committedError is the error of an upload that Booking committed, whose
// message post then failed.
type committedError struct {
	attachmentID string
	digest       string // of the bytes committed
	err          error  // the post's
}

func (e *committedError) Error() string {
	return "attachment " + e.attachmentID + " committed, but its message was not posted: " + e.err.Error()
}

func (e *committedError) Unwrap() error { return e.err }
