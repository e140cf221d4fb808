package telemetry

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Call records what one RPC did, for its log line: the property and
// attachment it concerned, the bytes of its messages each way, and the ruids
// of the calls to Booking it made. Its methods are safe for concurrent use
// and do nothing on a nil *Call, so code may record into a context that has
// none.
type Call struct {
	mu           sync.Mutex
	propertyID   int64
	attachmentID string
	bytesIn      int64
	bytesOut     int64
	ruids        []string
}

type callKey struct{}

// CallFrom returns the Call recorded in ctx, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// AddRUID records the ruid of one answer from Booking.
func (c *Call) AddRUID(ruid string) {
	if c == nil || ruid == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ruids = append(c.ruids, ruid)
}

// LogFields returns the record as key/value pairs for the RPC's log line.
func (c *Call) LogFields() []any {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fields := []any{"bytes_in", c.bytesIn, "bytes_out", c.bytesOut}
	if c.propertyID != 0 {
		fields = append(fields, "property_id", c.propertyID)
	}
	if c.attachmentID != "" {
		fields = append(fields, "attachment_id", c.attachmentID)
	}
	if len(c.ruids) > 0 {
		fields = append(fields, "booking_ruids", append([]string(nil), c.ruids...))
	}
	return fields
}

// observe takes note of one message received (in) or sent: its size, and
// the ids it names.
func (c *Call) observe(msg any, in bool) {
	size := int64(0)
	if m, ok := msg.(proto.Message); ok {
		size = int64(proto.Size(m))
	}
	var propertyID int64
	var attachmentID string
	switch m := msg.(type) {
	case *attachmentsv1.UploadAttachmentRequest:
		propertyID = m.GetMetadata().GetPropertyId()
	case interface {
		GetPropertyId() int64
		GetAttachmentId() string
	}:
		propertyID, attachmentID = m.GetPropertyId(), m.GetAttachmentId()
	case *attachmentsv1.UploadAttachmentResponse:
		attachmentID = m.GetAttachmentId()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in {
		c.bytesIn += size
	} else {
		c.bytesOut += size
	}
	if propertyID != 0 {
		c.propertyID = propertyID
	}
	if attachmentID != "" {
		c.attachmentID = attachmentID
	}
}

// UnaryServerInterceptor puts a Call in each unary RPC's context and records
// its request and response into it. It must come before the logging
// interceptor in the chain, so that the log line can read the Call.
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		call := &Call{}
		call.observe(req, true)
		resp, err := handler(context.WithValue(ctx, callKey{}, call), req)
		if err == nil {
			call.observe(resp, false)
		}
		return resp, err
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming RPCs: it
// records every message received and sent.
func StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		call := &Call{}
		return handler(srv, &recordingStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callKey{}, call), call: call})
	}
}

// recordingStream is a ServerStream that records its messages into a Call.
type recordingStream struct {
	grpc.ServerStream
	ctx  context.Context
	call *Call
}

func (s *recordingStream) Context() context.Context { return s.ctx }

func (s *recordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.call.observe(m, true)
	}
	return err
}

func (s *recordingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.call.observe(m, false)
	}
	return err
}
