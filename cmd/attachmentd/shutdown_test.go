package main

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// On SIGTERM: NOT_SERVING at once while calls are still served for the
// drain delay; then no new calls, while a slow upload that was running
// finishes; then run returns nil.
func TestShutdownDrainsThenLetsRunningCallsFinish(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--drain-delay", "2s", "--shutdown-timeout", "20s")
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)

	content := pngBytes(2_500_000)
	stream := beginUpload(t, context.Background(), conn, "slow.png", len(content), content[:1_200_000])

	inst.stop() // what SIGTERM does to main's context
	inst.logs.waitFor(t, "shutting down: NOT_SERVING")
	if got := healthOf(t, conn, ""); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("readiness during the drain delay = %v, want NOT_SERVING", got)
	}
	if got := healthOf(t, conn, "liveness"); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("liveness during the drain delay = %v, want SERVING", got)
	}
	// Still serving new calls while the mesh catches up.
	if _, err := upload(context.Background(), conn, "during-drain.png", pngBytes(100)); err != nil {
		t.Errorf("a call during the drain delay failed: %v", err)
	}

	inst.logs.waitFor(t, "no new calls")
	fresh := dial(t, inst.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := upload(ctx, fresh, "too-late.png", pngBytes(100)); status.Code(err) != codes.Unavailable && status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a new call after the drain = %v, want it refused", err)
	}

	time.Sleep(200 * time.Millisecond) // the upload is slow
	if err := sendData(stream, content[1_200_000:]); err != nil {
		t.Fatalf("the running upload was cut off: %v", err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("the running upload failed: %v", err)
	}
	if resp.GetInfo().GetFileSize() != int64(len(content)) {
		t.Errorf("upload info %v", resp.GetInfo())
	}
	select {
	case err := <-inst.done:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		inst.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the last call finished")
	}
	inst.logs.waitFor(t, "stopped: every call finished")
}

// A call still running at the shutdown timeout is cancelled, and run
// returns all the same.
func TestShutdownTimeoutStopsStuckCalls(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--shutdown-timeout", "300ms")
	conn := inst.client(t)
	stream := beginUpload(t, context.Background(), conn, "stuck.png", 0, pngBytes(100))
	inst.stop()
	select {
	case err := <-inst.done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
		inst.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return at the shutdown timeout")
	}
	inst.logs.waitFor(t, "calls still running at the shutdown timeout were cancelled")
	if _, err := stream.CloseAndRecv(); err == nil {
		t.Error("the stuck upload succeeded after a hard stop")
	}
}
