package idempotency_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/booking-attachment-gateway/gateway/service/idempotency"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newStore(max int) (*idempotency.Memory, *clock) {
	c := &clock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	return idempotency.NewMemory(idempotency.MemoryOptions{TTL: time.Hour, MaxRecords: max, Now: c.Now}), c
}

func TestClaimFinishRelease(t *testing.T) {
	ctx := context.Background()
	m, _ := newStore(0)
	if _, claimed, err := m.Claim(ctx, "k", "fp"); !claimed || err != nil {
		t.Fatalf("first Claim = %v, %v; want claimed", claimed, err)
	}
	rec, claimed, err := m.Claim(ctx, "k", "other")
	if claimed || err != nil || rec.Done || rec.Fingerprint != "fp" {
		t.Fatalf("Claim of a running key = %+v, %v, %v; want its running record, not claimed", rec, claimed, err)
	}
	if err := m.Finish(ctx, "k", idempotency.Record{Fingerprint: "fp:more", Result: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	rec, claimed, _ = m.Claim(ctx, "k", "fp")
	if claimed || !rec.Done || string(rec.Result) != "r" || rec.Fingerprint != "fp:more" {
		t.Fatalf("Claim of a finished key = %+v, %v; want its finished record", rec, claimed)
	}
	m.Claim(ctx, "free", "fp")
	m.Release(ctx, "free")
	if _, claimed, _ := m.Claim(ctx, "free", "fp2"); !claimed {
		t.Error("Claim of a released key did not claim it")
	}
	// Release does not forget a finished record.
	m.Release(ctx, "k")
	if rec, _, _ := m.Claim(ctx, "k", "fp"); !rec.Done {
		t.Error("Release forgot a finished record")
	}
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	m, _ := newStore(0)
	if _, ok, err := m.Wait(ctx, "none"); ok || err != nil {
		t.Errorf("Wait of an unknown key = %v, %v; want not ok", ok, err)
	}
	m.Claim(ctx, "k", "fp")
	m.Claim(ctx, "r", "fp")
	got := make(chan bool, 2)
	go func() { _, ok, _ := m.Wait(ctx, "k"); got <- ok }()
	go func() { _, ok, _ := m.Wait(ctx, "r"); got <- ok }()
	time.Sleep(10 * time.Millisecond)
	m.Finish(ctx, "k", idempotency.Record{Fingerprint: "fp", Result: []byte("x")})
	m.Release(ctx, "r")
	a, b := <-got, <-got
	if a == b {
		t.Errorf("the waiters got ok %v and %v, want one true (finished) and one false (released)", a, b)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	m.Claim(ctx, "slow", "fp")
	if _, _, err := m.Wait(cctx, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past ctx's deadline = %v, want context.DeadlineExceeded", err)
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	m, c := newStore(0)
	m.Claim(ctx, "k", "fp")
	c.advance(30 * time.Minute)
	m.Finish(ctx, "k", idempotency.Record{Fingerprint: "fp"})
	c.advance(59 * time.Minute) // an hour counts from the finish
	if rec, claimed, _ := m.Claim(ctx, "k", "fp2"); claimed || !rec.Done {
		t.Fatalf("Claim 59 minutes after the finish = %+v, %v; want the record kept", rec, claimed)
	}
	c.advance(2 * time.Minute)
	if _, claimed, _ := m.Claim(ctx, "k", "fp2"); !claimed {
		t.Fatal("Claim over an hour after the finish did not claim the key")
	}
	// A call that runs past the TTL loses its record; its waiters wake.
	m.Claim(ctx, "stuck", "fp")
	c.advance(61 * time.Minute)
	if _, ok, err := m.Wait(ctx, "stuck"); ok || err != nil {
		t.Errorf("Wait of an expired running record = %v, %v; want not ok", ok, err)
	}
}

func TestFull(t *testing.T) {
	ctx := context.Background()
	m, c := newStore(3)
	for _, k := range []string{"a", "b", "c"} {
		m.Claim(ctx, k, "fp")
	}
	if _, _, err := m.Claim(ctx, "d", "fp"); !errors.Is(err, idempotency.ErrFull) {
		t.Fatalf("Claim beyond MaxRecords = %v, want ErrFull", err)
	}
	m.Release(ctx, "a")
	if _, claimed, err := m.Claim(ctx, "d", "fp"); !claimed || err != nil {
		t.Fatalf("Claim after a release = %v, %v; want claimed", claimed, err)
	}
	c.advance(2 * time.Hour)
	if _, claimed, err := m.Claim(ctx, "e", "fp"); !claimed || err != nil {
		t.Fatalf("Claim once the others expired = %v, %v; want claimed", claimed, err)
	}
}
