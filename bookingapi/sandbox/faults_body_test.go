package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// sendFileInfo injects f on file_info and sends one file_info request for
// an attachment of ten bytes, on a fresh connection.
func sendFileInfo(t *testing.T, h *harness, f sandbox.Fault) rawResponse {
	t.Helper()
	path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
	f.Endpoint = sandbox.EndpointFileInfo
	h.srv.InjectFault(f)
	r, err := h.sendRaw(freshClient(t, 0), http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("file_info: %v", err)
	}
	return r
}

func TestFaultCutAfter(t *testing.T) {
	tests := []struct {
		name       string
		fault      sandbox.Fault       // the fault without its CutAfter
		cut        func(whole int) int // CutAfter for an answer of whole bytes
		wantStatus int
		wantJSON   bool // whether the bytes that arrive are valid JSON
	}{
		{"real answer", sandbox.Fault{}, func(int) int { return 20 }, 200, false},
		{"error answer", sandbox.Fault{Status: 503}, func(int) int { return 1 }, 503, false},
		{"all but the newline", sandbox.Fault{}, func(whole int) int { return whole - 1 }, 200, true},
		{"inside the padding", sandbox.Fault{PadBytes: 1000}, func(whole int) int { return whole - 500 }, 200, true},
		{"not shorter than the answer", sandbox.Fault{}, func(whole int) int { return whole }, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			whole := sendFileInfo(t, h, tt.fault)
			f := tt.fault
			f.CutAfter = tt.cut(len(whole.body))
			r := sendFileInfo(t, h, f)
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status, tt.wantStatus)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(whole.body)) {
				t.Errorf("Content-Length %s, want %d, the whole answer's", got, len(whole.body))
			}
			wantRead := min(f.CutAfter, len(whole.body))
			if len(r.body) != wantRead {
				t.Errorf("read %d bytes, want %d", len(r.body), wantRead)
			}
			switch {
			case wantRead < len(whole.body) && !errors.Is(r.readErr, io.ErrUnexpectedEOF):
				t.Errorf("reading the body: %v, want io.ErrUnexpectedEOF", r.readErr)
			case wantRead == len(whole.body) && r.readErr != nil:
				t.Errorf("reading the whole body: %v", r.readErr)
			}
			if json.Valid(r.body) != tt.wantJSON {
				t.Errorf("the bytes read are valid JSON: %v, want %v", !tt.wantJSON, tt.wantJSON)
			}
			if last := h.lastRequest(); last.Status != tt.wantStatus || last.RUID == "" {
				t.Errorf("logged status %d, ruid %q; want %d and the cut answer's ruid", last.Status, last.RUID, tt.wantStatus)
			}
		})
	}
}

func TestFaultHTML(t *testing.T) {
	tests := []struct {
		name       string
		fault      sandbox.Fault
		wantStatus int
		wantHTML   string // a piece of the page; empty for an envelope
		wantRetry  string
	}{
		{"502", sandbox.Fault{Status: 502, HTML: true}, 502, "<title>502 Bad Gateway</title>", ""},
		{"504 after handling", sandbox.Fault{Status: 504, HTML: true, Processed: true}, 504, "504 Gateway Timeout", ""},
		{"with Retry-After", sandbox.Fault{Status: 503, HTML: true, RetryAfter: "30"}, 503, "503 Service Unavailable", "30"},
		{"without Status", sandbox.Fault{HTML: true}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			r := sendFileInfo(t, h, tt.fault)
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d", r.status, tt.wantStatus)
			}
			if got := r.header.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			last := h.lastRequest()
			if tt.wantHTML == "" {
				if ct := r.header.Get("Content-Type"); ct != "application/json" || !json.Valid(r.body) {
					t.Errorf("Content-Type %q, body %s; want a JSON envelope", ct, r.body)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q, want text/html", ct)
			}
			if !bytes.Contains(r.body, []byte(tt.wantHTML)) || json.Valid(r.body) {
				t.Errorf("body %q, want an HTML page with %q", r.body, tt.wantHTML)
			}
			if last.Status != tt.wantStatus || last.RUID != "" {
				t.Errorf("logged status %d, ruid %q; want %d and no ruid", last.Status, last.RUID, tt.wantStatus)
			}
		})
	}
}

func TestFaultPadBytes(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault // the fault without its PadBytes
		pad   int
	}{
		{"real answer", sandbox.Fault{}, 1},
		{"huge real answer", sandbox.Fault{}, 17 << 20},
		{"error answer", sandbox.Fault{Status: 500}, 100},
		{"after handling", sandbox.Fault{Processed: true, Status: 504}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			plain := sendFileInfo(t, h, tt.fault)
			f := tt.fault
			f.PadBytes = tt.pad
			r := sendFileInfo(t, h, f)
			if len(r.body) != len(plain.body)+tt.pad {
				t.Errorf("body of %d bytes, want %d + %d", len(r.body), len(plain.body), tt.pad)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
				t.Errorf("Content-Length %s for a body of %d bytes", got, len(r.body))
			}
			var got, want envelope
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("padded body is not JSON: %v", err)
			}
			json.Unmarshal(plain.body, &want)
			if r.status != plain.status || !bytes.Equal(got.Data, want.Data) || len(got.Errors) != len(want.Errors) {
				t.Errorf("padded answer %d %s %v, want %d %s %v", r.status, got.Data, got.Errors, plain.status, want.Data, want.Errors)
			}
		})
	}
}

func TestFaultAlter(t *testing.T) {
	const mb = 1000
	content := pngFile(2500)
	largerSize := func(d map[string]any) { d["file_size"] = d["file_size"].(float64) + 1 }
	moreBytes := func(d map[string]any) {
		b, _ := base64.StdEncoding.DecodeString(d["file_content"].(string))
		d["file_content"] = b64(append(b, "more"...))
	}
	for _, processed := range []bool{false, true} {
		name := "before handling"
		if processed {
			name = "after handling"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
			id := h.uploadChunked(conv, newChunkedUpload(content, mb))
			h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Processed: processed, Alter: largerSize})
			h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Processed: processed, Alter: moreBytes})

			r := h.send(http.MethodGet, fileInfoPath(property, conv, id), nil)
			wantOK(t, r)
			var info struct {
				FileSize int64 `json:"file_size"`
			}
			r.data(t, &info)
			if want := int64(len(content)) + 1; info.FileSize != want {
				t.Errorf("file_info file_size %d, want %d", info.FileSize, want)
			}
			if got, want := h.download(conv, id, "?from=0"), append(bytes.Clone(content), "more"...); !bytes.Equal(got, want) {
				t.Errorf("downloaded %d bytes, want the %d stored and 4 more", len(got), len(content))
			}
			if last := h.lastRequest(); !last.Processed {
				t.Errorf("logged %+v, want Processed", last)
			}
			// Only the answers were altered.
			h.wantStored(conv, id, content)
			if got := h.download(conv, id, "?from=0"); !bytes.Equal(got, content) {
				t.Errorf("the next download has %d bytes, want the %d stored", len(got), len(content))
			}
		})
	}
	t.Run("not errors", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		id := h.upload(conv, pngFile(10))
		var calls int
		count := func(map[string]any) { calls++ }
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Alter: count})
		wantError(t, h.send(http.MethodGet, fileInfoPath(property, conv, "nope"), nil), http.StatusNotFound, "not found")
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503, Processed: true, Alter: count})
		wantError(t, h.send(http.MethodGet, fileInfoPath(property, conv, id), nil), http.StatusServiceUnavailable, "injected fault")
		if calls != 0 {
			t.Errorf("Alter called %d times on error answers", calls)
		}
	})
	t.Run("not the token exchange", func(t *testing.T) {
		h := newHarness(t, sandbox.Options{})
		h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointToken, Alter: func(d map[string]any) { d["jwt"] = "x" }})
		h.token = h.exchange()
		wantOK(t, h.send(http.MethodGet, fileInfoPath(property, conv, h.upload(conv, pngFile(10))), nil))
	})
}
