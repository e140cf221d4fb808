package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed call to the gateway.
type Error struct {
	// Code is the call's gRPC status code.
	Code codes.Code
	// Message is the status's message, one line.
	Message string
	// RUID is the id Booking gave the answer that failed the call, for
	// Booking's support; empty when Booking was not at fault.
	RUID string
	// Reason is the ErrorInfo's reason, such as BOOKING_FILE_INFO_FAILED
	// or BOOKING_OUTCOME_UNKNOWN (the message may or may not have been
	// posted: do not post it again without looking).
	Reason string
	// HTTPStatus is Booking's HTTP status, or 0.
	HTTPStatus int
	// AttachmentID names the attachment that an upload committed before
	// its message failed: post it with SendMessage rather than upload it
	// again. Empty otherwise.
	AttachmentID string
	// RetryAfter is the wait Booking asked for before a retry, or 0.
	RetryAfter time.Duration

	status *status.Status
}

func (e *Error) Error() string {
	return code.Code(e.Code).String() + ": " + e.Message
}

// GRPCStatus returns the status the error came from, for status.FromError.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// wrap returns err as an *Error if it is a gRPC status or a context's
// error, and as it is otherwise.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			st = status.FromContextError(err)
		} else {
			return err
		}
	}
	e = &Error{Code: st.Code(), Message: st.Message(), status: st}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.Reason = d.GetReason()
			e.RUID = d.GetMetadata()["ruid"]
			e.AttachmentID = d.GetMetadata()["attachment_id"]
			e.HTTPStatus, _ = strconv.Atoi(d.GetMetadata()["http_status"])
		case *errdetails.RetryInfo:
			e.RetryAfter = d.GetRetryDelay().AsDuration()
		}
	}
	return e
}

// Line describes err in one line for a person: the code, the message, and
// what the message does not say already of Booking's ruid, the committed
// attachment and the wait asked for.
func Line(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return strings.Join(strings.Fields(err.Error()), " ")
	}
	line := e.Error()
	if e.RUID != "" && !strings.Contains(line, e.RUID) {
		line += fmt.Sprintf(" (ruid %s)", e.RUID)
	}
	if e.AttachmentID != "" && !strings.Contains(line, e.AttachmentID) {
		line += "; attachment_id " + e.AttachmentID
	}
	if e.RetryAfter > 0 {
		line += fmt.Sprintf("; Booking asks to retry after %v", e.RetryAfter)
	}
	return line
}
