package service

import (
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// maxDataMessageBytes is the most file bytes one download message carries.
const maxDataMessageBytes = 1 << 20

// nextData receives the next file bytes of an upload stream whose metadata
// message has already been received: the data of its next message that has
// any. It returns io.EOF when the client closes its stream,
// INVALID_ARGUMENT for a second metadata message or one with neither part,
// and the receiver's *idleError when the client stops sending. The bytes
// are the decoded message's own, for the caller to keep.
func nextData(messages *receiver) ([]byte, error) {
	for {
		msg, err := messages.Recv()
		if err != nil {
			return nil, err
		}
		switch part := msg.GetPart().(type) {
		case *attachmentsv1.UploadAttachmentRequest_Data:
			if len(part.Data) > 0 {
				return part.Data, nil
			}
		case *attachmentsv1.UploadAttachmentRequest_Metadata:
			return nil, invalid("metadata may be sent only once, as the first message")
		default:
			return nil, invalid("a message carries neither metadata nor data")
		}
	}
}

// dataWriter sends what is written to it as download data messages of at
// most maxDataMessageBytes each.
type dataWriter struct {
	stream downloadStream
}

func (w dataWriter) Write(p []byte) (int, error) {
	var written int
	for written < len(p) {
		n := min(len(p)-written, maxDataMessageBytes)
		msg := &attachmentsv1.DownloadAttachmentResponse{
			Part: &attachmentsv1.DownloadAttachmentResponse_Data{Data: p[written : written+n]},
		}
		if err := w.stream.Send(msg); err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}
