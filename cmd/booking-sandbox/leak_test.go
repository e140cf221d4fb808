package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine that its tests started (the
// server, a request held by a fault or by latency, a client's connection)
// outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
