package service

import (
	"fmt"
	"time"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// defaultUploadIdleTimeout is Options.UploadIdleTimeout's default.
const defaultUploadIdleTimeout = 30 * time.Second

// receiver hands over an upload stream's messages, and gives up on a client
// that sends none for the idle timeout. grpc-go's Recv cannot be interrupted,
// so a goroutine of the receiver's own calls it, when Recv asks for a
// message, and hands the message over unbuffered: no message is decoded
// ahead of the one being handled, and the client's flow control holds as
// before. The timeout runs only while the
// handler waits for a message, so time spent sending to Booking does not
// count against the client.
//
// The goroutine ends once it has handed over the stream's end (io.EOF or an
// error) or, after stop, once its Recv returns, which grpc-go makes happen by
// tearing the stream down when the handler returns.
type receiver struct {
	idle     time.Duration
	wanted   chan struct{} // Recv asks for the next message
	messages chan received
	stopped  chan struct{}
	err      error // the error Recv returned, returned again by every later call
}

// received is the result of one call of the stream's Recv.
type received struct {
	msg *attachmentsv1.UploadAttachmentRequest
	err error
}

// newReceiver starts receiving stream's messages. The caller calls stop when
// it no longer reads them.
func newReceiver(stream uploadStream, idle time.Duration) *receiver {
	r := &receiver{idle: idle, wanted: make(chan struct{}), messages: make(chan received), stopped: make(chan struct{})}
	go r.run(stream)
	return r
}

func (r *receiver) run(stream uploadStream) {
	for {
		// A message is received only when Recv asks for it, so that no
		// decoded message waits here beside the one being handled.
		select {
		case <-r.wanted:
		case <-r.stopped:
			return
		}
		msg, err := stream.Recv()
		select {
		case r.messages <- received{msg, err}:
		case <-r.stopped:
			return
		}
		if err != nil {
			return
		}
	}
}

// Recv returns the stream's next message; io.EOF once the client has closed
// its stream; an *idleError if no message arrives within the idle timeout.
// After an error, it returns that error again.
func (r *receiver) Recv() (*attachmentsv1.UploadAttachmentRequest, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.wanted <- struct{}{}
	timer := time.NewTimer(r.idle)
	defer timer.Stop()
	select {
	case m := <-r.messages:
		r.err = m.err
		return m.msg, m.err
	case <-timer.C:
		r.err = &idleError{timeout: r.idle}
		return nil, r.err
	}
}

// stop lets the goroutine end without handing over another message.
func (r *receiver) stop() { close(r.stopped) }

// idleError reports that a client sent no upload message for timeout.
type idleError struct {
	timeout time.Duration
}

func (e *idleError) Error() string {
	return fmt.Sprintf("service: no upload message arrived for %v", e.timeout)
}
