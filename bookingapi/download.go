package bookingapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// MaxRangeBytes is the most one download GET asks for. Booking does not say
// how much one GET may return, so the reader stays within 1MB read either way.
const MaxRangeBytes = 1_000_000

// FileInfo is an attachment's metadata, as file_info reports it.
type FileInfo struct {
	Name string
	Type string
	Size int64
}

// FileInfo returns the metadata of the attachment ref.
func (c *Client) FileInfo(ctx context.Context, ref AttachmentRef) (FileInfo, error) {
	var out struct {
		FileName string `json:"file_name"`
		FileType string `json:"file_type"`
		FileSize *int64 `json:"file_size"`
	}
	ruid, err := c.sendWithRetry(ctx, &request{
		op:     OpFileInfo,
		method: http.MethodGet,
		path:   ref.path("file_info"),
	}, &out)
	if err != nil {
		return FileInfo{}, err
	}
	if out.FileSize == nil || *out.FileSize < 0 {
		return FileInfo{}, unusableAnswer(OpFileInfo, http.StatusOK, ruid, "response has no valid file_size")
	}
	return FileInfo{Name: out.FileName, Type: out.FileType, Size: *out.FileSize}, nil
}

// NewReader returns a Reader of length bytes from offset of the attachment
// ref, whose total size is size (as FileInfo reported it). It requires
// 0 ≤ offset and offset+length ≤ size; it panics otherwise, as those come
// from the caller's own checks.
func (c *Client) NewReader(ctx context.Context, ref AttachmentRef, size, offset, length int64) *Reader {
	if offset < 0 || length < 0 || offset > size || length > size-offset {
		panic(fmt.Sprintf("bookingapi: range [%d, %d) outside an attachment of %d bytes", offset, offset+length, size))
	}
	return &Reader{ctx: ctx, client: c, ref: ref, size: size, pos: offset, end: offset + length}
}

// Reader reads a range of an attachment with GETs of at most MaxRangeBytes,
// one at a time and only when the bytes already fetched are used up. It
// returns exactly the requested number of bytes, or an error: an *Error of
// KindDataLoss when Booking's answers disagree with the size file_info gave.
// It is not safe for concurrent use.
//
// Booking does not say whether the query parameter to is inclusive, so the
// Reader never depends on it: it asks for at most MaxRangeBytes under either
// reading, advances by the decoded bytes each answer holds, and leaves to out
// when the range runs to the end of the file.
type Reader struct {
	ctx    context.Context
	client *Client
	ref    AttachmentRef
	size   int64
	pos    int64  // offset in the attachment of the next byte to fetch
	end    int64  // offset just past the last byte to return
	buf    []byte // fetched bytes not yet returned
	err    error
}

// Read reads the next bytes of the range into p.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if err := r.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// WriteTo writes the rest of the range to w, one write per GET.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if len(r.buf) == 0 {
			if err := r.fetch(); err == io.EOF {
				return written, nil
			} else if err != nil {
				return written, err
			}
		}
		n, err := w.Write(r.buf)
		written += int64(n)
		r.buf = r.buf[n:]
		if err != nil {
			return written, err
		}
	}
}

// fetch gets the next range into r.buf, or returns io.EOF at the end.
func (r *Reader) fetch() error {
	if r.err != nil {
		return r.err
	}
	if r.pos >= r.end {
		return io.EOF
	}
	remaining := r.end - r.pos
	query := url.Values{"from": {strconv.FormatInt(r.pos, 10)}}
	// Without to, Booking returns the rest of the file: exact whatever to
	// means, and used when the rest is all that is wanted and small enough.
	// Otherwise to = from + n, with n ≤ MaxRangeBytes-1: an inclusive to
	// returns n+1 bytes, an exclusive one n; both at least one and at most
	// MaxRangeBytes, and to never points past the file's last byte.
	openEnded := r.end == r.size && remaining <= MaxRangeBytes
	if !openEnded {
		query.Set("to", strconv.FormatInt(r.pos+min(remaining, MaxRangeBytes-1), 10))
	}
	var out struct {
		dataStatus
		FileContent []byte `json:"file_content"`
	}
	ruid, err := r.client.sendWithRetry(r.ctx, &request{
		op:     OpDownload,
		method: http.MethodGet,
		path:   r.ref.path(),
		query:  query,
	}, &out)
	if err != nil {
		r.err = err
		return err
	}
	got := int64(len(out.FileContent))
	switch {
	case got == 0:
		r.err = r.dataLoss(ruid, "no bytes at offset %d of %d", r.pos, r.size)
	case openEnded && got > remaining:
		r.err = r.dataLoss(ruid, "%d bytes from offset %d, but file_info said the file has %d", got, r.pos, r.size)
	}
	if r.err != nil {
		return r.err
	}
	// An inclusive to returns one byte past a range that ends before the
	// file does; it is not wanted.
	r.buf = out.FileContent[:min(got, remaining)]
	r.pos += int64(len(r.buf))
	return nil
}

func (r *Reader) dataLoss(ruid, format string, args ...any) error {
	return &Error{Op: OpDownload, Kind: KindDataLoss, StatusCode: http.StatusOK,
		Message: fmt.Sprintf(format, args...), RUID: ruid}
}

// path is the path of the attachment followed by sub, if any.
func (ref AttachmentRef) path(sub ...string) []string {
	conv := Conversation{PropertyID: ref.PropertyID, ConversationID: ref.ConversationID}
	return conv.path(append([]string{"attachments", ref.AttachmentID}, sub...)...)
}
