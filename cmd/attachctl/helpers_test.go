package main

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	"github.com/booking-attachment-gateway/gateway/service"
)

// attachctlBinary is the command built once for the package's tests.
var attachctlBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "attachctl-test")
	if err != nil {
		panic(err)
	}
	attachctlBinary = filepath.Join(dir, "attachctl")
	if out, err := exec.Command("go", "build", "-o", attachctlBinary, ".").CombinedOutput(); err != nil {
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			panic(err)
		}
	}
	os.Exit(code)
}

const (
	testProperty     = "1234"
	testConversation = "conv-1"
	deniedProperty   = "666"
)

// gateway is attachmentd's service on a loopback port, against a sandbox
// over HTTP, as the tests' real server.
type gateway struct {
	addr    string
	sandbox *sandbox.Server
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	sb := sandbox.New(sandbox.Options{DeniedPropertyIDs: []int64{666}})
	httpServer := httptest.NewServer(sb)
	t.Cleanup(httpServer.Close)
	booking, err := bookingapi.New(bookingapi.Config{
		BaseURL:      httpServer.URL,
		AuthURL:      httpServer.URL + "/token-based-authentication/exchange",
		ClientID:     sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret,
		Retry:        bookingapi.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer(service.ServerOption())
	service.Register(server, service.New(booking, service.Options{Logger: slog.New(slog.DiscardHandler)}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(lis)
	t.Cleanup(server.Stop)
	return &gateway{addr: lis.Addr().String(), sandbox: sb}
}

// result is what a run of attachctl left.
type result struct {
	status         int
	stdout, stderr string
}

// attachctl runs the built command with args, stdin as its input, and the
// gateway's address in ATTACHCTL_ADDR.
func (g *gateway) attachctl(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(attachctlBinary, args...)
	cmd.Env = append(os.Environ(), "ATTACHCTL_ADDR="+g.addr)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	if exit, ok := err.(*exec.ExitError); ok {
		status = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("attachctl %s: %v", strings.Join(args, " "), err)
	}
	return result{status: status, stdout: stdout.String(), stderr: stderr.String()}
}

// where are the flags naming the test conversation.
func where(extra ...string) []string {
	return append(extra, "--property", testProperty, "--conversation", testConversation)
}

// photo is size bytes of a PNG: its signature, then random bytes.
func photo(size int, seed uint64) []byte {
	b := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	copy(b, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})
	return b
}

// writeFile writes content into a new file of the test's and returns its
// path.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
