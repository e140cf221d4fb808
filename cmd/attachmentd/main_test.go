package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func TestRunWithoutCredentialsExitsAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), nil, func(string) string { return "" }, &stderr)
	if err == nil || !strings.Contains(err.Error(), "BOOKING_CLIENT_ID") || !strings.Contains(err.Error(), "--sandbox") {
		t.Fatalf("run without credentials = %v, want an error naming the variables and --sandbox", err)
	}
}

// server is attachmentd started by run, as main starts it.
type server struct {
	addr   string
	stop   context.CancelFunc
	done   chan error
	logs   *lines
	client *grpc.ClientConn
}

// startServer runs the server in sandbox mode on a loopback port and waits
// until it serves.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	logs := &lines{}
	s := &server{stop: stop, done: make(chan error, 1), logs: logs}
	args = append([]string{"--sandbox", "--listen", "127.0.0.1:0"}, args...)
	go func() { s.done <- run(ctx, args, func(string) string { return "" }, logs) }()
	t.Cleanup(func() {
		stop()
		<-s.done
	})
	line := logs.waitFor(t, "attachmentd is serving")
	s.addr, _ = line["listen"].(string)
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.client = conn
	return s
}

func TestServesHealthReflectionAndTheService(t *testing.T) {
	s := startServer(t)
	if line := s.logs.waitFor(t, "sandbox"); line["level"] != "WARN" {
		t.Errorf("the sandbox is announced at level %v, want WARN", line["level"])
	}

	health, err := healthpb.NewHealthClient(s.client).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || health.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", health, err)
	}

	services := listServices(t, s.client)
	for _, want := range []string{"attachments.v1.AttachmentService", "grpc.health.v1.Health"} {
		if !strings.Contains(services, want) {
			t.Errorf("reflection lists %s, want %s among them", services, want)
		}
	}

	client := attachmentsv1.NewAttachmentServiceClient(s.client)
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, bytes.Repeat([]byte{7}, 1000)...)
	stream, err := client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{
		Metadata: &attachmentsv1.UploadMetadata{PropertyId: 1, ConversationId: "c1", FileName: "a.png"}}})
	stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: png}})
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	_, err = client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: 1, ConversationId: "c1", AttachmentId: "missing"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("info of a missing attachment: %v, want NOT_FOUND", err)
	}

	// One log line per call, with its method and code.
	upload := s.logs.waitFor(t, "finished call", "grpc.method", "UploadAttachment")
	if upload["grpc.code"] != "OK" {
		t.Errorf("upload log line = %v, want grpc.code OK", upload)
	}
	info := s.logs.waitFor(t, "finished call", "grpc.method", "GetAttachmentInfo")
	if info["grpc.code"] != "NotFound" || !strings.Contains(info["grpc.error"].(string), "ruid") {
		t.Errorf("info log line = %v, want NotFound with Booking's ruid", info)
	}
	if n := s.logs.count("finished call", "grpc.method", "UploadAttachment"); n != 1 {
		t.Errorf("%d log lines for one upload, want 1", n)
	}
	if resp.GetAttachmentId() == "" {
		t.Error("no attachment id")
	}
}

// After the shutdown signal, health reports NOT_SERVING, a running upload
// still completes, and run returns nil.
func TestShutdownLetsRunningCallsFinish(t *testing.T) {
	s := startServer(t)
	client := attachmentsv1.NewAttachmentServiceClient(s.client)
	stream, err := client.UploadAttachment(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, bytes.Repeat([]byte{1}, 500_000)...)
	stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{
		Metadata: &attachmentsv1.UploadMetadata{PropertyId: 1, ConversationId: "c1", FileName: "late.png"}}})
	stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: png[:1000]}})

	s.stop()
	s.logs.waitFor(t, "shutting down")

	if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: png[1000:]}}); err != nil {
		t.Fatalf("send after shutdown began: %v", err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatalf("the running upload failed: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the last call finished")
	}
	s.logs.waitFor(t, "stopped: every call finished")
}

// The built binary exits 0 on SIGTERM.
func TestBinaryExitsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "attachmentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--sandbox", "--listen", "127.0.0.1:0")
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
		t.Fatalf("attachmentd exited with %v after SIGTERM, want 0", err)
	}
	logs.waitFor(t, "stopped: every call finished")
}

func TestBinaryWithoutCredentialsExits2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "attachmentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
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

func listServices(t *testing.T, conn *grpc.ClientConn) string {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	err = stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return strings.Join(names, ",")
}

// lines collects JSON log lines written to it.
type lines struct {
	mu      sync.Mutex
	partial bytes.Buffer
	parsed  []map[string]any
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial.Write(p)
	for {
		line, err := l.partial.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			l.partial.Write(line) // keep the unfinished line
			return len(p), nil
		}
		var m map[string]any
		if json.Unmarshal(line, &m) != nil {
			m = map[string]any{"msg": string(line)}
		}
		l.parsed = append(l.parsed, m)
	}
}

// match returns the lines whose msg contains msg and that have the given
// key/value pairs.
func (l *lines) match(msg string, kv ...string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, m := range l.parsed {
		text, _ := m["msg"].(string)
		ok := strings.Contains(text, msg)
		for i := 0; ok && i+1 < len(kv); i += 2 {
			v, _ := m[kv[i]].(string)
			ok = strings.HasSuffix(v, kv[i+1])
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func (l *lines) count(msg string, kv ...string) int { return len(l.match(msg, kv...)) }

// waitFor returns the first line that matches, waiting up to ten seconds.
func (l *lines) waitFor(t *testing.T, msg string, kv ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if found := l.match(msg, kv...); len(found) > 0 {
			return found[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q %v in:\n%s", msg, kv, l.dump())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *lines) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, m := range l.parsed {
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}
