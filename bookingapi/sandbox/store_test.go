package sandbox_test

import (
	"bytes"
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
			wantError(t, r, http.StatusInsufficientStorage, "memory (MaxStoredBytes, 2500 bytes) is full",
				"2000 by 2 attachments", "needs 1000 more", "try again later")
			h.upload(conv, pngFile(500)) // exactly at the cap
		}},
		{"unfinished uploads count", func(t *testing.T, h *harness, _ *clock) {
			uploadID := h.start(conv, file)
			h.upload(conv, pngFile(1000))
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(1, uploadID))
			wantError(t, r, http.StatusInsufficientStorage, "1000 bytes are held by 1 unfinished upload and 1000 by 1 attachment")
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
		{"superseded uploads idle for a minute are evicted", func(t *testing.T, h *harness, clk *clock) {
			first := h.start(conv, file)
			clk.advance(30 * time.Minute)
			h.sendChunk(conv, file, 1, first)
			// A start of the same file supersedes the first upload, but a
			// chunk came 59 seconds ago: it may still be in flight.
			clk.advance(time.Minute - time.Second)
			r := h.send(http.MethodPost, chunksPath(property, conv), file.body(0, ""))
			wantError(t, r, http.StatusInsufficientStorage, "2000 bytes are held by 1 unfinished upload")
			// A minute after its last chunk it is given up.
			clk.advance(time.Second)
			second := h.start(conv, file)
			h.wantStored(conv, h.finishFrom(conv, file, 1, second), file.content)
			r = h.send(http.MethodPost, chunksPath(property, conv), file.body(2, first))
			wantError(t, r, http.StatusBadRequest, "is unknown")
		}},
		{"live uploads are kept however idle", func(t *testing.T, h *harness, clk *clock) {
			other := newChunkedUpload(pngFile(2400), mb)
			first := h.start(conv, file)
			clk.advance(time.Hour - time.Second)
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

// TestMaxStoredBytesInFlight sends two uploads of the same file, as two
// clients (or one that started over while the first was still going)
// might: neither is evicted for the other, and the one that does not fit
// is told to try again later.
func TestMaxStoredBytesInFlight(t *testing.T) {
	const mb = 1000
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb, MaxStoredBytes: 3500})
	content := pngFile(2500)
	u := newChunkedUpload(content, mb)
	first := h.start(conv, u)
	second := h.start(conv, u) // supersedes the first
	h.sendChunk(conv, u, 1, first)
	for range 2 {
		r := h.send(http.MethodPost, chunksPath(property, conv), u.body(1, second))
		wantError(t, r, http.StatusInsufficientStorage, "is full", "3000 bytes are held by 2 unfinished uploads",
			"needs 1000 more", "try again later")
	}
	id := h.finishFrom(conv, u, 2, first)
	if got := h.download(conv, id, "?from=0"); !bytes.Equal(got, content) {
		t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(content))
	}
	// The second upload is still there, waiting for room.
	r := h.send(http.MethodPost, chunksPath(property, conv), u.body(1, second))
	wantError(t, r, http.StatusInsufficientStorage, "1000 bytes are held by 1 unfinished upload and 2500 by 1 attachment")
}
