package service

import (
	"io"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// uploadBudget bounds the file bytes that running uploads hold: each holds
// its file until Booking has it all, so that it can start again after a
// failed chunk. Safe for concurrent use.
type uploadBudget struct {
	limit   int64 // 0: no limit
	held    atomic.Int64
	metrics Metrics
}

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

// errBudget is the status of an upload refused for want of memory: the
// client may try again shortly, or on another replica.
var errBudget = status.Error(codes.ResourceExhausted,
	"the gateway holds as many upload bytes as it may (see --max-upload-memory); try again shortly")

// budgetedWriter passes bytes on once the budget holds room for them. The
// upload gives back what it reserved when it ends.
type budgetedWriter struct {
	budget   *uploadBudget
	w        io.Writer
	written  int64
	reserved int64 // at least written
}

// reserveUpTo makes sure that total bytes are reserved.
func (b *budgetedWriter) reserveUpTo(total int64) error {
	if extra := total - b.reserved; extra > 0 {
		if !b.budget.reserve(extra) {
			return errBudget
		}
		b.reserved = total
	}
	return nil
}

func (b *budgetedWriter) Write(p []byte) (int, error) {
	if err := b.reserveUpTo(b.written + int64(len(p))); err != nil {
		return 0, err
	}
	n, err := b.w.Write(p)
	b.written += int64(n)
	return n, err
}

// release gives back everything reserved.
func (b *budgetedWriter) release() { b.budget.release(b.reserved) }
