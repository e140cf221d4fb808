package service_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// notProtobuf is bytes that protobuf cannot parse: 't' opens field 14 with
// wire type 4, an end of group that was never started.
var notProtobuf = []byte("this is not protobuf")

// A request message that protobuf cannot decode is the caller's error: every
// RPC, and every message of an upload, gets INVALID_ARGUMENT with a one-line
// message that names the message type, and nothing reaches Booking.
func TestUndecodableMessagesAreInvalidArgument(t *testing.T) {
	t.Parallel()
	png := image("image/png", 100, 1)
	badName := metadataNamed("not\xffutf-8.png")
	tests := []struct {
		name     string
		method   string
		messages [][]byte // sent as they are
		wantType string
		wantText string // in the cause, if set
	}{
		{"upload: bytes that are not protobuf", attachmentsv1.AttachmentService_UploadAttachment_FullMethodName,
			[][]byte{notProtobuf}, "UploadAttachmentRequest", ""},
		{"upload: a file name that is not UTF-8", attachmentsv1.AttachmentService_UploadAttachment_FullMethodName,
			[][]byte{badName}, "UploadAttachmentRequest", "UTF-8"},
		{"upload: bytes that are not protobuf after the metadata", attachmentsv1.AttachmentService_UploadAttachment_FullMethodName,
			[][]byte{marshal(t, meta(metadata("a.png", 0))), notProtobuf}, "UploadAttachmentRequest", ""},
		{"upload: bytes that are not protobuf after data", attachmentsv1.AttachmentService_UploadAttachment_FullMethodName,
			[][]byte{marshal(t, meta(metadata("a.png", 0))), marshal(t, data(png[:50])), notProtobuf, marshal(t, data(png[50:]))}, "UploadAttachmentRequest", ""},
		{"upload: a second metadata that is not UTF-8", attachmentsv1.AttachmentService_UploadAttachment_FullMethodName,
			[][]byte{marshal(t, meta(metadata("a.png", 0))), marshal(t, data(png)), badName}, "UploadAttachmentRequest", "UTF-8"},
		{"download: bytes that are not protobuf", attachmentsv1.AttachmentService_DownloadAttachment_FullMethodName,
			[][]byte{notProtobuf}, "DownloadAttachmentRequest", ""},
		{"download: a conversation id that is not UTF-8", attachmentsv1.AttachmentService_DownloadAttachment_FullMethodName,
			[][]byte{stringField(nil, 2, "conv-\xff")}, "DownloadAttachmentRequest", "UTF-8"},
		{"info: bytes that are not protobuf", attachmentsv1.AttachmentService_GetAttachmentInfo_FullMethodName,
			[][]byte{notProtobuf}, "GetAttachmentInfoRequest", ""},
		{"info: an attachment id that is not UTF-8", attachmentsv1.AttachmentService_GetAttachmentInfo_FullMethodName,
			[][]byte{stringField(nil, 3, "att-\xff")}, "GetAttachmentInfoRequest", "UTF-8"},
	}
	e := newEnv(t, sandbox.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := callRaw(t, e.conn, tt.method, tt.messages)
			wantCode(t, err, codes.InvalidArgument)
			msg := status.Convert(err).Message()
			prefix := "the message could not be decoded as attachments.v1." + tt.wantType + ": "
			cause, ok := strings.CutPrefix(msg, prefix)
			if !ok || cause == "" || !strings.Contains(cause, tt.wantText) || strings.Contains(msg, "\n") {
				t.Errorf("message %q, want one line %q followed by a cause that mentions %q", msg, prefix, tt.wantText)
			}
		})
	}
	t.Cleanup(func() {
		if got := e.sandbox.Requests(); len(got) != 0 {
			t.Errorf("%d requests reached Booking, want none: %+v", len(got), got)
		}
	})
}

// callRaw calls method with messages as the bytes given, so that the
// service's own codec decodes them, and returns the call's error. Message
// after message may fail to go once the service has ended the call.
func callRaw(t *testing.T, conn *grpc.ClientConn, method string, messages [][]byte) error {
	t.Helper()
	stream, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method,
		grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range messages {
		if stream.SendMsg(&m) != nil {
			break
		}
	}
	stream.CloseSend()
	for {
		var reply []byte
		if err := stream.RecvMsg(&reply); err != nil {
			return err
		}
	}
}

// rawCodec passes *[]byte through as the message's encoding.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stringField appends field number num holding s, which need not be UTF-8
// (proto.Marshal would refuse it).
func stringField(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// metadataNamed is an UploadAttachmentRequest whose metadata names the file
// name, which need not be UTF-8.
func metadataNamed(name string) []byte {
	m := protowire.AppendTag(nil, 1, protowire.VarintType) // property_id
	m = protowire.AppendVarint(m, testProperty)
	m = stringField(m, 2, testConversation)
	m = stringField(m, 3, name)
	req := protowire.AppendTag(nil, 1, protowire.BytesType) // metadata
	return protowire.AppendBytes(req, m)
}
