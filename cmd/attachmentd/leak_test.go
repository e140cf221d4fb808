package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a goroutine that its tests started (the
// whole server with its listeners, its sandbox and its clients) outlives
// them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
