package bookingapi

import "context"

// Memory accounts for the bytes that a Client's uploads and downloads hold,
// so that its owner can bound them across all calls, with its own holdings
// counted in the same place. Its methods must be safe for concurrent use.
type Memory interface {
	// Reserve takes n bytes, waiting for room as long as the Memory allows
	// and ctx lasts; with a ctx that is done already, it takes room only if
	// there is some at once. holding tells that the call holds some of the
	// Memory already, so that it may go before calls that hold none: a call
	// under way that finishes gives its room back. Reserve's error is
	// returned as it is by the call that needed the room.
	Reserve(ctx context.Context, n int64, holding bool) error
	// Release gives back n bytes reserved before.
	Release(n int64)
}

// unbounded is the Memory of a Client configured without one.
type unbounded struct{}

func (unbounded) Reserve(context.Context, int64, bool) error { return nil }
func (unbounded) Release(int64)                              {}

// rangeMemory is what a download range of n bytes holds in memory: its
// bytes, the answer's body (base64 in a small envelope) while it is
// decoded, and the copy that a gRPC message of them makes.
func rangeMemory(n int64) int64 {
	return 2*n + (n+2)/3*4 + 4096
}
