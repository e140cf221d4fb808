package service_test

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// TestBookingNeverAnswers checks that a call whose caller set no deadline
// fails with UNAVAILABLE, naming the call and the time waited, once the
// gateway's own bounds pass; DEADLINE_EXCEEDED is only for the caller's own
// deadline.
func TestBookingNeverAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		config     func(*bookingapi.Config)
		deadline   time.Duration
		want       codes.Code
		wantInText []string
	}{
		{name: "every attempt times out", config: func(c *bookingapi.Config) { c.ResponseTimeout = 200 * time.Millisecond },
			want: codes.Unavailable, wantInText: []string{"file_info", "no answer from Booking within 200ms", "after 4 attempts"}},
		{name: "the request times out", config: func(c *bookingapi.Config) { c.RequestTimeout = 500 * time.Millisecond },
			want: codes.Unavailable, wantInText: []string{"file_info", "no answer from Booking within 500ms"}},
		{name: "the caller's deadline passes", deadline: 300 * time.Millisecond,
			want: codes.DeadlineExceeded, wantInText: []string{"deadline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, sandbox.Options{}, envConfig{booking: tt.config})
			id := e.mustUpload(t, metadata("a.png", 100), image("image/png", 100, 1)).GetAttachmentId()
			e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Hang: true, Times: 100})
			ctx := withDeadline(t, tt.deadline)
			start := time.Now()
			_, err := e.client.GetAttachmentInfo(ctx, &attachmentsv1.GetAttachmentInfoRequest{
				PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id,
			})
			took := time.Since(start)
			wantCode(t, err, tt.want)
			for _, s := range tt.wantInText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("GetAttachmentInfo of a Booking that never answers = %v, want it to say %q", err, s)
				}
			}
			if took > 10*time.Second {
				t.Errorf("GetAttachmentInfo of a Booking that never answers took %v", took)
			}
		})
	}
}

// TestSizeDisagreementIsDataLoss makes file_info and the download's ranges
// disagree and checks that the caller gets DATA_LOSS, never other bytes.
func TestSizeDisagreementIsDataLoss(t *testing.T) {
	t.Parallel()
	const size = 2_500_000
	tests := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"file_info says 10 bytes more", sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Alter: func(d map[string]any) {
			d["file_size"] = d["file_size"].(float64) + 10
		}}},
		{"file_info says a range more", sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Alter: func(d map[string]any) {
			d["file_size"] = d["file_size"].(float64) + 1_500_000
		}}},
		{"file_info says 10 bytes fewer", sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Alter: func(d map[string]any) {
			d["file_size"] = d["file_size"].(float64) - 10
		}}},
		{"bytes appended to a range", sandbox.Fault{Endpoint: sandbox.EndpointDownload, Alter: func(d map[string]any) {
			b, _ := base64.StdEncoding.DecodeString(d["file_content"].(string))
			d["file_content"] = base64.StdEncoding.EncodeToString(append(b, "tampered"...))
		}}},
	}
	for _, tt := range tests {
		forEachSetting(t, func(t *testing.T, opts sandbox.Options) {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, opts)
				content := image("image/jpeg", size, 3)
				id := e.mustUpload(t, metadata("a.jpg", size), content).GetAttachmentId()
				e.sandbox.InjectFault(tt.fault)
				_, got, err := e.download(t, &attachmentsv1.DownloadAttachmentRequest{
					PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id,
				})
				wantCode(t, err, codes.DataLoss)
				if len(got) > size || string(got) != string(content[:len(got)]) {
					t.Errorf("the download sent %d bytes that are not the file's", len(got))
				}
			})
		})
	}
}

// TestOutageDoesNotMultiplyLoad makes Booking answer 503 to everything and
// sends 200 uploads, 16 at a time: the requests reaching Booking stay
// within 1.2 times the calls.
func TestOutageDoesNotMultiplyLoad(t *testing.T) {
	t.Parallel()
	const calls, workers = 200, 16
	e := newEnv(t, sandbox.Options{})
	e.mustUpload(t, metadata("warm.png", 100), image("image/png", 100, 1)) // the token
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointUpload, Status: 503, Times: 1 << 30})
	before := len(e.requests(sandbox.EndpointUpload))
	var wg sync.WaitGroup
	var unavailable atomic.Int64
	jobs := make(chan int, calls)
	for i := range calls {
		jobs <- i
	}
	close(jobs)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				_, err := e.upload(context.Background(), metadata("a.png", 1000), image("image/png", 1000, uint64(i)), evenSplit(1000))
				if status.Code(err) == codes.Unavailable {
					unavailable.Add(1)
				}
			}
		})
	}
	wg.Wait()
	sent := len(e.requests(sandbox.EndpointUpload)) - before
	t.Logf("%d uploads during a 503 outage sent %d requests to Booking", calls, sent)
	if unavailable.Load() != calls {
		t.Errorf("%d of %d uploads got UNAVAILABLE, want all", unavailable.Load(), calls)
	}
	if sent > calls*12/10 {
		t.Errorf("%d uploads during a 503 outage sent %d requests to Booking, want at most %d", calls, sent, calls*12/10)
	}
}

// TestConnectionsReusedUnderLoad sends uploads 32 at a time and counts the
// connections Booking accepts: at least 95% of requests reuse one.
func TestConnectionsReusedUnderLoad(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 32, 30
	var opened atomic.Int64
	e := newEnvWith(t, sandbox.Options{}, envConfig{serve: func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				opened.Add(1)
			}
		}
		srv.Start()
		return srv
	}})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if _, err := e.upload(context.Background(), metadata("a.png", 2000), image("image/png", 2000, uint64(w*perWorker+i)), evenSplit(2000)); err != nil {
					t.Errorf("upload: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	requests := len(e.sandbox.Requests())
	conns := int(opened.Load())
	t.Logf("%d uploads, %d at a time: %d requests to Booking opened %d connections", workers*perWorker, workers, requests, conns)
	if reused := float64(requests-conns) / float64(requests); reused < 0.95 {
		t.Errorf("%d requests to Booking opened %d connections: %.1f%% reused one, want at least 95%%", requests, conns, 100*reused)
	}
}

// TestRequestsInFlightAreBounded makes Booking slow and sends 100 calls at
// once: no more than MaxInFlight requests reach Booking at a time, and
// every call still succeeds.
func TestRequestsInFlightAreBounded(t *testing.T) {
	t.Parallel()
	const limit, calls = 8, 100
	var now, peak atomic.Int64
	e := newEnvWith(t, sandbox.Options{}, envConfig{
		booking: func(c *bookingapi.Config) { c.MaxInFlight = limit },
		wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := now.Add(1)
				defer now.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				next.ServeHTTP(w, r)
			})
		},
	})
	id := e.mustUpload(t, metadata("a.png", 100), image("image/png", 100, 1)).GetAttachmentId()
	var wg sync.WaitGroup
	var maxGoroutines atomic.Int64
	for range calls {
		wg.Go(func() {
			_, err := e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
				PropertyId: testProperty, ConversationId: testConversation, AttachmentId: id,
			})
			if err != nil {
				t.Errorf("GetAttachmentInfo: %v", err)
			}
			if n := int64(runtime.NumGoroutine()); n > maxGoroutines.Load() {
				maxGoroutines.Store(n)
			}
		})
	}
	wg.Wait()
	t.Logf("%d concurrent calls: at most %d requests at Booking at once, %d goroutines in the test process", calls, peak.Load(), maxGoroutines.Load())
	if p := peak.Load(); p > limit {
		t.Errorf("%d concurrent calls with MaxInFlight %d had %d requests at Booking at once", calls, limit, p)
	}
}
