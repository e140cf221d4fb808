package bookingapi

import (
	"context"
	"errors"
	"fmt"
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
	// MaxDelay caps the backoff, and is the longest wait a Retry-After header
	// may impose: a request whose answer asks for longer is not sent again,
	// and its error carries the wait Booking asked for. 0 means 10s.
	MaxDelay time.Duration
	// BudgetTokens and BudgetRatio set the retry budget that all calls of a
	// Client share, in the manner of gRPC's retry throttling: the budget
	// starts with BudgetTokens tokens, each request that fails in a way
	// worth retrying takes one, each success gives BudgetRatio back, and
	// retries are sent only while more than half the tokens remain. So
	// during an outage of Booking the requests it receives stay close to
	// the calls made, and retries resume as successes refill the budget.
	// 0 means 10 tokens and a ratio of 0.1.
	BudgetTokens float64
	BudgetRatio  float64
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
	if p.BudgetTokens <= 0 {
		p.BudgetTokens = 10
	}
	if p.BudgetRatio <= 0 {
		p.BudgetRatio = 0.1
	}
	return p
}

// retryState is one operation's account of its tries, which may span
// several calls of retryLoop: a chunked upload has one count of starts
// however often it resumes.
type retryState struct {
	tries    int  // the tries so far
	failures int  // the failed tries worth retrying so far
	restarts bool // a retry starts a chunked upload again from start
	// ruids are those of the operation's answers so far, for the warning
	// logged when a commit is sent again.
	ruids []string
}

// noteRUID keeps the ruid of one of the operation's answers.
func (st *retryState) noteRUID(ruid string) {
	if ruid != "" {
		st.ruids = append(st.ruids, ruid)
	}
}

// retryLoop calls try until it succeeds, fails in a way that its request's
// policy does not retry, or has failed c.retry.MaxAttempts times, waiting a
// backoff between calls. The whole is bounded by c.requestTimeout, unless
// ctx ends sooner; try gets the bounded context.
//
// It returns try's last error, its Attempts set, or ctx's error if the
// caller's ctx ends during a backoff. A failure is returned at once, and
// not retried, when Booking's Retry-After asks for a longer wait than
// c.retry.MaxDelay or than the deadline leaves, or when the retry budget
// shared by all calls is spent.
func (c *Client) retryLoop(ctx context.Context, st *retryState, try func(ctx context.Context) error) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	for {
		st.tries++
		err := try(ctx)
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		e.Attempts = st.tries
		if !e.retryable() {
			return err
		}
		st.failures++
		if st.failures >= c.retry.MaxAttempts {
			return err
		}
		wait := c.retry.backoff(st.failures, e.RetryAfter)
		deadline, hasDeadline := ctx.Deadline()
		switch {
		case e.RetryAfter > c.retry.MaxDelay:
			e.Message += fmt.Sprintf("; Booking asked to wait %v before trying again, longer than the gateway waits", e.RetryAfter)
			c.observer.NotRetried(ctx, e.Op, "retry_after")
			return err
		case hasDeadline && time.Until(deadline) < wait && e.RetryAfter > 0:
			e.Message += fmt.Sprintf("; Booking asked to wait %v before trying again, past the deadline", e.RetryAfter)
			c.observer.NotRetried(ctx, e.Op, "retry_after")
			return err
		case hasDeadline && time.Until(deadline) < wait:
			return err // the deadline falls before the retry: Booking's answer says more
		case !c.budget.allows():
			c.observer.NotRetried(ctx, e.Op, "budget")
			return err
		}
		commit := e.resend == resendCommit && e.Outcome == OutcomeMaybeProcessed
		if commit {
			st.noteRUID(e.RUID)
			c.log.WarnContext(ctx, "bookingapi: sending a commit again after its answer was lost; "+
				"Booking may keep an orphan attachment that no guest sees",
				"call", e.Op, "error", e.Error(), "ruids", st.ruids)
		}
		if err := sleep(ctx, wait); err != nil {
			if callerEnded(ctx) {
				return ctx.Err()
			}
			return e // the request timeout passed: Booking's answer says more
		}
		c.observer.Retried(ctx, Retry{Op: e.Op, Outcome: e.Outcome, Restart: st.restarts, Commit: commit})
	}
}

// bound returns ctx limited to c.requestTimeout, unless its own deadline
// comes sooner.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= c.requestTimeout {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, c.requestTimeout, errRequestTimeout)
}

// backoff is the wait before retry number retry (1 for the first retry):
// a random duration up to BaseDelay·2^(retry-1), capped by MaxDelay, but never
// less than what Booking asked for in Retry-After.
func (p RetryPolicy) backoff(retry int, retryAfter time.Duration) time.Duration {
	ceiling := p.MaxDelay
	if shift := retry - 1; shift < 62 && p.BaseDelay <= p.MaxDelay>>shift {
		ceiling = p.BaseDelay << shift
	}
	return max(rand.N(ceiling+1), retryAfter)
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
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
