package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestClearFaults(t *testing.T) {
	info := sandbox.EndpointFileInfo
	tests := []struct {
		name   string
		before []sandbox.Fault // injected, then cleared
		after  []sandbox.Fault // injected after ClearFaults
		want   []int           // statuses of successive file_info requests after that
	}{
		{"forgets every fault", []sandbox.Fault{
			{Endpoint: info, Status: 500},
			{Endpoint: info, Nth: 2, Times: 5, Status: 503},
			{Endpoint: sandbox.EndpointDownload, Status: 500},
		}, nil, []int{200, 200, 200}},
		{"a later fault counts from its own injection", []sandbox.Fault{
			{Endpoint: info, Nth: 3, Status: 500},
		}, []sandbox.Fault{{Endpoint: info, Nth: 2, Status: 503}}, []int{200, 503, 200}},
		{"with no fault injected", nil, []sandbox.Fault{{Endpoint: info, Status: 502}}, []int{502, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{})
			path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
			for _, f := range tt.before {
				h.srv.InjectFault(f)
			}
			// One request while the first faults are injected, so that
			// their counts have moved.
			h.send(http.MethodGet, path, nil)
			h.srv.ClearFaults()
			for _, f := range tt.after {
				h.srv.InjectFault(f)
			}
			for i, want := range tt.want {
				if r := h.send(http.MethodGet, path, nil); r.status != want {
					t.Errorf("request %d after ClearFaults: status %d (%s), want %d", i+1, r.status, r.raw, want)
				}
			}
		})
	}
}

// Every name Endpoints returns is a routed endpoint on which a fault of
// that name fires, and together they are every endpoint a request can
// reach.
func TestEndpoints(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	id := h.upload(conv, pngFile(10))
	requests := map[sandbox.Endpoint]struct {
		method, path string
		body         any
	}{
		sandbox.EndpointToken:    {http.MethodPost, "/token-based-authentication/exchange", map[string]any{}},
		sandbox.EndpointUpload:   {http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10))},
		sandbox.EndpointChunks:   {http.MethodPost, chunksPath(property, conv), newChunkedUpload(pngFile(2_500_000), 1_000_000).body(0, "")},
		sandbox.EndpointDownload: {http.MethodGet, downloadPath(property, conv, id), nil},
		sandbox.EndpointFileInfo: {http.MethodGet, fileInfoPath(property, conv, id), nil},
		sandbox.EndpointMessages: {http.MethodPost, conversationPath(property, conv), messageBody("Your invoice")},
	}
	got := sandbox.Endpoints()
	if len(got) != len(requests) {
		t.Errorf("Endpoints() = %v, want the %d endpoints", got, len(requests))
	}
	for _, ep := range got {
		req, ok := requests[ep]
		if !ok {
			t.Errorf("Endpoints() holds %q, which is no endpoint this test knows", ep)
			continue
		}
		h.srv.InjectFault(sandbox.Fault{Endpoint: ep, Status: http.StatusTeapot})
		r := h.send(req.method, req.path, req.body)
		wantError(t, r, http.StatusTeapot, "injected fault")
		if last := h.lastRequest(); last.Endpoint != ep {
			t.Errorf("%s %s was logged as endpoint %q, want %q", req.method, req.path, last.Endpoint, ep)
		}
	}
}
