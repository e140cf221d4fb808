package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartupBlock(t *testing.T) {
	inst := start(t, "--client-id", "ci-client", "--client-secret", `it's a $secret`, "--megabyte", "1048576",
		"--inclusive-to", "--deny-property", "7", "--deny-property", "9")
	block := inst.stdout.String()
	base := inst.base
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Errorf("base URL %q, want http://127.0.0.1 and the port listened on", base)
	}
	wantEnv := map[string]string{
		"BOOKING_API_URL":       base,
		"BOOKING_AUTH_URL":      base + "/token-based-authentication/exchange",
		"BOOKING_CLIENT_ID":     "ci-client",
		"BOOKING_CLIENT_SECRET": `it's a $secret`,
	}
	for _, want := range []string{
		"  base URL        " + base + "\n",
		"  token exchange  " + base + "/token-based-authentication/exchange\n",
		"  client id       ci-client\n",
		"  client secret   it's a $secret\n",
		"  control API     " + base + "/_sandbox/\n",
		"test credentials, printed on purpose",
		"1MB is 1048576 bytes; download's to is inclusive;",
		"denied properties: 7, 9.",
	} {
		if !strings.Contains(block, want) {
			t.Errorf("the start-up block lacks %q:\n%s", want, block)
		}
	}
	if n := strings.Count(block, "export "); n != len(wantEnv) {
		t.Errorf("the block has %d export lines, want %d:\n%s", n, len(wantEnv), block)
	}

	// A shell that sources the export lines gets exactly the values.
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "export ") {
			lines = append(lines, line)
		}
	}
	file := filepath.Join(t.TempDir(), "env.sh")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, want := range wantEnv {
		out, err := exec.Command("sh", "-c", `. "$1" && printf %s "$(printenv `+k+`)"`, "sh", file).Output()
		if err != nil || string(out) != want {
			t.Errorf("sh sourcing the export lines: %s = %q (%v), want %q", k, out, err, want)
		}
	}

	// The printed credentials are the ones the token exchange takes, and
	// the printed base URL serves the control API.
	inst.token(t)
	inst.control(t, http.MethodGet, "/_sandbox/healthz", "", http.StatusOK, nil)

	// The block is all that goes to stdout, whatever is served.
	inst.stop()
	if err := <-inst.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	inst.done <- nil // for the cleanup
	if got := inst.stdout.String(); got != block {
		t.Errorf("stdout grew after the start-up block:\n%s", got[len(block):])
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"0.0.0.0:8081", "http://127.0.0.1:8081"},
		{"[::]:8081", "http://127.0.0.1:8081"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"192.0.2.7:80", "http://192.0.2.7:80"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(addr); got != tt.want {
			t.Errorf("baseURL(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// The variable BOOKING_SANDBOX_LISTEN sets the address when --listen is
// not given; --listen wins over it.
func TestListenFromEnvironment(t *testing.T) {
	env := func(string) string { return "127.0.0.1:not-a-port" }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failed := make(chan error, 1)
	served := &buffer{}
	go func() { failed <- run(ctx, nil, env, served, &buffer{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for err := error(nil); err == nil; {
		select {
		case err = <-failed:
			if !strings.Contains(err.Error(), "not-a-port") {
				t.Errorf("run with BOOKING_SANDBOX_LISTEN=127.0.0.1:not-a-port = %v, want a listen error naming it", err)
			}
		case <-time.After(5 * time.Millisecond):
			if served.String() != "" || time.Now().After(deadline) {
				cancel()
				t.Fatalf("run with BOOKING_SANDBOX_LISTEN=127.0.0.1:not-a-port serves, want a listen error:\n%s", served)
			}
		}
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	done := make(chan error, 1)
	stdout := &buffer{}
	go func() { done <- run(ctx2, []string{"--listen", "127.0.0.1:0"}, env, stdout, &buffer{}) }()
	waitForBanner(t, stdout, &buffer{})
	cancel2()
	if err := <-done; err != nil {
		t.Errorf("run with --listen over a bad variable = %v, want nil", err)
	}
}
