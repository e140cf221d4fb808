package membudget_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/booking-attachment-gateway/gateway/service/membudget"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// reserveLater starts a reservation and returns where its result will be.
func reserveLater(b *membudget.Budget, ctx context.Context, n int64, holding bool) <-chan error {
	done := make(chan error, 1)
	go func() { done <- b.Reserve(ctx, n, holding) }()
	return done
}

// pending fails the test if a reservation has ended.
func pending(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s ended (%v) while it should wait", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

func result(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not end", what)
		return nil
	}
}

func TestReserveAndRelease(t *testing.T) {
	ctx := context.Background()
	b := membudget.New(100, time.Minute)
	if err := b.Reserve(ctx, 60, false); err != nil || b.Held() != 60 {
		t.Fatalf("Reserve(60) = %v, held %d", err, b.Held())
	}
	if err := b.Reserve(ctx, 101, false); !errors.Is(err, membudget.ErrFull) {
		t.Errorf("Reserve of more than the budget = %v, want ErrFull at once", err)
	}
	// A reservation that does not fit waits, and gets its room on release.
	waiting := reserveLater(b, ctx, 50, false)
	pending(t, "Reserve(50) with 40 free", waiting)
	b.Release(60)
	if err := result(t, "Reserve(50)", waiting); err != nil || b.Held() != 50 {
		t.Errorf("Reserve(50) after the release = %v, held %d; want nil, 50", err, b.Held())
	}
	b.Release(50)
	if b.Held() != 0 {
		t.Errorf("held %d after every release, want 0", b.Held())
	}
	// Without a bound, Reserve only counts.
	free := membudget.New(0, time.Minute)
	if err := free.Reserve(ctx, 1<<40, false); err != nil || free.Held() != 1<<40 {
		t.Errorf("an unbounded Reserve = %v, held %d", err, free.Held())
	}
}

func TestWaitIsBounded(t *testing.T) {
	b := membudget.New(100, 100*time.Millisecond)
	b.Reserve(context.Background(), 100, false)
	start := time.Now()
	if err := b.Reserve(context.Background(), 1, false); !errors.Is(err, membudget.ErrFull) {
		t.Errorf("Reserve with no room = %v, want ErrFull after the wait", err)
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("Reserve gave up after %v, want the wait of 100ms", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Reserve(ctx, 1, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Reserve with no room and a done ctx = %v, want ctx's error", err)
	}
	b.Release(100)
	if err := b.Reserve(ctx, 1, false); err != nil {
		t.Errorf("Reserve with room and a done ctx = %v, want the room taken at once", err)
	}
}

// TestOrder checks that waiters get room in turn, and that a call that
// holds memory goes before calls waiting to start, so that calls under way
// finish first.
func TestOrder(t *testing.T) {
	ctx := context.Background()
	b := membudget.New(100, time.Minute)
	b.Reserve(ctx, 90, false)
	big := reserveLater(b, ctx, 60, false)
	pending(t, "a call waiting to start", big)
	small := reserveLater(b, ctx, 5, false)
	pending(t, "a later call waiting to start, though it would fit", small)
	grow := reserveLater(b, ctx, 8, true)
	if err := result(t, "a holder's reservation that fits", grow); err != nil {
		t.Fatalf("a holder's reservation that fits = %v, want it before the queue", err)
	}
	grow = reserveLater(b, ctx, 30, true)
	pending(t, "a holder's reservation that does not fit", grow)
	b.Release(40) // 58 held: the holder's 30 fits first, then not the big 60
	if err := result(t, "the holder's reservation", grow); err != nil {
		t.Fatal(err)
	}
	pending(t, "the call waiting to start", big)
	b.Release(88)
	for _, done := range []<-chan error{big, small} {
		if err := result(t, "a waiting call", done); err != nil {
			t.Fatal(err)
		}
	}
	if b.Held() != 65 {
		t.Errorf("held %d, want 65", b.Held())
	}
}

// TestConcurrentUse reserves and releases from many goroutines: the bound
// is never passed and everything comes back.
func TestConcurrentUse(t *testing.T) {
	b := membudget.New(1000, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxHeld := int64(0)
	for i := range 50 {
		wg.Go(func() {
			for range 100 {
				n := int64(10 + i*7%300)
				if err := b.Reserve(context.Background(), n, i%3 == 0); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				maxHeld = max(maxHeld, b.Held())
				mu.Unlock()
				b.Release(n)
			}
		})
	}
	wg.Wait()
	if maxHeld > 1000 || b.Held() != 0 {
		t.Errorf("held at most %d of 1000, and %d at the end; want within the bound, and 0", maxHeld, b.Held())
	}
}
