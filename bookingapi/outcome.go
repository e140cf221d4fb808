package bookingapi

import "net/http"

// Outcome tells what Booking may have done with a request that failed. It
// decides whether the request may be sent again: see [Error.Outcome].
type Outcome int

// The outcomes of a failed request.
const (
	// OutcomeFinal: Booking answered and did not do what was asked (a 4xx,
	// or an answer that says ok: false). Sending the same request again
	// would get the same answer.
	OutcomeFinal Outcome = iota
	// OutcomeNotSent: the request never reached Booking: the connection
	// could not be made, or failed before the request was written, or the
	// request waited in vain for a free slot (see Config.MaxInFlight).
	OutcomeNotSent
	// OutcomeRefused: Booking answered that it did not process the request
	// for now: 429 Too Many Requests, 503 Service Unavailable or 507
	// Insufficient Storage.
	OutcomeRefused
	// OutcomeMaybeProcessed: the request was written, but its answer was
	// lost or useless: a timeout, a connection closed or reset after the
	// request was written, an answer cut off mid-read, a 500, 502 or 504
	// (a proxy's answer, or Booking failing halfway), or a successful
	// status whose body cannot be read. Booking may or may not have done
	// the work.
	OutcomeMaybeProcessed
)

// String names the outcome as metrics label it.
func (o Outcome) String() string {
	switch o {
	case OutcomeNotSent:
		return "not_sent"
	case OutcomeRefused:
		return "refused"
	case OutcomeMaybeProcessed:
		return "maybe_processed"
	default:
		return "final"
	}
}

// outcomeOfStatus classifies a non-2xx answer other than 401, which the
// client handles itself.
func outcomeOfStatus(code int) Outcome {
	switch {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable, code == http.StatusInsufficientStorage:
		return OutcomeRefused
	case code >= 500:
		return OutcomeMaybeProcessed
	default:
		return OutcomeFinal
	}
}

// resend says after which failures a request may be sent again. It is a
// property of the request, fixed by what a repeat could do at Booking.
type resend int

const (
	// resendSafe: repeating has no effect anyone sees: GETs, the token
	// exchange, and the chunks that do not commit an upload (start,
	// resume). Sent again after not sent, refused and maybe processed.
	resendSafe resend = iota
	// resendCommit: the request commits an upload (the single POST,
	// finish). No endpoint lists a conversation's attachments, so an
	// attachment whose answer was lost can never be found again; sending
	// again is still right, since the lost one is an orphan that no guest
	// sees until a message references it. Sent again after the same
	// failures as resendSafe, but a repeat after maybe processed is counted
	// and logged.
	resendCommit
	// resendUnlessProcessed: a repeat could be seen by a guest (a message
	// post). Sent again only when Booking certainly did not process it:
	// not sent, or refused.
	resendUnlessProcessed
)

// allows reports whether a request with this policy may be sent again
// after a failure with outcome o.
func (p resend) allows(o Outcome) bool {
	switch o {
	case OutcomeNotSent, OutcomeRefused:
		return true
	case OutcomeMaybeProcessed:
		return p != resendUnlessProcessed
	default:
		return false
	}
}
