package service

import (
	"errors"
	"io"
	"sync/atomic"
)

// uploadBudget bounds the file bytes that running uploads hold: each holds
// its file until Booking has it all, so that it can start again after a
// failed chunk. Safe for concurrent use.
type uploadBudget struct {
	limit   int64 // 0: no limit
	held    atomic.Int64
	metrics Metrics
}

// errBudgetFull reports that an upload's next bytes do not fit in the
// budget.
var errBudgetFull = errors.New("service: the upload memory budget is full")

// reserve takes n bytes of the budget, or reports that they are not free.
func (b *uploadBudget) reserve(n int64) bool {
	for {
		held := b.held.Load()
		if b.limit != 0 && held+n > b.limit {
			return false
		}
		if b.held.CompareAndSwap(held, held+n) {
			b.metrics.UploadBytesHeld(n)
			return true
		}
	}
}

func (b *uploadBudget) release(n int64) {
	b.held.Add(-n)
	b.metrics.UploadBytesHeld(-n)
}

// budgetedWriter passes bytes on once the budget holds room for them, and
// fails with errBudgetFull when it does not. Bytes are reserved as they
// arrive, never ahead of them, so that a stream that declares a large size
// and then stalls holds no more than it sent. The upload gives back what it
// reserved when it ends.
type budgetedWriter struct {
	budget   *uploadBudget
	w        io.Writer
	reserved int64
}

func (b *budgetedWriter) Write(p []byte) (int, error) {
	if !b.budget.reserve(int64(len(p))) {
		return 0, errBudgetFull
	}
	b.reserved += int64(len(p))
	return b.w.Write(p)
}

// release gives back everything reserved.
func (b *budgetedWriter) release() { b.budget.release(b.reserved) }
