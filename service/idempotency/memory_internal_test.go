package idempotency

import (
	"context"
	"testing"
)

// TestManyReleases claims and releases one key over and over: the list of
// expiries stays bounded, though none of its entries has expired.
func TestManyReleases(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{MaxRecords: 2})
	for range 100_000 {
		if _, claimed, err := m.Claim(ctx, "k", "fp"); !claimed || err != nil {
			t.Fatalf("Claim = %v, %v", claimed, err)
		}
		m.Release(ctx, "k")
	}
	if n := len(m.expiries); n > 100 {
		t.Errorf("after 100,000 claims released, %d expiries are listed, want a few", n)
	}
}
