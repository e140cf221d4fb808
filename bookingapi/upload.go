package bookingapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Size limits, in decoded bytes.
const (
	// MaxChunkBytes is the most one request carries: a single upload or one
	// chunk. It is 1MB read as decimal, which is within 1MB read either way.
	MaxChunkBytes = 1_000_000
	// BinaryMegabyteBytes is 1MB read as binary: the largest file sent by
	// single upload after Booking refused to take it in chunks.
	BinaryMegabyteBytes = 1 << 20
	// MaxFileBytes is the largest file an Uploader takes: 10MB read as
	// binary. Between 10,000,000 and this, Booking decides.
	MaxFileBytes = 10 << 20
)

// Chunk actions of the chunked upload.
const (
	actionStart  = "start"
	actionResume = "resume"
	actionFinish = "finish"
)

// FileHeader describes a file to upload.
type FileHeader struct {
	// Name is the file name the guest sees. Required.
	Name string
	// Type is "image/jpeg" or "image/png". Required.
	Type string
	// Size is the file's size in bytes, or 0 when it is not known before the
	// last byte is written.
	Size int64
}

// Attachment is a committed upload.
type Attachment struct {
	// ID is Booking's attachment_id.
	ID string
	// Chunked tells whether the file went by chunked upload.
	Chunked bool
	// RUID is Booking's ruid of the call that committed the upload.
	RUID string
}

// Uploader streams one file to a conversation. Write the file's bytes, then
// call Close to commit. When the size is declared and the file takes chunks,
// every chunk but the last is sent as soon as it is complete; otherwise
// nothing is sent before Close. Only Close sends the last chunk with finish,
// or the single upload, and only after its checks pass and while ctx is
// live: an Uploader that is abandoned, or whose ctx ends, leaves no
// attachment at Booking.
//
// An Uploader holds every byte written until Close returns, so that it can
// start the chunked upload again after a failure. It is not safe for
// concurrent use.
type Uploader struct {
	ctx    context.Context
	client *Client
	conv   Conversation
	file   FileHeader

	chunks  [][]byte // the bytes written, cut at MaxChunkBytes
	written int64

	uploadID string     // the chunked upload under way; empty before start
	sent     int        // chunks of it that Booking has taken
	tries    retryState // the chunked upload's starts so far
	single   bool       // Booking refused the chunked start: use a single upload
	result   Attachment // set by a successful finish

	err    error // the first failure; every later call returns it
	closed bool
}

// NewUploader returns an Uploader of file to conv whose calls are bound to
// ctx. It sends nothing yet. It fails with ErrFileTooLarge when file.Size is
// above MaxFileBytes.
func (c *Client) NewUploader(ctx context.Context, conv Conversation, file FileHeader) (*Uploader, error) {
	switch {
	case file.Name == "" || file.Type == "":
		return nil, errors.New("bookingapi: an upload needs a file name and type")
	case file.Size < 0:
		return nil, fmt.Errorf("%w: negative size %d", ErrSizeMismatch, file.Size)
	case file.Size > MaxFileBytes:
		return nil, fmt.Errorf("%w: %d bytes declared, at most %d allowed", ErrFileTooLarge, file.Size, MaxFileBytes)
	}
	return &Uploader{ctx: ctx, client: c, conv: conv, file: file, tries: retryState{restarts: true}}, nil
}

// Write takes the file's next bytes. It fails with ErrFileTooLarge past
// MaxFileBytes, with ErrSizeMismatch past the declared size, and with the
// error of a chunk that Booking refused; after a failure every call fails.
func (u *Uploader) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if u.closed {
		return 0, errors.New("bookingapi: write after close")
	}
	total := u.written + int64(len(p))
	switch {
	case total > MaxFileBytes:
		u.err = fmt.Errorf("%w: more than %d bytes", ErrFileTooLarge, MaxFileBytes)
	case u.file.Size > 0 && total > u.file.Size:
		u.err = fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, u.file.Size)
	}
	if u.err != nil {
		return 0, u.err
	}
	u.hold(p)
	if u.file.Size <= MaxChunkBytes || u.single {
		return len(p), nil
	}
	// Every complete chunk but the file's last can go now.
	lastChunk := int((u.file.Size - 1) / MaxChunkBytes)
	if ready := min(int(u.written/MaxChunkBytes), lastChunk); ready > u.sent {
		if err := u.sendChunks(ready, false); err != nil {
			u.err = err
			return len(p), err
		}
	}
	return len(p), nil
}

// Close checks that bytes were written, as many as declared, then commits
// the upload and returns the new attachment. It returns ctx's error if ctx
// has ended, and the first error of Write if there was one.
func (u *Uploader) Close() (Attachment, error) {
	if u.closed {
		return Attachment{}, errors.New("bookingapi: upload already closed")
	}
	u.closed = true
	switch {
	case u.err != nil:
		return Attachment{}, u.err
	case u.ctx.Err() != nil:
		return Attachment{}, u.ctx.Err()
	case u.written == 0:
		return Attachment{}, ErrEmptyFile
	case u.file.Size > 0 && u.written != u.file.Size:
		return Attachment{}, fmt.Errorf("%w: %d of the declared %d bytes arrived", ErrSizeMismatch, u.written, u.file.Size)
	}
	u.file.Size = u.written
	if u.written > MaxChunkBytes && !u.single {
		if err := u.sendChunks(len(u.chunks), true); err != nil {
			return Attachment{}, err
		}
		if !u.single {
			return u.result, nil
		}
	}
	return u.uploadSingle()
}

// hold appends p to the chunks, allocating each chunk once when the size is
// declared.
func (u *Uploader) hold(p []byte) {
	for len(p) > 0 {
		last := len(u.chunks) - 1
		if last < 0 || len(u.chunks[last]) == MaxChunkBytes {
			var capacity int64
			if u.file.Size > 0 {
				capacity = min(MaxChunkBytes, u.file.Size-u.written)
			}
			u.chunks = append(u.chunks, make([]byte, 0, capacity))
			last++
		}
		n := min(len(p), MaxChunkBytes-len(u.chunks[last]))
		u.chunks[last] = append(u.chunks[last], p[:n]...)
		u.written += int64(n)
		p = p[n:]
	}
}

// sendChunks sends the chunks up to, not including, number upTo, the last of
// them with finish when commit is set. A chunk that fails in a way worth
// retrying starts the upload again from start, as Booking's reference asks,
// within one budget of retries for the whole upload. A start that Booking
// refuses with a 400 for a file of at most BinaryMegabyteBytes switches the
// upload to a single upload instead.
func (u *Uploader) sendChunks(upTo int, commit bool) error {
	return u.client.retryLoop(u.ctx, &u.tries, func(ctx context.Context) error {
		for u.sent < upTo {
			err := u.sendChunk(ctx, commit && u.sent == upTo-1)
			var e *Error
			switch {
			case err == nil:
				continue
			case u.sent == 0 && errors.As(err, &e) && e.Kind == KindInvalidRequest && u.file.Size <= BinaryMegabyteBytes:
				// Booking counts 1MB as 1,048,576 bytes, so this file is
				// not "more than 1MB" to it and must go in one piece.
				u.single = true
				return nil
			case errors.As(err, &e) && e.retryable():
				u.uploadID, u.sent = "", 0
			}
			return err
		}
		return nil
	})
}

// sendChunk sends chunk number u.sent, with finish when last is set.
func (u *Uploader) sendChunk(ctx context.Context, last bool) error {
	action, op, policy := actionResume, OpChunkResume, resendSafe
	switch {
	case u.sent == 0:
		action, op = actionStart, OpChunkStart
	case last:
		action, op, policy = actionFinish, OpChunkFinish, resendCommit
	}
	var out struct {
		dataStatus
		UploadID     string `json:"upload_id"`
		AttachmentID string `json:"attachment_id"`
	}
	ruid, err := u.client.send(ctx, &request{
		op:     op,
		method: http.MethodPost,
		path:   u.conv.path("attachment_chunks"),
		body:   chunkBody(action, u.uploadID, u.file, u.sent, u.chunks[u.sent]),
		resend: policy,
	}, &out)
	u.tries.noteRUID(ruid)
	if err != nil {
		return err
	}
	switch action {
	case actionStart:
		if out.UploadID == "" {
			return unusableAnswer(op, http.StatusOK, ruid, "response to start has no upload_id")
		}
		u.uploadID = out.UploadID
	case actionFinish:
		if out.AttachmentID == "" {
			return unusableAnswer(op, http.StatusOK, ruid, "response to finish has no attachment_id")
		}
		u.result = Attachment{ID: out.AttachmentID, Chunked: true, RUID: ruid}
	}
	u.sent++
	return nil
}

// uploadSingle sends the whole file in one POST.
func (u *Uploader) uploadSingle() (Attachment, error) {
	content := u.chunks[0]
	if len(u.chunks) > 1 {
		content = bytes.Join(u.chunks, nil)
	}
	var out struct {
		dataStatus
		AttachmentID string `json:"attachment_id"`
	}
	ruid, err := u.client.do(u.ctx, &request{
		op:     OpUpload,
		method: http.MethodPost,
		path:   u.conv.path("attachments"),
		body:   singleUploadBody(u.file, content),
		resend: resendCommit,
	}, &out)
	if err != nil {
		return Attachment{}, err
	}
	if out.AttachmentID == "" {
		return Attachment{}, unusableAnswer(OpUpload, http.StatusOK, ruid, "response has no attachment_id")
	}
	return Attachment{ID: out.AttachmentID, RUID: ruid}, nil
}

// path is the path of the conversation followed by rest.
func (c Conversation) path(rest ...string) []string {
	return append([]string{"messaging", "properties", strconv.FormatInt(c.PropertyID, 10),
		"conversations", c.ConversationID}, rest...)
}
