package bookingapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// closedURL returns the URL of a port on which nothing listens any more.
func closedURL(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + lis.Addr().String()
	lis.Close()
	return url
}

// TestOutcomes checks what a failed request reports about what Booking may
// have done, and that each policy sends it again only after the outcomes it
// allows: a post that a guest would see (resendUnlessProcessed) is never
// sent twice once Booking may have processed it.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       sandbox.Fault
		unreachable bool // Booking's port is closed
		wantOutcome Outcome
		wantKind    Kind
	}{
		{name: "connection refused", unreachable: true, wantOutcome: OutcomeNotSent, wantKind: KindUnavailable},
		{name: "dropped after the request was written", fault: sandbox.Fault{Drop: true, Times: 100}, wantOutcome: OutcomeMaybeProcessed, wantKind: KindUnavailable},
		{name: "429", fault: sandbox.Fault{Status: 429, Times: 100}, wantOutcome: OutcomeRefused, wantKind: KindRateLimited},
		{name: "503", fault: sandbox.Fault{Status: 503, Times: 100}, wantOutcome: OutcomeRefused, wantKind: KindUnavailable},
		{name: "507", fault: sandbox.Fault{Status: 507, Times: 100}, wantOutcome: OutcomeRefused, wantKind: KindUnavailable},
		{name: "500", fault: sandbox.Fault{Status: 500, Times: 100}, wantOutcome: OutcomeMaybeProcessed, wantKind: KindUnavailable},
		{name: "502", fault: sandbox.Fault{Status: 502, Times: 100}, wantOutcome: OutcomeMaybeProcessed, wantKind: KindUnavailable},
		{name: "504", fault: sandbox.Fault{Status: 504, Times: 100}, wantOutcome: OutcomeMaybeProcessed, wantKind: KindUnavailable},
		{name: "no answer in time", fault: sandbox.Fault{Delay: time.Minute, Times: 100}, wantOutcome: OutcomeMaybeProcessed, wantKind: KindUnavailable},
		{name: "400", fault: sandbox.Fault{Status: 400, Times: 100}, wantOutcome: OutcomeFinal, wantKind: KindInvalidRequest},
		{name: "404", fault: sandbox.Fault{Status: 404, Times: 100}, wantOutcome: OutcomeFinal, wantKind: KindNotFound},
	}
	policies := []struct {
		name   string
		resend resend
	}{
		{"safe", resendSafe},
		{"commit", resendCommit},
		{"unless processed", resendUnlessProcessed},
	}
	const attempts = 3
	for _, tt := range tests {
		for _, p := range policies {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				env := newSandboxEnv(t, sandbox.Options{}, nil)
				base := env.url
				if tt.unreachable {
					base = closedURL(t)
				}
				// The token comes from the sandbox, the request goes to base.
				c := newTestClient(t, Config{BaseURL: base, AuthURL: env.url + authPath,
					ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
					HTTPClient: noKeepAlive(), ResponseTimeout: 200 * time.Millisecond,
					Retry: RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
				fault := tt.fault
				fault.Endpoint = sandbox.EndpointUpload
				env.sandbox.InjectFault(fault)

				var out struct{ AttachmentID string }
				_, err := c.do(context.Background(), &request{
					op: OpUpload, method: http.MethodPost, path: testConv.path("attachments"),
					body: singleUploadBody(FileHeader{Name: "a.png", Type: "image/png"}, [][]byte{pngFile(10)}, 10).bytes, resend: p.resend,
				}, &out)
				call := fmt.Sprintf("a %s POST with %s", p.name, tt.name)
				e := asError(t, call, err)
				env.checkErrorText(t, call, err)
				if e.Outcome != tt.wantOutcome || e.Kind != tt.wantKind {
					t.Errorf("%s = %v (Outcome %v, Kind %v), want Outcome %v, Kind %v", call, err, e.Outcome, e.Kind, tt.wantOutcome, tt.wantKind)
				}
				wantSent := 1
				if tt.wantOutcome != OutcomeFinal && p.resend.allows(tt.wantOutcome) {
					wantSent = attempts
				}
				if tt.unreachable {
					if e.Attempts != wantSent {
						t.Errorf("%s made %d attempts, want %d", call, e.Attempts, wantSent)
					}
					return
				}
				if n := len(env.requestsTo(sandbox.EndpointUpload)); n != wantSent || e.Attempts != wantSent {
					t.Errorf("%s reached Booking %d times (Attempts %d), want %d", call, n, e.Attempts, wantSent)
				}
			})
		}
	}
}

// TestHangingBooking checks that a Booking that never answers fails the
// call with KindUnavailable after the client's own bounds, naming the time
// waited, while a caller's own deadline comes back as ctx's error.
func TestHangingBooking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		responseTimeout time.Duration
		requestTimeout  time.Duration
		deadline        time.Duration // the caller's; 0: none
		wantErr         error         // ctx's error, or nil for an *Error
		wantInText      string
		wantRequests    int
	}{
		{name: "each attempt times out", responseTimeout: 100 * time.Millisecond, requestTimeout: 10 * time.Second,
			wantInText: "no answer from Booking within 100ms, after 3 attempts", wantRequests: 3},
		{name: "the request times out", responseTimeout: 10 * time.Second, requestTimeout: 300 * time.Millisecond,
			wantInText: "no answer from Booking within 300ms, the most one request may take", wantRequests: 1},
		{name: "the caller's deadline passes first", responseTimeout: 10 * time.Second, requestTimeout: 10 * time.Second,
			deadline: 300 * time.Millisecond, wantErr: context.DeadlineExceeded, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				ResponseTimeout: tt.responseTimeout, RequestTimeout: tt.requestTimeout})
			ref := env.seed(t, pngFile(10))
			env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Delay: time.Hour, Times: 100})
			ctx := withDeadline(t, tt.deadline)

			start := time.Now()
			_, err := env.client.FileInfo(ctx, ref)
			took := time.Since(start)
			call := "FileInfo of a Booking that never answers, " + tt.name
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("%s = %v, want %v", call, err, tt.wantErr)
				}
			} else {
				e := asError(t, call, err)
				if e.Kind != KindUnavailable || e.Outcome != OutcomeMaybeProcessed || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
					t.Errorf("%s = %v (Kind %v, Outcome %v), want KindUnavailable, maybe processed, and no context error", call, err, e.Kind, e.Outcome)
				}
				if !strings.Contains(err.Error(), tt.wantInText) {
					t.Errorf("%s = %q, want it to say %q", call, err, tt.wantInText)
				}
			}
			if took > 5*time.Second {
				t.Errorf("%s returned after %v, want soon after its bound", call, took)
			}
			if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != tt.wantRequests {
				t.Errorf("%s sent %d requests, want %d", call, n, tt.wantRequests)
			}
		})
	}
}

// TestRetryBudgetDuringOutage makes every request fail with 503 and checks
// that the requests reaching Booking stay within 1.2 times the calls made,
// sequential or concurrent, and that retries resume once Booking is back.
func TestRetryBudgetDuringOutage(t *testing.T) {
	t.Parallel()
	const calls = 200
	for _, workers := range []int{1, 16} {
		t.Run(fmt.Sprintf("%d at a time", workers), func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			observer := &notRetriedObserver{}
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				Observer: observer, Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
			ref := env.seed(t, pngFile(10))
			env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503, Times: 1 << 30})
			before := len(env.requestsTo(sandbox.EndpointFileInfo))

			var wg sync.WaitGroup
			var failed atomic.Int64
			next := make(chan struct{}, calls)
			for range calls {
				next <- struct{}{}
			}
			close(next)
			for range workers {
				wg.Go(func() {
					for range next {
						if _, err := env.client.FileInfo(context.Background(), ref); err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			sent := len(env.requestsTo(sandbox.EndpointFileInfo)) - before
			t.Logf("%d calls during a 503 outage sent %d requests to Booking", calls, sent)
			if failed.Load() != calls {
				t.Errorf("%d of %d calls failed during the outage, want all", failed.Load(), calls)
			}
			if sent > calls*12/10 {
				t.Errorf("%d calls during a 503 outage sent %d requests to Booking, want at most %d", calls, sent, calls*12/10)
			}
			if len(observer.reasons()) == 0 {
				t.Errorf("the Observer heard of no retry denied by the budget")
			}
		})
	}

	t.Run("retries resume after the outage", func(t *testing.T) {
		t.Parallel()
		env := newSandboxEnv(t, sandbox.Options{}, nil)
		env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
			Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
		ref := env.seed(t, pngFile(10))
		env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503, Times: 30})
		for range 30 {
			env.client.FileInfo(context.Background(), ref)
		}
		// The default budget: 10 tokens, 0.1 back per success, retries
		// while more than 5 remain.
		for range 60 {
			if _, err := env.client.FileInfo(context.Background(), ref); err != nil {
				t.Fatalf("FileInfo after the outage = %v, want success", err)
			}
		}
		env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503})
		if _, err := env.client.FileInfo(context.Background(), ref); err != nil {
			t.Errorf("FileInfo with one 503, once successes refilled the budget = %v, want success after a retry", err)
		}
	})
}

// TestMaxInFlight checks that no more than MaxInFlight requests reach
// Booking at once, and that the others wait rather than fail.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	const limit, calls = 4, 24
	var now, peak atomic.Int64
	env := newSandboxEnv(t, sandbox.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != authPath {
				n := now.Add(1)
				defer now.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond)
			}
			next.ServeHTTP(w, r)
		})
	})
	env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		MaxInFlight: limit})
	ref := env.seed(t, pngFile(10))
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if _, err := env.client.FileInfo(context.Background(), ref); err != nil {
				t.Errorf("FileInfo = %v, want success", err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > limit || p < 2 {
		t.Errorf("%d concurrent calls with MaxInFlight %d had %d requests at Booking at once, want at most %d (and more than 1)", calls, limit, p, limit)
	}
	if n := env.client.InFlight(); n != 0 {
		t.Errorf("InFlight() after every call = %d, want 0", n)
	}
}

// TestConnectionsAreReused runs 32 calls at a time and counts the
// connections Booking's side accepts: at least 95% of requests must reuse
// one.
func TestConnectionsAreReused(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 32, 40
	sb := sandbox.New(sandbox.Options{})
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(sb)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newTestClient(t, Config{BaseURL: srv.URL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret})
	file := FileHeader{Name: "a.png", Type: "image/png", Size: 100}
	a, err := upload(context.Background(), c, testConv, file, pngFile(100))
	if err != nil {
		t.Fatal(err)
	}
	ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: a.ID}
	before := opened.Load()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				if _, err := c.FileInfo(context.Background(), ref); err != nil {
					t.Errorf("FileInfo = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	requests, conns := workers*perWorker, opened.Load()-before
	t.Logf("%d requests, %d at a time, opened %d connections", requests, workers, conns)
	if reused := float64(requests-int(conns)) / float64(requests); reused < 0.95 {
		t.Errorf("%d requests, %d at a time, opened %d connections: %.1f%% reused one, want at least 95%%", requests, workers, conns, 100*reused)
	}
}

// TestHTTP2 checks that the default transport speaks HTTP/2 to a server
// that offers it over TLS.
func TestHTTP2(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	var protos sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		sb.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	transport := NewTransport(0)
	transport.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	c := newTestClient(t, Config{BaseURL: srv.URL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		HTTPClient: &http.Client{Transport: transport}})
	if _, err := upload(context.Background(), c, testConv, FileHeader{Name: "a.png", Type: "image/png", Size: 10}, pngFile(10)); err != nil {
		t.Fatal(err)
	}
	var seen []string
	protos.Range(func(k, _ any) bool { seen = append(seen, k.(string)); return true })
	if len(seen) != 1 || seen[0] != "HTTP/2.0" {
		t.Errorf("the server saw the protocols %q, want only HTTP/2.0", seen)
	}
}

// TestCutOffAnswersAreRetried cuts answers off mid-read, once and always,
// on every kind of GET and on the token exchange: a cut is a lost answer,
// retried like a network error, and never an internal error.
func TestCutOffAnswersAreRetried(t *testing.T) {
	t.Parallel()
	const size = 2_500_000 // three ranges
	tests := []struct {
		name     string
		endpoint sandbox.Endpoint
		cutAfter int
	}{
		{"download range", sandbox.EndpointDownload, 1000},
		{"download range at its first byte", sandbox.EndpointDownload, 1},
		{"file_info", sandbox.EndpointFileInfo, 20},
		{"token exchange", sandbox.EndpointToken, 10},
	}
	for _, tt := range tests {
		for _, times := range []int{1, 100} {
			t.Run(fmt.Sprintf("%s/%d times", tt.name, times), func(t *testing.T) {
				t.Parallel()
				env := newSandboxEnv(t, sandbox.Options{}, nil)
				content := pngFile(size)
				ref := env.seed(t, content)
				c := env.newClient(t) // exchanges its token only now
				env.sandbox.InjectFault(sandbox.Fault{Endpoint: tt.endpoint, CutAfter: tt.cutAfter, Times: times})

				info, err := c.FileInfo(context.Background(), ref)
				var got []byte
				if err == nil {
					got, err = io.ReadAll(openReader(t, c, context.Background(), ref, info.Size, 0, info.Size))
				}
				call := fmt.Sprintf("FileInfo and a download with %s cut after %d bytes %d times", tt.name, tt.cutAfter, times)
				env.checkErrorText(t, call, err)
				if times == 1 {
					if err != nil || !bytes.Equal(got, content) {
						t.Fatalf("%s = %v, %s; want the file after a retry", call, err, bytesDiff(got, content))
					}
					return
				}
				e := asError(t, call, err)
				if e.Kind != KindUnavailable || e.Outcome != OutcomeMaybeProcessed || !strings.Contains(e.Error(), "cut off") {
					t.Errorf("%s = %v (Kind %v, Outcome %v), want KindUnavailable, maybe processed, saying it was cut off", call, err, e.Kind, e.Outcome)
				}
				if n := len(env.requestsTo(tt.endpoint)); n < 3 {
					t.Errorf("%s sent %d requests there, want the retries", call, n)
				}
			})
		}
	}
}

// TestRangesMustBeExact alters download answers and checks that a range
// holding other than what was asked for is DataLoss, whatever to means.
func TestRangesMustBeExact(t *testing.T) {
	t.Parallel()
	const size = 2_500_000
	appendBytes := func(n int) func(map[string]any) {
		return func(data map[string]any) {
			b, _ := base64.StdEncoding.DecodeString(data["file_content"].(string))
			data["file_content"] = base64.StdEncoding.EncodeToString(append(b, make([]byte, n)...))
		}
	}
	dropBytes := func(n int) func(map[string]any) {
		return func(data map[string]any) {
			b, _ := base64.StdEncoding.DecodeString(data["file_content"].(string))
			data["file_content"] = base64.StdEncoding.EncodeToString(b[:len(b)-n])
		}
	}
	tests := []struct {
		name  string
		nth   int // which GET
		alter func(map[string]any)
	}{
		{"bytes appended to the first range", 1, appendBytes(2)},
		{"bytes appended to the last range", 3, appendBytes(1)},
		{"a byte missing from the first range", 1, dropBytes(1)},
		{"a byte missing from the last range", 3, dropBytes(1)},
		{"a byte appended to the second range", 2, appendBytes(1)},
	}
	for _, tt := range tests {
		for _, setting := range toSettings {
			t.Run(tt.name+"/"+setting.name, func(t *testing.T) {
				t.Parallel()
				env := newSandboxEnv(t, setting.opts, nil)
				ref := env.seed(t, pngFile(size))
				env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Nth: tt.nth, Alter: tt.alter})
				_, err := io.ReadAll(openReader(t, env.client, context.Background(), ref, size, 0, size))
				call := "a download with " + tt.name
				if e := asError(t, call, err); e.Kind != KindDataLoss {
					t.Errorf("%s = %v (Kind %v), want KindDataLoss", call, err, e.Kind)
				}
			})
		}
	}
}

// warnings is a slog handler's output, safe for concurrent writes.
type warnings struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *warnings) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// commitObserver counts commits sent again.
type commitObserver struct {
	nopObserver
	commits atomic.Int64
}

func (o *commitObserver) Retried(_ context.Context, r Retry) {
	if r.Commit {
		o.commits.Add(1)
	}
}

// TestCommitSentAgainAfterALostAnswer loses the answer to a commit after
// Booking stored the attachment: the upload is committed again, so the
// caller gets an attachment it can read, and the lost one is an orphan
// that the Observer and a logged warning (with ruids) report.
func TestCommitSentAgainAfterALostAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		size  int
		fault sandbox.Fault
	}{
		{"single upload dropped", 1000, sandbox.Fault{Endpoint: sandbox.EndpointUpload, Processed: true, Drop: true}},
		{"single upload answered 504", 1000, sandbox.Fault{Endpoint: sandbox.EndpointUpload, Processed: true, Status: 504}},
		{"finish dropped", 2_500_000, sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "finish", Processed: true, Drop: true}},
		{"finish cut off", 2_500_000, sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "finish", Processed: true, CutAfter: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			observer := &commitObserver{}
			log := &warnings{}
			c := newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				HTTPClient: noKeepAlive(), Observer: observer, Logger: slog.New(slog.NewJSONHandler(log, nil))})
			env.sandbox.InjectFault(tt.fault)
			content := pngFile(tt.size)
			a, err := upload(context.Background(), c, testConv, FileHeader{Name: "a.png", Type: "image/png", Size: int64(tt.size)}, content)
			if err != nil {
				t.Fatalf("upload with %s = %v, want success", tt.name, err)
			}
			env.checkStored(t, a.ID, content)
			ids := env.sandbox.AttachmentIDs(testProperty, testConversation)
			if len(ids) != 2 {
				t.Errorf("the sandbox holds %d attachments, want 2: the one returned and the orphan", len(ids))
			}
			if n := observer.commits.Load(); n != 1 {
				t.Errorf("the Observer heard of %d commits sent again, want 1", n)
			}
			text := log.String()
			if !strings.Contains(text, "orphan") || !strings.Contains(text, `"level":"WARN"`) {
				t.Errorf("the log = %s, want a warning about an orphan", text)
			}
			if tt.size > MaxChunkBytes && !strings.Contains(text, `"ruids":["`) {
				t.Errorf("the warning = %s, want the ruids of the upload's chunks", text)
			}
		})
	}
}

// TestHTMLErrorPages answers with a load balancer's HTML page: the error
// says so, in one line, and the request is retried by its status.
func TestHTMLErrorPages(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	ref := env.seed(t, pngFile(10))
	env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 502, HTML: true, Times: 100})
	_, err := env.client.FileInfo(context.Background(), ref)
	const call = "FileInfo answered by an HTML 502 page"
	e := asError(t, call, err)
	env.checkErrorText(t, call, err)
	if e.Kind != KindUnavailable || e.StatusCode != 502 || !strings.Contains(e.Error(), "HTML page") {
		t.Errorf("%s = %v (Kind %v), want KindUnavailable, HTTP 502, saying it was an HTML page", call, err, e.Kind)
	}
	if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != fastRetry.MaxAttempts {
		t.Errorf("%s sent %d requests, want %d", call, n, fastRetry.MaxAttempts)
	}
}

// TestHugeAnswer pads an answer past the client's limit: it is refused
// without being parsed, and not retried.
func TestHugeAnswer(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	ref := env.seed(t, pngFile(10))
	env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, PadBytes: maxResponseBytes + 1, Times: 100})
	_, err := env.client.FileInfo(context.Background(), ref)
	const call = "FileInfo with an answer over 16 MiB"
	e := asError(t, call, err)
	if e.Kind != KindMalformedResponse || !strings.Contains(e.Error(), "larger than") {
		t.Errorf("%s = %v (Kind %v), want KindMalformedResponse saying it is too large", call, err, e.Kind)
	}
	if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != 1 {
		t.Errorf("%s sent %d requests, want 1", call, n)
	}
}

// TestParallelRanges reads a file of ten ranges from a slow Booking: up to
// ParallelRanges GETs are in flight at once, the bytes come back in order,
// a failed range is fetched again alone, and a cancel or a Close stops
// every GET in flight.
func TestParallelRanges(t *testing.T) {
	t.Parallel()
	const size = 10 * MaxRangeBytes
	content := pngFile(size)
	var now, peak atomic.Int64
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/file_info") {
				n := now.Add(1)
				defer now.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(30 * time.Millisecond)
			}
			next.ServeHTTP(w, r)
		})
	}
	for _, setting := range toSettings {
		t.Run(setting.name, func(t *testing.T) {
			env := newSandboxEnv(t, setting.opts, slow)
			ref := env.seed(t, content)
			peak.Store(0)
			// The third range fails once.
			env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Nth: 3, Status: 503})
			var got bytes.Buffer
			if _, err := openReader(t, env.client, context.Background(), ref, size, 0, size).WriteTo(&got); err != nil || !bytes.Equal(got.Bytes(), content) {
				t.Fatalf("WriteTo = %v, %s", err, bytesDiff(got.Bytes(), content))
			}
			if p := peak.Load(); p != DefaultParallelRanges {
				t.Errorf("%d range GETs were in flight at most, want %d", p, DefaultParallelRanges)
			}
			froms := map[string]int{}
			for _, r := range env.requestsTo(sandbox.EndpointDownload) {
				froms[r.Query.Get("from")]++
			}
			again := 0
			for _, n := range froms {
				if n > 1 {
					again++
				}
			}
			if len(froms) != 11 || again != 1 {
				t.Errorf("the GETs asked for %d ranges, %d of them more than once; want 11 ranges, one fetched again alone", len(froms), again)
			}
		})
	}

	t.Run("cancel and close", func(t *testing.T) {
		env := newSandboxEnv(t, sandbox.Options{}, slow)
		ref := env.seed(t, content)
		for _, stop := range []string{"cancel", "close"} {
			ctx, cancel := context.WithCancel(context.Background())
			r := openReader(t, env.client, ctx, ref, size, 0, size)
			if _, err := r.Read(make([]byte, 10)); err != nil {
				t.Fatal(err)
			}
			before := len(env.requestsTo(sandbox.EndpointDownload))
			if stop == "cancel" {
				cancel()
				if _, err := io.Copy(io.Discard, r); !errors.Is(err, context.Canceled) {
					t.Errorf("reading after a cancel = %v, want context.Canceled", err)
				}
			} else {
				r.Close()
			}
			// Every GET in flight has ended when Read or Close returns, and
			// none starts after.
			if n := env.inflight.Load(); n > 0 {
				time.Sleep(100 * time.Millisecond) // the server may still see their ends
			}
			after := len(env.requestsTo(sandbox.EndpointDownload))
			time.Sleep(100 * time.Millisecond)
			if late := len(env.requestsTo(sandbox.EndpointDownload)); late != after || after-before > DefaultParallelRanges {
				t.Errorf("after %s: %d GETs ended, then %d more; want at most the %d in flight, then none", stop, after-before, late-after, DefaultParallelRanges)
			}
			cancel()
		}
	})
}

// TestRangeFastPath decodes download answers of every shape with the fast
// path and the general decoder, and checks that they agree; answers with
// escapes, or their key twice or out of data, take the general decoder.
func TestRangeFastPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		fast bool // taken whole by the fast path
	}{
		{"plain", `{"data":{"ok":"true","file_content":"YWJj","attachment_id":"x"},"meta":{"ruid":"R"}}`, true},
		{"spaces around the colon", `{"data":{"file_content" : "YWJj"},"meta":{"ruid":"R"}}`, true},
		{"key last", `{"meta":{"ruid":"R"},"errors":[],"data":{"ok":true,"file_content":"YWJj"}}`, true},
		{"an escaped slash", `{"data":{"file_content":"YW\/j"},"meta":{"ruid":"R"}}`, false},
		{"an escaped quote elsewhere", `{"data":{"file_content":"YWJj","n":"a\"b"},"meta":{"ruid":"R"}}`, true},
		{"the key twice", `{"data":{"file_content":"YWJj","file_content":"ZGVm"}}`, false},
		{"the key in meta only", `{"data":{"ok":true},"meta":{"file_content":"YWJj"}}`, false},
		{"the key in meta and data", `{"meta":{"file_content":"ZGVm"},"data":{"file_content":"YWJj"}}`, false},
		{"a line break in the base64", "{\"data\":{\"file_content\":\"YW\nJj\"}}", false},
		{"not base64", `{"data":{"file_content":"!!!!"}}`, false},
		{"ok false", `{"data":{"ok":false,"file_content":"YWJj"},"meta":{"ruid":"R"}}`, false},
		{"errors", `{"data":{"file_content":"YWJj"},"errors":["no"]}`, false},
		{"no closing quote", `{"data":{"file_content":"YWJj`, false},
		{"a string, not an object", `"file_content":"YWJj"`, false},
		{"empty", `{"data":{"file_content":""}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &answer{status: 200, header: http.Header{}, body: []byte(tt.body)}
			fast, fastRUID, ok := decodePlainRange(a)
			if ok != tt.fast {
				t.Errorf("the fast path took %s: %v, want %v", tt.body, ok, tt.fast)
			}
			got, ruid, err := decodeRangeAnswer(a)
			var general rangeData
			wantRUID, wantErr := decodeResponse(OpDownload, a, &general)
			if (err == nil) != (wantErr == nil) || !bytes.Equal(got.bytes, general.FileContent) || ruid != wantRUID {
				t.Errorf("decodeRangeAnswer(%s) = %q, %q, %v; the general decoder gives %q, %q, %v", tt.body, got.bytes, ruid, err, general.FileContent, wantRUID, wantErr)
			}
			if ok && (!bytes.Equal(fast.bytes, general.FileContent) || fastRUID != wantRUID) {
				t.Errorf("the fast path gave %q, %q; the general decoder %q, %q", fast.bytes, fastRUID, general.FileContent, wantRUID)
			}
			got.release()
			fast.release()
		})
	}
}
