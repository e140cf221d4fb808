package bookingapi

import (
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

// Uploader streams one file to a conversation. Write (or Take) the file's
// bytes, then call Close to commit. When the size is declared and the file
// takes chunks, every chunk but the last is sent as soon as it is complete;
// otherwise nothing is sent before Close. Only Close sends the last chunk
// with finish, or the single upload, and only after its checks pass and
// while ctx is live: an Uploader that is abandoned, or whose ctx ends,
// leaves no attachment at Booking.
//
// An Uploader holds every byte until Close returns, so that it can start
// the chunked upload again after a failure. It reserves what it holds in
// the Client's Memory: for a declared size, the whole file and the body of
// a chunk at the first bytes, waiting for room before it holds anything;
// otherwise as the bytes come. It gives them back when Close returns; call
// Discard instead to give up an upload without committing it. An Uploader
// is not safe for concurrent use.
type Uploader struct {
	ctx    context.Context
	client *Client
	conv   Conversation
	file   FileHeader

	held     heldFile
	reserved int64 // of the Client's Memory
	// upfront tells that reserved covers the whole file and the body of a
	// chunk, as it does for a declared size from the first bytes on.
	upfront bool

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

// Write takes a copy of the file's next bytes. It fails with
// ErrFileTooLarge past MaxFileBytes, with ErrSizeMismatch past the declared
// size, with the Memory's error when the bytes find no room, and with the
// error of a chunk that Booking refused; after a failure every call fails.
func (u *Uploader) Write(p []byte) (int, error) {
	if err := u.add(p, false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Take is Write without the copy: the Uploader keeps p itself (small
// slices excepted), and the caller must not change p afterwards. It saves a
// copy of every byte, and the memory of it, for a caller whose buffers are
// its own, such as decoded messages.
func (u *Uploader) Take(p []byte) error {
	return u.add(p, len(p) > smallTake)
}

// add holds p, kept as it is or copied, then sends the chunks it completes.
func (u *Uploader) add(p []byte, keep bool) error {
	if u.err != nil {
		return u.err
	}
	if u.closed {
		return errors.New("bookingapi: write after close")
	}
	total := u.held.size + int64(len(p))
	switch {
	case total > MaxFileBytes:
		u.err = fmt.Errorf("%w: more than %d bytes", ErrFileTooLarge, MaxFileBytes)
	case u.file.Size > 0 && total > u.file.Size:
		u.err = fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, u.file.Size)
	}
	if u.err == nil {
		u.err = u.hold(p, keep)
	}
	if u.err != nil {
		return u.err
	}
	if u.file.Size <= MaxChunkBytes || u.single {
		return nil
	}
	// Every complete chunk but the file's last can go now.
	lastChunk := int((u.file.Size - 1) / MaxChunkBytes)
	if ready := min(int(u.held.size/MaxChunkBytes), lastChunk); ready > u.sent {
		if err := u.sendChunks(ready, false); err != nil {
			u.err = err
			return err
		}
	}
	return nil
}

// Close checks that bytes were written, as many as declared, then commits
// the upload and returns the new attachment. It returns ctx's error if ctx
// has ended, and the first error of Write if there was one.
func (u *Uploader) Close() (Attachment, error) {
	if u.closed {
		return Attachment{}, errors.New("bookingapi: upload already closed")
	}
	defer u.Discard()
	u.closed = true
	switch {
	case u.err != nil:
		return Attachment{}, u.err
	case u.ctx.Err() != nil:
		return Attachment{}, u.ctx.Err()
	case u.held.size == 0:
		return Attachment{}, ErrEmptyFile
	case u.file.Size > 0 && u.held.size != u.file.Size:
		return Attachment{}, fmt.Errorf("%w: %d of the declared %d bytes arrived", ErrSizeMismatch, u.held.size, u.file.Size)
	}
	u.file.Size = u.held.size
	if u.held.size > MaxChunkBytes && !u.single {
		if err := u.sendChunks(len(u.held.chunks), true); err != nil {
			return Attachment{}, err
		}
		if !u.single {
			return u.result, nil
		}
	}
	return u.uploadSingle()
}

// Discard gives back what the Uploader holds, without committing anything.
// Close and Write fail after it; a Discard after Close does nothing.
func (u *Uploader) Discard() {
	u.closed = true
	if u.err == nil {
		u.err = errors.New("bookingapi: upload discarded")
	}
	u.held = heldFile{}
	u.client.memory.Release(u.reserved)
	u.reserved = 0
}

// hold keeps p, or a copy of it, reserving in the Client's Memory what
// that takes: for a declared size, all the upload will hold at the first
// bytes; otherwise, what p adds.
func (u *Uploader) hold(p []byte, keep bool) error {
	if len(p) == 0 {
		return nil
	}
	if u.file.Size > 0 && !u.upfront {
		// An upload that does not fit waits for room before it holds
		// anything, rather than hold a part and wait with it.
		need := u.file.Size + bodyMemory(int(min(u.file.Size, MaxChunkBytes)))
		if err := u.client.memory.Reserve(u.ctx, need, false); err != nil {
			return err
		}
		u.reserved, u.upfront = need, true
	}
	if keep {
		if err := u.reserve(u.ctx, int64(len(p))); err != nil {
			return err
		}
		u.held.take(p)
		return nil
	}
	return u.held.write(p, func(room, need int) (int, error) {
		// A declared size fills each chunk with one buffer; otherwise
		// buffers grow as writes come, to bound what small writes cost.
		size := min(room, max(need, 64<<10))
		if u.file.Size > 0 {
			size = int(min(int64(room), u.file.Size-u.held.size))
		}
		return size, u.reserve(u.ctx, int64(size))
	})
}

// reserve takes n more bytes of the Client's Memory, unless the upload's
// reservation covers them already.
func (u *Uploader) reserve(ctx context.Context, n int64) error {
	if u.upfront {
		return nil
	}
	if err := u.client.memory.Reserve(ctx, n, u.reserved > 0); err != nil {
		return err
	}
	u.reserved += n
	return nil
}

// release gives back n bytes that reserve took.
func (u *Uploader) release(n int64) {
	if !u.upfront {
		u.client.memory.Release(n)
		u.reserved -= n
	}
}

// bodyMemory is what the request body of n file bytes holds: their base64
// and the rest of the body.
func bodyMemory(n int) int64 { return int64((n+2)/3*4 + 4096) }

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
	chunk := u.held.chunks[u.sent]
	if err := u.reserve(ctx, bodyMemory(chunk.n)); err != nil {
		return err
	}
	defer u.release(bodyMemory(chunk.n))
	b := chunkBody(action, u.uploadID, u.file, u.sent, chunk.segments, chunk.n)
	r := &request{
		op:     op,
		method: http.MethodPost,
		path:   u.conv.path("attachment_chunks"),
		body:   b.bytes,
		resend: policy,
	}
	ruid, err := u.client.send(ctx, r, &out)
	if !r.bodyKept {
		b.release()
	}
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
	var segments [][]byte
	for _, c := range u.held.chunks {
		// More than one when Booking took this file for not "more than
		// 1MB" after it went in two chunks.
		segments = append(segments, c.segments...)
	}
	n := int(u.held.size)
	var out struct {
		dataStatus
		AttachmentID string `json:"attachment_id"`
	}
	if len(u.held.chunks) > 1 {
		u.upfront = false // the body of the whole file is more than one chunk's
	}
	if err := u.reserve(u.ctx, bodyMemory(n)); err != nil {
		return Attachment{}, err
	}
	defer u.release(bodyMemory(n))
	b := singleUploadBody(u.file, segments, n)
	r := &request{
		op:     OpUpload,
		method: http.MethodPost,
		path:   u.conv.path("attachments"),
		body:   b.bytes,
		resend: resendCommit,
	}
	ruid, err := u.client.do(u.ctx, r, &out)
	if !r.bodyKept {
		b.release()
	}
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
