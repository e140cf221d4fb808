package bookingapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// authPath is where the sandbox, and the crafted servers here, answer the
// token exchange.
const authPath = "/token-based-authentication/exchange"

// The credentials and token of crafted servers. Error texts must never
// contain testSecret or testJWT.
const (
	testClientID = "test-client"
	testSecret   = "test-secret-must-not-leak"
	testJWT      = "test-jwt-must-not-leak"
)

// The conversation every test uses.
const (
	testProperty     = 1234
	testConversation = "conv-42"
)

var testConv = Conversation{PropertyID: testProperty, ConversationID: testConversation}

// fastRetry keeps retries in the millisecond range.
var fastRetry = RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// sandboxEnv is a Client talking over real HTTP to a sandbox.
type sandboxEnv struct {
	client  *Client
	sandbox *sandbox.Server
	url     string
	// inflight counts requests whose handler has not returned: a request
	// the client gave up on is logged only when its handler returns.
	inflight atomic.Int64

	mu      sync.Mutex
	bearers []string // every bearer token the sandbox received
}

// newSandboxEnv serves sandbox.New(opts) over httptest and returns a Client
// with fastRetry and the sandbox's default credentials. wrap, if not nil,
// sits in front of the sandbox.
func newSandboxEnv(t *testing.T, opts sandbox.Options, wrap func(http.Handler) http.Handler) *sandboxEnv {
	t.Helper()
	env := &sandboxEnv{sandbox: sandbox.New(opts)}
	var h http.Handler = env.sandbox
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.inflight.Add(1)
		defer env.inflight.Add(-1)
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			env.mu.Lock()
			env.bearers = append(env.bearers, tok)
			env.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env.url = srv.URL
	env.client = newTestClient(t, Config{BaseURL: srv.URL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret})
	return env
}

// requests returns the sandbox's requests once every request it has begun
// is logged (or after 5s, so that a test fails on what it sees rather than
// hang).
func (e *sandboxEnv) requests() []sandbox.Request {
	for deadline := time.Now().Add(5 * time.Second); e.inflight.Load() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return e.sandbox.Requests()
}

// newTestClient fills in AuthURL (BaseURL's host + authPath) and fastRetry
// where cfg leaves them empty, and returns New(cfg).
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.AuthURL == "" {
		cfg.AuthURL = hostOf(t, cfg.BaseURL) + authPath
	}
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v, want a client", cfg, err)
	}
	return c
}

// hostOf returns the scheme and host of rawURL.
func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	i := strings.Index(rawURL, "://")
	if i < 0 {
		t.Fatalf("hostOf(%q): not an absolute URL", rawURL)
	}
	if j := strings.IndexByte(rawURL[i+3:], '/'); j >= 0 {
		return rawURL[:i+3+j]
	}
	return rawURL
}

// crafted is an httptest server whose token exchange answers testJWT and
// whose every other request is answered by handler. It records the raw
// request URIs it receives.
type crafted struct {
	url    string
	mu     sync.Mutex
	uris   []string // RequestURI of each request, the token exchange's included
	tokens int      // token exchanges answered
}

func newCrafted(t *testing.T, handler http.HandlerFunc) *crafted {
	t.Helper()
	c := &crafted{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.uris = append(c.uris, r.RequestURI)
		isToken := r.URL.Path == authPath
		if isToken {
			c.tokens++
		}
		c.mu.Unlock()
		if isToken {
			writeBody(w, http.StatusOK, `{"jwt":"`+testJWT+`","ruid":"token-ruid"}`)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// client returns a Client of c with testSecret and policy (fastRetry if
// zero).
func (c *crafted) client(t *testing.T, policy RetryPolicy) *Client {
	t.Helper()
	return newTestClient(t, Config{BaseURL: c.url, ClientID: testClientID, ClientSecret: testSecret, Retry: policy})
}

// requests returns the raw URIs received other than the token exchange's.
func (c *crafted) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, u := range c.uris {
		if !strings.HasPrefix(u, authPath) {
			out = append(out, u)
		}
	}
	return out
}

func (c *crafted) tokenExchanges() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

// writeBody answers with status and a JSON body.
func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// pngFile returns n bytes that begin with the PNG signature, which is all the
// sandbox checks of an image; the rest is random.
func pngFile(n int) []byte {
	sig := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	var seed [32]byte
	seed[0], seed[1], seed[2] = byte(n), byte(n>>8), byte(n>>16)
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	copy(b, sig)
	return b
}

// upload writes content in one Write to a new Uploader of conv and closes it.
func upload(ctx context.Context, c *Client, conv Conversation, file FileHeader, content []byte) (Attachment, error) {
	u, err := c.NewUploader(ctx, conv, file)
	if err != nil {
		return Attachment{}, err
	}
	if _, err := u.Write(content); err != nil {
		u.Close()
		return Attachment{}, err
	}
	return u.Close()
}

// seed uploads content as a PNG to testConv and returns its ref.
func (e *sandboxEnv) seed(t *testing.T, content []byte) AttachmentRef {
	t.Helper()
	file := FileHeader{Name: "seed.png", Type: "image/png", Size: int64(len(content))}
	a, err := upload(context.Background(), e.client, testConv, file, content)
	if err != nil {
		t.Fatalf("uploading a %d-byte seed file: %v", len(content), err)
	}
	return AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: a.ID}
}

// requestsTo returns the sandbox's requests to ep.
func (e *sandboxEnv) requestsTo(ep sandbox.Endpoint) []sandbox.Request {
	var out []sandbox.Request
	for _, r := range e.requests() {
		if r.Endpoint == ep {
			out = append(out, r)
		}
	}
	return out
}

// asError returns err as an *Error, failing the test if it is not one.
func asError(t *testing.T, call string, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %v (%T), want an *Error", call, err, err)
	}
	return e
}

// checkErrorText checks that err's text is one line and holds none of the
// secrets a Client knows: the client secret and bearer tokens.
func checkErrorText(t *testing.T, call string, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	text := err.Error()
	if strings.ContainsAny(text, "\r\n") {
		t.Errorf("%s: error text %q is not one line", call, text)
	}
	for _, s := range append([]string{testSecret, testJWT, sandbox.DefaultClientSecret}, secrets...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s: error text %q contains the secret %q", call, text, s)
		}
	}
}

// checkErrorText is the package's checkErrorText, with every bearer token
// the sandbox has seen counted as a secret too.
func (e *sandboxEnv) checkErrorText(t *testing.T, call string, err error, secrets ...string) {
	t.Helper()
	e.mu.Lock()
	secrets = append(secrets, e.bearers...)
	e.mu.Unlock()
	checkErrorText(t, call, err, secrets...)
}

// mustPanic calls f and returns what it panicked with, failing the test if
// it did not panic.
func mustPanic(t *testing.T, call string, f func()) (recovered any) {
	t.Helper()
	defer func() {
		recovered = recover()
		if recovered == nil {
			t.Errorf("%s did not panic, want a panic", call)
		}
	}()
	f()
	return nil
}

// bytesDiff describes how got differs from want, for failure messages.
func bytesDiff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return "equal"
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("got %d bytes, want %d; first difference at offset %d", len(got), len(want), i)
		}
	}
	return fmt.Sprintf("got %d bytes, want %d; one is a prefix of the other", len(got), len(want))
}

// fake is an HTTPDoer that answers without a network: the token exchange
// with testJWT, every other request with answer(request). It suits crafted
// answers of many megabytes, which -race makes slow to send over a socket.
type fake struct {
	answer func(*http.Request) (status int, body string)
	// bodySize, if above the body's length, pads every answer with 'x'
	// up to that many bytes, made as they are read.
	bodySize int
	mu       sync.Mutex
	uris     []string // RequestURI of each request but the token exchange's
}

func (f *fake) Do(req *http.Request) (*http.Response, error) {
	status, body := http.StatusOK, `{"jwt":"`+testJWT+`","ruid":"token-ruid"}`
	if req.URL.Path != authPath {
		f.mu.Lock()
		f.uris = append(f.uris, req.URL.RequestURI())
		f.mu.Unlock()
		status, body = f.answer(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	var r io.Reader = strings.NewReader(body)
	size := len(body)
	if req.URL.Path != authPath && f.bodySize > size {
		r = io.MultiReader(r, &filler{n: f.bodySize - size})
		size = f.bodySize
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(r),
		ContentLength: int64(size),
		Request:       req,
	}, nil
}

// client returns a Client that sends through f, with testSecret and policy.
func (f *fake) client(t *testing.T, policy RetryPolicy) *Client {
	t.Helper()
	return newTestClient(t, Config{BaseURL: "https://booking.invalid", ClientID: testClientID, ClientSecret: testSecret,
		HTTPClient: f, Retry: policy})
}

func (f *fake) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.uris)
}

// answerWith returns an answer func that always gives status and body.
func answerWith(status int, body string) func(*http.Request) (int, string) {
	return func(*http.Request) (int, string) { return status, body }
}

// filler reads as n bytes of 'x'.
type filler struct{ n int }

var xs = bytes.Repeat([]byte("x"), 32<<10)

func (f *filler) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), f.n)], xs)
	f.n -= n
	return n, nil
}

// withDeadline returns a context with a deadline d from now, or none if d
// is 0, as the caller of a call sets it.
func withDeadline(t testing.TB, d time.Duration) context.Context {
	if d == 0 {
		return context.Background()
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// openReader returns c.NewReader(ctx, ref, size, offset, length), closed
// when the test ends, and fails the test if NewReader refuses the range.
func openReader(t testing.TB, c *Client, ctx context.Context, ref AttachmentRef, size, offset, length int64) *Reader {
	t.Helper()
	r, err := c.NewReader(ctx, ref, size, offset, length)
	if err != nil {
		t.Fatalf("NewReader(ref, %d, %d, %d) = %v", size, offset, length, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
