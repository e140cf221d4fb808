package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service"
)

// FuzzUploadStream plays arbitrary sequences of upload messages to the
// service (metadata in many variants, data pieces of every size, empty and
// partless messages) against the sandbox in process, and checks the
// stream's rules against a model of them: a stream the rules allow is
// committed and stored byte for byte; any other gets INVALID_ARGUMENT and
// leaves no attachment at Booking. It runs as an ordinary test on its seeds
// and on the corpus in testdata/fuzz; `go test -fuzz=FuzzUploadStream
// ./service` explores further.
func FuzzUploadStream(f *testing.F) {
	f.Add([]byte{0, 0x05, 1, 40, 1, 200})             // declared size with sha256, two pieces
	f.Add([]byte{0, 0x00, 1, 255, 1, 255, 1, 3})      // undeclared size, three pieces over 2 MB
	f.Add([]byte{1, 10, 0, 0x00})                     // data before metadata
	f.Add([]byte{0, 0x01, 1, 10, 0, 0x01})            // metadata twice
	f.Add([]byte{0, 0x03, 1, 10})                     // declared size one byte off
	f.Add([]byte{0, 0x09, 1, 10})                     // a wrong sha256
	f.Add([]byte{0, 0x10, 1, 10})                     // declared JPEG, bytes of a PNG
	f.Add([]byte{0, 0x40, 1, 10})                     // a file name with a slash
	f.Add([]byte{0, 0x80, 1, 10})                     // an invalid conversation id
	f.Add([]byte{0, 0x00, 3, 1, 10})                  // a message with neither part
	f.Add([]byte{0, 0x21, 4, 2, 2, 1, 12, 4})         // empty and one-byte pieces, PNG declared
	f.Add([]byte{0, 0x00})                            // no bytes at all
	f.Add([]byte{0, 0x01, 1, 255, 1, 255, 1, 255, 2}) // declared size, chunked, streaming
	f.Fuzz(func(t *testing.T, script []byte) {
		messages, wantOK, content := playScript(script)
		sb := sandbox.New(sandbox.Options{})
		booking, err := bookingapi.New(bookingapi.Config{BaseURL: "https://booking.invalid", AuthURL: "https://booking.invalid/token-based-authentication/exchange",
			ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, HTTPClient: inProcess{sb}})
		if err != nil {
			t.Fatal(err)
		}
		stream := &scriptedStream{messages: messages}
		err = service.New(booking, service.Options{}).UploadAttachment(stream)

		stored := sb.AttachmentIDs(testProperty, testConversation)
		switch {
		case wantOK && err != nil:
			t.Fatalf("a valid stream of %d messages failed: %v", len(messages), err)
		case wantOK:
			id := stream.response.GetAttachmentId()
			file, ok := sb.Attachment(testProperty, testConversation, id)
			if !ok || !bytes.Equal(file.Content, content) || len(stored) != 1 {
				t.Fatalf("a valid stream stored %d bytes under %q (%d attachments), want the %d sent", len(file.Content), id, len(stored), len(content))
			}
		case status.Code(err) != codes.InvalidArgument:
			t.Fatalf("a stream that breaks the rules got %v, want INVALID_ARGUMENT", err)
		case len(stored) != 0:
			t.Fatalf("a stream that breaks the rules (%v) left %d attachments at Booking", err, len(stored))
		}
	})
}

// playScript turns a script into upload messages, and says whether the
// stream's rules allow them and which bytes they carry. Each op is a byte
// (mod 5) followed by its argument byte:
//
//	0 metadata; its argument's bits: 1 declare the size, 2 declare it one
//	  byte off, 4 the right sha256, 8 a wrong one, 16 declare image/jpeg,
//	  32 declare image/png, 64 a file name with '/', 128 an invalid
//	  conversation id
//	1 data: the file's next n·n·17 bytes (n the argument), at least one
//	2 data: the file's next byte (no argument)
//	3 a message with neither part (no argument)
//	4 an empty data message (no argument)
//
// The file is a PNG of at most 3 MB.
func playScript(script []byte) (messages []*attachmentsv1.UploadAttachmentRequest, ok bool, content []byte) {
	const maxFile = 3_000_000
	file := image("image/png", maxFile, 7)
	type op struct{ code, arg byte }
	var ops []op
	for i := 0; i < len(script); i++ {
		o := op{code: script[i] % 5}
		if o.code <= 1 && i+1 < len(script) {
			i++
			o.arg = script[i]
		}
		ops = append(ops, o)
	}
	// The bytes first, so that metadata can declare their size and digest.
	var total int
	for _, o := range ops {
		switch o.code {
		case 1:
			total += max(1, int(o.arg)*int(o.arg)*17)
		case 2:
			total++
		}
	}
	total = min(total, maxFile)
	content = file[:total]
	digest := sha256.Sum256(content)

	ok = true
	metas, sent := 0, 0
	for i, o := range ops {
		switch o.code {
		case 0:
			meta := metadata("fuzz.png", 0)
			if o.arg&1 != 0 {
				meta.FileSize = int64(total)
			}
			if o.arg&2 != 0 {
				meta.FileSize = int64(total) + 1
			}
			if o.arg&4 != 0 {
				meta.Sha256 = hex.EncodeToString(digest[:])
			}
			if o.arg&8 != 0 {
				meta.Sha256 = hex.EncodeToString(make([]byte, 32))
			}
			switch {
			case o.arg&16 != 0:
				meta.FileType = "image/jpeg"
			case o.arg&32 != 0:
				meta.FileType = "image/png"
			}
			if o.arg&64 != 0 {
				meta.FileName = "a/b.png"
			}
			if o.arg&128 != 0 {
				meta.ConversationId = ".."
			}
			metas++
			ok = ok && i == 0 && o.arg&(2|8|16|64|128) == 0
			messages = append(messages, &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}})
		case 1, 2:
			n := 1
			if o.code == 1 {
				n = max(1, int(o.arg)*int(o.arg)*17)
			}
			n = min(n, total-sent)
			if n == 0 {
				continue
			}
			messages = append(messages, &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: content[sent : sent+n]}})
			sent += n
		case 3:
			ok = false
			messages = append(messages, &attachmentsv1.UploadAttachmentRequest{})
		case 4:
			messages = append(messages, &attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: []byte{}}})
		}
	}
	// A file shorter than PNG's 8-byte signature is no image.
	ok = ok && metas == 1 && total >= 8
	return messages, ok, content
}

// scriptedStream is an upload stream that plays messages, then io.EOF.
type scriptedStream struct {
	grpc.ServerStream // not used: calling one of its methods panics
	messages          []*attachmentsv1.UploadAttachmentRequest
	response          *attachmentsv1.UploadAttachmentResponse
}

func (s *scriptedStream) Context() context.Context { return context.Background() }

func (s *scriptedStream) Recv() (*attachmentsv1.UploadAttachmentRequest, error) {
	if len(s.messages) == 0 {
		return nil, io.EOF
	}
	m := s.messages[0]
	s.messages = s.messages[1:]
	return m, nil
}

func (s *scriptedStream) SendAndClose(resp *attachmentsv1.UploadAttachmentResponse) error {
	s.response = resp
	return nil
}

// inProcess is an HTTPDoer that serves requests with a handler in the same
// goroutine, without a network.
type inProcess struct{ h http.Handler }

func (p inProcess) Do(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close() // as a client's transport does
	}
	return rec.Result(), nil
}
