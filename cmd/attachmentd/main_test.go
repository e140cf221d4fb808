package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service/client"
)

// instance is attachmentd started by run, as main starts it.
type instance struct {
	addr        string // gRPC address, for grpc.NewClient
	metricsAddr string
	stop        context.CancelFunc
	done        chan error
	logs        *lines
	conn        *grpc.ClientConn
}

// start runs the server with args (after --listen and --metrics-listen on
// loopback ports, and no drain delay) and env, and waits until it listens.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	inst := &instance{stop: stop, done: make(chan error, 1), logs: &lines{}}
	args = append([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--drain-delay", "0s"}, args...)
	go func() { inst.done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, inst.logs) }()
	t.Cleanup(func() {
		stop()
		<-inst.done
	})
	line := inst.logs.waitFor(t, "attachmentd is serving")
	inst.addr, _ = line["listen"].(string)
	inst.metricsAddr, _ = line["metrics_listen"].(string)
	return inst
}

// client returns a plaintext connection to the instance.
func (inst *instance) client(t *testing.T) *grpc.ClientConn {
	t.Helper()
	if inst.conn == nil {
		inst.conn = dial(t, inst.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	return inst.conn
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// sandboxEnv serves a sandbox over HTTP and returns it with the variables
// that point attachmentd at it with secret as its client secret.
func sandboxEnv(t *testing.T, secret string, wrap func(http.Handler) http.Handler) (*sandbox.Server, map[string]string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{ClientSecret: "right-secret"})
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sb, map[string]string{
		"BOOKING_API_URL":       srv.URL,
		"BOOKING_AUTH_URL":      srv.URL + "/token-based-authentication/exchange",
		"BOOKING_CLIENT_ID":     sandbox.DefaultClientID,
		"BOOKING_CLIENT_SECRET": secret,
	}
}

// health asks the instance's health service about name.
func healthOf(t *testing.T, conn *grpc.ClientConn, name string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: name})
	if err != nil {
		t.Fatalf("health check of %q: %v", name, err)
	}
	return resp.GetStatus()
}

// waitHealth polls until the health of name is want.
func waitHealth(t *testing.T, conn *grpc.ClientConn, name string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := healthOf(t, conn, name); got != want; got = healthOf(t, conn, name) {
		if time.Now().After(deadline) {
			t.Fatalf("health of %q is %v, want %v", name, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pngBytes is a file with a PNG signature, of n bytes in all.
func pngBytes(n int) []byte {
	b := bytes.Repeat([]byte{7}, n)
	copy(b, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})
	return b
}

type uploadStream = grpc.ClientStreamingClient[attachmentsv1.UploadAttachmentRequest, attachmentsv1.UploadAttachmentResponse]

// beginUpload opens an upload of name to conversation c1 of property 1,
// declaring size (0: undeclared), and sends first as its first data. A send
// the server refuses shows in CloseAndRecv's error.
func beginUpload(t *testing.T, ctx context.Context, conn *grpc.ClientConn, name string, size int, first []byte) uploadStream {
	t.Helper()
	stream, err := attachmentsv1.NewAttachmentServiceClient(conn).UploadAttachment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meta := &attachmentsv1.UploadMetadata{PropertyId: 1, ConversationId: "c1", FileName: name, FileSize: int64(size)}
	if stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}}) == nil {
		sendData(stream, first)
	}
	return stream
}

// sendData sends the next piece of an upload.
func sendData(stream uploadStream, data []byte) error {
	return stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: data}})
}

// upload sends content as one upload with the service's Go client.
func upload(ctx context.Context, conn *grpc.ClientConn, name string, content []byte) (*attachmentsv1.UploadAttachmentResponse, error) {
	up, err := client.New(conn).Upload(ctx, client.Conversation{PropertyID: 1, ConversationID: "c1"},
		client.File{Name: name}, bytes.NewReader(content), client.UploadOptions{})
	if err != nil {
		return nil, err
	}
	return &attachmentsv1.UploadAttachmentResponse{AttachmentId: up.AttachmentID, Sha256: up.SHA256}, nil
}

// download reads a whole attachment's bytes with the service's Go client.
func download(ctx context.Context, conn *grpc.ClientConn, id string) ([]byte, error) {
	var got bytes.Buffer
	_, _, err := client.New(conn).Download(ctx, client.Ref{PropertyID: 1, ConversationID: "c1", AttachmentID: id}, &got, client.DownloadOptions{})
	return got.Bytes(), err
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

// buildBinary builds attachmentd into a temporary directory, once per test
// binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "attachmentd-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "attachmentd")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=test-1.2.3", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// lines collects log lines written to it, parsing JSON ones.
type lines struct {
	mu      sync.Mutex
	partial bytes.Buffer
	raw     []string
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
		l.raw = append(l.raw, string(line))
		l.parsed = append(l.parsed, m)
	}
}

// match returns the lines whose msg contains msg and whose fields end with
// the given values, given as key/value pairs.
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
			t.Fatalf("no log line %q %v in:\n%s", msg, kv, l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// String returns every line written so far.
func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.raw, "") + l.partial.String()
}

// sandboxFault503 makes every file_info answer 503.
var sandboxFault503 = sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: http.StatusServiceUnavailable, Times: 1000}

func netListenUnix(path string) (*net.UnixListener, error) {
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}
