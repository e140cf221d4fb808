package bookingapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// maxResponseBytes bounds how much of a response body is read. The largest
// answer this client asks for is a download range of 1,000,000 bytes, about
// 1.4 MB once base64 and the envelope are added.
const maxResponseBytes = 16 << 20

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
	// unframed tells that the body had neither a length nor chunks: only
	// the closing of the connection ended it, so a cut reads as its end.
	unframed bool
	x        Exchange // for the Observer
	pooled   bool     // body's buffer is answerBuffers', to release once decoded
}

func (a *answer) success() bool { return a.status >= 200 && a.status <= 299 }

// The causes that end an attempt or a request of their own accord, as
// opposed to the caller's cancel or deadline.
var (
	errNoAnswer       = errors.New("bookingapi: no answer within the response timeout")
	errRequestTimeout = errors.New("bookingapi: the request timeout passed")
)

// roundTrip sends r to target once and reads the answer whole. A request
// with a token (one to the Messaging API) first takes one of the client's
// slots. The attempt waits at most c.responseTimeout for the response
// headers and as long again for the body.
//
// A failure to get an answer is an *Error of KindUnavailable whose Outcome
// says whether the request was written; so is a successful answer cut off
// mid-read. A cut-off error answer keeps its status. The caller's cancel or
// deadline comes back as ctx's own error, wrapped in an *Error once the
// request was written (see lostAnswer).
func (c *Client) roundTrip(ctx context.Context, r *request, target, token string) (*answer, error) {
	var queued time.Duration
	if token != "" {
		start := time.Now()
		release, err := c.slots.acquire(ctx)
		if err != nil {
			return nil, c.noSlot(ctx, r.op)
		}
		defer release()
		queued = time.Since(start)
	}

	attemptCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(c.responseTimeout, func() { cancel(errNoAnswer) })
	defer timer.Stop()
	var wrote, opened atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { opened.Store(!info.Reused) },
		// Written means handed to the connection: a reset right after
		// may still have kept it from Booking, but that cannot be told.
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(attemptCtx, trace), r.method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("bookingapi: %s: %w", r.op, err)
	}
	if r.body != nil {
		// The transport may read and close a body after Do returns: the
		// attempt ends once every body it was given is closed, so that the
		// caller may reuse r.body's buffer.
		var readers sync.WaitGroup
		open := func() io.ReadCloser {
			readers.Add(1)
			return &requestBody{Reader: bytes.NewReader(r.body), closed: readers.Done}
		}
		req.Body, req.ContentLength = open(), int64(len(r.body))
		req.GetBody = func() (io.ReadCloser, error) { return open(), nil }
		defer func() { r.bodyKept = r.bodyKept || !waitFor(&readers, bodyCloseWait) }()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	a := &answer{x: Exchange{Op: r.op, Queued: queued}}
	start := time.Now()
	resp, err := c.http.Do(req)
	a.x.NewConnection = opened.Load()
	if err != nil {
		a.x.Took = time.Since(start)
		c.observer.Exchanged(ctx, a.x)
		return nil, c.lostAnswer(ctx, attemptCtx, r.op, wrote.Load(), 0, err)
	}
	defer resp.Body.Close()
	timer.Reset(c.responseTimeout) // the body's own wait
	a.status, a.header, a.x.Status = resp.StatusCode, resp.Header, resp.StatusCode
	a.unframed = resp.ProtoMajor == 1 && resp.ContentLength < 0 && len(resp.TransferEncoding) == 0
	a.body, a.pooled, err = readBody(resp)
	a.x.Took = time.Since(start)
	switch {
	case err == nil:
		return a, nil // the caller reports it, with the ruid it decodes
	case errors.Is(err, errTooLarge) && a.success():
		c.observer.Exchanged(ctx, a.x)
		return nil, unusableAnswer(r.op, a.status, "", "answer larger than %d bytes", maxResponseBytes)
	case a.success():
		c.observer.Exchanged(ctx, a.x)
		return nil, c.lostAnswer(ctx, attemptCtx, r.op, true, a.status,
			fmt.Errorf("the answer was cut off after %d bytes: %w", len(a.body), err))
	case callerEnded(ctx):
		c.observer.Exchanged(ctx, a.x)
		return nil, ctx.Err()
	}
	// An error answer cut short still has its status, which tells enough.
	return a, nil
}

// report tells the observer of an answer that roundTrip returned, with the
// ruid decoded from it.
func (c *Client) report(ctx context.Context, a *answer, ruid string) {
	a.x.RUID = ruid
	c.observer.Exchanged(ctx, a.x)
}

// callerEnded reports whether ctx ended by the caller's cancel or deadline,
// rather than by the client's own request timeout.
func callerEnded(ctx context.Context) bool {
	return ctx.Err() != nil && context.Cause(ctx) != errRequestTimeout
}

// lostAnswer is the error of an attempt that got no answer, or only part
// of one: an *Error of KindUnavailable; or, if the caller's own cancel or
// deadline ended it, ctx's error itself before the request was written,
// and after that an *Error that wraps it, maybe processed. status is that
// of an answer cut short, or 0.
func (c *Client) lostAnswer(ctx, attemptCtx context.Context, op string, wrote bool, status int, err error) error {
	outcome := OutcomeNotSent
	if wrote {
		outcome = OutcomeMaybeProcessed
	}
	e := &Error{Op: op, Kind: KindUnavailable, StatusCode: status, Outcome: outcome, Err: err}
	switch cause := context.Cause(attemptCtx); {
	case cause == errRequestTimeout:
		e.Message = fmt.Sprintf("no answer from Booking within %v, the most one request may take", c.requestTimeout)
		e.Err, e.final = cause, true
	case callerEnded(ctx) && wrote:
		// What Booking did stays unknown, which matters to a request
		// whose repeat a guest would see.
		e.Kind, e.Message, e.Err, e.final = KindUnknown, "the call ended before Booking answered", ctx.Err(), true
	case callerEnded(ctx):
		return ctx.Err()
	case cause == errNoAnswer && status == 0:
		e.Message = fmt.Sprintf("no answer from Booking within %v", c.responseTimeout)
		e.Err = cause
	case cause == errNoAnswer:
		e.Message = fmt.Sprintf("the answer's body did not arrive within %v", c.responseTimeout)
		e.Err = cause
	case status != 0:
		e.Message = err.Error()
	default:
		e.Message = "no response from Booking"
	}
	return e
}

// noSlot is the error of a request that found no free slot before ctx
// ended.
func (c *Client) noSlot(ctx context.Context, op string) error {
	if callerEnded(ctx) {
		return ctx.Err()
	}
	return &Error{Op: op, Kind: KindUnavailable, Outcome: OutcomeNotSent, Err: errRequestTimeout, final: true,
		Message: fmt.Sprintf("all %d slots for requests to Booking stayed busy for %v", cap(c.slots), c.requestTimeout)}
}

// errTooLarge is the error of a body over maxResponseBytes.
var errTooLarge = errors.New("bookingapi: answer too large")

// answerBuffers holds buffers for answers of a known length up to that of
// a download range's, the largest this client asks for.
var answerBuffers = newBufferPool(base64.StdEncoding.EncodedLen(MaxRangeBytes+1)+4096, 8)

// readBody reads a response body of at most maxResponseBytes, into a
// pooled buffer when its length is known and fits one (then pooled is
// that buffer, for release).
func readBody(resp *http.Response) (body []byte, pooled bool, err error) {
	buf := new(bytes.Buffer)
	if resp.ContentLength > 0 && answerBuffers.fits(int(min(resp.ContentLength, maxResponseBytes+1))) {
		pooled, buf = true, bytes.NewBuffer(answerBuffers.get())
	} else if resp.ContentLength > 0 && resp.ContentLength <= maxResponseBytes {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		return buf.Bytes(), pooled, err
	case n > maxResponseBytes:
		return buf.Bytes(), pooled, errTooLarge
	}
	return buf.Bytes(), pooled, nil
}

// release gives a's body buffer back, if it is pooled; the body is not to
// be read after.
func (a *answer) release() {
	if a.pooled {
		answerBuffers.put(a.body)
	}
	a.body, a.pooled = nil, false
}

// slots bounds the requests in flight: each holds one element.
type slots chan struct{}

// acquire takes a slot, waiting until one is free or ctx ends.
func (s slots) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// bodyCloseWait bounds how long an attempt waits for the transport to close
// the request bodies it was given; past it, the body's buffer is left to
// the garbage collector rather than reused.
const bodyCloseWait = 5 * time.Second

// requestBody is a request body that tells when the transport closes it.
// Embedding *bytes.Reader keeps its WriteTo, which the transport uses to
// send the body without a copy buffer.
type requestBody struct {
	*bytes.Reader
	once   sync.Once
	closed func()
}

func (b *requestBody) Close() error {
	b.once.Do(b.closed)
	return nil
}

// waitFor waits for wg, at most for d, and reports whether wg was done.
func waitFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
