package service_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine that its tests started (gRPC
// servers and connections, sandboxes over HTTP, the goroutine that receives
// each upload) outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
