// Package idempotency keeps, for each request id a caller gives, what the
// first call with that id did, so that a repeat gets the same answer
// instead of doing the work again. It knows nothing of gRPC: a record's
// result is bytes that its user encodes.
//
// A record goes through three states: claimed (the first call runs),
// finished (its result is kept until the record expires) or released (the
// call failed in a way that may be tried again, and the id is free again).
package idempotency

import (
	"context"
	"errors"
)

// ErrFull is returned by Claim when a store holds as many records as it may
// and none has expired.
var ErrFull = errors.New("idempotency: the store holds as many records as it may")

// Record is what a store keeps for one request id.
type Record struct {
	// Fingerprint identifies the request that claimed the id: a repeat
	// with another fingerprint is another request under the same id.
	// Finish may replace it with one that says more (an upload's digest,
	// known only at its end).
	Fingerprint string
	// Done tells that the call finished; Result is empty until then.
	Done bool
	// Result is the finished call's outcome, as its user encoded it.
	Result []byte
}

// Store keeps records by request id. Its methods are safe for concurrent
// use, also from several processes for a shared store.
type Store interface {
	// Claim starts a call under key with fingerprint, if key has no
	// record: it then returns claimed true, and the caller must Finish or
	// Release key. Otherwise it claims nothing and returns key's record,
	// running or finished. It returns ErrFull when the store has no room.
	Claim(ctx context.Context, key, fingerprint string) (rec Record, claimed bool, err error)
	// Finish keeps the outcome of the call that claimed key until the
	// record expires.
	Finish(ctx context.Context, key string, rec Record) error
	// Release forgets key, whose call failed in a way that may be tried
	// again.
	Release(ctx context.Context, key string) error
	// Wait returns key's record once its call has finished, with ok
	// true; ok is false if key has no record (never claimed, released or
	// expired). It returns ctx's error if ctx ends first.
	Wait(ctx context.Context, key string) (rec Record, ok bool, err error)
}
