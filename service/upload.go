package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

type uploadStream = grpc.ClientStreamingServer[attachmentsv1.UploadAttachmentRequest, attachmentsv1.UploadAttachmentResponse]

func (s *server) UploadAttachment(stream uploadStream) error {
	const method = "UploadAttachment"
	ctx := stream.Context()
	messages := newReceiver(stream, s.idle)
	defer messages.stop()
	meta, err := receiveMetadata(messages)
	if err != nil {
		return s.toStatus(ctx, method, err)
	}
	var resp *attachmentsv1.UploadAttachmentResponse
	if meta.GetRequestId() == "" {
		resp, err = s.upload(ctx, meta, messages)
		if err != nil {
			err = s.toStatus(ctx, method, err)
		}
	} else {
		resp, err = s.uploadOnce(ctx, meta, messages)
	}
	if err != nil {
		return err
	}
	return stream.SendAndClose(resp)
}

// receiveMetadata receives and checks an upload's first message, which must
// carry the metadata.
func receiveMetadata(messages *receiver) (*attachmentsv1.UploadMetadata, error) {
	first, err := messages.Recv()
	if errors.Is(err, io.EOF) {
		return nil, invalid("the stream ended before the metadata message")
	}
	if err != nil {
		return nil, err
	}
	meta := first.GetMetadata()
	if meta == nil {
		return nil, invalid("the first message must carry the metadata")
	}
	if err := validateMetadata(meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// uploadOnce is upload under meta's request_id. The id is claimed with a
// fingerprint of the metadata and kept with one of the metadata and the
// digest of the bytes. A repeat of a finished call is answered as it was if
// its bytes have the same digest; they are read and hashed, not sent. It
// returns a status error.
func (s *server) uploadOnce(ctx context.Context, meta *attachmentsv1.UploadMetadata, messages *receiver) (*attachmentsv1.UploadAttachmentResponse, error) {
	const method = "UploadAttachment"
	requestID := meta.GetRequestId()
	unkeyed := proto.CloneOf(meta)
	unkeyed.RequestId = ""
	claim := fingerprint(method, unkeyed)
	rec, claimed, err := s.claim(ctx, method, requestID, claim)
	if err != nil {
		return nil, err
	}
	if claimed {
		resp, err := s.upload(ctx, meta, messages)
		digest := resp.GetSha256()
		var committed *committedError
		if errors.As(err, &committed) {
			digest = committed.digest
		}
		return resp, s.settle(ctx, method, requestID, claim+":"+digest, resp, err)
	}
	if !strings.HasPrefix(rec.Fingerprint, claim) {
		return nil, s.otherRequest(requestID)
	}
	digest, err := hashUpload(messages)
	if err != nil {
		return nil, s.toStatus(ctx, method, err)
	}
	rec, ok, err := s.await(ctx, method, requestID, rec)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		// Its bytes are read, so this call cannot run in its place.
		return nil, status.Errorf(codes.Aborted,
			"the call with request_id %q that ran while this one waited failed, and freed the id: send the upload again", requestID)
	case rec.Fingerprint != claim+":"+digest:
		return nil, s.otherRequest(requestID)
	}
	resp, err := s.replay(rec, &attachmentsv1.UploadAttachmentResponse{})
	if err != nil {
		return nil, err
	}
	return resp.(*attachmentsv1.UploadAttachmentResponse), nil
}

// hashUpload reads the rest of an upload's stream and returns the hex
// SHA-256 of its bytes.
func hashUpload(messages *receiver) (string, error) {
	hash := sha256.New()
	for {
		data, err := nextData(messages)
		if errors.Is(err, io.EOF) {
			return hex.EncodeToString(hash.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
		hash.Write(data)
	}
}

// upload checks the file's first bytes, then streams the bytes to Booking
// while hashing them, and commits only once the client has closed its
// stream and the declared size and digest hold. With meta's
// message_content it then posts the message; if that fails, the error is a
// *committedError. The bytes are held once: the Uploader keeps the decoded
// messages themselves.
func (s *server) upload(ctx context.Context, meta *attachmentsv1.UploadMetadata, messages *receiver) (*attachmentsv1.UploadAttachmentResponse, error) {
	// The first messages, until the longest signature is in hand.
	var first [][]byte
	var head []byte
	for len(head) < signaturePeekSize {
		data, err := nextData(messages)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		first = append(first, data)
		head = append(head, data[:min(len(data), signaturePeekSize-len(head))]...)
	}
	fileType, err := imageType(head, meta.GetFileType())
	if err != nil {
		return nil, err
	}

	conv := bookingapi.Conversation{PropertyID: meta.GetPropertyId(), ConversationID: meta.GetConversationId()}
	file := bookingapi.FileHeader{Name: meta.GetFileName(), Type: fileType, Size: meta.GetFileSize()}
	uploader, err := s.booking.NewUploader(ctx, conv, file)
	if err != nil {
		return nil, err
	}
	defer uploader.Discard() // what it holds, whatever the outcome
	hash := sha256.New()
	var size int64
	for data, err := range allData(first, messages) {
		if err != nil {
			return nil, err
		}
		hash.Write(data)
		if err := uploader.Take(data); err != nil {
			return nil, err
		}
		size += int64(len(data))
	}
	digest := hex.EncodeToString(hash.Sum(nil))
	if want := meta.GetSha256(); want != "" && want != digest {
		return nil, invalid("sha256 mismatch: the %d bytes received hash to %s, not %s", size, digest, want)
	}
	attachment, err := uploader.Close()
	if err != nil {
		return nil, err
	}
	s.metrics.Uploaded(attachment.Chunked, size)
	resp := &attachmentsv1.UploadAttachmentResponse{
		AttachmentId: attachment.ID,
		Info:         &attachmentsv1.AttachmentInfo{FileName: file.Name, FileType: file.Type, FileSize: size},
		Sha256:       digest,
	}
	if content := meta.GetMessageContent(); content != "" {
		posted, err := s.post(ctx, conv, bookingapi.Message{Content: content, AttachmentIDs: []string{attachment.ID}})
		if err != nil {
			return nil, &committedError{attachmentID: attachment.ID, digest: digest, err: err}
		}
		resp.MessageId = posted.ID
	}
	return resp, nil
}

// allData yields the bytes of first, then those of the stream's next
// messages until its end; it stops after the first error.
func allData(first [][]byte, messages *receiver) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for _, data := range first {
			if !yield(data, nil) {
				return
			}
		}
		for {
			data, err := nextData(messages)
			if errors.Is(err, io.EOF) || !yield(data, err) || err != nil {
				return
			}
		}
	}
}
