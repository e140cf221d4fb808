package sandbox_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestRequests(t *testing.T) {
	h := newHarness(t, sandbox.Options{MegabyteBytes: 1000})
	file := newChunkedUpload(pngFile(2500), 1000)
	start := file.body(0, "")
	chunk(start)["chunk_number"], chunk(start)["chunk_size"] = "0", "1000"
	photo := h.upload("photos", pngFile(10))
	var uploadID string
	var id string
	steps := []struct {
		name string
		send func() response
		want sandbox.Request // RUID is compared with the response's
	}{
		{"upload", func() response {
			return h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10)))
		}, sandbox.Request{Endpoint: sandbox.EndpointUpload, DecodedBytes: 10, FileSize: 10, Processed: true, Status: 200}},
		{"start", func() response {
			r := h.send(http.MethodPost, chunksPath(property, conv), start)
			var d chunkData
			r.data(t, &d)
			uploadID = *d.UploadID
			return r
		}, sandbox.Request{Endpoint: sandbox.EndpointChunks, Action: "start", ChunkNumber: 0, DecodedBytes: 1000, FileSize: 2500, Processed: true, Status: 200}},
		{"resume out of order", func() response {
			body := file.body(1, uploadID)
			chunk(body)["chunk_number"] = 5
			return h.send(http.MethodPost, chunksPath(property, conv), body)
		}, sandbox.Request{Endpoint: sandbox.EndpointChunks, Action: "resume", ChunkNumber: 5, DecodedBytes: 1000, FileSize: 2500, Status: 400}},
		{"unreadable chunk", func() response {
			body := file.body(1, uploadID)
			chunk(body)["chunk_number"], chunk(body)["chunk_content"] = "x", "%%%"
			return h.send(http.MethodPost, chunksPath(property, conv), body)
		}, sandbox.Request{Endpoint: sandbox.EndpointChunks, Action: "resume", ChunkNumber: -1, FileSize: 2500, Status: 400}},
		{"download", func() response {
			id = h.upload(conv, pngFile(10))
			return h.send(http.MethodGet, downloadPath(property, conv, id)+"?from=1&to=5", nil)
		}, sandbox.Request{Endpoint: sandbox.EndpointDownload, Query: url.Values{"from": {"1"}, "to": {"5"}}, Processed: true, Status: 200}},
		{"message", func() response {
			return h.send(http.MethodPost, conversationPath(property, "photos"), messageBody("Your photo", photo))
		}, sandbox.Request{Endpoint: sandbox.EndpointMessages, AttachmentIDs: []string{photo}, Processed: true, Status: 200}},
		{"unreadable message", func() response {
			body := map[string]any{"message": map[string]any{"content": "x", "attachment_ids": []any{photo, 7}}}
			return h.send(http.MethodPost, conversationPath(property, "photos"), body)
		}, sandbox.Request{Endpoint: sandbox.EndpointMessages, AttachmentIDs: []string{photo}, Status: 400}},
		{"faulted", func() response {
			h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Status: 503})
			return h.send(http.MethodGet, fileInfoPath(property, conv, id), nil)
		}, sandbox.Request{Endpoint: sandbox.EndpointFileInfo, Status: 503}},
		{"method not allowed", func() response {
			return h.send(http.MethodGet, uploadPath(property, conv), nil)
		}, sandbox.Request{Endpoint: sandbox.EndpointUpload, Status: 405}},
		{"no endpoint", func() response {
			return h.send(http.MethodGet, "/nowhere", nil)
		}, sandbox.Request{Status: 404}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := st.send()
			reqs := h.srv.Requests()
			got := reqs[len(reqs)-1]
			want := st.want
			want.RUID = r.env.Meta.RUID
			if st.want.Action != "" && st.want.Action != "start" {
				want.UploadID = uploadID
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("last request\n got %+v\nwant %+v", got, want)
			}
		})
	}
	t.Run("token exchange first", func(t *testing.T) {
		first := h.srv.Requests()[0]
		if first.Endpoint != sandbox.EndpointToken || first.Status != 200 || first.RUID == "" {
			t.Errorf("first request %+v, want the harness's token exchange", first)
		}
	})
	t.Run("a copy", func(t *testing.T) {
		reqs := h.srv.Requests()
		reqs[0].Status = 999
		for _, r := range reqs {
			if r.Query != nil {
				r.Query.Set("from", "999")
			}
			if r.AttachmentIDs != nil {
				r.AttachmentIDs[0] = "999"
			}
		}
		for _, r := range h.srv.Requests() {
			if r.Status == 999 || r.Query.Get("from") == "999" || slices.Contains(r.AttachmentIDs, "999") {
				t.Errorf("Requests() shares its records: %+v", r)
			}
		}
	})
}
