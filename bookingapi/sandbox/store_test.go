package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestMaxStoredBytes(t *testing.T) {
	const mb = 1000
	file := newChunkedUpload(pngFile(2500), mb)
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness, clk *clock)
	}{
		{"single uploads up to the cap", func(t *testing.T, h *harness, _ *clock) {
			h.upload(conv, pngFile(1000))
			h.upload(conv, pngFile(1000))
			r := h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(1000)))
			wantError(t, r, http.StatusInsufficientStorage, "insufficient storage", "MaxStoredBytes of 2500")
			h.upload(conv, pngFile(500)) // exactly at the cap
		}},
		{"unfinished uploads count", func(t *testing.T, h *harness, _ *clock) {
			uploadID := h.start(conv, file)
			h.upload(conv, pngFile(1000))
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(1, uploadID))
			wantError(t, r, http.StatusInsufficientStorage, "1000 more bytes", "2000 in use")
			r = h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(501)))
			wantError(t, r, http.StatusInsufficientStorage, "insufficient storage")
		}},
		{"finishing does not count twice", func(t *testing.T, h *harness, _ *clock) {
			h.wantStored(conv, h.uploadChunked(conv, file), file.content)
			r := h.send(http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(8)))
			wantError(t, r, http.StatusInsufficientStorage, "insufficient storage")
		}},
		{"a rejected start stores nothing", func(t *testing.T, h *harness, _ *clock) {
			h.upload(conv, pngFile(1000))
			h.upload(conv, pngFile(1000))
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(0, ""))
			wantError(t, r, http.StatusInsufficientStorage, "insufficient storage")
			h.upload(conv, pngFile(500))
		}},
		{"expired uploads are evicted", func(t *testing.T, h *harness, clk *clock) {
			uploadID := h.start(conv, file)
			h.sendChunk(conv, file, 1, uploadID)
			clk.advance(time.Hour)
			h.upload(conv, pngFile(1000))
			h.upload(conv, pngFile(1000))
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(2, uploadID))
			wantError(t, r, http.StatusBadRequest, "is unknown")
		}},
		{"superseded uploads are evicted", func(t *testing.T, h *harness, _ *clock) {
			first := h.start(conv, file)
			second := h.start(conv, file) // the client started over
			id := h.finishFrom(conv, file, 1, second)
			h.wantStored(conv, id, file.content)
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(1, first))
			wantError(t, r, http.StatusBadRequest, "is unknown")
		}},
		{"live uploads are kept", func(t *testing.T, h *harness, _ *clock) {
			other := newChunkedUpload(pngFile(2400), mb)
			first := h.start(conv, file)
			second := h.start(conv, other) // another file: not superseded
			r := h.send(http.MethodPost, chunksPath(property, conv), other.body(1, second))
			wantError(t, r, http.StatusInsufficientStorage, "insufficient storage")
			// The first upload is still there: a wrong chunk number is
			// reported as such, not as an unknown upload.
			body := file.body(1, first)
			chunk(body)["chunk_number"] = 2
			r = h.send(http.MethodPost, chunksPath(property, conv), body)
			wantError(t, r, http.StatusBadRequest, "out of order")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			h := newHarness(t, sandbox.Options{MegabyteBytes: mb, MaxStoredBytes: 2500, Now: clk.Now, TokenTTL: 24 * time.Hour})
			tt.run(t, h, clk)
		})
	}
}
