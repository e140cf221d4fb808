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
// ref, whose total size is size (as FileInfo reported it). It fails,
// sending nothing, unless 0 ≤ offset and offset+length ≤ size. Its GETs are
// bound to ctx; the caller must Close it.
func (c *Client) NewReader(ctx context.Context, ref AttachmentRef, size, offset, length int64) (*Reader, error) {
	if offset < 0 || length < 0 || offset > size || length > size-offset {
		return nil, fmt.Errorf("bookingapi: range [%d, %d) outside an attachment of %d bytes", offset, offset+length, size)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Reader{ctx: ctx, cancel: cancel, client: c, ref: ref, size: size, end: offset + length}
	for pos := offset; pos < r.end; {
		g := nextRange(pos, r.end, size)
		r.ranges = append(r.ranges, g)
		pos = g.from + g.take
	}
	return r, nil
}

// Reader reads a range of an attachment with GETs of at most MaxRangeBytes,
// up to Config.ParallelRanges of them in flight ahead of what is read. It
// returns exactly the requested bytes in order, or an error: an *Error of
// KindDataLoss when Booking's answers disagree with the size file_info gave
// or with the range asked for. A failed GET is retried alone, as the
// client's policy allows; the first error is the Reader's, and stops every
// GET in flight. It is not safe for concurrent use.
//
// Booking does not say whether the query parameter to is inclusive, so the
// Reader never depends on it: it asks for at most MaxRangeBytes under either
// reading, and leaves to out when the range runs to the end of the file.
// Each answer must hold exactly what was asked: the rest of the file
// without to; with to, to-from bytes if to is exclusive or one more if it
// is inclusive, the same reading for every answer. The extra byte of an
// inclusive to is dropped, so that the ranges can be planned ahead.
type Reader struct {
	ctx    context.Context
	cancel context.CancelFunc
	client *Client
	ref    AttachmentRef
	size   int64
	end    int64 // offset just past the last byte to return

	ranges  []span   // the GETs to make, in order
	started int      // ranges whose GET has started
	fetches []*fetch // started and not yet consumed, in order

	buf        []byte       // bytes of the current range not yet returned
	held       rangeContent // the current range's buffer
	heldMemory int64        // reserved for the current range

	to     toReading // what the answers so far tell of to
	err    error
	closed bool
}

// span is one planned GET: from, and to unless openEnded; take is how many
// of the answer's bytes the Reader returns.
type span struct {
	from, to  int64
	openEnded bool
	take      int64
}

// fetch is one GET in flight, or done.
type fetch struct {
	span
	memory  int64 // reserved for it
	done    chan struct{}
	content rangeContent
	ruid    string
	err     error
}

// Read reads the next bytes of the range into p.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if err := r.next(); err != nil {
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
			if err := r.next(); err == io.EOF {
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

// Close stops every GET in flight and gives back what the Reader holds. It
// always returns nil.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cancel()
	r.dropCurrent()
	for _, f := range r.fetches {
		<-f.done
		f.content.release()
		r.client.memory.Release(f.memory)
	}
	r.fetches = nil
	if r.err == nil {
		r.err = errors.New("bookingapi: read from a closed Reader")
	}
	return nil
}

// next makes the next range's bytes current, or returns io.EOF at the end.
func (r *Reader) next() error {
	if r.err != nil {
		return r.err
	}
	r.dropCurrent()
	r.fill()
	if len(r.fetches) == 0 {
		if r.started == len(r.ranges) {
			return io.EOF
		}
		return r.fail(r.err) // fill could not start one
	}
	f := r.fetches[0]
	<-f.done // a GET ends at the latest when r.ctx does
	r.fetches = r.fetches[1:]
	err := f.err
	if err == nil {
		r.to, err = r.check(f.from, f.to, f.openEnded, int64(len(f.content.bytes)), f.ruid)
	}
	r.held, r.heldMemory = f.content, f.memory
	if err != nil {
		return r.fail(err)
	}
	r.buf = f.content.bytes[:f.take]
	r.fill()
	return nil
}

// fill starts GETs until ParallelRanges are in flight or all have started.
func (r *Reader) fill() {
	for r.err == nil && len(r.fetches) < r.client.parallelRanges && r.started < len(r.ranges) {
		g := r.ranges[r.started]
		memory := rangeMemory(g.take + 1)
		holding := r.heldMemory > 0 || len(r.fetches) > 0
		if len(r.fetches) > 0 {
			// Ahead of what is read: take room only if there is some at once,
			// so that a Reader short of room fetches one range at a time
			// rather than wait for room with ranges in hand.
			ctx, cancel := context.WithCancel(r.ctx)
			cancel()
			if r.client.memory.Reserve(ctx, memory, holding) != nil {
				return
			}
		} else if err := r.client.memory.Reserve(r.ctx, memory, holding); err != nil {
			r.err = err
			return
		}
		f := &fetch{span: g, memory: memory, done: make(chan struct{})}
		r.fetches = append(r.fetches, f)
		r.started++
		go r.get(f)
	}
}

// get makes f's GET.
func (r *Reader) get(f *fetch) {
	defer close(f.done)
	query := url.Values{"from": {strconv.FormatInt(f.from, 10)}}
	if !f.openEnded {
		query.Set("to", strconv.FormatInt(f.to, 10))
	}
	f.content, f.ruid, f.err = r.client.getRange(r.ctx, &request{
		op:     OpDownload,
		method: http.MethodGet,
		path:   r.ref.path(),
		query:  query,
		resend: resendSafe,
	})
	var e *Error
	if errors.As(f.err, &e) && e.Kind == KindInvalidRequest {
		// The range lies inside the file as file_info described it, so
		// Booking's refusal means that the two disagree.
		e.Kind = KindDataLoss
		e.Message = fmt.Sprintf("Booking refused the range from %d of a file that file_info says has %d bytes: %s", f.from, r.size, e.Message)
	}
}

// fail makes err the Reader's error, and stops the GETs in flight.
func (r *Reader) fail(err error) error {
	r.err = err
	r.cancel()
	return err
}

// dropCurrent gives back the current range's buffer and memory.
func (r *Reader) dropCurrent() {
	r.buf = nil
	r.held.release()
	r.client.memory.Release(r.heldMemory)
	r.heldMemory = 0
}

// getRange sends one range GET, again after the failures its policy
// allows, and decodes its answer.
func (c *Client) getRange(ctx context.Context, r *request) (content rangeContent, ruid string, err error) {
	err = c.retryLoop(ctx, &retryState{}, func(ctx context.Context) error {
		content.release() // of a try whose answer was refused after decoding
		content, ruid, err = c.sendRange(ctx, r)
		return err
	})
	return content, ruid, err
}

// nextRange plans the next GET of the bytes [pos, end) of a file of size
// bytes.
//
// Without to, Booking returns the rest of the file: exact whatever to means,
// and used when the rest is all that is wanted and small enough. Otherwise
// to = from + n, with n ≤ MaxRangeBytes-1: an inclusive to returns n+1
// bytes, an exclusive one n; both at least one and at most MaxRangeBytes,
// and to never points past the file's last byte. The Reader takes n bytes
// either way.
func nextRange(pos, end, size int64) span {
	remaining := end - pos
	if end == size && remaining <= MaxRangeBytes {
		return span{from: pos, openEnded: true, take: remaining}
	}
	n := min(remaining, MaxRangeBytes-1)
	return span{from: pos, to: pos + n, take: n}
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
