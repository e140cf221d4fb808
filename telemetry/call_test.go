package telemetry

import (
	"context"
	"slices"
	"testing"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func TestCallRecordsIDsBytesAndRUIDs(t *testing.T) {
	call := &Call{}
	meta := &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{
		Metadata: &attachmentsv1.UploadMetadata{PropertyId: 42, ConversationId: "c", FileName: "a.png"}}}
	data := &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: make([]byte, 1000)}}
	call.observe(meta, true)
	call.observe(data, true)
	call.observe(&attachmentsv1.UploadAttachmentResponse{AttachmentId: "att-1"}, false)
	call.AddRUID("r1")
	call.AddRUID("")
	call.AddRUID("r2")

	fields := call.LogFields()
	got := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		got[fields[i].(string)] = fields[i+1]
	}
	if got["property_id"] != int64(42) || got["attachment_id"] != "att-1" {
		t.Errorf("ids = %v, %v; want 42 and att-1", got["property_id"], got["attachment_id"])
	}
	if in := got["bytes_in"].(int64); in < 1000 || in > 1100 {
		t.Errorf("bytes_in = %d, want the messages' size, a little over 1000", in)
	}
	if ruids := got["booking_ruids"].([]string); !slices.Equal(ruids, []string{"r1", "r2"}) {
		t.Errorf("booking_ruids = %v, want [r1 r2]", ruids)
	}
}

func TestCallIsOptional(t *testing.T) {
	var call *Call // what CallFrom gives outside an RPC
	call.AddRUID("r1")
	if fields := call.LogFields(); fields != nil {
		t.Errorf("a nil Call logs %v", fields)
	}
	if CallFrom(context.Background()) != nil {
		t.Error("CallFrom found a Call in an empty context")
	}
}

func TestCallRecordsMessagesAndRequestIDs(t *testing.T) {
	call := &Call{}
	call.observe(&attachmentsv1.SendMessageRequest{PropertyId: 7, ConversationId: "c", Content: "hi", RequestId: "r-1"}, true)
	call.observe(&attachmentsv1.SendMessageResponse{MessageId: "m-1"}, false)
	upload := &Call{}
	upload.observe(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{
		Metadata: &attachmentsv1.UploadMetadata{PropertyId: 8, RequestId: "r-2"}}}, true)
	upload.observe(&attachmentsv1.UploadAttachmentResponse{AttachmentId: "a-1", MessageId: "m-2"}, false)
	for _, tt := range []struct {
		call *Call
		want map[string]any
	}{
		{call, map[string]any{"property_id": int64(7), "request_id": "r-1", "message_id": "m-1"}},
		{upload, map[string]any{"property_id": int64(8), "request_id": "r-2", "message_id": "m-2", "attachment_id": "a-1"}},
	} {
		fields := tt.call.LogFields()
		got := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			got[fields[i].(string)] = fields[i+1]
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
			}
		}
		if got["bytes_out"].(int64) == 0 {
			t.Errorf("bytes_out = 0, want the response's size")
		}
	}
}
