package bookingapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// newClient returns a fresh Client of env's sandbox, with no token yet.
func (e *sandboxEnv) newClient(t *testing.T) *Client {
	t.Helper()
	return newTestClient(t, Config{BaseURL: e.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret})
}

// gate holds token exchanges until released, once enabled.
type gate struct {
	enabled atomic.Bool
	entered chan struct{} // gets a value when an exchange is held
	release chan struct{} // closed to let held exchanges through
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == authPath && g.enabled.Load() {
			g.entered <- struct{}{}
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestConcurrentCallsShareOneExchange starts many calls on a fresh Client
// while its first token exchange is held back: they all wait for that one
// exchange.
func TestConcurrentCallsShareOneExchange(t *testing.T) {
	t.Parallel()
	g := newGate()
	env := newSandboxEnv(t, sandbox.Options{}, g.wrap)
	ref := env.seed(t, pngFile(50))
	before := env.sandbox.TokenExchanges()
	g.enabled.Store(true)
	c := env.newClient(t)

	const calls = 50
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.FileInfo(context.Background(), ref)
			errs <- err
		}()
	}
	<-g.entered
	// Give the other calls time to queue behind the exchange; those that
	// come later find the token cached, which is fine too.
	time.Sleep(20 * time.Millisecond)
	close(g.release)
	for range calls {
		if err := <-errs; err != nil {
			t.Errorf("FileInfo(%+v) on a fresh Client = %v, want success", ref, err)
		}
	}
	if n := env.sandbox.TokenExchanges() - before; n != 1 {
		t.Errorf("%d concurrent calls on a fresh Client made %d token exchanges, want 1", calls, n)
	}
	if n := len(env.requestsTo(sandbox.EndpointToken)) - before; n != 1 {
		t.Errorf("%d concurrent calls on a fresh Client sent %d token requests, want 1", calls, n)
	}
}

// TestCancelledWaiterLeavesExchange checks that a caller whose ctx ends while
// the token exchange is slow stops waiting with ctx's error, and that the
// exchange goes on for the other callers, even when the cancelled one
// started it.
func TestCancelledWaiterLeavesExchange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// cancelledFirst makes the cancelled caller the one that starts the
		// exchange; otherwise a patient caller starts it.
		cancelledFirst bool
	}{
		{name: "another caller started the exchange"},
		{name: "the cancelled caller started the exchange", cancelledFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGate()
			env := newSandboxEnv(t, sandbox.Options{}, g.wrap)
			ref := env.seed(t, pngFile(50))
			before := env.sandbox.TokenExchanges()
			g.enabled.Store(true)
			c := env.newClient(t)

			patient := make(chan error, 1)
			startPatient := func() {
				go func() {
					_, err := c.FileInfo(context.Background(), ref)
					patient <- err
				}()
			}
			ctx, cancel := context.WithCancel(context.Background())
			impatient := make(chan error, 1)
			go func() {
				if !tt.cancelledFirst {
					<-g.entered
				}
				_, err := c.FileInfo(ctx, ref)
				impatient <- err
			}()
			if tt.cancelledFirst {
				<-g.entered
				startPatient()
			} else {
				startPatient()
			}
			time.Sleep(10 * time.Millisecond) // let both wait for the exchange
			cancel()

			// The exchange is still held: only the cancelled caller returns.
			select {
			case err := <-impatient:
				if err != context.Canceled {
					t.Errorf("FileInfo with a ctx cancelled during the exchange = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("FileInfo with a ctx cancelled during the exchange did not return while the exchange was held")
			}
			select {
			case err := <-patient:
				t.Fatalf("FileInfo without a cancel returned %v before the exchange was released", err)
			default:
			}

			close(g.release)
			if err := <-patient; err != nil {
				t.Errorf("FileInfo(%+v) without a cancel = %v, want success after the exchange", ref, err)
			}
			// A call made now uses the exchanged token.
			if _, err := c.FileInfo(context.Background(), ref); err != nil {
				t.Errorf("FileInfo(%+v) after the exchange = %v, want success", ref, err)
			}
			env.checkOneExchange(t, before, "the calls")
		})
	}
}

// bearerRecorder records the Authorization header of every messaging request.
type bearerRecorder struct {
	mu      sync.Mutex
	headers []string
}

func (b *bearerRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != authPath {
			b.mu.Lock()
			b.headers = append(b.headers, r.Header.Get("Authorization"))
			b.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (b *bearerRecorder) last() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.headers[len(b.headers)-1]
}

// TestTokenReplacedBeforeExpiry ages the cached token and checks that it is
// replaced once it is within tokenEarlyRefresh of its hour, and kept before.
func TestTokenReplacedBeforeExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		age         time.Duration
		wantReplace bool
	}{
		{name: "fresh", age: 0},
		{name: "54 minutes", age: 54 * time.Minute},
		{name: "56 minutes", age: 56 * time.Minute, wantReplace: true},
		{name: "expired", age: 2 * time.Hour, wantReplace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &bearerRecorder{}
			env := newSandboxEnv(t, sandbox.Options{}, rec.wrap)
			ref := env.seed(t, pngFile(50))
			first := rec.last()
			before := env.sandbox.TokenExchanges()

			env.client.tokens.mu.Lock()
			env.client.tokens.issued = env.client.tokens.issued.Add(-tt.age)
			env.client.tokens.mu.Unlock()
			if _, err := env.client.FileInfo(context.Background(), ref); err != nil {
				t.Fatalf("FileInfo(%+v) with a token %v old = %v, want success", ref, tt.age, err)
			}
			exchanges := env.sandbox.TokenExchanges() - before
			replaced := rec.last() != first
			if tt.wantReplace != (exchanges == 1) || tt.wantReplace != replaced || exchanges > 1 {
				t.Errorf("FileInfo with a token %v old made %d exchanges and sent %q after %q; want a new token: %v",
					tt.age, exchanges, rec.last(), first, tt.wantReplace)
			}
			// The replacement is fresh: the next call keeps it.
			if _, err := env.client.FileInfo(context.Background(), ref); err != nil || env.sandbox.TokenExchanges()-before != exchanges {
				t.Errorf("FileInfo right after = %v with %d exchanges, want success with %d", err, env.sandbox.TokenExchanges()-before, exchanges)
			}
		})
	}
}

// checkOneExchange fails the test unless call made exactly one token
// exchange since the sandbox had made before.
func (e *sandboxEnv) checkOneExchange(t *testing.T, before int, call string) {
	t.Helper()
	if n := e.sandbox.TokenExchanges() - before; n != 1 {
		t.Errorf("%s made %d token exchanges, want 1", call, n)
	}
}

// statuses returns the HTTP statuses of reqs, in order.
func statuses(reqs []sandbox.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}

// TestUnauthorizedRefreshesOnce revokes the sandbox's tokens and checks that
// each kind of call answers the 401 with exactly one new exchange and one
// resend of the same request.
func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("file_info", func(t *testing.T) {
		t.Parallel()
		env := newSandboxEnv(t, sandbox.Options{}, nil)
		ref := env.seed(t, pngFile(50))
		before := env.sandbox.TokenExchanges()
		env.sandbox.RevokeTokens()
		if info, err := env.client.FileInfo(ctx, ref); err != nil || info.Size != 50 {
			t.Fatalf("FileInfo(%+v) after RevokeTokens = %+v, %v; want size 50", ref, info, err)
		}
		if got, want := statuses(env.requestsTo(sandbox.EndpointFileInfo)), []int{401, 200}; !slices.Equal(got, want) {
			t.Errorf("FileInfo after RevokeTokens got the statuses %v, want %v", got, want)
		}
		env.checkOneExchange(t, before, "FileInfo after RevokeTokens")
	})
	t.Run("single upload", func(t *testing.T) {
		t.Parallel()
		env := newSandboxEnv(t, sandbox.Options{}, nil)
		env.seed(t, pngFile(50))
		before := env.sandbox.TokenExchanges()
		env.sandbox.RevokeTokens()
		content := pngFile(70)
		a, err := upload(ctx, env.client, testConv, FileHeader{Name: "r.png", Type: "image/png", Size: 70}, content)
		if err != nil {
			t.Fatalf("upload after RevokeTokens = %v, want success", err)
		}
		env.checkStored(t, a.ID, content)
		if got, want := statuses(env.requestsTo(sandbox.EndpointUpload)), []int{200, 401, 200}; !slices.Equal(got, want) {
			t.Errorf("upload after RevokeTokens got the statuses %v, want %v", got, want)
		}
		env.checkOneExchange(t, before, "upload after RevokeTokens")
	})
	t.Run("chunked upload revoked after start", func(t *testing.T) {
		t.Parallel()
		env := newSandboxEnv(t, sandbox.Options{}, nil)
		content := pngFile(2*MaxChunkBytes + 10)
		u, err := env.client.NewUploader(ctx, testConv, FileHeader{Name: "c.png", Type: "image/png", Size: int64(len(content))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.Write(content[:MaxChunkBytes+1]); err != nil {
			t.Fatalf("Write of the first chunk = %v, want success", err)
		}
		before := env.sandbox.TokenExchanges()
		env.sandbox.RevokeTokens()
		if _, err := u.Write(content[MaxChunkBytes+1:]); err != nil {
			t.Fatalf("Write of the rest after RevokeTokens = %v, want success", err)
		}
		a, err := u.Close()
		if err != nil {
			t.Fatalf("Close after RevokeTokens = %v, want success", err)
		}
		env.checkStored(t, a.ID, content)
		reqs := env.requestsTo(sandbox.EndpointChunks)
		var got []string
		for _, r := range reqs {
			got = append(got, fmt.Sprintf("%s %d: %d", r.Action, r.ChunkNumber, r.Status))
		}
		want := []string{"start 0: 200", "resume 1: 401", "resume 1: 200", "finish 2: 200"}
		if !slices.Equal(got, want) {
			t.Errorf("chunked upload with RevokeTokens after start sent %q, want %q", got, want)
		}
		env.checkOneExchange(t, before, "chunked upload with RevokeTokens after start")
	})
}

// TestPersistentUnauthorized answers every messaging call with 401: the
// first call exchanges once more and resends once, then fails with
// KindUnauthenticated; calls within rejectionInterval spend no more tokens.
func TestPersistentUnauthorized(t *testing.T) {
	t.Parallel()
	srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusUnauthorized, `{"errors":[{"code":401,"message":"access denied"}],"meta":{"ruid":"R401"}}`)
	})
	c := srv.client(t, fastRetry)
	ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}
	ctx := context.Background()

	steps := []struct {
		name          string
		before        func()
		wantRequests  int // in all, so far
		wantExchanges int // in all, so far
	}{
		{name: "first call", wantRequests: 2, wantExchanges: 2},
		{name: "second call at once", wantRequests: 4, wantExchanges: 2},
		{name: "after rejectionInterval", wantRequests: 6, wantExchanges: 3, before: func() {
			c.tokens.mu.Lock()
			c.tokens.lastRejected = c.tokens.lastRejected.Add(-rejectionInterval)
			c.tokens.mu.Unlock()
		}},
	}
	// The steps share the Client, in order: not parallel.
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.before != nil {
				step.before()
			}
			_, err := c.FileInfo(ctx, ref)
			call := "FileInfo answered 401, " + step.name
			e := checkError(t, call, err, "file_info", KindUnauthenticated, []string{"HTTP 401", "access denied", "R401"})
			if e.StatusCode != 401 {
				t.Errorf("%s: StatusCode %d, want 401", call, e.StatusCode)
			}
			if n := len(srv.requests()); n != step.wantRequests {
				t.Errorf("%s: %d requests so far, want %d", call, n, step.wantRequests)
			}
			if n := srv.tokenExchanges(); n != step.wantExchanges {
				t.Errorf("%s: %d token exchanges so far, want %d", call, n, step.wantExchanges)
			}
		})
	}
}

// TestExchangeRequest checks the token exchange's request and that later
// requests carry its token.
func TestExchangeRequest(t *testing.T) {
	t.Parallel()
	type captured struct {
		method, contentType, auth string
		body                      []byte
	}
	var mu sync.Mutex
	var exchange captured
	var bearers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == authPath {
			body, _ := io.ReadAll(r.Body)
			exchange = captured{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body}
			writeBody(w, http.StatusOK, `{"jwt":"eyJhbGciOi.payload.sig","ruid":"R"}`)
			return
		}
		bearers = append(bearers, r.Header.Get("Authorization"))
		writeBody(w, http.StatusOK, `{"data":{"file_name":"a","file_type":"image/png","file_size":1}}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, Config{BaseURL: srv.URL, ClientID: "id-1", ClientSecret: `se"cr\et`})
	ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}
	for range 2 {
		if _, err := c.FileInfo(context.Background(), ref); err != nil {
			t.Fatalf("FileInfo(%+v) = %v, want success", ref, err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if exchange.method != http.MethodPost || exchange.contentType != "application/json" || exchange.auth != "" {
		t.Errorf("token exchange sent %s with Content-Type %q and Authorization %q, want POST, application/json and none",
			exchange.method, exchange.contentType, exchange.auth)
	}
	var body map[string]any
	if err := json.Unmarshal(exchange.body, &body); err != nil {
		t.Fatalf("token exchange body %q is not a JSON object: %v", exchange.body, err)
	}
	want := map[string]any{"client_id": "id-1", "client_secret": `se"cr\et`}
	if len(body) != len(want) || body["client_id"] != want["client_id"] || body["client_secret"] != want["client_secret"] {
		t.Errorf("token exchange body = %s, want exactly %v", exchange.body, want)
	}
	if wantBearers := []string{"Bearer eyJhbGciOi.payload.sig", "Bearer eyJhbGciOi.payload.sig"}; !slices.Equal(bearers, wantBearers) {
		t.Errorf("messaging requests carried Authorization %q, want %q", bearers, wantBearers)
	}
}

// TestFailedExchange checks how a failed token exchange reaches the caller:
// refusals of the credentials are KindUnauthenticated, and no error text
// holds the secret.
func TestFailedExchange(t *testing.T) {
	t.Parallel()
	const secret = "wrong-secret-Zq9xT"
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { writeBody(w, status, body) }
	}
	tests := []struct {
		name     string
		auth     http.HandlerFunc // nil: the sandbox, which refuses secret
		wantKind Kind
		wantCode int
		// wantAuthRequests, if not 0, is how many exchanges may be tried.
		wantAuthRequests int
	}{
		{name: "sandbox refuses the secret", wantKind: KindUnauthenticated, wantCode: 401, wantAuthRequests: 1},
		{name: "400", auth: answer(400, `{"errors":[{"message":"client_secret is wrong"}],"meta":{"ruid":"R"}}`),
			wantKind: KindUnauthenticated, wantCode: 400, wantAuthRequests: 1},
		{name: "403", auth: answer(403, `{"errors":[{"message":"machine account disabled"}]}`),
			wantKind: KindUnauthenticated, wantCode: 403, wantAuthRequests: 1},
		{name: "404", auth: answer(404, `not found`), wantKind: KindUnauthenticated, wantCode: 404, wantAuthRequests: 1},
		{name: "200 without jwt", auth: answer(200, `{"ruid":"R"}`), wantKind: KindMalformedResponse, wantCode: 200, wantAuthRequests: 1},
		{name: "200 not JSON", auth: answer(200, `jwt=abc`), wantKind: KindMalformedResponse, wantCode: 200, wantAuthRequests: 1},
		{name: "429", auth: answer(429, `{"errors":["too many tokens"]}`), wantKind: KindRateLimited, wantCode: 429},
		{name: "503", auth: answer(503, `down`), wantKind: KindUnavailable, wantCode: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var authRequests atomic.Int64
			env := newSandboxEnv(t, sandbox.Options{}, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == authPath {
						authRequests.Add(1)
						if tt.auth != nil {
							tt.auth(w, r)
							return
						}
					}
					next.ServeHTTP(w, r)
				})
			})
			c := newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: secret})
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

			_, err := c.FileInfo(context.Background(), ref)
			call := fmt.Sprintf("FileInfo when the exchange gets %s", tt.name)
			e := checkError(t, call, err, "token exchange", tt.wantKind, []string{"token exchange"})
			env.checkErrorText(t, call, err, secret)
			if e.StatusCode != tt.wantCode {
				t.Errorf("%s: StatusCode %d, want %d", call, e.StatusCode, tt.wantCode)
			}
			if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != 0 {
				t.Errorf("%s sent %d file_info requests, want none without a token", call, n)
			}
			if n := authRequests.Load(); tt.wantAuthRequests != 0 && n != int64(tt.wantAuthRequests) {
				t.Errorf("%s sent %d token requests, want %d", call, n, tt.wantAuthRequests)
			}
		})
	}
}

// TestExchangeRetriesAreBounded checks that a token exchange that keeps
// failing with 503 is tried MaxAttempts times for one call, like any other
// request.
func TestExchangeRetriesAreBounded(t *testing.T) {
	t.Parallel()
	var exchanges atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == authPath {
			exchanges.Add(1)
		}
		writeBody(w, http.StatusServiceUnavailable, `{"errors":["down"]}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, Config{BaseURL: srv.URL, ClientID: testClientID, ClientSecret: testSecret})
	ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

	_, err := c.FileInfo(context.Background(), ref)
	checkError(t, "FileInfo when the exchange gets 503", err, "token exchange", KindUnavailable, nil)
	if n := exchanges.Load(); n != int64(fastRetry.MaxAttempts) {
		t.Errorf("FileInfo when the exchange gets 503 sent %d exchange requests, want MaxAttempts = %d", n, fastRetry.MaxAttempts)
	}
}
