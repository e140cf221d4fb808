package main

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Requests that protobuf cannot decode are the caller's error: the server
// answers INVALID_ARGUMENT, for a unary call as for a stream, and the calls'
// log lines say so.
func TestUndecodableRequestsAreInvalidArgument(t *testing.T) {
	inst := start(t, nil, "--sandbox")
	conn := inst.client(t)
	garbage := []byte("this is not protobuf")
	var reply []byte
	unaryErr := conn.Invoke(context.Background(), attachmentsv1.AttachmentService_GetAttachmentInfo_FullMethodName,
		&garbage, &reply, grpc.ForceCodecV2(rawCodec{}))
	stream, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ClientStreams: true},
		attachmentsv1.AttachmentService_UploadAttachment_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	stream.SendMsg(&garbage)
	stream.CloseSend()
	streamErr := stream.RecvMsg(&reply)
	for _, err := range []error{unaryErr, streamErr} {
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), "the message could not be decoded as attachments.v1.") {
			t.Errorf("a request that is not protobuf: %v, want INVALID_ARGUMENT saying it could not be decoded", err)
		}
	}
	for _, method := range []string{"GetAttachmentInfo", "UploadAttachment"} {
		if line := inst.logs.waitFor(t, "finished call", "grpc.method", method); line["grpc.code"] != "InvalidArgument" {
			t.Errorf("%s log line %v, want code InvalidArgument", method, line)
		}
	}
}

// rawCodec passes *[]byte through as the message's encoding, so that the
// server's own codec decodes what a test sends.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
