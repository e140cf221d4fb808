package bookingapi

import (
	"context"
	"time"
)

// Observer hears of every HTTP exchange the client has with Booking and of
// every retry, for metrics and logs. Its methods must be safe for
// concurrent use and return quickly. ctx is that of the call the request
// was made for.
type Observer interface {
	// Exchanged reports one finished request, answered or not.
	Exchanged(ctx context.Context, x Exchange)
	// Retried reports that a failed request is sent again, or a chunked
	// upload starts again from start.
	Retried(ctx context.Context, r Retry)
	// NotRetried reports a failure that the request's policy would have
	// retried, but that is returned instead: reason is "budget" when the
	// retry budget shared by all calls is spent (Booking is failing many
	// requests), "retry_after" when Booking asked to wait longer than the
	// retry policy waits or past the deadline.
	NotRetried(ctx context.Context, op, reason string)
}

// Exchange describes one HTTP request to Booking.
type Exchange struct {
	// Op is the call: one of the Op constants.
	Op string
	// Status is the HTTP status, or 0 when no answer arrived.
	Status int
	// RUID is Booking's ruid, or empty.
	RUID string
	// Took is the time from sending the request to reading its answer.
	Took time.Duration
	// Queued is how long the request waited for a slot before it was sent
	// (see Config.MaxInFlight).
	Queued time.Duration
	// NewConnection tells that the request opened a new connection rather
	// than reusing an idle one.
	NewConnection bool
}

// Retry describes a request sent again after a failure.
type Retry struct {
	// Op is the call that failed.
	Op string
	// Outcome is what Booking may have done with the failed request.
	Outcome Outcome
	// Restart tells that a chunked upload starts again from start.
	Restart bool
	// Commit tells that the failed request may have committed an upload:
	// its answer was lost, and the repeat may leave an orphan attachment
	// at Booking that no guest sees.
	Commit bool
}
