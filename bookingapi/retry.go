package bookingapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds the retries of failed requests. Its zero value gives the
// defaults documented on each field.
type RetryPolicy struct {
	// MaxAttempts is how many times one request is sent at most, the first
	// included; for a chunked upload, how many times it may start. 0 means 4.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; each retry doubles it.
	// The actual wait is drawn at random up to it (full jitter). 0 means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff, and also the wait a Retry-After header may
	// impose. 0 means 10s.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	return p
}

// withRetry calls try until it succeeds, fails in a way that is not worth
// retrying, or has failed c.retry.MaxAttempts times, waiting a backoff
// between calls. It returns try's last error, or ctx's error if ctx ends
// during a backoff.
func (c *Client) withRetry(ctx context.Context, op string, try func() error) error {
	var failures int
	return c.retryLoop(ctx, &failures, try, func() { c.observer.Retried(ctx, op) })
}

// retryLoop is withRetry for an operation whose failures are counted across
// several calls: *failures holds the failed tries so far, so that a chunked
// upload has one budget of restarts however often it resumes. It calls
// beforeRetry before each new try.
func (c *Client) retryLoop(ctx context.Context, failures *int, try func() error, beforeRetry func()) error {
	for {
		err := try()
		var e *Error
		if err == nil || !errors.As(err, &e) || !e.retryable() {
			return err
		}
		*failures++
		if *failures >= c.retry.MaxAttempts {
			return err
		}
		if sleep(ctx, c.retry.backoff(*failures, e.RetryAfter)) != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err // the deadline falls before the retry: Booking's answer says more
		}
		beforeRetry()
	}
}

// backoff is the wait before retry number retry (1 for the first retry):
// a random duration up to BaseDelay·2^(retry-1), capped by MaxDelay, but never
// less than what Booking asked for in Retry-After (itself capped by MaxDelay).
func (p RetryPolicy) backoff(retry int, retryAfter time.Duration) time.Duration {
	ceiling := p.MaxDelay
	if shift := retry - 1; shift < 62 && p.BaseDelay <= p.MaxDelay>>shift {
		ceiling = p.BaseDelay << shift
	}
	wait := rand.N(ceiling + 1)
	return max(wait, min(retryAfter, p.MaxDelay))
}

// sleep waits for d or until ctx is done, whichever comes first. It gives up
// at once when ctx's deadline falls before the wait would end.
func sleep(ctx context.Context, d time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil && secs > 0 {
		const maxSeconds = 24 * 60 * 60 // a day: any longer is as good as never
		return time.Duration(min(secs, maxSeconds)) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
