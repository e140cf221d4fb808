package bookingapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Errors an [Uploader] reports about the data it was given; nothing that
// violates them reaches Booking.
var (
	// ErrFileTooLarge means the file has more than MaxFileBytes bytes.
	ErrFileTooLarge = errors.New("bookingapi: file too large")
	// ErrSizeMismatch means the bytes written differ from the declared size.
	ErrSizeMismatch = errors.New("bookingapi: file size mismatch")
	// ErrEmptyFile means the upload was closed without any bytes.
	ErrEmptyFile = errors.New("bookingapi: empty file")
)

// Kind classifies an [Error] by what a caller can do about it.
type Kind int

// The kinds of [Error].
const (
	// KindUnknown is a failure that fits no other kind.
	KindUnknown Kind = iota
	// KindInvalidRequest: Booking rejected the request's content (400, or
	// another 4xx not listed below). Error.Message holds Booking's reason.
	KindInvalidRequest
	// KindUnauthenticated: the client's own credentials or token were refused,
	// even after a fresh token exchange. The caller of the API is not at fault.
	KindUnauthenticated
	// KindPermissionDenied: the account may not access this property (403).
	KindPermissionDenied
	// KindNotFound: no such conversation or attachment (404).
	KindNotFound
	// KindRateLimited: Booking still answered 429 after the retries, or
	// asked to wait longer than the client waits (Error.RetryAfter).
	KindRateLimited
	// KindUnavailable: Booking answered 5xx, or not at all, or not whole,
	// after the retries; or asked to wait longer than the client waits.
	KindUnavailable
	// KindMalformedResponse: Booking answered with success but the answer
	// could not be used (invalid JSON or base64, a missing attachment_id).
	KindMalformedResponse
	// KindDataLoss: a download returned a different number of bytes than
	// file_info reported.
	KindDataLoss
)

// Error is a failed call to Booking.
type Error struct {
	// Op names the call: one of the Op constants.
	Op string
	// Kind classifies the failure.
	Kind Kind
	// StatusCode is Booking's HTTP status, or 0 when no answer arrived.
	StatusCode int
	// Message is Booking's own error text, or what was wrong with its answer.
	Message string
	// RUID is Booking's id of the response (meta.ruid); empty without one.
	RUID string
	// Outcome tells what Booking may have done with the request.
	Outcome Outcome
	// Attempts is how many times the request was sent (for a chunked
	// upload: how many times it started).
	Attempts int
	// RetryAfter is the wait a Retry-After header asked for, or 0. When it
	// is longer than the retry policy waits, or ends past the deadline, the
	// request is not sent again and the caller may schedule its own retry.
	RetryAfter time.Duration
	// Err is the underlying cause, such as a network error; may be nil.
	Err error

	resend resend // the failed request's policy
	final  bool   // not to be retried: its retries are spent already
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bookingapi: ")
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, ", after %d attempts", e.Attempts)
	}
	if e.RUID != "" {
		fmt.Fprintf(&b, " (ruid %s)", e.RUID)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// retryable reports whether sending the same request again may succeed
// and is allowed by the request's policy.
func (e *Error) retryable() bool {
	return !e.final && (e.Kind == KindRateLimited || e.Kind == KindUnavailable) && e.resend.allows(e.Outcome)
}

// statusError is the error of an answer with a non-2xx status: Booking's own
// error text (or the status's name), its ruid and any Retry-After.
func statusError(op string, a *answer, errs []json.RawMessage, ruid string) *Error {
	msg := errorText(errs)
	if msg == "" {
		msg = http.StatusText(a.status)
		if isHTML(a.header) {
			// A load balancer or proxy answered, not Booking.
			msg += " (an HTML page, not Booking's JSON)"
		}
	}
	return &Error{
		Op:         op,
		Kind:       kindOfStatus(a.status),
		StatusCode: a.status,
		Message:    msg,
		RUID:       ruid,
		Outcome:    outcomeOfStatus(a.status),
		RetryAfter: parseRetryAfter(a.header.Get("Retry-After"), time.Now()),
	}
}

// unusableAnswer is the error of a successful answer that cannot be used.
// Booking did something, but what cannot be told.
func unusableAnswer(op string, status int, ruid, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindMalformedResponse, StatusCode: status, Message: fmt.Sprintf(format, args...),
		RUID: ruid, Outcome: OutcomeMaybeProcessed}
}

// cutShort is the error of a successful answer whose JSON ends after n
// bytes: its body had no length, so the cut read as its end.
func cutShort(op string, status int, ruid string, n int) *Error {
	return &Error{Op: op, Kind: KindUnavailable, StatusCode: status, RUID: ruid, Outcome: OutcomeMaybeProcessed,
		Message: fmt.Sprintf("the answer ends after %d bytes, in the middle of its JSON", n)}
}

// refusal is the error of a successful answer that says Booking did not do
// what was asked.
func refusal(op string, status int, ruid, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindMalformedResponse, StatusCode: status, Message: fmt.Sprintf(format, args...),
		RUID: ruid, Outcome: OutcomeFinal}
}

// isHTML reports whether an answer is an HTML page.
func isHTML(h http.Header) bool {
	mediaType, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mediaType == "text/html"
}

// kindOfStatus classifies a non-2xx HTTP status of a messaging call.
func kindOfStatus(code int) Kind {
	switch {
	case code == http.StatusUnauthorized:
		return KindUnauthenticated
	case code == http.StatusForbidden:
		return KindPermissionDenied
	case code == http.StatusNotFound:
		return KindNotFound
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	case code >= 500:
		return KindUnavailable
	case code >= 400:
		return KindInvalidRequest
	default:
		return KindMalformedResponse
	}
}
