package service

import (
	"io"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// maxDataMessageBytes is the most file bytes one download message carries.
const maxDataMessageBytes = 1 << 20

// messageReader reads the file bytes of an upload stream, whose metadata
// message has already been received. It returns io.EOF when the client closes
// its stream, INVALID_ARGUMENT for a second metadata message, and the
// receiver's *idleError when the client stops sending.
type messageReader struct {
	messages *receiver
	buf      []byte // the rest of the last data message
}

func (r *messageReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		data, err := r.next()
		if err != nil {
			return 0, err
		}
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// WriteTo writes each message's bytes to w as they arrive, without copying.
func (r *messageReader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if len(r.buf) > 0 {
			n, err := w.Write(r.buf)
			written += int64(n)
			r.buf = r.buf[n:]
			if err != nil {
				return written, err
			}
		}
		data, err := r.next()
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
		r.buf = data
	}
}

// next receives the next message's bytes.
func (r *messageReader) next() ([]byte, error) {
	msg, err := r.messages.Recv()
	if err != nil {
		return nil, err
	}
	switch part := msg.GetPart().(type) {
	case *attachmentsv1.UploadAttachmentRequest_Data:
		return part.Data, nil
	case *attachmentsv1.UploadAttachmentRequest_Metadata:
		return nil, invalid("metadata may be sent only once, as the first message")
	default:
		return nil, invalid("a message carries neither metadata nor data")
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
