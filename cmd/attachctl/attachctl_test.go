package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestRoundTripThroughFiles(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	content := photo(2_500_000, 1)
	path := writeFile(t, "room.png", content)

	up := g.attachctl(t, nil, where("upload", path, "--message", "Your room, as promised")...)
	if up.status != 0 || len(lines(up.stdout)) != 2 || up.stderr != "" {
		t.Fatalf("upload = %+v, want status 0, the attachment and message ids on stdout, nothing on stderr", up)
	}
	attachmentID, messageID := lines(up.stdout)[0], lines(up.stdout)[1]
	msgs := g.sandbox.Messages(1234, testConversation)
	if len(msgs) != 1 || msgs[0].ID != messageID || !slices.Equal(msgs[0].AttachmentIDs, []string{attachmentID}) {
		t.Errorf("the guest sees %+v, want the message %s with %s", msgs, messageID, attachmentID)
	}

	out := writeFile(t, "copy.png", nil)
	down := g.attachctl(t, nil, where("download", attachmentID, "-o", out)...)
	got, _ := os.ReadFile(out)
	if down.status != 0 || down.stdout != "" || !bytes.Equal(got, content) {
		t.Fatalf("download = %+v and %d bytes, want status 0, nothing on stdout, and the file", down, len(got))
	}

	info := g.attachctl(t, nil, where("info", attachmentID)...)
	if want := "file_name: room.png\nfile_type: image/png\nfile_size: 2500000\n"; info.status != 0 || info.stdout != want {
		t.Errorf("info = %+v, want %q", info, want)
	}
	infoJSON := g.attachctl(t, nil, where("info", attachmentID, "--json")...)
	var decoded struct {
		FileName string `json:"file_name"`
		FileSize string `json:"file_size"`
	}
	if json.Unmarshal([]byte(infoJSON.stdout), &decoded) != nil || decoded.FileName != "room.png" || decoded.FileSize != "2500000" ||
		strings.Count(infoJSON.stdout, "\n") != 1 {
		t.Errorf("info --json = %q, want one line of JSON with file_name and file_size", infoJSON.stdout)
	}

	sent := g.attachctl(t, nil, where("send", "--text", "And the view", "--attachment", attachmentID, "--request-id", "view-1")...)
	if sent.status != 0 || len(lines(sent.stdout)) != 1 {
		t.Fatalf("send = %+v, want the message id", sent)
	}
	again := g.attachctl(t, nil, where("send", "--text", "And the view", "--attachment", attachmentID, "--request-id", "view-1")...)
	if again.stdout != sent.stdout || len(g.sandbox.Messages(1234, testConversation)) != 2 {
		t.Errorf("the repeated send = %+v, want the same id %q and no second post", again, sent.stdout)
	}
}

func TestRoundTripThroughPipes(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	content := photo(1_800_000, 2)
	up := g.attachctl(t, content, where("upload", "-", "--name", "piped.png", "--json")...)
	var resp struct {
		AttachmentID string `json:"attachment_id"`
		SHA256       string `json:"sha256"`
	}
	if up.status != 0 || json.Unmarshal([]byte(up.stdout), &resp) != nil || resp.AttachmentID == "" || up.stderr != "" {
		t.Fatalf("upload from stdin = %+v, want the response as JSON and nothing on stderr", up)
	}
	down := g.attachctl(t, nil, where("download", resp.AttachmentID, "-o", "-")...)
	if down.status != 0 || down.stdout != string(content) || down.stderr != "" {
		t.Fatalf("download to stdout = status %d, %d bytes, stderr %q; want the file alone", down.status, len(down.stdout), down.stderr)
	}
	slice := g.attachctl(t, nil, where("download", resp.AttachmentID, "-o", "-", "--offset", "1000", "--limit", "16")...)
	if slice.status != 0 || slice.stdout != string(content[1000:1016]) {
		t.Errorf("a slice to stdout = %+v, want bytes 1000 to 1016", slice)
	}
	if up := g.attachctl(t, content, where("upload", "-")...); up.status != exitUsage || !strings.Contains(up.stderr, "--name is required") {
		t.Errorf("upload from stdin without --name = %+v, want status 2 and the reason", up)
	}
}

// TestResumeAfterInterruptedDownload interrupts a download whose Booking
// hangs (as a person presses ^C), then resumes it into the partial file.
func TestResumeAfterInterruptedDownload(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	content := photo(5_000_000, 3)
	up := g.attachctl(t, nil, where("upload", writeFile(t, "big.png", content))...)
	id := strings.TrimSpace(up.stdout)
	// One range never comes (the fourth to reach the sandbox; with parallel
	// fetches that need not be the fourth of the file), so the download cannot
	// finish before it is interrupted, once at least a range is on disk.
	g.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Nth: 4, Hang: true})
	out := writeFile(t, "partial.png", nil)
	cmd := exec.Command(attachctlBinary, where("download", id, "-o", out)...)
	cmd.Env = append(os.Environ(), "ATTACHCTL_ADDR="+g.addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const oneRange = 999_999
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if st, err := os.Stat(out); err == nil && st.Size() >= oneRange {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the download did not write a range")
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	partial, _ := os.ReadFile(out)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitCallBase+int(codes.Canceled) || len(partial) < oneRange ||
		len(partial) >= len(content) || !bytes.Equal(partial, content[:len(partial)]) || !strings.HasPrefix(stderr.String(), "attachctl: CANCELLED") {
		t.Fatalf("the interrupted download = %v, %q, with %d bytes; want CANCELLED and a correct prefix of at least a range", err, stderr.String(), len(partial))
	}
	resumed := g.attachctl(t, nil, where("download", id, "-o", out, "--continue")...)
	got, _ := os.ReadFile(out)
	if resumed.status != 0 || !bytes.Equal(got, content) {
		t.Fatalf("the resumed download = %+v, %d bytes; want the whole file", resumed, len(got))
	}
	complete := g.attachctl(t, nil, where("download", id, "-o", out, "--continue")...)
	if got, _ := os.ReadFile(out); complete.status != 0 || !bytes.Equal(got, content) {
		t.Errorf("--continue of a complete file = %+v, want nothing to do", complete)
	}
}

// TestErrorLines runs every way a command fails and checks its line on
// stderr and its exit status.
func TestErrorLines(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	good := strings.TrimSpace(g.attachctl(t, nil, where("upload", writeFile(t, "a.png", photo(1000, 4)))...).stdout)
	closed := newGateway(t)
	closed.addr = "127.0.0.1:1" // nothing listens there
	tests := []struct {
		name       string
		gateway    *gateway
		setup      func()
		args       []string
		wantStatus int
		wantInLine []string
		ruidOf     sandbox.Endpoint // the ruid of the last request to it must be in the line
	}{
		{name: "no such attachment", args: where("info", "nope"), wantStatus: 10 + int(codes.NotFound),
			wantInLine: []string{"NOT_FOUND", "nope"}, ruidOf: sandbox.EndpointFileInfo},
		{name: "a bad conversation id", args: []string{"info", "x", "--property", "1", "--conversation", "a/b"}, wantStatus: 10 + int(codes.InvalidArgument),
			wantInLine: []string{"INVALID_ARGUMENT", "conversation_id"}},
		{name: "a property the account may not use", args: []string{"info", good, "--property", deniedProperty, "--conversation", testConversation},
			wantStatus: 10 + int(codes.PermissionDenied), wantInLine: []string{"PERMISSION_DENIED"}, ruidOf: sandbox.EndpointFileInfo},
		{name: "Booking asks for an hour", setup: func() {
			g.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 429, RetryAfter: "3600"})
		}, args: where("info", good), wantStatus: 10 + int(codes.ResourceExhausted),
			wantInLine: []string{"RESOURCE_EXHAUSTED", "retry after 1h0m0s"}, ruidOf: sandbox.EndpointFileInfo},
		{name: "a download whose size disagrees", setup: func() {
			g.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Alter: func(d map[string]any) {
				b, _ := base64.StdEncoding.DecodeString(d["file_content"].(string))
				d["file_content"] = base64.StdEncoding.EncodeToString(append(b, 0))
			}})
		}, args: where("download", good, "-o", "-"), wantStatus: 10 + int(codes.DataLoss), wantInLine: []string{"DATA_LOSS"}, ruidOf: sandbox.EndpointDownload},
		{name: "the message after the upload fails", setup: func() {
			g.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Status: 403})
		}, args: where("upload", writeFile(t, "b.png", photo(1000, 5)), "--message", "hi"), wantStatus: 10 + int(codes.PermissionDenied),
			wantInLine: []string{"PERMISSION_DENIED", "was uploaded, but its message was not posted"}, ruidOf: sandbox.EndpointMessages},
		{name: "the gateway is down", gateway: closed, args: where("info", good), wantStatus: 10 + int(codes.Unavailable), wantInLine: []string{"UNAVAILABLE"}},
		{name: "a file that is not there", args: where("upload", "/no/such/file.png"), wantStatus: exitLocal, wantInLine: []string{"no such file"}},
		{name: "an unknown flag", args: where("info", good, "--nope"), wantStatus: exitUsage, wantInLine: []string{"flag provided but not defined: -nope", "Usage: attachctl info"}},
		{name: "no property", args: []string{"info", good, "--conversation", "c"}, wantStatus: exitUsage, wantInLine: []string{"--property is required"}},
		{name: "no attachment id", args: where("info"), wantStatus: exitUsage, wantInLine: []string{"want ATTACHMENT_ID"}},
		{name: "an unknown command", args: []string{"fetch"}, wantStatus: exitUsage, wantInLine: []string{`unknown command "fetch"`, "Commands:"}},
		{name: "download without -o", args: where("download", good), wantStatus: exitUsage, wantInLine: []string{"-o FILE is required"}},
	}
	for _, tt := range tests {
		// Not parallel: some inject faults into the shared sandbox.
		if tt.setup != nil {
			tt.setup()
		}
		gw := g
		if tt.gateway != nil {
			gw = tt.gateway
		}
		r := gw.attachctl(t, nil, tt.args...)
		call := "attachctl " + strings.Join(tt.args, " ") + " (" + tt.name + ")"
		if r.status != tt.wantStatus {
			t.Errorf("%s exited %d, want %d; stderr %q", call, r.status, tt.wantStatus, r.stderr)
		}
		if tt.wantStatus != exitUsage && (len(lines(r.stderr)) != 1 || !strings.HasPrefix(r.stderr, "attachctl: ")) {
			t.Errorf("%s wrote %q on stderr, want one line starting attachctl:", call, r.stderr)
		}
		for _, s := range tt.wantInLine {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s wrote %q on stderr, want it to say %q", call, r.stderr, s)
			}
		}
		if tt.ruidOf != "" {
			ruid := lastRUID(gw.sandbox, tt.ruidOf)
			if ruid == "" || !strings.Contains(r.stderr, ruid) {
				t.Errorf("%s wrote %q on stderr, want Booking's ruid %q", call, r.stderr, ruid)
			}
		}
		if tt.wantStatus != 0 && tt.args[0] != "download" && r.stdout != "" {
			t.Errorf("%s wrote %q on stdout, want nothing", call, r.stdout)
		}
	}
}

// lastRUID is the ruid of the last answer the sandbox gave to ep.
func lastRUID(sb *sandbox.Server, ep sandbox.Endpoint) string {
	var ruid string
	for _, r := range sb.Requests() {
		if r.Endpoint == ep && r.RUID != "" {
			ruid = r.RUID
		}
	}
	return ruid
}

// TestProgressBar runs an upload and a download with standard error on a
// pseudo-terminal: the bar is drawn there, with bytes, rate and time left,
// and standard output holds the result alone. Into a pipe, or with
// --quiet, nothing is drawn.
func TestProgressBar(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	path := writeFile(t, "photo.png", photo(6_000_000, 6))
	for _, quiet := range []bool{false, true} {
		args := where("upload", path)
		if quiet {
			args = append(args, "--quiet")
		}
		stdout, drawn := g.onTerminal(t, args...)
		id := strings.TrimSpace(stdout)
		if len(lines(stdout)) != 1 || len(id) < 10 {
			t.Fatalf("upload on a terminal wrote %q on stdout, want the attachment id alone", stdout)
		}
		if quiet {
			if drawn != "" {
				t.Errorf("upload --quiet drew %q on the terminal, want nothing", drawn)
			}
			continue
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`upload photo\.png`),
			regexp.MustCompile(`100%`),
			regexp.MustCompile(`6\.0 MB`),             // the total
			regexp.MustCompile(`[0-9.]+ [kMG]?B/s`),   // the rate
			regexp.MustCompile(`\[[0-9]+s:[0-9]+s\]`), // elapsed and left
		} {
			if !want.MatchString(drawn) {
				t.Errorf("the bar drawn on the terminal %q lacks %v", drawn, want)
			}
		}
		downOut, downDrawn := g.onTerminal(t, where("download", id, "-o", "-")...)
		if len(downOut) != 6_000_000 || !strings.Contains(downDrawn, "download "+id) || !strings.Contains(downDrawn, "100%") {
			t.Errorf("download on a terminal: %d bytes on stdout, bar %q; want the file and a bar", len(downOut), downDrawn)
		}
	}
	piped := g.attachctl(t, nil, where("upload", path)...)
	if piped.status != 0 || piped.stderr != "" {
		t.Errorf("upload with stderr into a pipe = %+v, want no bar", piped)
	}
}

// onTerminal runs attachctl with standard error on a pseudo-terminal and
// standard output into a pipe, and returns both.
func (g *gateway) onTerminal(t *testing.T, args ...string) (stdout, terminal string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 120})
	cmd := exec.Command(attachctlBinary, args...)
	cmd.Env = append(os.Environ(), "ATTACHCTL_ADDR="+g.addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	drawn := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the command exits
		drawn <- string(b)
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("attachctl %s on a terminal: %v", strings.Join(args, " "), err)
	}
	select {
	case s := <-drawn:
		return out.String(), s
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output did not end")
		return "", ""
	}
}

// TestExitStatusTable checks the README's table of exit statuses against
// exitStatus.
func TestExitStatusTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		row := fmt.Sprintf("| `%s` | %d |", code.Code(c), exitCallBase+int(c))
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
	for _, row := range []string{fmt.Sprintf("| local failure (a file) | %d |", exitLocal), fmt.Sprintf("| bad command line | %d |", exitUsage)} {
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}
