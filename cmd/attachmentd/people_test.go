package main

import (
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A port that is taken says which flag or variable moves the server.
func TestPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--sandbox", "--listen", taken.Addr().String(), "--metrics-listen", ""}, "--listen or ATTACHMENTD_LISTEN"},
		{[]string{"--sandbox", "--listen", "127.0.0.1:0", "--metrics-listen", taken.Addr().String()}, "--metrics-listen or ATTACHMENTD_METRICS_LISTEN"},
	} {
		err := run(context.Background(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) with the port taken = %v, want it to name %s", tt.args, err, tt.want)
		}
	}
}

// With --sandbox on a terminal, a person reads the log: text lines. Into a
// pipe, the lines stay JSON.
func TestSandboxLogsTextOnATerminal(t *testing.T) {
	bin := binary(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := exec.Command(bin, "--sandbox", "--listen", "127.0.0.1:0", "--metrics-listen", "")
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	defer cmd.Process.Kill()
	seen := make(chan string, 1)
	go func() {
		var all strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			all.Write(buf[:n])
			if strings.Contains(all.String(), "attachmentd is serving") || err != nil {
				seen <- all.String()
				return
			}
		}
	}()
	select {
	case out := <-seen:
		if !strings.Contains(out, `level=INFO msg="attachmentd is serving"`) {
			t.Errorf("the log on a terminal is %q, want text lines", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no start-up line on the terminal")
	}
	inst := start(t, nil, "--sandbox")
	if line := inst.logs.String(); !strings.HasPrefix(line, "{") {
		t.Errorf("the log into a pipe starts %q, want JSON", line[:min(len(line), 40)])
	}
}

// The server's binary does not link the command-line tools' libraries.
func TestServerLinksNoCLILibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"github.com/schollz/progressbar", "github.com/creack/pty"} {
		if strings.Contains(string(out), dep) {
			t.Errorf("attachmentd depends on %s", dep)
		}
	}
}
