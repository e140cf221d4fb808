package bookingapi

import (
	"context"
	"errors"
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
	ruid, err := c.do(ctx, &request{
		op:     OpFileInfo,
		method: http.MethodGet,
		path:   ref.path("file_info"),
		resend: resendSafe,
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
// KindDataLoss when Booking's answers disagree with the size file_info gave
// or with the range asked for. It is not safe for concurrent use.
//
// Booking does not say whether the query parameter to is inclusive, so the
// Reader never depends on it: it asks for at most MaxRangeBytes under either
// reading, and leaves to out when the range runs to the end of the file.
// Each answer must hold exactly what was asked: the rest of the file
// without to; with to, to-from bytes if to is exclusive or one more if it
// is inclusive, the same reading for every answer.
type Reader struct {
	ctx    context.Context
	client *Client
	ref    AttachmentRef
	size   int64
	pos    int64  // offset in the attachment of the next byte to fetch
	end    int64  // offset just past the last byte to return
	buf    []byte // fetched bytes not yet returned
	err    error

	to toReading // what the answers so far tell of to
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
	from, to, openEnded := nextRange(r.pos, r.end, r.size)
	query := url.Values{"from": {strconv.FormatInt(from, 10)}}
	if !openEnded {
		query.Set("to", strconv.FormatInt(to, 10))
	}
	var out struct {
		dataStatus
		FileContent []byte `json:"file_content"`
	}
	ruid, err := r.client.do(r.ctx, &request{
		op:     OpDownload,
		method: http.MethodGet,
		path:   r.ref.path(),
		query:  query,
		resend: resendSafe,
	}, &out)
	var e *Error
	if errors.As(err, &e) && e.Kind == KindInvalidRequest {
		// The range lies inside the file as file_info described it, so
		// Booking's refusal means that the two disagree.
		e.Kind = KindDataLoss
		e.Message = fmt.Sprintf("Booking refused the range from %d of a file that file_info says has %d bytes: %s", from, r.size, e.Message)
	}
	if err == nil {
		r.to, err = r.check(from, to, openEnded, int64(len(out.FileContent)), ruid)
	}
	if err != nil {
		r.err = err
		return err
	}
	// An inclusive to returns one byte past a range that ends before the
	// file does; it is not wanted.
	r.buf = out.FileContent[:min(int64(len(out.FileContent)), r.end-r.pos)]
	r.pos += int64(len(r.buf))
	return nil
}

// nextRange chooses the next GET of the bytes [pos, end) of a file of size
// bytes: from, and either to or openEnded (no to).
//
// Without to, Booking returns the rest of the file: exact whatever to means,
// and used when the rest is all that is wanted and small enough. Otherwise
// to = from + n, with n ≤ MaxRangeBytes-1: an inclusive to returns n+1
// bytes, an exclusive one n; both at least one and at most MaxRangeBytes,
// and to never points past the file's last byte.
func nextRange(pos, end, size int64) (from, to int64, openEnded bool) {
	remaining := end - pos
	if end == size && remaining <= MaxRangeBytes {
		return pos, 0, true
	}
	return pos, pos + min(remaining, MaxRangeBytes-1), false
}

// toReading is what the answers so far tell of download's to.
type toReading int8

const (
	toUnknown   toReading = iota // no GET with to answered yet
	toExclusive                  // bytes from..to-1
	toInclusive                  // bytes from..to
)

// check verifies that an answer of got bytes is exactly the range asked
// for: the rest of the file for an open-ended GET; to-from bytes for an
// exclusive to, one more for an inclusive one, the same reading as every
// earlier answer. It returns what is known of to after this answer.
func (r *Reader) check(from, to int64, openEnded bool, got int64, ruid string) (toReading, error) {
	known := r.to
	switch n := to - from; {
	case openEnded && got < r.size-from:
		return known, r.dataLoss(ruid, "file_info says the file has %d bytes, but it ends at %d", r.size, from+got)
	case openEnded && got > r.size-from:
		return known, r.dataLoss(ruid, "file_info says the file has %d bytes, but the answer from offset %d holds %d", r.size, from, got)
	case openEnded:
		return known, nil
	case got == n && known != toInclusive:
		return toExclusive, nil
	case got == n+1 && known != toExclusive:
		return toInclusive, nil
	case got < n:
		return known, r.dataLoss(ruid, "file_info says the file has %d bytes, but the range from %d to %d holds only %d", r.size, from, to, got)
	}
	return known, r.dataLoss(ruid, "the range from %d to %d holds %d bytes, not what was asked for", from, to, got)
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
