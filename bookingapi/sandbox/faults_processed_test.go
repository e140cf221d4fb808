package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// TestFaultProcessed checks that a Processed fault strikes after the
// request has had its effect: the upload is stored whatever the client
// gets, while the same fault without Processed stores nothing.
func TestFaultProcessed(t *testing.T) {
	const delay = 150 * time.Millisecond
	content := pngFile(10)
	valid := uploadBody("a.png", "image/png", content)
	rejected := uploadBody("a.png", "image/jpeg", content) // the signature is PNG's
	tests := []struct {
		name        string
		fault       sandbox.Fault
		body        map[string]any
		wantClient  string        // the outcome for the client
		wantStored  bool          // whether the upload is stored
		wantLogged  int           // the logged status
		wantAtLeast time.Duration // how long the answer takes, at least
	}{
		{name: "drop", fault: sandbox.Fault{Processed: true, Drop: true}, body: valid,
			wantClient: "no answer", wantStored: true, wantLogged: 0},
		{name: "drop before handling", fault: sandbox.Fault{Drop: true}, body: valid,
			wantClient: "no answer", wantStored: false, wantLogged: 0},
		{name: "gateway timeout", fault: sandbox.Fault{Processed: true, Status: 504}, body: valid,
			wantClient: "504", wantStored: true, wantLogged: 504},
		{name: "gateway timeout before handling", fault: sandbox.Fault{Status: 504}, body: valid,
			wantClient: "504", wantStored: false, wantLogged: 504},
		{name: "html", fault: sandbox.Fault{Processed: true, Status: 502, HTML: true}, body: valid,
			wantClient: "502 html", wantStored: true, wantLogged: 502},
		{name: "cut", fault: sandbox.Fault{Processed: true, CutAfter: 10}, body: valid,
			wantClient: "200 cut", wantStored: true, wantLogged: 200},
		{name: "delay", fault: sandbox.Fault{Processed: true, Delay: delay}, body: valid,
			wantClient: "200", wantStored: true, wantLogged: 200, wantAtLeast: delay},
		{name: "drop after a rejection", fault: sandbox.Fault{Processed: true, Drop: true}, body: rejected,
			wantClient: "no answer", wantStored: false, wantLogged: 0},
		{name: "status after a rejection", fault: sandbox.Fault{Processed: true, Status: 503}, body: rejected,
			wantClient: "503", wantStored: false, wantLogged: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			f := tt.fault
			f.Endpoint = sandbox.EndpointUpload
			h.srv.InjectFault(f)
			start := time.Now()
			r, err := h.sendRaw(freshClient(t, 0), http.MethodPost, uploadPath(property, conv), tt.body)
			if elapsed := time.Since(start); elapsed < tt.wantAtLeast {
				t.Errorf("answered after %v, want at least %v", elapsed, tt.wantAtLeast)
			}
			if got := outcome(r, err); got != tt.wantClient {
				t.Errorf("client got %s, want %s", got, tt.wantClient)
			}
			wantIDs := 0
			if tt.wantStored {
				wantIDs = 1
			}
			ids := h.srv.AttachmentIDs(property, conv)
			if len(ids) != wantIDs {
				t.Fatalf("stored attachments %v, want %d", ids, wantIDs)
			}
			if tt.wantStored {
				h.wantStored(conv, ids[0], content)
			}
			if last := h.lastRequest(); last.Status != tt.wantLogged || last.Processed != tt.wantStored {
				t.Errorf("logged status %d, Processed %v; want %d, %v", last.Status, last.Processed, tt.wantLogged, tt.wantStored)
			}
			if tt.wantClient == "200" {
				var env struct {
					Data struct {
						AttachmentID string `json:"attachment_id"`
					} `json:"data"`
				}
				if err := json.Unmarshal(r.body, &env); err != nil || env.Data.AttachmentID != ids[0] {
					t.Errorf("answer %s (%v), want attachment_id %s", r.body, err, ids[0])
				}
			}
		})
	}
	t.Run("finish answer lost", func(t *testing.T) {
		const mb = 1000
		h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
		content := pngFile(2500)
		u := newChunkedUpload(content, mb)
		uploadID := h.start(conv, u)
		h.sendChunk(conv, u, 1, uploadID)
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointChunks, Action: "finish", Processed: true, Drop: true})
		if _, err := h.sendRaw(freshClient(t, 0), http.MethodPost, chunksPath(property, conv), u.body(2, uploadID)); err == nil {
			t.Fatalf("the client got an answer to a dropped finish")
		}
		ids := h.srv.AttachmentIDs(property, conv)
		if len(ids) != 1 {
			t.Fatalf("stored attachments %v, want the finished upload", ids)
		}
		h.wantStored(conv, ids[0], content)
		// The upload is committed: sending finish again cannot succeed.
		wantError(t, h.send(http.MethodPost, chunksPath(property, conv), u.body(2, uploadID)),
			http.StatusBadRequest, "is unknown in this conversation")
	})
	t.Run("message posted, answer lost", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		photo := h.upload(conv, pngFile(10))
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Processed: true, Drop: true})
		body := messageBody("Your photo", photo)
		if _, err := h.sendRaw(freshClient(t, 0), http.MethodPost, conversationPath(property, conv), body); err == nil {
			t.Fatalf("the client got an answer to a dropped message")
		}
		if last := h.lastRequest(); !last.Processed || last.Status != 0 {
			t.Errorf("logged %+v, want Processed with status 0", last)
		}
		// No idempotency key is documented: a client that posts again
		// shows the guest the message twice.
		wantOK(t, h.send(http.MethodPost, conversationPath(property, conv), body))
		got := h.srv.Messages(property, conv)
		if len(got) != 2 || got[0].Content != "Your photo" || !slices.Equal(got[0].AttachmentIDs, []string{photo}) {
			t.Errorf("posted %+v, want the lost message and its repeat", got)
		}
	})
	t.Run("token issued, answer lost", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointToken, Processed: true, Drop: true})
		body := `{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`
		if _, err := freshClient(t, 0).Post(h.url+tokenPath, "application/json", strings.NewReader(body)); err == nil {
			t.Fatalf("the client got an answer to a dropped token exchange")
		}
		if got := h.srv.TokenExchanges(); got != 2 {
			t.Errorf("TokenExchanges() = %d, want 2 (the harness's and the lost one)", got)
		}
		if last := h.lastRequest(); !last.Processed || last.Status != 0 {
			t.Errorf("logged %+v, want Processed with status 0", last)
		}
	})
}
