package bookingapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// wantCeiling is min(MaxDelay, BaseDelay·2^(retry-1)), without overflow.
func wantCeiling(p RetryPolicy, retry int) time.Duration {
	c := p.BaseDelay
	for range retry - 1 {
		if c > p.MaxDelay/2 {
			return p.MaxDelay
		}
		c *= 2
	}
	return min(c, p.MaxDelay)
}

// TestBackoffStaysWithinCeiling draws many backoffs for each retry and
// checks they stay in [0, min(MaxDelay, BaseDelay·2^(n-1))] and spread over
// that range (full jitter).
func TestBackoffStaysWithinCeiling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy RetryPolicy
	}{
		{name: "defaults", policy: RetryPolicy{}.withDefaults()},
		{name: "milliseconds", policy: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}},
		{name: "base above max", policy: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 100 * time.Millisecond}},
		{name: "nanoseconds", policy: RetryPolicy{MaxAttempts: 3, BaseDelay: 3, MaxDelay: time.Hour}},
	}
	const draws = 2000
	for _, tt := range tests {
		for _, retry := range []int{1, 2, 3, 4, 8, 21} {
			t.Run(fmt.Sprintf("%s/retry %d", tt.name, retry), func(t *testing.T) {
				t.Parallel()
				ceiling := wantCeiling(tt.policy, retry)
				lo, hi := time.Duration(1<<62), time.Duration(-1)
				for range draws {
					got := tt.policy.backoff(retry, 0)
					if got < 0 || got > ceiling {
						t.Fatalf("(%+v).backoff(%d, 0) = %v, want within [0, %v]", tt.policy, retry, got, ceiling)
					}
					lo, hi = min(lo, got), max(hi, got)
				}
				// With 2000 uniform draws, missing either half has a
				// probability of 2^-2000.
				if ceiling >= 2 && (lo > ceiling/2 || hi < ceiling/2) {
					t.Errorf("(%+v).backoff(%d, 0) over %d draws ranged over [%v, %v], want draws on both sides of %v", tt.policy, retry, draws, lo, hi, ceiling/2)
				}
			})
		}
	}
}

// TestBackoffHonoursRetryAfter checks that a backoff is at least what
// Retry-After asked for, and never above the larger of that and the jitter
// ceiling. (A Retry-After above MaxDelay is never waited: the retry loop
// returns the error instead.)
func TestBackoffHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond}
	tests := []struct {
		name       string
		retry      int
		retryAfter time.Duration
		wantMin    time.Duration
	}{
		{name: "none", retry: 1, retryAfter: 0, wantMin: 0},
		{name: "below the ceiling", retry: 3, retryAfter: 2 * time.Millisecond, wantMin: 2 * time.Millisecond},
		{name: "above the ceiling", retry: 1, retryAfter: 30 * time.Millisecond, wantMin: 30 * time.Millisecond},
		{name: "negative", retry: 1, retryAfter: -time.Second, wantMin: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantMax := max(wantCeiling(p, tt.retry), tt.wantMin)
			for range 1000 {
				got := p.backoff(tt.retry, tt.retryAfter)
				if got < tt.wantMin || got > wantMax {
					t.Fatalf("(%+v).backoff(%d, %v) = %v, want within [%v, %v]", p, tt.retry, tt.retryAfter, got, tt.wantMin, wantMax)
				}
			}
		})
	}
}

// TestParseRetryAfter reads both forms of Retry-After and ignores the rest.
func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		header      string
		want        time.Duration
		wantAtLeast bool // want is a lower bound
	}{
		{name: "absent", header: "", want: 0},
		{name: "seconds", header: "3", want: 3 * time.Second},
		{name: "two minutes", header: "120", want: 2 * time.Minute},
		{name: "zero", header: "0", want: 0},
		{name: "negative", header: "-5", want: 0},
		{name: "fraction", header: "1.5", want: 0},
		{name: "garbage", header: "soon", want: 0},
		{name: "seconds with unit", header: "3s", want: 0},
		{name: "HTTP date", header: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "RFC 850 date", header: now.Add(30 * time.Second).Format(time.RFC850), want: 30 * time.Second},
		{name: "asctime date", header: now.Add(time.Hour).Format(time.ANSIC), want: time.Hour},
		{name: "HTTP date now", header: now.Format(http.TimeFormat), want: 0},
		{name: "HTTP date past", header: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "HTTP date not GMT", header: "Sun, 01 Mar 2026 13:00:00 CET", want: 0},
		{name: "seconds beyond time.Duration", header: "9999999999", want: 24 * time.Hour, wantAtLeast: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseRetryAfter(tt.header, now)
			if tt.wantAtLeast && got < tt.want || !tt.wantAtLeast && got != tt.want {
				t.Errorf("parseRetryAfter(%q, %v) = %v, want %v", tt.header, now, got, tt.want)
			}
		})
	}
}

// TestSleep checks that sleep waits and stops when ctx ends.
func TestSleep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ctx      func(t *testing.T) context.Context
		d        time.Duration
		want     error
		wantLong bool          // sleep must have lasted at least d
		maxTook  time.Duration // a generous bound for "at once"
	}{
		{name: "no deadline", ctx: background, d: 2 * time.Millisecond, wantLong: true, maxTook: time.Minute},
		{name: "deadline after the wait", ctx: withTimeout(time.Minute), d: 2 * time.Millisecond, wantLong: true, maxTook: time.Minute},
		{name: "zero wait", ctx: background, d: 0, maxTook: time.Minute},
		{name: "deadline passed", ctx: withTimeout(-time.Second), d: time.Hour,
			want: context.DeadlineExceeded, maxTook: 10 * time.Second},
		{name: "already cancelled", ctx: cancelled, d: time.Hour, want: context.Canceled, maxTook: 10 * time.Second},
		{name: "cancelled while waiting", ctx: cancelledAfter(5 * time.Millisecond), d: time.Hour,
			want: context.Canceled, maxTook: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx(t)
			start := time.Now()
			err := sleep(ctx, tt.d)
			took := time.Since(start)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("sleep(ctx, %v) = %v, want %v", tt.d, err, tt.want)
			}
			if tt.wantLong && took < tt.d {
				t.Errorf("sleep(ctx, %v) returned after %v, want at least %v", tt.d, took, tt.d)
			}
			if took > tt.maxTook {
				t.Errorf("sleep(ctx, %v) returned after %v, want at once (under %v)", tt.d, took, tt.maxTook)
			}
		})
	}
}

func background(*testing.T) context.Context { return context.Background() }

func cancelled(*testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func withTimeout(d time.Duration) func(t *testing.T) context.Context {
	return func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		t.Cleanup(cancel)
		return ctx
	}
}

func cancelledAfter(d time.Duration) func(t *testing.T) context.Context {
	return func(t *testing.T) context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(d, cancel)
		t.Cleanup(func() { timer.Stop(); cancel() })
		return ctx
	}
}

// noKeepAlive sends every request on a new connection, so that a dropped
// connection reaches the client instead of being retried by the Transport.
func noKeepAlive() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// countingObserver counts retries and restarts.
type countingObserver struct{ retried, restarted atomic.Int64 }

func (o *countingObserver) Exchanged(context.Context, Exchange)        {}
func (o *countingObserver) NotRetried(context.Context, string, string) {}
func (o *countingObserver) Retried(_ context.Context, r Retry) {
	if r.Restart {
		o.restarted.Add(1)
	} else {
		o.retried.Add(1)
	}
}

// TestRetries makes the sandbox fail calls and counts the requests: network
// errors, 429 and 5xx are sent MaxAttempts times in all, other 4xx once.
func TestRetries(t *testing.T) {
	t.Parallel()
	const attempts = 3
	tests := []struct {
		name         string
		call         string // "file_info", "download" or "upload"
		fault        sandbox.Fault
		wantRequests int
		wantKind     Kind // KindUnknown: success wanted
	}{
		{name: "503 always", call: "file_info", fault: sandbox.Fault{Status: 503, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "500 always", call: "file_info", fault: sandbox.Fault{Status: 500, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "502 always", call: "download", fault: sandbox.Fault{Status: 502, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "504 always", call: "upload", fault: sandbox.Fault{Status: 504, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "429 always", call: "file_info", fault: sandbox.Fault{Status: 429, Times: 100}, wantRequests: attempts, wantKind: KindRateLimited},
		{name: "429 on upload", call: "upload", fault: sandbox.Fault{Status: 429, Times: 100}, wantRequests: attempts, wantKind: KindRateLimited},
		{name: "dropped connection always", call: "file_info", fault: sandbox.Fault{Drop: true, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "dropped upload always", call: "upload", fault: sandbox.Fault{Drop: true, Times: 100}, wantRequests: attempts, wantKind: KindUnavailable},
		{name: "503 then success", call: "file_info", fault: sandbox.Fault{Status: 503, Times: attempts - 1}, wantRequests: attempts},
		{name: "drop then success", call: "download", fault: sandbox.Fault{Drop: true}, wantRequests: 2},
		{name: "429 then success", call: "upload", fault: sandbox.Fault{Status: 429}, wantRequests: 2},
		{name: "400", call: "file_info", fault: sandbox.Fault{Status: 400, Times: 100}, wantRequests: 1, wantKind: KindInvalidRequest},
		{name: "403", call: "download", fault: sandbox.Fault{Status: 403, Times: 100}, wantRequests: 1, wantKind: KindPermissionDenied},
		{name: "404", call: "file_info", fault: sandbox.Fault{Status: 404, Times: 100}, wantRequests: 1, wantKind: KindNotFound},
		{name: "409", call: "upload", fault: sandbox.Fault{Status: 409, Times: 100}, wantRequests: 1, wantKind: KindInvalidRequest},
		{name: "413", call: "upload", fault: sandbox.Fault{Status: 413, Times: 100}, wantRequests: 1, wantKind: KindInvalidRequest},
	}
	endpoints := map[string]sandbox.Endpoint{
		"file_info": sandbox.EndpointFileInfo,
		"download":  sandbox.EndpointDownload,
		"upload":    sandbox.EndpointUpload,
	}
	content := pngFile(100)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			observer := &countingObserver{}
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				HTTPClient: noKeepAlive(), Observer: observer,
				Retry: RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
			ref := env.seed(t, content)
			ep := endpoints[tt.call]
			before := len(env.requestsTo(ep))
			retriedBefore := observer.retried.Load()
			fault := tt.fault
			fault.Endpoint = ep
			env.sandbox.InjectFault(fault)

			ctx := context.Background()
			var err error
			switch tt.call {
			case "file_info":
				_, err = env.client.FileInfo(ctx, ref)
			case "download":
				var got []byte
				got, err = io.ReadAll(openReader(t, env.client, ctx, ref, 100, 0, 100))
				if err == nil && !bytes.Equal(got, content) {
					t.Errorf("download = %s", bytesDiff(got, content))
				}
			case "upload":
				_, err = upload(ctx, env.client, testConv, FileHeader{Name: "b.png", Type: "image/png", Size: 100}, content)
			}
			call := fmt.Sprintf("%s with the fault %+v", tt.call, tt.fault)
			if tt.wantKind == KindUnknown {
				if err != nil {
					t.Errorf("%s = %v, want success", call, err)
				}
			} else {
				e := asError(t, call, err)
				if e.Kind != tt.wantKind {
					t.Errorf("%s = %v (Kind %v), want Kind %v", call, err, e.Kind, tt.wantKind)
				}
				if tt.fault.Drop && (e.Err == nil || e.StatusCode != 0) {
					t.Errorf("%s = %v (StatusCode %d, Err %v), want no status and the network error", call, err, e.StatusCode, e.Err)
				}
				env.checkErrorText(t, call, err)
			}
			if n := len(env.requestsTo(ep)) - before; n != tt.wantRequests {
				t.Errorf("%s sent %d requests, want %d", call, n, tt.wantRequests)
			}
			if n := observer.retried.Load() - retriedBefore; n != int64(tt.wantRequests-1) {
				t.Errorf("%s told the Observer of %d retries, want %d", call, n, tt.wantRequests-1)
			}
		})
	}
}

// arrivals wraps a handler and reports each request to endpoint paths
// ending in suffix on a channel, before handling it.
func arrivals(suffix string, ch chan<- string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, suffix) {
				select {
				case ch <- r.URL.Path:
				default:
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestCancelIsNotRetried checks that a caller's cancel or deadline comes back
// as ctx's own error (wrapped, once the request was written, in an error
// that says Booking may have processed it) and stops the call, whatever it
// was doing.
func TestCancelIsNotRetried(t *testing.T) {
	t.Parallel()
	slow := RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}
	tests := []struct {
		name         string
		fault        sandbox.Fault
		policy       RetryPolicy
		ctx          func(ctx context.Context, arrived <-chan string) (context.Context, context.CancelFunc)
		want         error
		wantRequests int
	}{
		{
			name:  "cancelled before the call",
			fault: sandbox.Fault{Status: 503, Times: 100}, policy: fastRetry,
			ctx: func(ctx context.Context, _ <-chan string) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx, cancel
			},
			want: context.Canceled, wantRequests: 0,
		},
		{
			name:  "cancelled while Booking is slow",
			fault: sandbox.Fault{Delay: time.Minute, Times: 100}, policy: fastRetry,
			ctx: func(ctx context.Context, arrived <-chan string) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				go func() { <-arrived; cancel() }()
				return ctx, cancel
			},
			want: context.Canceled, wantRequests: 1,
		},
		{
			name:  "deadline while Booking is slow",
			fault: sandbox.Fault{Delay: time.Minute, Times: 100}, policy: fastRetry,
			ctx: func(ctx context.Context, _ <-chan string) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 200*time.Millisecond)
			},
			want: context.DeadlineExceeded, wantRequests: 1,
		},
		{
			name:  "cancelled during the backoff",
			fault: sandbox.Fault{Status: 503, Times: 100, RetryAfter: "10"}, policy: slow,
			ctx: func(ctx context.Context, arrived <-chan string) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				go func() { <-arrived; time.Sleep(50 * time.Millisecond); cancel() }()
				return ctx, cancel
			},
			want: context.Canceled, wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan string, 1)
			env := newSandboxEnv(t, sandbox.Options{}, arrivals("/file_info", arrived))
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, Retry: tt.policy})
			ref := env.seed(t, pngFile(10))
			fault := tt.fault
			fault.Endpoint = sandbox.EndpointFileInfo
			env.sandbox.InjectFault(fault)
			ctx, cancel := tt.ctx(context.Background(), arrived)
			defer cancel()

			start := time.Now()
			_, err := env.client.FileInfo(ctx, ref)
			took := time.Since(start)
			if !errors.Is(err, tt.want) {
				t.Errorf("FileInfo with %s = %v (%T), want %v", tt.name, err, err, tt.want)
			}
			// Once the request is on its way, what Booking did is unknown.
			var e *Error
			if wantUnknown := tt.wantRequests > 0 && tt.fault.Delay > 0; errors.As(err, &e) != wantUnknown ||
				wantUnknown && e.Outcome != OutcomeMaybeProcessed {
				t.Errorf("FileInfo with %s = %v, want an *Error of a request maybe processed: %v", tt.name, err, wantUnknown)
			}
			if took > 5*time.Second {
				t.Errorf("FileInfo with %s returned after %v, want soon after ctx ended", tt.name, took)
			}
			if got := len(env.requestsTo(sandbox.EndpointFileInfo)); got != tt.wantRequests {
				t.Errorf("FileInfo with %s sent %d requests, want %d", tt.name, got, tt.wantRequests)
			}
		})
	}
}

// TestDeadlineBeforeBackoffEnds checks that a call whose deadline falls
// before the backoff would end gives up at once with Booking's last error,
// rather than sleeping into the deadline.
func TestDeadlineBeforeBackoffEnds(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Minute}})
	ref := env.seed(t, pngFile(10))
	env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503, RetryAfter: "60", Times: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Now()
	_, err := env.client.FileInfo(ctx, ref)
	took := time.Since(start)
	e := asError(t, "FileInfo with Retry-After 60 and a 20s deadline", err)
	env.checkErrorText(t, "FileInfo with Retry-After 60 and a 20s deadline", err)
	if e.Kind != KindUnavailable || e.StatusCode != 503 || e.RetryAfter != time.Minute {
		t.Errorf("FileInfo with Retry-After 60 and a 20s deadline = %v (Kind %v, RetryAfter %v), want the 503 with RetryAfter 1m", err, e.Kind, e.RetryAfter)
	}
	if took > 10*time.Second {
		t.Errorf("FileInfo with Retry-After 60 and a 20s deadline returned after %v, want at once", took)
	}
	if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != 1 {
		t.Errorf("FileInfo with Retry-After 60 and a 20s deadline sent %d requests, want 1", n)
	}
}

// TestRetryAfterIsHonoured checks that the retry waits at least as long as
// a Retry-After within MaxDelay asks. It is a lower bound, not a measure of
// speed.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        sandbox.Fault
		wantRequests int
		wantWait     time.Duration // the least total time
		wantKind     Kind          // KindUnknown: success wanted
	}{
		{name: "429 once, then success", fault: sandbox.Fault{Status: 429, RetryAfter: "1"}, wantRequests: 2, wantWait: time.Second},
		{name: "503 once, then success", fault: sandbox.Fault{Status: 503, RetryAfter: "1"}, wantRequests: 2, wantWait: time.Second},
		{name: "429 always", fault: sandbox.Fault{Status: 429, RetryAfter: "1", Times: 100}, wantRequests: 3, wantWait: 2 * time.Second, wantKind: KindRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Microsecond, MaxDelay: 2 * time.Second}})
			ref := env.seed(t, pngFile(10))
			fault := tt.fault
			fault.Endpoint = sandbox.EndpointFileInfo
			env.sandbox.InjectFault(fault)

			start := time.Now()
			_, err := env.client.FileInfo(context.Background(), ref)
			took := time.Since(start)
			call := fmt.Sprintf("FileInfo with the fault %+v", tt.fault)
			if tt.wantKind == KindUnknown && err != nil {
				t.Errorf("%s = %v, want success", call, err)
			}
			if tt.wantKind != KindUnknown {
				e := asError(t, call, err)
				env.checkErrorText(t, call, err)
				if e.Kind != tt.wantKind || e.RetryAfter != time.Second || e.Attempts != tt.wantRequests {
					t.Errorf("%s = %v (Kind %v, RetryAfter %v, Attempts %d), want Kind %v, RetryAfter 1s, Attempts %d",
						call, err, e.Kind, e.RetryAfter, e.Attempts, tt.wantKind, tt.wantRequests)
				}
			}
			if took < tt.wantWait {
				t.Errorf("%s took %v, want at least %v (Retry-After 1s)", call, took, tt.wantWait)
			}
			if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != tt.wantRequests {
				t.Errorf("%s sent %d requests, want %d", call, n, tt.wantRequests)
			}
		})
	}
}

// TestLongRetryAfterFailsAtOnce checks that a Retry-After longer than
// MaxDelay, or past the caller's deadline, is neither waited out nor
// ignored: the call fails at once with Booking's answer and the wait it
// asked for, and sends nothing more.
func TestLongRetryAfterFailsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		deadline   time.Duration // 0: none
		wantKind   Kind
		wantWait   time.Duration
		wantInText string
	}{
		{name: "429 asking for an hour", status: 429, retryAfter: "3600", wantKind: KindRateLimited, wantWait: time.Hour, wantInText: "longer than the gateway waits"},
		{name: "503 asking for an hour", status: 503, retryAfter: "3600", wantKind: KindUnavailable, wantWait: time.Hour, wantInText: "longer than the gateway waits"},
		{name: "503 asking for a date", status: 503, retryAfter: time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat), wantKind: KindUnavailable, wantWait: time.Hour, wantInText: "longer than the gateway waits"},
		{name: "429 asking past the deadline", status: 429, retryAfter: "5", deadline: 2 * time.Second, wantKind: KindRateLimited, wantWait: 5 * time.Second, wantInText: "past the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			observer := &notRetriedObserver{}
			env.client = newTestClient(t, Config{BaseURL: env.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
				Observer: observer, Retry: RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Second}})
			ref := env.seed(t, pngFile(10))
			env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: tt.status, RetryAfter: tt.retryAfter, Times: 100})
			ctx := withDeadline(t, tt.deadline)

			start := time.Now()
			_, err := env.client.FileInfo(ctx, ref)
			took := time.Since(start)
			call := fmt.Sprintf("FileInfo with %d and Retry-After %q", tt.status, tt.retryAfter)
			e := asError(t, call, err)
			env.checkErrorText(t, call, err)
			if e.Kind != tt.wantKind || e.RetryAfter < tt.wantWait || e.RUID == "" || !strings.Contains(e.Error(), tt.wantInText) {
				t.Errorf("%s = %v (Kind %v, RetryAfter %v, ruid %q), want Kind %v, RetryAfter at least %v, a ruid and %q",
					call, err, e.Kind, e.RetryAfter, e.RUID, tt.wantKind, tt.wantWait, tt.wantInText)
			}
			if took > 5*time.Second {
				t.Errorf("%s returned after %v, want at once", call, took)
			}
			if n := len(env.requestsTo(sandbox.EndpointFileInfo)); n != 1 {
				t.Errorf("%s sent %d requests, want 1", call, n)
			}
			if got := observer.reasons(); !slices.Equal(got, []string{"retry_after"}) {
				t.Errorf("%s told the Observer of the retries not made for %q, want [retry_after]", call, got)
			}
		})
	}
}

// notRetriedObserver records the reasons of NotRetried.
type notRetriedObserver struct {
	nopObserver
	mu   sync.Mutex
	list []string
}

func (o *notRetriedObserver) NotRetried(_ context.Context, _, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, reason)
}

func (o *notRetriedObserver) reasons() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.list)
}
