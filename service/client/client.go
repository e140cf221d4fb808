package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// MessageBytes is the most file bytes Upload sends in one message, well
// within gRPC's default limit of 4 MiB.
const MessageBytes = 1 << 20

// Client calls an attachment gateway. It is safe for concurrent use.
type Client struct {
	rpc attachmentsv1.AttachmentServiceClient
}

// New returns a Client that calls the gateway over conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: attachmentsv1.NewAttachmentServiceClient(conn)}
}

// Conversation names a guest conversation of a property.
type Conversation struct {
	PropertyID     int64
	ConversationID string
}

// Ref names an attachment in a conversation.
type Ref struct {
	PropertyID     int64
	ConversationID string
	AttachmentID   string
}

// File describes a file to upload.
type File struct {
	// Name is the name the guest sees. Required.
	Name string
	// Type is "image/jpeg" or "image/png", or empty to let the gateway
	// detect it.
	Type string
	// Size is the file's size in bytes, or 0 when unknown: Upload then
	// learns it from a reader that is an io.Seeker. With a size, the
	// gateway starts sending to Booking while the file still streams.
	Size int64
	// SHA256 is the file's lowercase hex SHA-256, or empty: Upload then
	// computes it from a reader that is an io.ReadSeeker, so that the
	// gateway commits only the bytes that were meant.
	SHA256 string
}

// UploadOptions are the optional parts of an upload.
type UploadOptions struct {
	// MessageContent, if set, is posted to the guest with the new
	// attachment once it is committed.
	MessageContent string
	// RequestID, if set, makes the upload safe to repeat: see the
	// contract's request_id.
	RequestID string
	// Progress, if set, is called after each message with the file bytes
	// sent so far and the file's size (0 if unknown).
	Progress func(sent, total int64)
}

// Info is an attachment's metadata.
type Info struct {
	Name string
	Type string
	Size int64
}

// Uploaded is a committed upload.
type Uploaded struct {
	// AttachmentID is Booking's id of the new attachment.
	AttachmentID string
	// MessageID is the id of the message posted with it, or empty.
	MessageID string
	// SHA256 is the hex SHA-256 of the bytes the gateway sent to Booking.
	SHA256 string
	// Info describes the attachment as it was sent.
	Info Info
}

// Upload streams the file that r reads to conv, in messages of
// MessageBytes, and returns the committed attachment. Nothing is committed
// if ctx ends, or r fails, before the last byte.
func (c *Client) Upload(ctx context.Context, conv Conversation, file File, r io.Reader, opts UploadOptions) (*Uploaded, error) {
	if err := describe(&file, r); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed read abandons the stream
	stream, err := c.rpc.UploadAttachment(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	meta := &attachmentsv1.UploadMetadata{
		PropertyId:     conv.PropertyID,
		ConversationId: conv.ConversationID,
		FileName:       file.Name,
		FileType:       file.Type,
		FileSize:       file.Size,
		Sha256:         file.SHA256,
		MessageContent: opts.MessageContent,
		RequestId:      opts.RequestID,
	}
	if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}}); err != nil {
		return nil, closeAndRecv(stream, err)
	}
	var sent int64
	for {
		// A fresh buffer for each message: gRPC may still hold the last.
		buf := make([]byte, MessageBytes)
		n, readErr := io.ReadFull(r, buf)
		if n > 0 {
			if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: buf[:n]}}); err != nil {
				return nil, closeAndRecv(stream, err) // the gateway ended the call: its status says why
			}
			sent += int64(n)
			if opts.Progress != nil {
				opts.Progress(sent, file.Size)
			}
		}
		if readErr == io.EOF || readErr == io.ErrUnexpectedEOF {
			break
		}
		if readErr != nil {
			return nil, fmt.Errorf("client: reading the file after %d bytes: %w", sent, readErr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, wrap(err)
	}
	return &Uploaded{
		AttachmentID: resp.GetAttachmentId(),
		MessageID:    resp.GetMessageId(),
		SHA256:       resp.GetSha256(),
		Info:         infoOf(resp.GetInfo()),
	}, nil
}

// closeAndRecv returns the status that ended an upload the gateway ended
// while it was sent (Send then returns io.EOF), or sendErr.
func closeAndRecv(stream grpc.ClientStreamingClient[attachmentsv1.UploadAttachmentRequest, attachmentsv1.UploadAttachmentResponse], sendErr error) error {
	if !errors.Is(sendErr, io.EOF) {
		return wrap(sendErr)
	}
	_, err := stream.CloseAndRecv()
	if err == nil {
		err = errors.New("client: the gateway ended the upload early without an error")
	}
	return wrap(err)
}

// describe fills in file's size and SHA-256 from r, where r allows it
// without being read for good.
func describe(file *File, r io.Reader) error {
	seeker, ok := r.(io.ReadSeeker)
	if !ok || file.Size > 0 && file.SHA256 != "" {
		return nil
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not seekable after all, such as a pipe
	}
	if file.SHA256 == "" {
		hash := sha256.New()
		n, err := io.Copy(hash, seeker)
		if err != nil {
			return fmt.Errorf("client: reading the file: %w", err)
		}
		file.SHA256 = hex.EncodeToString(hash.Sum(nil))
		if file.Size == 0 {
			file.Size = n
		}
	} else if file.Size == 0 {
		end, err := seeker.Seek(0, io.SeekEnd)
		if err != nil {
			return fmt.Errorf("client: reading the file: %w", err)
		}
		file.Size = end - start
	}
	if _, err := seeker.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("client: reading the file: %w", err)
	}
	return nil
}

// DownloadOptions select what Download reads.
type DownloadOptions struct {
	// Offset is the first byte to read.
	Offset int64
	// Limit is the most bytes to read, or 0 for the rest of the file.
	Limit int64
	// Progress, if set, is called after each message with the bytes
	// written so far and the bytes the download will bring.
	Progress func(received, total int64)
}

// Download writes the selected bytes of the attachment ref to w, and
// returns its info and the bytes written. It fails with DATA_LOSS if the
// bytes that arrive are other than the info says.
func (c *Client) Download(ctx context.Context, ref Ref, w io.Writer, opts DownloadOptions) (Info, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.DownloadAttachment(ctx, &attachmentsv1.DownloadAttachmentRequest{
		PropertyId:     ref.PropertyID,
		ConversationId: ref.ConversationID,
		AttachmentId:   ref.AttachmentID,
		ReadOffset:     opts.Offset,
		ReadLimit:      opts.Limit,
	})
	if err != nil {
		return Info{}, 0, wrap(err)
	}
	var info Info
	var want, written int64
	for first := true; ; first = false {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, written, wrap(err)
		}
		switch part := msg.GetPart().(type) {
		case *attachmentsv1.DownloadAttachmentResponse_Info:
			if !first {
				return info, written, errors.New("client: the gateway sent the info twice")
			}
			info = infoOf(part.Info)
			want = max(0, info.Size-opts.Offset)
			if opts.Limit > 0 {
				want = min(want, opts.Limit)
			}
		case *attachmentsv1.DownloadAttachmentResponse_Data:
			if first {
				return info, written, errors.New("client: the gateway sent data before the info")
			}
			n, err := w.Write(part.Data)
			written += int64(n)
			if err != nil {
				return info, written, fmt.Errorf("client: writing the download: %w", err)
			}
			if opts.Progress != nil {
				opts.Progress(written, want)
			}
		}
	}
	if written != want {
		return info, written, wrap(status.Errorf(codes.DataLoss, "the download brought %d bytes where %d were due", written, want))
	}
	return info, written, nil
}

// GetInfo returns the metadata of the attachment ref.
func (c *Client) GetInfo(ctx context.Context, ref Ref) (Info, error) {
	resp, err := c.rpc.GetAttachmentInfo(ctx, &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: ref.PropertyID, ConversationId: ref.ConversationID, AttachmentId: ref.AttachmentID,
	})
	if err != nil {
		return Info{}, wrap(err)
	}
	return infoOf(resp.GetInfo()), nil
}

// Message is a message to post to a guest.
type Message struct {
	// Content is the text; required.
	Content string
	// AttachmentIDs are the attachments to show with it.
	AttachmentIDs []string
	// RequestID, if set, makes the post safe to repeat.
	RequestID string
}

// SendMessage posts m to conv and returns the message's id.
func (c *Client) SendMessage(ctx context.Context, conv Conversation, m Message) (string, error) {
	resp, err := c.rpc.SendMessage(ctx, &attachmentsv1.SendMessageRequest{
		PropertyId:     conv.PropertyID,
		ConversationId: conv.ConversationID,
		Content:        m.Content,
		AttachmentIds:  m.AttachmentIDs,
		RequestId:      m.RequestID,
	})
	if err != nil {
		return "", wrap(err)
	}
	return resp.GetMessageId(), nil
}

func infoOf(i *attachmentsv1.AttachmentInfo) Info {
	return Info{Name: i.GetFileName(), Type: i.GetFileType(), Size: i.GetFileSize()}
}
