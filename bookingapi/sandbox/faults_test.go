package sandbox_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestFaultCounting(t *testing.T) {
	info := sandbox.EndpointFileInfo
	tests := []struct {
		name   string
		faults []sandbox.Fault
		want   []int // statuses of successive file_info requests
	}{
		{"zero Nth and Times mean once, first", []sandbox.Fault{{Endpoint: info, Status: 500}}, []int{500, 200, 200}},
		{"Nth", []sandbox.Fault{{Endpoint: info, Nth: 3, Status: 500}}, []int{200, 200, 500, 200}},
		{"Times", []sandbox.Fault{{Endpoint: info, Nth: 2, Times: 3, Status: 503}}, []int{200, 503, 503, 503, 200, 200}},
		{"other endpoint", []sandbox.Fault{{Endpoint: sandbox.EndpointDownload, Status: 500}}, []int{200, 200}},
		{"Action ignored off chunks", []sandbox.Fault{{Endpoint: info, Action: "start", Status: 500}}, []int{200, 200}},
		{"first injected wins", []sandbox.Fault{
			{Endpoint: info, Status: 500},
			{Endpoint: info, Status: 503},
		}, []int{500, 200}},
		{"independent counts", []sandbox.Fault{
			{Endpoint: info, Nth: 2, Status: 500},
			{Endpoint: info, Nth: 1, Times: 2, Status: 503},
		}, []int{503, 500, 200}},
		{"delay only", []sandbox.Fault{{Endpoint: info, Delay: time.Millisecond}}, []int{200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
			for _, f := range tt.faults {
				h.srv.InjectFault(f)
			}
			for i, want := range tt.want {
				r := h.send(http.MethodGet, path, nil)
				if r.status != want {
					t.Errorf("request %d: status %d, want %d", i+1, r.status, want)
				}
				if want != http.StatusOK {
					wantError(t, r, want, "injected fault")
				}
			}
		})
	}
}

func TestFaultAction(t *testing.T) {
	const mb = 1000
	tests := []struct {
		name    string
		fault   sandbox.Fault
		failing []string // the requests, in sending order, that fail once (then are sent again)
	}{
		{"start", sandbox.Fault{Action: "start"}, []string{"start"}},
		{"second resume", sandbox.Fault{Action: "resume", Nth: 2}, []string{"resume 2"}},
		{"finish", sandbox.Fault{Action: "finish"}, []string{"finish"}},
		{"any action", sandbox.Fault{Nth: 2, Times: 2}, []string{"resume 1", "resume 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
			content := pngFile(4500)
			u := newChunkedUpload(content, mb)
			f := tt.fault
			f.Endpoint, f.Status = sandbox.EndpointChunks, http.StatusInternalServerError
			h.srv.InjectFault(f)
			failing := tt.failing
			var uploadID, attachmentID string
			for i := 0; i < u.chunks(); i++ {
				name := "resume " + string(rune('0'+i))
				switch i {
				case 0:
					name = "start"
				case u.chunks() - 1:
					name = "finish"
				}
				for len(failing) > 0 && failing[0] == name {
					failing = failing[1:]
					r := h.send(http.MethodPost, chunksPath(property, conv), u.body(i, uploadID))
					wantError(t, r, http.StatusInternalServerError, "injected fault")
				}
				d := h.sendChunk(conv, u, i, uploadID)
				if i == 0 {
					uploadID = *d.UploadID
				}
				if d.AttachmentID != nil {
					attachmentID = *d.AttachmentID
				}
			}
			if len(failing) > 0 {
				t.Errorf("no failure for %v", failing)
			}
			// The faulted chunks did not change the upload.
			h.wantStored(conv, attachmentID, content)
		})
	}
}

func TestFaultStatus(t *testing.T) {
	tests := []struct {
		name       string
		fault      sandbox.Fault
		wantStatus int
		wantRetry  string
	}{
		{"429 with Retry-After", sandbox.Fault{Status: 429, RetryAfter: "7"}, 429, "7"},
		{"503 with an HTTP date", sandbox.Fault{Status: 503, RetryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"}, 503, "Wed, 21 Oct 2026 07:28:00 GMT"},
		{"500 without Retry-After", sandbox.Fault{Status: 500}, 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			f := tt.fault
			f.Endpoint = sandbox.EndpointUpload
			h.srv.InjectFault(f)
			// Faults fire before authentication.
			r := h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10)),
				withoutHeader("Authorization"))
			wantError(t, r, tt.wantStatus, "injected fault")
			if got := r.header.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
		})
	}
	t.Run("token exchange", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointToken, Status: 503})
		resp, err := h.client.Post(h.url+tokenPath, "application/json",
			strings.NewReader(`{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("status %d, want 503", resp.StatusCode)
		}
		if got := h.srv.TokenExchanges(); got != 1 {
			t.Errorf("TokenExchanges() = %d, want 1 (the harness's own)", got)
		}
		h.exchange()
	})
}

func TestFaultDrop(t *testing.T) {
	tests := []struct {
		name     string
		endpoint sandbox.Endpoint
		method   string
		path     func(id string) string
		body     any
	}{
		{"upload", sandbox.EndpointUpload, http.MethodPost,
			func(string) string { return uploadPath(property, conv) }, uploadBody("a.png", "image/png", pngFile(10))},
		{"chunks", sandbox.EndpointChunks, http.MethodPost,
			func(string) string { return chunksPath(property, conv) }, newChunkedUpload(pngFile(2500), 1000).body(0, "")},
		{"download", sandbox.EndpointDownload, http.MethodGet,
			func(id string) string { return downloadPath(property, conv, id) }, nil},
		{"file_info", sandbox.EndpointFileInfo, http.MethodGet,
			func(id string) string { return fileInfoPath(property, conv, id) }, nil},
		{"messages", sandbox.EndpointMessages, http.MethodPost,
			func(string) string { return conversationPath(property, conv) }, messageBody("Your invoice")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{MegabyteBytes: 1000})
			id := h.upload(conv, pngFile(10))
			h.srv.InjectFault(sandbox.Fault{Endpoint: tt.endpoint, Drop: true, Status: 500})
			_, err := h.try(freshClient(t, 0), tt.method, tt.path(id), tt.body)
			if err == nil {
				t.Fatalf("no client error for a dropped request")
			}
			if last := h.lastRequest(); last.Endpoint != tt.endpoint || last.Status != 0 || last.RUID != "" {
				t.Errorf("last request %+v, want %s with status 0 and no ruid", last, tt.endpoint)
			}
			wantOK(t, h.send(tt.method, tt.path(id), tt.body))
		})
	}
}

func TestFaultDelay(t *testing.T) {
	const delay = 150 * time.Millisecond
	tests := []struct {
		name       string
		fault      sandbox.Fault
		wantStatus int
	}{
		{"then handle", sandbox.Fault{Delay: delay}, 200},
		{"then fail", sandbox.Fault{Delay: delay, Status: 502}, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
			f := tt.fault
			f.Endpoint = sandbox.EndpointFileInfo
			h.srv.InjectFault(f)
			start := time.Now()
			r := h.send(http.MethodGet, path, nil)
			if elapsed := time.Since(start); elapsed < delay {
				t.Errorf("answered after %v, want at least %v", elapsed, delay)
			}
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status, tt.wantStatus)
			}
		})
	}
	t.Run("then drop", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointUpload, Delay: delay, Drop: true})
		start := time.Now()
		_, err := h.try(h.client, http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10)))
		if err == nil {
			t.Errorf("no client error for a dropped request")
		}
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("dropped after %v, want at least %v", elapsed, delay)
		}
	})
	t.Run("client cancels", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Delay: time.Minute, Status: 500})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+fileInfoPath(property, conv, "x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.token)
		if _, err := h.client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("client error %v, want context.DeadlineExceeded", err)
		}
		// The server stops waiting: the request is logged, unanswered,
		// long before the minute is up.
		waitFor(t, func() bool { return len(h.srv.Requests()) == 2 })
		if last := h.srv.Requests()[1]; last.Endpoint != sandbox.EndpointFileInfo || last.Status != 0 {
			t.Errorf("logged %+v, want file_info with status 0", last)
		}
		// The fault has fired; the next request is handled.
		wantError(t, h.send(http.MethodGet, fileInfoPath(property, conv, "x"), nil), http.StatusNotFound, "not found")
	})
}

// TestFaultCountingAnyKind checks that Nth and Times count the same for
// every kind of fault.
func TestFaultCountingAnyKind(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		want  string // the outcome of a faulted request
	}{
		{"hang", sandbox.Fault{Hang: true}, "no answer"},
		{"drop after handling", sandbox.Fault{Processed: true, Drop: true}, "no answer"},
		{"cut", sandbox.Fault{CutAfter: 5}, "200 cut"},
		{"html", sandbox.Fault{Status: 502, HTML: true}, "502 html"},
		{"status after handling", sandbox.Fault{Processed: true, Status: 504}, "504"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
			f := tt.fault
			f.Endpoint, f.Nth, f.Times = sandbox.EndpointFileInfo, 2, 2
			h.srv.InjectFault(f)
			client := freshClient(t, 200*time.Millisecond)
			for i, want := range []string{"200", tt.want, tt.want, "200"} {
				if got := outcome(h.sendRaw(client, http.MethodGet, path, nil)); got != want {
					t.Errorf("request %d: %s, want %s", i+1, got, want)
				}
			}
		})
	}
}

func TestFaultHang(t *testing.T) {
	tests := []struct {
		name       string
		fault      sandbox.Fault
		wantStored int // attachments stored by the hung upload
	}{
		{"before handling", sandbox.Fault{Hang: true}, 0},
		{"after handling", sandbox.Fault{Hang: true, Processed: true}, 1},
		{"over Drop and Status", sandbox.Fault{Hang: true, Drop: true, Status: 500}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			f := tt.fault
			f.Endpoint = sandbox.EndpointUpload
			h.srv.InjectFault(f)
			_, err := h.sendRaw(freshClient(t, 200*time.Millisecond), http.MethodPost, uploadPath(property, conv),
				uploadBody("a.png", "image/png", pngFile(10)))
			if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
				t.Fatalf("client error %v, want a timeout", err)
			}
			// The server stops hanging once the client has gone: the
			// request is logged, unanswered.
			waitFor(t, func() bool { return len(h.srv.Requests()) == 2 })
			wantProcessed := tt.wantStored > 0
			if last := h.lastRequest(); last.Status != 0 || last.RUID != "" || last.Processed != wantProcessed {
				t.Errorf("logged %+v, want status 0, no ruid, Processed %v", last, wantProcessed)
			}
			if got := h.srv.AttachmentIDs(property, conv); len(got) != tt.wantStored {
				t.Errorf("stored attachments %v, want %d", got, tt.wantStored)
			}
		})
	}
	t.Run("until the client cancels", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointUpload, Processed: true, Hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := h.request(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10)))
		errc := make(chan error, 1)
		go func() {
			resp, err := h.client.Do(req.WithContext(ctx))
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		// Once the upload is stored the server is hanging; it still is a
		// while later.
		waitFor(t, func() bool { return len(h.srv.AttachmentIDs(property, conv)) == 1 })
		time.Sleep(100 * time.Millisecond)
		if n, pending := len(h.srv.Requests()), h.srv.Pending(); n != 1 || pending != 1 {
			t.Fatalf("%d requests logged and %d pending while the upload hangs, want 1 (the token exchange) and 1", n, pending)
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("client error %v, want context.Canceled", err)
		}
		waitFor(t, func() bool { return h.srv.Pending() == 0 })
		if n := len(h.srv.Requests()); n != 2 {
			t.Fatalf("%d requests logged once none is pending, want 2", n)
		}
		if last := h.lastRequest(); last.Status != 0 || !last.Processed {
			t.Errorf("logged %+v, want status 0 and Processed", last)
		}
	})
}
