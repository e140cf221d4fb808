package sandbox_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine that its tests started (a
// handler held by a Hang or Delay fault, a connection) outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
