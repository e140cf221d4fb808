package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func TestRunWithoutCredentialsExitsAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), nil, func(string) string { return "" }, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "BOOKING_CLIENT_ID") || !strings.Contains(err.Error(), "--sandbox") {
		t.Fatalf("run without credentials = %v, want an error naming the variables and --sandbox", err)
	}
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "attachmentd dev\n" {
		t.Errorf("--version printed %q", got)
	}
	out, err := exec.Command(binary(t), "--version").Output()
	if err != nil || string(out) != "attachmentd test-1.2.3\n" {
		t.Errorf("built binary --version = %q, %v; want the version set at build time", out, err)
	}
}

func TestServesHealthReflectionAndTheService(t *testing.T) {
	inst := start(t, nil, "--sandbox")
	if line := inst.logs.waitFor(t, "sandbox"); line["level"] != "WARN" {
		t.Errorf("the sandbox is announced at level %v, want WARN", line["level"])
	}
	if line := inst.logs.waitFor(t, "attachmentd is serving"); line["version"] != "dev" {
		t.Errorf("start-up line %v has no version", line)
	}
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)
	waitHealth(t, conn, "attachments.v1.AttachmentService", healthpb.HealthCheckResponse_SERVING)
	waitHealth(t, conn, "liveness", healthpb.HealthCheckResponse_SERVING)

	services := listServices(t, conn)
	for _, want := range []string{"attachments.v1.AttachmentService", "grpc.health.v1.Health"} {
		if !strings.Contains(services, want) {
			t.Errorf("reflection lists %s, want %s among them", services, want)
		}
	}
	content := pngBytes(1000)
	resp, err := upload(context.Background(), conn, "a.png", content)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, err := download(context.Background(), conn, resp.GetAttachmentId())
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("download: %d bytes, %v; want the %d uploaded", len(got), err, len(content))
	}
	// One log line per call, none for health checks.
	line := inst.logs.waitFor(t, "finished call", "grpc.method", "UploadAttachment")
	if line["grpc.code"] != "OK" || line["property_id"] != float64(1) || line["attachment_id"] != resp.GetAttachmentId() {
		t.Errorf("upload log line = %v, want code OK, property 1 and the attachment id", line)
	}
	if in, _ := line["bytes_in"].(float64); in < 1000 {
		t.Errorf("upload log line has bytes_in %v, want at least the file's 1000", line["bytes_in"])
	}
	line = inst.logs.waitFor(t, "finished call", "grpc.method", "DownloadAttachment")
	if out, _ := line["bytes_out"].(float64); out < 1000 {
		t.Errorf("download log line has bytes_out %v, want at least 1000", line["bytes_out"])
	}
	if n := inst.logs.count("finished call", "grpc.method", "UploadAttachment"); n != 1 {
		t.Errorf("%d log lines for one upload, want 1", n)
	}
	if n := inst.logs.count("finished call", "grpc.service", "grpc.health.v1.Health"); n != 0 {
		t.Errorf("%d log lines for health checks, want none", n)
	}
}

// Readiness waits for Booking to accept the credentials, and then stays
// SERVING while Booking is down.
func TestReadiness(t *testing.T) {
	t.Run("credentials refused", func(t *testing.T) {
		_, env := sandboxEnv(t, "wrong-secret", nil)
		inst := start(t, env)
		line := inst.logs.waitFor(t, "did not accept the credentials")
		if strings.Contains(inst.logs.String(), "wrong-secret") {
			t.Errorf("the secret appears in the logs")
		}
		if line["level"] != "WARN" {
			t.Errorf("refused credentials logged at %v, want WARN", line["level"])
		}
		conn := inst.client(t)
		if got := healthOf(t, conn, ""); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("readiness = %v with refused credentials, want NOT_SERVING", got)
		}
		if got := healthOf(t, conn, "liveness"); got != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("liveness = %v, want SERVING", got)
		}
	})
	t.Run("Booking down after start", func(t *testing.T) {
		sb, env := sandboxEnv(t, "right-secret", nil)
		inst := start(t, env)
		conn := inst.client(t)
		waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)
		if n := sb.TokenExchanges(); n != 1 {
			t.Errorf("%d token exchanges at start-up, want 1", n)
		}
		sb.InjectFault(sandboxFault503)
		_, err := attachmentsv1.NewAttachmentServiceClient(conn).GetAttachmentInfo(context.Background(),
			&attachmentsv1.GetAttachmentInfoRequest{PropertyId: 1, ConversationId: "c1", AttachmentId: "a1"})
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("info while Booking is down: %v, want UNAVAILABLE", err)
		}
		if got := healthOf(t, conn, ""); got != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("readiness = %v while Booking is down, want SERVING", got)
		}
	})
}

// A failed call's log line carries Booking's ruid, the ids, and never the
// secret or a token.
func TestLogLineOfAFailedBookingCall(t *testing.T) {
	sb, env := sandboxEnv(t, "right-secret", nil)
	inst := start(t, env)
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)
	_, err := attachmentsv1.NewAttachmentServiceClient(conn).GetAttachmentInfo(context.Background(),
		&attachmentsv1.GetAttachmentInfoRequest{PropertyId: 1, ConversationId: "c1", AttachmentId: "missing"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("info of a missing attachment: %v, want NOT_FOUND", err)
	}
	var ruid string
	for _, r := range sb.Requests() {
		if r.Endpoint == "file_info" {
			ruid = r.RUID
		}
	}
	line := inst.logs.waitFor(t, "finished call", "grpc.method", "GetAttachmentInfo")
	ruids, _ := line["booking_ruids"].([]any)
	if len(ruids) != 1 || ruids[0] != ruid || !strings.Contains(line["grpc.error"].(string), ruid) {
		t.Errorf("log line %v, want booking_ruids [%s] and the ruid in grpc.error", line, ruid)
	}
	if line["grpc.code"] != "NotFound" || line["attachment_id"] != "missing" || line["property_id"] != float64(1) {
		t.Errorf("log line %v, want NotFound with the ids", line)
	}
	logs := inst.logs.String()
	if strings.Contains(logs, "right-secret") || strings.Contains(strings.ToLower(logs), "bearer") {
		t.Errorf("the logs hold a secret or a token:\n%s", logs)
	}
}

func TestTextLogFormat(t *testing.T) {
	inst := start(t, nil, "--sandbox", "--log-format", "text")
	if !strings.Contains(inst.logs.String(), `level=INFO msg="attachmentd is serving"`) {
		t.Errorf("text log = %q", inst.logs.String())
	}
}

func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachmentd.sock")
	// A socket left behind by a crashed run is replaced.
	stale, err := netListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	inst := start(t, nil, "--sandbox", "--listen", "unix://"+path)
	if inst.addr != "unix://"+path {
		t.Fatalf("serving at %q, want unix://%s", inst.addr, path)
	}
	conn := dial(t, "unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)
	if _, err := upload(context.Background(), conn, "u.png", pngBytes(100)); err != nil {
		t.Fatalf("upload over the unix socket: %v", err)
	}
}

// The built binary exits 0 on SIGTERM.
func TestBinaryExitsCleanlyOnSIGTERM(t *testing.T) {
	cmd := exec.Command(binary(t), "--sandbox", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--drain-delay", "100ms")
	logs := &lines{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "attachmentd is serving")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("attachmentd exited with %v after SIGTERM, want 0\n%s", err, logs.String())
	}
	logs.waitFor(t, "stopped: every call finished")
}

func TestBinaryWithoutCredentialsExits2(t *testing.T) {
	cmd := exec.Command(binary(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2", err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "attachmentd: BOOKING_CLIENT_ID") || strings.Count(got, "\n") != 0 {
		t.Errorf("output %q, want one line naming the missing variables", got)
	}
}

// grpc-health-probe, what Kubernetes' exec probes and many meshes run,
// sees the same statuses as the standard health client.
func TestGRPCHealthProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds grpc-health-probe")
	}
	inst := start(t, nil, "--sandbox")
	waitHealth(t, inst.client(t), "", healthpb.HealthCheckResponse_SERVING)
	probe := func(args ...string) (string, error) {
		cmd := exec.Command("go", append([]string{"tool", "-modfile=../../tools/go.mod", "grpc-health-probe", "-addr=" + inst.addr}, args...)...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := probe(); err != nil || !strings.Contains(out, "SERVING") {
		t.Errorf("grpc-health-probe = %q, %v; want SERVING", out, err)
	}
	if out, err := probe("-service=liveness"); err != nil {
		t.Errorf("grpc-health-probe -service=liveness = %q, %v", out, err)
	}
	if out, err := probe("-service=no.such.Service"); err == nil {
		t.Errorf("grpc-health-probe of an unknown service = %q, want a failure", out)
	}
}
