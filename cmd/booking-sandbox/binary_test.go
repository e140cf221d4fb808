package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// buildBinary builds booking-sandbox into a temporary directory, once per
// test binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "booking-sandbox-test")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "booking-sandbox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
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

// The built binary prints its start-up block, serves the gateway's client
// with the variables it printed, refuses a second instance on its port
// (exit 1), and exits 0 on SIGTERM.
func TestBinary(t *testing.T) {
	cmd := exec.Command(binary(t), "--listen", "127.0.0.1:0")
	stdout, stderr := &buffer{}, &buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	block := waitForBanner(t, stdout, stderr)
	inst := &instance{env: exports(block), client: newHTTPClient(t, false)}
	inst.base = inst.env["BOOKING_API_URL"]
	if err := inst.booking(t).Authenticate(context.Background()); err != nil {
		t.Errorf("the gateway's client with the printed variables: %v", err)
	}
	inst.control(t, http.MethodGet, "/_sandbox/healthz", "", http.StatusOK, nil)

	addr := strings.TrimPrefix(inst.base, "http://")
	out, err := exec.Command(binary(t), "--listen", addr).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.HasPrefix(string(out), "booking-sandbox: listen: ") ||
		strings.Count(string(out), "\n") != 1 {
		t.Errorf("a second instance on %s: %v, output %q; want exit 1 with one line about listening", addr, err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v, want 0\nstderr:\n%s", err, stderr)
	}
	if got := stderr.String(); !strings.Contains(got, "stopped: every request finished") {
		t.Errorf("stderr %q, want it to say it stopped", got)
	}
}

func TestBinaryBadFlagExits2(t *testing.T) {
	cmd := exec.Command(binary(t), "--megabyte", "0")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2", err)
	}
	if got := stderr.String(); !strings.HasPrefix(got, `invalid value "0" for flag -megabyte: must be from 1 to 1073741824`) ||
		!strings.Contains(got, "Usage: booking-sandbox [flags]") || strings.Count(got, "-megabyte") < 2 {
		t.Errorf("stderr %q, want what is wrong, then the usage", got)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
