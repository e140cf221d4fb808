package telemetry

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Call records what one RPC did, for its log line: the property,
// attachment, message and request_id it concerned, the bytes of its
// messages each way, and the ruids of the calls to Booking it made. Its methods are safe for concurrent use
// and do nothing on a nil *Call, so code may record into a context that has
// none.
type Call struct {
	mu           sync.Mutex
	propertyID   int64
	attachmentID string
	messageID    string
	requestID    string
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
	if c.messageID != "" {
		fields = append(fields, "message_id", c.messageID)
	}
	if c.requestID != "" {
		fields = append(fields, "request_id", c.requestID)
	}
	if len(c.ruids) > 0 {
		fields = append(fields, "booking_ruids", append([]string(nil), c.ruids...))
	}
	return fields
}

// observe takes note of one message received (in) or sent: its size, and
// the ids it names.
func (c *Call) observe(msg any, in bool) {
	if c == nil {
		return
	}
	size := int64(0)
	if m, ok := msg.(proto.Message); ok {
		size = int64(proto.Size(m))
	}
	if m, ok := msg.(interface {
		GetMetadata() *attachmentsv1.UploadMetadata
	}); ok && m.GetMetadata() != nil {
		msg = m.GetMetadata() // an upload's first message names its ids
	}
	var propertyID int64
	var attachmentID, messageID, requestID string
	if m, ok := msg.(interface{ GetPropertyId() int64 }); ok {
		propertyID = m.GetPropertyId()
	}
	if m, ok := msg.(interface{ GetAttachmentId() string }); ok {
		attachmentID = m.GetAttachmentId()
	}
	if m, ok := msg.(interface{ GetMessageId() string }); ok {
		messageID = m.GetMessageId()
	}
	if m, ok := msg.(interface{ GetRequestId() string }); ok {
		requestID = m.GetRequestId()
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
	if messageID != "" {
		c.messageID = messageID
	}
	if requestID != "" {
		c.requestID = requestID
	}
}

// UnaryServerInterceptor puts a Call in each unary RPC's context and records
// its request into it. It must come before the logging interceptor in the
// chain, so that the log line can read the Call; UnaryResponseInterceptor,
// last in the chain, records the response in time for the line.
func UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		call := &Call{}
		call.observe(req, true)
		return handler(context.WithValue(ctx, callKey{}, call), req)
	}
}

// UnaryResponseInterceptor records a unary RPC's response into the Call
// that UnaryServerInterceptor put in its context. It goes last in the
// chain, after the logging interceptor, which then logs what it recorded.
func UnaryResponseInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			CallFrom(ctx).observe(resp, false)
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
