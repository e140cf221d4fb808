package bookingapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine that its tests started (token
// exchanges run for waiting callers, HTTP connections to sandboxes)
// outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
