package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestRouting(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	id := h.upload(conv, pngFile(10))
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantAllow          string
	}{
		{"unknown path", http.MethodGet, "/messaging/properties/1234/conversations", 404, ""},
		{"root", http.MethodGet, "/", 404, ""},
		{"trailing slash", http.MethodPost, uploadPath(property, conv) + "/", 404, ""},
		{"double slash", http.MethodGet, "/messaging//properties/1234/conversations/c/attachments/" + id, 404, ""},
		{"dot segment", http.MethodGet, uploadPath(property, conv) + "/../attachments/" + id, 404, ""},
		{"no properties prefix", http.MethodGet, "/properties/1234/conversations/c/attachments/" + id, 404, ""},
		{"GET upload", http.MethodGet, uploadPath(property, conv), 405, "POST"},
		{"PUT chunks", http.MethodPut, chunksPath(property, conv), 405, "POST"},
		{"POST download", http.MethodPost, downloadPath(property, conv, id), 405, "GET"},
		{"DELETE file_info", http.MethodDelete, fileInfoPath(property, conv, id), 405, "GET"},
		{"GET messages", http.MethodGet, conversationPath(property, conv), 405, "POST"},
		{"conversation with a trailing slash", http.MethodPost, conversationPath(property, conv) + "/", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.send(tt.method, tt.path, nil)
			wantError(t, r, tt.wantStatus, tt.method)
			if got := r.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestPropertyID(t *testing.T) {
	h := newHarness(t, sandbox.Options{DeniedPropertyIDs: []int64{666}})
	id := h.upload(conv, pngFile(10))
	endpoints := []struct {
		name, method, path string
		body               any
	}{
		{"upload", http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10))},
		{"chunks", http.MethodPost, chunksPath(property, conv), newChunkedUpload(pngFile(2_500_000), 1_000_000).body(0, "")},
		{"download", http.MethodGet, downloadPath(property, conv, id), nil},
		{"file_info", http.MethodGet, fileInfoPath(property, conv, id), nil},
		{"messages", http.MethodPost, conversationPath(property, conv), messageBody("Your invoice", id)},
	}
	tests := []struct {
		name, propertyID string
		wantStatus       int
		wantMsg          string
	}{
		{"zero", "0", 400, `property_id "0" is not a positive decimal integer`},
		{"negative", "-1", 400, "property_id"},
		{"plus sign", "+1234", 400, "property_id"},
		{"leading zero", "01234", 400, "property_id"},
		{"letters", "abc", 400, "property_id"},
		{"decimal point", "12.5", 400, "property_id"},
		{"too large", "99999999999999999999", 400, "property_id"},
		{"denied", "666", 403, "This account doesn't have access to this property"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				r := h.send(ep.method, swapProperty(ep.path, tt.propertyID), ep.body)
				wantError(t, r, tt.wantStatus, tt.wantMsg)
			})
		}
	}
}

func TestRequestBody(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	good := uploadBody("a.png", "image/png", pngFile(100))
	endpoints := []struct {
		name, path string
		root       string // the body's one member
	}{
		{"upload", uploadPath(property, conv), "attachment"},
		{"chunks", chunksPath(property, conv), "attachment"},
		{"messages", conversationPath(property, conv), "message"},
	}
	tests := []struct {
		name       string
		body       any
		opts       []option
		wantStatus int
		wantMsg    string
	}{
		{"no content type", good, []option{withoutHeader("Content-Type")}, 415, "application/json"},
		{"text/plain", good, []option{withHeader("Content-Type", "text/plain")}, 415, `"text/plain"`},
		{"other charset", good, []option{withHeader("Content-Type", "application/json; charset=latin-1")}, 415, "utf-8"},
		{"not JSON", `{"attachment": `, nil, 400, "not valid JSON"},
		{"trailing data", `{"attachment": {}} x`, nil, 400, "not valid JSON"},
		{"empty", ``, nil, 400, "request body is empty"},
		{"array", `[]`, nil, 400, "must be a JSON object, got array"},
		{"null", `null`, nil, 400, "must be a JSON object, got null"},
		{"too large", strings.Repeat(" ", 32<<20+1), nil, 413, "larger than 33554432 bytes"},
		{"form feed after the object", "{}\f", nil, 400, "not valid JSON"},
	}
	for _, ep := range endpoints {
		capitalized := strings.ToUpper(ep.root[:1]) + ep.root[1:]
		rootTests := []struct {
			name, body, wantMsg string
		}{
			{"no " + ep.root, fmt.Sprintf(`{%q: {}}`, capitalized), ep.root + " is required"},
			{ep.root + " not an object", fmt.Sprintf(`{%q: "x"}`, ep.root), ep.root + " must be a JSON object, got string"},
		}
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				wantError(t, h.send(http.MethodPost, ep.path, tt.body, tt.opts...), tt.wantStatus, tt.wantMsg)
			})
		}
		for _, tt := range rootTests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				wantError(t, h.send(http.MethodPost, ep.path, tt.body), http.StatusBadRequest, tt.wantMsg)
			})
		}
	}
	t.Run("charset utf-8 accepted", func(t *testing.T) {
		wantOK(t, h.send(http.MethodPost, uploadPath(property, conv), good,
			withHeader("Content-Type", "application/json; charset=UTF-8")))
	})
}

func TestRUIDs(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	seen := map[string]bool{}
	id := h.upload(conv, pngFile(10))
	for _, path := range []string{fileInfoPath(property, conv, id), fileInfoPath(property, conv, "missing"), "/nowhere"} {
		for range 3 {
			r := h.send(http.MethodGet, path, nil)
			if seen[r.env.Meta.RUID] {
				t.Errorf("ruid %q repeated", r.env.Meta.RUID)
			}
			seen[r.env.Meta.RUID] = true
			if len(r.env.Meta.RUID) != 96 {
				t.Errorf("ruid %q has %d characters, want 96", r.env.Meta.RUID, len(r.env.Meta.RUID))
			}
			if ra := r.header.Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After %q sent without a fault", ra)
			}
		}
	}
}

func TestBooleanOK(t *testing.T) {
	tests := []struct {
		name      string
		booleanOK bool
		want      string
	}{
		{"string by default", false, `"true"`},
		{"boolean", true, `true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{BooleanOK: tt.booleanOK})
			u := newChunkedUpload(pngFile(1_500_000), 1_000_000)
			responses := []response{
				h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10))),
				h.send(http.MethodPost, chunksPath(property, conv), u.body(0, "")),
			}
			var started chunkData
			responses[1].data(t, &started)
			responses = append(responses,
				h.send(http.MethodPost, chunksPath(property, conv), u.body(1, *started.UploadID)))
			var finished chunkData
			responses[2].data(t, &finished)
			responses = append(responses,
				h.send(http.MethodGet, downloadPath(property, conv, *finished.AttachmentID)+"?from=0", nil),
				h.send(http.MethodPost, conversationPath(property, conv), messageBody("Your photo", *finished.AttachmentID)))
			for i, r := range responses {
				wantOK(t, r)
				var d struct {
					OK json.RawMessage `json:"ok"`
				}
				r.data(t, &d)
				if string(d.OK) != tt.want {
					t.Errorf("response %d: ok is %s, want %s", i, d.OK, tt.want)
				}
			}
		})
	}
}
