package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestChunks(t *testing.T) {
	const mb = 1000
	content := pngFile(2*mb + mb/2) // chunks 0 (start), 1 (resume), 2 (finish)
	other := pngFile(2*mb + mb/2 - 1)
	tests := []struct {
		name       string
		sent       int                    // correct chunks sent before the request under test
		edit       func(a map[string]any) // changes the correct request for chunk sent
		path       string                 // if set, replaces the conversation's chunks path
		wantStatus int
		wantMsg    string
	}{
		{name: "start", wantStatus: 200},
		{name: "start with numbers as strings", edit: func(a map[string]any) {
			c := a["chunk"].(map[string]any)
			c["chunk_number"], c["chunk_size"] = "0", strconv.Itoa(mb)
		}, wantStatus: 200},
		{name: "start with null upload_id", edit: func(a map[string]any) { a["upload_id"] = nil }, wantStatus: 200},
		{name: "start with empty upload_id", edit: func(a map[string]any) { a["upload_id"] = "" }, wantStatus: 200},
		{name: "start with unknown fields", edit: func(a map[string]any) { a["note"] = []int{1} }, wantStatus: 200},
		{name: "start with upload_id", edit: func(a map[string]any) { a["upload_id"] = "x" }, wantStatus: 400, wantMsg: `attachment.upload_id must be absent with action start, got "x"`},
		{name: "start with chunk_number 1", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = 1 }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_number must be 0 with action start, got 1"},
		{name: "start with chunk_number -1", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = -1 }, wantStatus: 400, wantMsg: "got -1"},
		{name: "start with empty file_name", edit: func(a map[string]any) { a["file_name"] = "" }, wantStatus: 400, wantMsg: "attachment.file_name must not be empty"},
		{name: "start with file_type gif", edit: func(a map[string]any) { a["file_type"] = "image/gif" }, wantStatus: 400, wantMsg: "attachment.file_type must be image/jpeg or image/png"},
		{name: "start with file_size 1MB", edit: func(a map[string]any) { a["file_size"] = mb }, wantStatus: 400, wantMsg: "attachment.file_size 1000 is not more than 1MB (1000 bytes)"},
		{name: "start with file_size over 10MB", edit: func(a map[string]any) { a["file_size"] = 10*mb + 1 }, wantStatus: 400, wantMsg: "attachment.file_size 10001 is more than 10MB (10000 bytes)"},
		{name: "start with file_size a string", edit: func(a map[string]any) { a["file_size"] = strconv.Itoa(len(content)) }, wantStatus: 400, wantMsg: "attachment.file_size must be a JSON integer, got string"},
		{name: "start with wrong signature", edit: func(a map[string]any) {
			setChunk(a, append([]byte{0}, content[1:mb]...))
		}, wantStatus: 400, wantMsg: "attachment.chunk.chunk_content does not begin with the image/png signature"},
		{name: "start declared jpeg", edit: func(a map[string]any) { a["file_type"] = "image/jpeg" }, wantStatus: 400, wantMsg: "image/jpeg signature"},
		{name: "action missing", edit: func(a map[string]any) { delete(a, "action") }, wantStatus: 400, wantMsg: "attachment.action is required"},
		{name: "action capitalized", edit: func(a map[string]any) { a["action"] = "Start" }, wantStatus: 400, wantMsg: `attachment.action must be "start", "resume" or "finish", got "Start"`},
		{name: "action not a string", edit: func(a map[string]any) { a["action"] = 0 }, wantStatus: 400, wantMsg: "attachment.action must be a JSON string, got number"},
		{name: "chunk missing", edit: func(a map[string]any) { delete(a, "chunk") }, wantStatus: 400, wantMsg: "attachment.chunk is required"},
		{name: "chunk not an object", edit: func(a map[string]any) { a["chunk"] = "x" }, wantStatus: 400, wantMsg: "attachment.chunk must be a JSON object, got string"},
		{name: "chunk_number missing", edit: func(a map[string]any) { delete(chunkOf(a), "chunk_number") }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_number is required"},
		{name: "chunk_number fraction", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = json.RawMessage("0.0") }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_number must be a JSON integer or a string of decimal digits, got 0.0"},
		{name: "chunk_number boolean", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = false }, wantStatus: 400, wantMsg: "chunk_number must be a JSON integer or a string of decimal digits, got boolean"},
		{name: "chunk_number string with space", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = " 0" }, wantStatus: 400, wantMsg: `got the string " 0"`},
		{name: "chunk_number negative string", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = "-0" }, wantStatus: 400, wantMsg: `got the string "-0"`},
		{name: "chunk_number empty string", edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = "" }, wantStatus: 400, wantMsg: `got the string ""`},
		{name: "chunk_size missing", edit: func(a map[string]any) { delete(chunkOf(a), "chunk_size") }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_size is required"},
		{name: "chunk_size wrong", edit: func(a map[string]any) { chunkOf(a)["chunk_size"] = mb - 1 }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_size is 999 but chunk_content decodes to 1000 bytes"},
		{name: "chunk_size wrong string", edit: func(a map[string]any) { chunkOf(a)["chunk_size"] = "999" }, wantStatus: 400, wantMsg: "chunk_size is 999"},
		{name: "chunk_content missing", edit: func(a map[string]any) { delete(chunkOf(a), "chunk_content") }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_content is required"},
		{name: "chunk_content not base64", edit: func(a map[string]any) { chunkOf(a)["chunk_content"] = "iVBORw0KGgo" }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_content is not valid standard base64"},
		{name: "chunk_content empty", edit: func(a map[string]any) { setChunk(a, nil) }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_content is empty"},
		{name: "chunk over 1MB", edit: func(a map[string]any) { setChunk(a, content[:mb+1]) }, wantStatus: 400, wantMsg: "attachment.chunk is 1001 bytes, over the limit of 1MB (1000 bytes) per chunk"},

		{name: "resume", sent: 1, wantStatus: 200},
		{name: "resume with numbers as strings", sent: 1, edit: func(a map[string]any) {
			c := a["chunk"].(map[string]any)
			c["chunk_number"], c["chunk_size"] = "1", strconv.Itoa(mb)
		}, wantStatus: 200},
		{name: "resume without upload_id", sent: 1, edit: func(a map[string]any) { delete(a, "upload_id") }, wantStatus: 400, wantMsg: "attachment.upload_id is required with action resume"},
		{name: "resume with unknown upload_id", sent: 1, edit: func(a map[string]any) { a["upload_id"] = "nope" }, wantStatus: 400, wantMsg: `attachment.upload_id "nope" is unknown in this conversation`},
		{name: "resume with upload_id not a string", sent: 1, edit: func(a map[string]any) { a["upload_id"] = 5 }, wantStatus: 400, wantMsg: "attachment.upload_id must be a JSON string, got number"},
		{name: "resume in another conversation", sent: 1, path: chunksPath(property, "other"), wantStatus: 400, wantMsg: "is unknown in this conversation"},
		{name: "resume in another property", sent: 1, path: chunksPath(property+1, conv), wantStatus: 400, wantMsg: "is unknown in this conversation"},
		{name: "resume skipping a chunk", sent: 1, edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = 2 }, wantStatus: 400, wantMsg: "attachment.chunk.chunk_number 2 is out of order: expected 1"},
		{name: "resume repeating the start", sent: 1, edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = "0" }, wantStatus: 400, wantMsg: "chunk_number 0 is out of order: expected 1"},
		{name: "resume with another file_name", sent: 1, edit: func(a map[string]any) { a["file_name"] = "x.png" }, wantStatus: 400, wantMsg: `attachment.file_name "x.png" differs from "big.png" sent with start`},
		{name: "resume with another file_type", sent: 1, edit: func(a map[string]any) { a["file_type"] = "image/jpeg" }, wantStatus: 400, wantMsg: `attachment.file_type "image/jpeg" differs from "image/png"`},
		{name: "resume with another file_size", sent: 1, edit: func(a map[string]any) { a["file_size"] = len(content) + 1 }, wantStatus: 400, wantMsg: "attachment.file_size 2501 differs from 2500 sent with start"},
		{name: "resume with wrong chunk_size", sent: 1, edit: func(a map[string]any) { chunkOf(a)["chunk_size"] = mb + 1 }, wantStatus: 400, wantMsg: "chunk_size is 1001 but chunk_content decodes to 1000 bytes"},
		{name: "resume with empty chunk", sent: 1, edit: func(a map[string]any) { setChunk(a, nil) }, wantStatus: 400, wantMsg: "chunk_content is empty"},
		{name: "resume with chunk over 1MB", sent: 1, edit: func(a map[string]any) { setChunk(a, content[mb:2*mb+1]) }, wantStatus: 400, wantMsg: "over the limit of 1MB"},
		{name: "resume completing the file", sent: 2, edit: func(a map[string]any) { a["action"] = "resume" }, wantStatus: 400, wantMsg: "this chunk completes the 2500-byte file: send the last chunk with action finish"},
		{name: "resume overrunning the file", sent: 2, edit: func(a map[string]any) {
			a["action"] = "resume"
			setChunk(a, content[2*mb-1:])
		}, wantStatus: 400, wantMsg: "attachment.chunk would bring the upload to 2501 bytes, over its file_size of 2500"},

		{name: "finish", sent: 2, wantStatus: 200},
		{name: "finish with numbers as strings", sent: 2, edit: func(a map[string]any) {
			c := a["chunk"].(map[string]any)
			c["chunk_number"], c["chunk_size"] = "2", strconv.Itoa(mb/2)
		}, wantStatus: 200},
		{name: "finish without upload_id", sent: 2, edit: func(a map[string]any) { a["upload_id"] = nil }, wantStatus: 400, wantMsg: "attachment.upload_id is required with action finish"},
		{name: "finish too early", sent: 1, edit: func(a map[string]any) { a["action"] = "finish" }, wantStatus: 400, wantMsg: "finish would leave 500 of the file's 2500 bytes unsent"},
		{name: "finish overrunning the file", sent: 2, edit: func(a map[string]any) { setChunk(a, content[2*mb-1:]) }, wantStatus: 400, wantMsg: "over its file_size of 2500"},
		{name: "finish out of order", sent: 2, edit: func(a map[string]any) { chunkOf(a)["chunk_number"] = 3 }, wantStatus: 400, wantMsg: "chunk_number 3 is out of order: expected 2"},
		{name: "finish with another file_size", sent: 2, edit: func(a map[string]any) { a["file_size"] = len(other) }, wantStatus: 400, wantMsg: "differs from 2500"},
	}
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newChunkedUpload(content, mb)
			var uploadID string
			if tt.sent > 0 {
				uploadID = h.start(conv, u)
			}
			for i := 1; i < tt.sent; i++ {
				h.sendChunk(conv, u, i, uploadID)
			}
			body := u.body(tt.sent, uploadID)
			if tt.edit != nil {
				tt.edit(attachment(body))
			}
			path := tt.path
			if path == "" {
				path = chunksPath(property, conv)
			}
			r := h.send(http.MethodPost, path, body)
			if tt.wantStatus != http.StatusOK {
				wantError(t, r, tt.wantStatus, tt.wantMsg)
				if tt.sent > 0 {
					// A rejected chunk leaves the upload as it was.
					id := h.finishFrom(conv, u, tt.sent, uploadID)
					h.wantStored(conv, id, content)
				}
				return
			}
			wantOK(t, r)
			var d chunkData
			r.data(t, &d)
			if d.OK != "true" {
				t.Errorf("ok %v, want \"true\"", d.OK)
			}
			switch tt.sent {
			case 0:
				if d.UploadID == nil || len(*d.UploadID) != 36 || d.AttachmentID != nil {
					t.Fatalf("start data %s, want a uuid-like upload_id and a null attachment_id", r.env.Data)
				}
				id := h.finishFrom(conv, u, 1, *d.UploadID)
				h.wantStored(conv, id, content)
			case u.chunks() - 1:
				if d.UploadID != nil || d.AttachmentID == nil || len(*d.AttachmentID) != 36 {
					t.Fatalf("finish data %s, want a null upload_id and a uuid-like attachment_id", r.env.Data)
				}
				h.wantStored(conv, *d.AttachmentID, content)
				// The finished upload is forgotten.
				wantError(t, h.send(http.MethodPost, chunksPath(property, conv), u.body(tt.sent, uploadID)),
					http.StatusBadRequest, "is unknown in this conversation")
			default:
				if d.UploadID != nil || d.AttachmentID != nil {
					t.Fatalf("resume data %s, want null ids", r.env.Data)
				}
				id := h.finishFrom(conv, u, tt.sent+1, uploadID)
				h.wantStored(conv, id, content)
			}
		})
	}
}

// chunkOf returns the chunk of an attachment object.
func chunkOf(a map[string]any) map[string]any {
	return a["chunk"].(map[string]any)
}

// setChunk sets the chunk's content and a matching chunk_size.
func setChunk(a map[string]any, content []byte) {
	c := chunkOf(a)
	c["chunk_content"], c["chunk_size"] = b64(content), len(content)
}

func TestChunkedSizeLimits(t *testing.T) {
	for _, mb := range megabytes {
		tests := []struct {
			name     string
			size     int64
			wantMsg  string // empty if the upload must succeed
			download string // query of a download in one piece
		}{
			{"1MB", mb, "is not more than 1MB", ""},
			{"1MB plus one", mb + 1, "", "?from=0"},
			{"10MB", 10 * mb, "", "?from=0"},
			{"10MB plus one", 10*mb + 1, "is more than 10MB", ""},
		}
		for _, tt := range tests {
			t.Run(mbName(mb)+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
				content := pngFile(int(tt.size))
				u := newChunkedUpload(content, mb)
				if tt.wantMsg != "" {
					r := h.send(http.MethodPost, chunksPath(property, conv), u.body(0, ""))
					wantError(t, r, http.StatusBadRequest, "attachment.file_size", tt.wantMsg)
					return
				}
				id := h.uploadChunked(conv, u)
				h.wantStored(conv, id, content)
				if got := h.download(conv, id, tt.download); string(got) != string(content) {
					t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(content))
				}
			})
		}
	}
}

func TestChunkedRestart(t *testing.T) {
	const mb = 1000
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
	content := pngFile(2500)
	u := newChunkedUpload(content, mb)
	first := h.start(conv, u)
	h.sendChunk(conv, u, 1, first)
	// After an error Booking tells clients to start again; both uploads
	// live on until finished or expired.
	second := h.start(conv, u)
	if first == second {
		t.Fatalf("second start returned the same upload_id %q", first)
	}
	h.wantStored(conv, h.finishFrom(conv, u, 1, second), content)
	h.wantStored(conv, h.finishFrom(conv, u, 2, first), content)
}

func TestChunkedUploadExpiry(t *testing.T) {
	const mb = 1000
	clk := newClock()
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb, Now: clk.Now, TokenTTL: 24 * time.Hour})
	content := pngFile(2500)
	u := newChunkedUpload(content, mb)
	uploadID := h.start(conv, u)
	clk.advance(time.Hour - time.Nanosecond)
	h.sendChunk(conv, u, 1, uploadID)
	clk.advance(time.Nanosecond)
	r := h.send(http.MethodPost, chunksPath(property, conv), u.body(2, uploadID))
	wantError(t, r, http.StatusBadRequest, "has expired", "start again")
	// Once reported, the expired upload is gone.
	r = h.send(http.MethodPost, chunksPath(property, conv), u.body(2, uploadID))
	wantError(t, r, http.StatusBadRequest, "is unknown")
	h.wantStored(conv, h.uploadChunked(conv, u), content)
}
