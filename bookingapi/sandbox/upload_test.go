package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestUpload(t *testing.T) {
	png := pngFile(1000)
	tests := []struct {
		name       string
		edit       func(a map[string]any) // changes the attachment of a valid PNG upload
		wantStatus int
		wantMsg    string
		want       []byte // stored bytes on success; png if nil
	}{
		{name: "png", edit: func(map[string]any) {}, wantStatus: 200},
		{name: "jpeg", edit: func(a map[string]any) {
			jpeg := jpegFile(1000)
			a["file_type"], a["file_content"] = "image/jpeg", b64(jpeg)
		}, wantStatus: 200, want: jpegFile(1000)},
		{name: "signature only", edit: func(a map[string]any) {
			a["file_type"], a["file_content"], a["file_size"] = "image/jpeg", b64(jpegSignature), 3
		}, wantStatus: 200, want: jpegSignature},
		{name: "unknown fields allowed", edit: func(a map[string]any) { a["caption"] = "x" }, wantStatus: 200},

		{name: "file_name missing", edit: func(a map[string]any) { delete(a, "file_name") }, wantStatus: 400, wantMsg: "attachment.file_name is required"},
		{name: "file_name null", edit: func(a map[string]any) { a["file_name"] = nil }, wantStatus: 400, wantMsg: "attachment.file_name is required"},
		{name: "file_name empty", edit: func(a map[string]any) { a["file_name"] = "" }, wantStatus: 400, wantMsg: "attachment.file_name must not be empty"},
		{name: "file_name not a string", edit: func(a map[string]any) { a["file_name"] = 7 }, wantStatus: 400, wantMsg: "attachment.file_name must be a JSON string, got number"},
		{name: "file_name capitalized", edit: func(a map[string]any) { a["File_Name"] = a["file_name"]; delete(a, "file_name") }, wantStatus: 400, wantMsg: "attachment.file_name is required"},

		{name: "file_type gif", edit: func(a map[string]any) { a["file_type"] = "image/gif" }, wantStatus: 400, wantMsg: `attachment.file_type must be image/jpeg or image/png, got "image/gif"`},
		{name: "file_type upper case", edit: func(a map[string]any) { a["file_type"] = "IMAGE/PNG" }, wantStatus: 400, wantMsg: "attachment.file_type"},
		{name: "file_type missing", edit: func(a map[string]any) { delete(a, "file_type") }, wantStatus: 400, wantMsg: "attachment.file_type is required"},

		{name: "file_size missing", edit: func(a map[string]any) { delete(a, "file_size") }, wantStatus: 400, wantMsg: "attachment.file_size is required"},
		{name: "file_size string", edit: func(a map[string]any) { a["file_size"] = "1000" }, wantStatus: 400, wantMsg: "attachment.file_size must be a JSON integer, got string"},
		{name: "file_size fraction", edit: func(a map[string]any) { a["file_size"] = json.RawMessage("1000.0") }, wantStatus: 400, wantMsg: "attachment.file_size must be a JSON integer, got 1000.0"},
		{name: "file_size exponent", edit: func(a map[string]any) { a["file_size"] = json.RawMessage("1e3") }, wantStatus: 400, wantMsg: "attachment.file_size must be a JSON integer"},
		{name: "file_size too small", edit: func(a map[string]any) { a["file_size"] = 999 }, wantStatus: 400, wantMsg: "attachment.file_size is 999 but file_content decodes to 1000 bytes"},
		{name: "file_size too large", edit: func(a map[string]any) { a["file_size"] = 1001 }, wantStatus: 400, wantMsg: "attachment.file_size is 1001"},
		{name: "file_size out of range", edit: func(a map[string]any) { a["file_size"] = json.RawMessage("99999999999999999999") }, wantStatus: 400, wantMsg: "attachment.file_size is out of range"},

		{name: "file_content missing", edit: func(a map[string]any) { delete(a, "file_content") }, wantStatus: 400, wantMsg: "attachment.file_content is required"},
		{name: "file_content empty", edit: func(a map[string]any) { a["file_content"], a["file_size"] = "", 0 }, wantStatus: 400, wantMsg: "attachment.file_content is empty"},
		{name: "file_content not base64", edit: func(a map[string]any) { a["file_content"] = "!!!!" }, wantStatus: 400, wantMsg: "attachment.file_content is not valid standard base64"},
		{name: "file_content without padding", edit: func(a map[string]any) {
			a["file_content"], a["file_size"] = b64(pngSignature)[:11], 8
		}, wantStatus: 400, wantMsg: "attachment.file_content is not valid standard base64 with padding"},
		{name: "file_content URL alphabet", edit: func(a map[string]any) {
			// 0xFB 0xFF encodes to "+/8=" in the standard alphabet.
			a["file_content"], a["file_size"] = b64(pngSignature)+"-_8=", 10
		}, wantStatus: 400, wantMsg: "attachment.file_content is not valid standard base64"},
		{name: "file_content non-canonical padding bits", edit: func(a map[string]any) {
			// "iVBORw0KGgp=" would be 8 bytes with stray trailing bits.
			a["file_content"], a["file_size"] = "iVBORw0KGgr=", 8
		}, wantStatus: 400, wantMsg: "attachment.file_content is not valid standard base64"},
		{name: "file_content with line break", edit: func(a map[string]any) {
			s := b64(png)
			a["file_content"] = s[:76] + "\r\n" + s[76:]
		}, wantStatus: 400, wantMsg: "line break"},
		{name: "file_content not a string", edit: func(a map[string]any) { a["file_content"] = []int{1} }, wantStatus: 400, wantMsg: "attachment.file_content must be a JSON string, got array"},

		{name: "png declared jpeg", edit: func(a map[string]any) { a["file_type"] = "image/jpeg" }, wantStatus: 400, wantMsg: "attachment.file_content does not begin with the image/jpeg signature"},
		{name: "jpeg declared png", edit: func(a map[string]any) { a["file_content"] = b64(jpegFile(1000)) }, wantStatus: 400, wantMsg: "image/png signature"},
		{name: "shorter than the signature", edit: func(a map[string]any) {
			a["file_content"], a["file_size"] = b64(pngSignature[:4]), 4
		}, wantStatus: 400, wantMsg: "signature"},
	}
	h := newHarness(t, sandbox.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := uploadBody("photo.png", "image/png", png)
			tt.edit(attachment(body))
			r := h.send(http.MethodPost, uploadPath(property, conv), body)
			if tt.wantStatus != http.StatusOK {
				wantError(t, r, tt.wantStatus, tt.wantMsg)
				return
			}
			wantOK(t, r)
			var d struct {
				OK           string `json:"ok"`
				AttachmentID string `json:"attachment_id"`
			}
			r.data(t, &d)
			if d.OK != "true" || len(d.AttachmentID) != 36 {
				t.Errorf("data %s, want ok \"true\" and a uuid-like attachment_id", r.env.Data)
			}
			want := tt.want
			if want == nil {
				want = png
			}
			h.wantStored(conv, d.AttachmentID, want)
		})
	}
}

func TestUploadSizeLimit(t *testing.T) {
	for _, mb := range megabytes {
		h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
		tests := []struct {
			name       string
			size       int64
			wantStatus int
		}{
			{"small", 9, 200},
			{"exactly 1MB", mb, 200},
			{"1MB plus one", mb + 1, 400},
		}
		for _, tt := range tests {
			t.Run(mbName(mb)+"/"+tt.name, func(t *testing.T) {
				content := pngFile(int(tt.size))
				r := h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", content))
				if tt.wantStatus == http.StatusOK {
					wantOK(t, r)
					var d struct {
						AttachmentID string `json:"attachment_id"`
					}
					r.data(t, &d)
					h.wantStored(conv, d.AttachmentID, content)
					return
				}
				wantError(t, r, tt.wantStatus, "over this endpoint's limit of 1MB", "attachment_chunks")
			})
		}
	}
}

// mbName names a reading of "1MB" in subtest names.
func mbName(mb int64) string {
	if mb == 1_048_576 {
		return "MB=1048576"
	}
	return "MB=1000000"
}
