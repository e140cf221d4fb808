package sandbox_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestDownload(t *testing.T) {
	const mb = 1000
	small := pngFile(100)
	large := pngFile(mb + 1)
	type span struct{ from, to int } // expected bytes small[from:to]
	tests := []struct {
		name       string
		inclusive  bool
		file       []byte // small if nil
		query      string
		want       span
		wantStatus int
		wantMsg    string
	}{
		{name: "whole", query: "", want: span{0, 100}, wantStatus: 200},
		{name: "from zero", query: "?from=0", want: span{0, 100}, wantStatus: 200},
		{name: "from to the end", query: "?from=10", want: span{10, 100}, wantStatus: 200},
		{name: "last byte", query: "?from=99", want: span{99, 100}, wantStatus: 200},
		{name: "unknown parameters ignored", query: "?from=10&x=y", want: span{10, 100}, wantStatus: 200},
		{name: "exclusive range", query: "?from=10&to=20", want: span{10, 20}, wantStatus: 200},
		{name: "exclusive one byte", query: "?from=10&to=11", want: span{10, 11}, wantStatus: 200},
		{name: "exclusive to the end", query: "?from=10&to=100", want: span{10, 100}, wantStatus: 200},
		{name: "exclusive clamped", query: "?from=10&to=1000000", want: span{10, 100}, wantStatus: 200},
		{name: "exclusive to without from", query: "?to=20", want: span{0, 20}, wantStatus: 200},
		{name: "exclusive empty range", query: "?from=10&to=10", wantStatus: 400, wantMsg: "to 10 must be greater than from 10 (to is exclusive)"},
		{name: "exclusive backwards", query: "?from=10&to=9", wantStatus: 400, wantMsg: "to 9 must be greater than from 10"},
		{name: "inclusive range", inclusive: true, query: "?from=10&to=20", want: span{10, 21}, wantStatus: 200},
		{name: "inclusive one byte", inclusive: true, query: "?from=10&to=10", want: span{10, 11}, wantStatus: 200},
		{name: "inclusive to the end", inclusive: true, query: "?from=10&to=99", want: span{10, 100}, wantStatus: 200},
		{name: "inclusive clamped", inclusive: true, query: "?from=10&to=100", want: span{10, 100}, wantStatus: 200},
		{name: "inclusive huge to", inclusive: true, query: "?from=0&to=9223372036854775807", want: span{0, 100}, wantStatus: 200},
		{name: "inclusive to without from", inclusive: true, query: "?to=20", want: span{0, 21}, wantStatus: 200},
		{name: "inclusive backwards", inclusive: true, query: "?from=10&to=9", wantStatus: 400, wantMsg: "to 9 is before from 10 (to is inclusive)"},
		{name: "from at the end", query: "?from=100", wantStatus: 400, wantMsg: "from 100 is not before the end of the 100-byte attachment"},
		{name: "from past the end", query: "?from=1000", wantStatus: 400, wantMsg: "from 1000"},
		{name: "from negative", query: "?from=-1", wantStatus: 400, wantMsg: `query parameter from must be a non-negative decimal integer, got "-1"`},
		{name: "from with plus", query: "?from=%2B1", wantStatus: 400, wantMsg: `got "+1"`},
		{name: "from empty", query: "?from=", wantStatus: 400, wantMsg: `got ""`},
		{name: "from fraction", query: "?from=1.5", wantStatus: 400, wantMsg: "query parameter from"},
		{name: "from letters", query: "?from=abc", wantStatus: 400, wantMsg: "query parameter from"},
		{name: "from out of range", query: "?from=99999999999999999999", wantStatus: 400, wantMsg: "query parameter from"},
		{name: "from twice", query: "?from=1&from=2", wantStatus: 400, wantMsg: "query parameter from appears 2 times"},
		{name: "to letters", query: "?from=0&to=x", wantStatus: 400, wantMsg: `query parameter to must be a non-negative decimal integer, got "x"`},
		{name: "malformed query", query: "?from=%zz", wantStatus: 400, wantMsg: "query string is malformed"},
		{name: "large file without from", file: large, query: "", wantStatus: 400, wantMsg: "from is required for attachments larger than 1MB"},
		{name: "large file with only to", file: large, query: "?to=10", wantStatus: 400, wantMsg: "from is required"},
		{name: "large file from zero", file: large, query: "?from=0", want: span{0, mb + 1}, wantStatus: 200},
		{name: "large file last piece", file: large, query: "?from=1000&to=1001", want: span{mb, mb + 1}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sandbox.Options{MegabyteBytes: mb, InclusiveTo: tt.inclusive})
			file := tt.file
			if file == nil {
				file = small
			}
			var id string
			if len(file) > mb {
				id = h.uploadChunked(conv, newChunkedUpload(file, mb))
			} else {
				id = h.upload(conv, file)
			}
			if tt.wantStatus != http.StatusOK {
				r := h.send(http.MethodGet, downloadPath(property, conv, id)+tt.query, nil)
				wantError(t, r, tt.wantStatus, tt.wantMsg)
				return
			}
			got := h.download(conv, id, tt.query)
			if want := file[tt.want.from:tt.want.to]; !bytes.Equal(got, want) {
				t.Errorf("got %d bytes, want bytes [%d, %d) (%d bytes)", len(got), tt.want.from, tt.want.to, len(want))
			}
		})
	}
}

func TestDownloadNotFound(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	id := h.upload(conv, pngFile(100))
	tests := []struct{ name, path string }{
		{"unknown attachment", downloadPath(property, conv, "nope")},
		{"other conversation", downloadPath(property, "other", id)},
		{"other property", downloadPath(property+1, conv, id)},
		{"file_info unknown attachment", fileInfoPath(property, conv, "nope")},
		{"file_info other conversation", fileInfoPath(property, "other", id)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.send(http.MethodGet, tt.path, nil), http.StatusNotFound, "not found")
		})
	}
}

// TestRoundTrip uploads in chunks, then reads file_info and downloads in
// pieces of at most 1,000,000 bytes, for each reading of "1MB" and of to.
func TestRoundTrip(t *testing.T) {
	for _, mb := range megabytes {
		for _, inclusive := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/inclusive=%v", mbName(mb), inclusive), func(t *testing.T) {
				h := newHarness(t, sandbox.Options{MegabyteBytes: mb, InclusiveTo: inclusive})
				const conversation = "conversation with / and spaces"
				content := jpegFile(int(2*mb + mb/3))
				u := newChunkedUpload(content, mb)
				u.name, u.fileType = "holiday.jpg", "image/jpeg"
				id := h.uploadChunked(conversation, u)
				h.wantStored(conversation, id, content)

				r := h.send(http.MethodGet, fileInfoPath(property, conversation, id), nil)
				wantOK(t, r)
				var info struct {
					FileType string `json:"file_type"`
					FileName string `json:"file_name"`
					FileSize int64  `json:"file_size"`
				}
				r.data(t, &info)
				if info.FileType != "image/jpeg" || info.FileName != "holiday.jpg" || info.FileSize != int64(len(content)) {
					t.Errorf("file_info %+v, want image/jpeg, holiday.jpg, %d", info, len(content))
				}

				const piece = 1_000_000
				var got []byte
				for from := 0; from < len(content); from += piece {
					to := from + piece // exclusive
					if inclusive {
						to--
					}
					got = append(got, h.download(conversation, id, fmt.Sprintf("?from=%d&to=%d", from, to))...)
				}
				if !bytes.Equal(got, content) {
					t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(content))
				}
			})
		}
	}
}
