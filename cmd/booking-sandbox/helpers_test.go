package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

const (
	property = 1234
	conv     = "conv-1"
)

// instance is booking-sandbox started by run, as main starts it.
type instance struct {
	base   string            // the base URL the start-up block printed
	env    map[string]string // the variables it exports
	stdout *buffer
	stderr *buffer
	stop   context.CancelFunc // what SIGTERM does to main's context
	done   chan error         // run's result
	client *http.Client
}

// start runs the server with args after "--listen 127.0.0.1:0", and waits
// for its start-up block.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	inst := &instance{stdout: &buffer{}, stderr: &buffer{}, stop: stop, done: make(chan error, 1)}
	args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	go func() { inst.done <- run(ctx, args, func(string) string { return "" }, inst.stdout, inst.stderr) }()
	t.Cleanup(func() {
		stop()
		if err := <-inst.done; err != nil {
			t.Errorf("run returned %v after its context ended, want nil", err)
		}
	})
	block := waitForBanner(t, inst.stdout, inst.stderr)
	inst.env = exports(block)
	inst.base = inst.env["BOOKING_API_URL"]
	if inst.base == "" {
		t.Fatalf("the start-up block exports no BOOKING_API_URL:\n%s", block)
	}
	inst.client = newHTTPClient(t, false)
	return inst
}

// waitForBanner waits up to ten seconds for the start-up block, which
// ends with its Settings line, and returns it.
func waitForBanner(t *testing.T, stdout, stderr *buffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s := stdout.String(); strings.Contains(s, "\nSettings: ") && strings.HasSuffix(s, ".\n") {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no start-up block; stdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exports returns the variables of the block's "export K='v'" lines.
func exports(block string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(block, "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
		env[k] = strings.ReplaceAll(v, `'\''`, "'")
	}
	return env
}

// newHTTPClient returns a client whose connections are closed when the
// test ends; fresh opens a new connection for every request, so that
// net/http does not silently resend a GET whose connection was dropped.
func newHTTPClient(t *testing.T, fresh bool) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: fresh}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// reply is one HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send sends method path with body (none if empty) and token (none if
// empty) and returns the answer; it fails the test on a transport error.
func (inst *instance) send(t *testing.T, method, path, body, token string) reply {
	t.Helper()
	r, err := inst.try(inst.client, method, path, body, token)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try is send with client, returning the transport's error.
func (inst *instance) try(client *http.Client, method, path, body, token string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, inst.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != "" && !strings.HasPrefix(path, controlPrefix) {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// control sends a control request that must answer want, and decodes its
// JSON answer into out unless out is nil.
func (inst *instance) control(t *testing.T, method, path, body string, want int, out any) {
	t.Helper()
	r := inst.send(t, method, path, body, "")
	if r.status != want {
		t.Fatalf("%s %s: status %d (%s), want %d", method, path, r.status, r.body, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
		}
	}
}

// inject posts a fault to the control API.
func (inst *instance) inject(t *testing.T, fault string) {
	t.Helper()
	inst.control(t, http.MethodPost, "/_sandbox/faults", fault, http.StatusCreated, nil)
}

// token exchanges the printed credentials for a token.
func (inst *instance) token(t *testing.T) string {
	t.Helper()
	body := fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, inst.env["BOOKING_CLIENT_ID"], inst.env["BOOKING_CLIENT_SECRET"])
	r := inst.send(t, http.MethodPost, tokenPath, body, "")
	var tok struct{ JWT string }
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != http.StatusOK || tok.JWT == "" {
		t.Fatalf("token exchange: status %d, body %s", r.status, r.body)
	}
	return tok.JWT
}

// booking returns the gateway's own client of Booking, configured with the
// variables the start-up block printed, as attachmentd would be.
func (inst *instance) booking(t *testing.T) *bookingapi.Client {
	t.Helper()
	tr := bookingapi.NewTransport(0)
	t.Cleanup(tr.CloseIdleConnections)
	c, err := bookingapi.New(bookingapi.Config{
		BaseURL:      inst.env["BOOKING_API_URL"],
		AuthURL:      inst.env["BOOKING_AUTH_URL"],
		ClientID:     inst.env["BOOKING_CLIENT_ID"],
		ClientSecret: inst.env["BOOKING_CLIENT_SECRET"],
		HTTPClient:   &http.Client{Transport: tr},
		Retry:        bookingapi.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requests returns the request log, of the endpoints given if any.
func (inst *instance) requests(t *testing.T, endpoints ...sandbox.Endpoint) requestsJSON {
	t.Helper()
	path := "/_sandbox/requests"
	for i, ep := range endpoints {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		path += sep + "endpoint=" + string(ep)
	}
	var out requestsJSON
	inst.control(t, http.MethodGet, path, "", http.StatusOK, &out)
	return out
}

// waitPending waits up to ten seconds for the log to show n requests that
// have reached the sandbox and are not answered yet.
func (inst *instance) waitPending(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := inst.requests(t).Pending; got != n; got = inst.requests(t).Pending {
		if time.Now().After(deadline) {
			t.Fatalf("pending requests: %d, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// upload stores content in conv with the gateway's client and returns its
// attachment id.
func upload(t *testing.T, c *bookingapi.Client, conversation string, content []byte) string {
	t.Helper()
	a, err := uploadErr(c, conversation, content)
	if err != nil {
		t.Fatalf("upload of %d bytes: %v", len(content), err)
	}
	return a
}

func uploadErr(c *bookingapi.Client, conversation string, content []byte) (string, error) {
	up, err := c.NewUploader(context.Background(), bookingapi.Conversation{PropertyID: property, ConversationID: conversation},
		bookingapi.FileHeader{Name: "photo.png", Type: "image/png", Size: int64(len(content))})
	if err != nil {
		return "", err
	}
	if _, err := up.Write(content); err != nil {
		up.Close()
		return "", err
	}
	a, err := up.Close()
	return a.ID, err
}

// pngBytes is a file with a PNG signature, of n bytes in all.
func pngBytes(n int) []byte {
	b := bytes.Repeat([]byte{7}, n)
	copy(b, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})
	return b
}

// uploadBody is a single upload's body for content.
func uploadBody(content []byte) string {
	b, _ := json.Marshal(map[string]any{"attachment": map[string]any{
		"file_name": "photo.png", "file_type": "image/png", "file_content": content, "file_size": len(content),
	}})
	return string(b)
}

// Paths of Booking's endpoints in conversation conv of property.
var (
	conversationPath = fmt.Sprintf("/messaging/properties/%d/conversations/%s", property, conv)
	uploadPath       = conversationPath + "/attachments"
)

func fileInfoPath(id string) string { return uploadPath + "/" + id + "/file_info" }
func downloadPath(id string) string { return uploadPath + "/" + id }

// envelope is Booking's answer.
type envelope struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Meta struct {
		RUID string `json:"ruid"`
	} `json:"meta"`
}

// decodeEnvelope decodes r's body as Booking's envelope.
func decodeEnvelope(t *testing.T, r reply) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("status %d, body %q is not an envelope: %v", r.status, r.body, err)
	}
	return env
}

// wantBookingError checks that r is Booking's error envelope with status
// and a message containing part.
func wantBookingError(t *testing.T, r reply, status int, part string) {
	t.Helper()
	env := decodeEnvelope(t, r)
	if r.status != status || len(env.Errors) != 1 || !strings.Contains(env.Errors[0].Message, part) {
		t.Errorf("status %d, body %s; want %d with an error containing %q", r.status, r.body, status, part)
	}
}

// buffer is a bytes.Buffer safe for concurrent use.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
