package bookingapi

import "sync"

// retryBudget is the retry allowance that all calls of a Client share, as
// gRPC's retry throttling keeps one per server (gRFC A6): failures worth
// retrying take a token, successes give back a fraction of one, and retries
// are allowed only while more than half the tokens remain. Safe for
// concurrent use.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	ratio  float64
}

func newRetryBudget(tokens, ratio float64) *retryBudget {
	return &retryBudget{tokens: tokens, max: tokens, ratio: ratio}
}

// failed counts a request that failed in a way worth retrying.
func (b *retryBudget) failed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = max(0, b.tokens-1)
}

// succeeded counts a request that Booking answered with success.
func (b *retryBudget) succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.max, b.tokens+b.ratio)
}

// allows reports whether a failed request may be sent again now.
func (b *retryBudget) allows() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens > b.max/2
}
