// Package membudget bounds the memory that the gateway's calls hold
// together: uploads' files, request bodies, download ranges, messages. A
// call reserves bytes before it holds them and releases them after. One
// that does not fit waits for room for a bounded time within its deadline:
// calls that hold nothing yet wait in turn, first come first served, and a
// call that already holds memory and needs more goes before them, so that
// calls under way finish and give back their room rather than wait behind
// calls that cannot start.
package membudget

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrFull is the error of a reservation for which no room came in time.
var ErrFull = errors.New("membudget: no room in the memory budget")

// Budget is a bound on the bytes reserved at once. Its methods are safe for
// concurrent use. It is a bookingapi.Memory.
type Budget struct {
	limit int64 // 0: no bound, only a count
	wait  time.Duration

	mu      sync.Mutex
	held    int64
	waiters list.List // of *waiter: those that hold memory first, then the rest in turn
	growers int       // waiters at the front that hold memory
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when its bytes are reserved
}

// New returns a Budget of limit bytes (0: no bound) whose reservations wait
// at most wait for room.
func New(limit int64, wait time.Duration) *Budget {
	return &Budget{limit: limit, wait: wait}
}

// Reserve takes n bytes for a call, waiting for room at most the Budget's
// wait, and less if ctx ends sooner. holding tells that the call holds some
// of the budget already: it then goes before the calls that wait to start.
// Reserve returns ErrFull if no room came in time (at once for more than
// the whole budget), or ctx's error if ctx ended.
func (b *Budget) Reserve(ctx context.Context, n int64, holding bool) error {
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	if b.limit == 0 || b.held+n <= b.limit && (b.waiters.Len() == 0 || holding && b.growers == 0) {
		b.held += n
		b.mu.Unlock()
		return nil
	}
	if n > b.limit {
		b.mu.Unlock()
		return ErrFull
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	var elem *list.Element
	if holding {
		elem = b.insertGrower(w)
	} else {
		elem = b.waiters.PushBack(w)
	}
	b.mu.Unlock()

	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = ErrFull
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		return nil // reserved while giving up: keep it
	default:
	}
	if holding {
		b.growers--
	}
	b.waiters.Remove(elem)
	b.wake() // the next in line may fit now
	return err
}

// insertGrower queues w after the other waiters that hold memory. b.mu must
// be held.
func (b *Budget) insertGrower(w *waiter) *list.Element {
	b.growers++
	e := b.waiters.Front()
	for i := 1; i < b.growers && e != nil; i++ {
		e = e.Next()
	}
	if e == nil {
		return b.waiters.PushBack(w)
	}
	return b.waiters.InsertBefore(w, e)
}

// Release gives back n bytes reserved before, and wakes the waiters that
// fit now, in their order.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held -= n
	b.wake()
}

// wake reserves for the waiters at the front as long as they fit. b.mu
// must be held.
func (b *Budget) wake() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*waiter)
		if b.held+w.n > b.limit {
			return
		}
		b.held += w.n
		b.waiters.Remove(e)
		if b.growers > 0 {
			b.growers--
		}
		close(w.ready)
	}
}

// Held returns the bytes reserved now.
func (b *Budget) Held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held
}

// Limit returns the budget's bound, 0 for none.
func (b *Budget) Limit() int64 { return b.limit }
