package sandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// TestConcurrency runs whole clients in parallel on one sandbox while
// faults fire; run it with -race.
func TestConcurrency(t *testing.T) {
	const mb = 1000
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
	h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Nth: 3, Times: 5, Status: 503})
	h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointDownload, Nth: 2, Times: 3, Delay: time.Millisecond})
	const clients = 16
	type stored struct {
		conversation, id string
		content          []byte
	}
	results := make([][]stored, clients)
	t.Run("clients", func(t *testing.T) {
		for g := range clients {
			t.Run(fmt.Sprint(g), func(t *testing.T) {
				t.Parallel()
				h := h.with(t)
				conversation := fmt.Sprintf("conversation-%d", g)
				small := pngFile(100 + g)
				large := pngFile(2*mb + 10*g + 1)
				smallID := h.upload(conversation, small)
				largeID := h.uploadChunked(conversation, newChunkedUpload(large, mb))
				results[g] = []stored{{conversation, smallID, small}, {conversation, largeID, large}}
				if got := h.download(conversation, largeID, "?from=0"); !bytes.Equal(got, large) {
					t.Errorf("download of %s differs", largeID)
				}
				for range 3 {
					r := h.send(http.MethodGet, fileInfoPath(property, conversation, smallID), nil)
					if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
						t.Errorf("file_info status %d", r.status)
					}
					h.srv.Requests()
					h.srv.TokenExchanges()
				}
			})
		}
	})
	for _, rs := range results {
		for _, r := range rs {
			h.wantStored(r.conversation, r.id, r.content)
		}
	}
	var unavailable int
	for _, r := range h.srv.Requests() {
		if r.Status == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if unavailable != 5 {
		t.Errorf("%d requests got 503, want 5 (Times)", unavailable)
	}
}

// TestConcurrentChunks sends the same chunk many times at once: exactly one
// is accepted.
func TestConcurrentChunks(t *testing.T) {
	const mb = 1000
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb})
	content := pngFile(3000)
	u := newChunkedUpload(content, mb)
	uploadID := h.start(conv, u)
	const senders = 8
	statuses := make([]int, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			r, err := h.try(h.client, http.MethodPost, chunksPath(property, conv), u.body(1, uploadID))
			if err == nil {
				statuses[i] = r.status
			}
		})
	}
	wg.Wait()
	var accepted int
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			accepted++
		case http.StatusBadRequest:
		default:
			t.Errorf("status %d, want 200 or 400", s)
		}
	}
	if accepted != 1 {
		t.Errorf("%d copies of chunk 1 accepted, want 1", accepted)
	}
	h.wantStored(conv, h.finishFrom(conv, u, 2, uploadID), content)
}

// TestRequestsArrivalOrder checks that Requests lists requests in arrival
// order and leaves out those still running.
func TestRequestsArrivalOrder(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	h.srv.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointFileInfo, Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url+fileInfoPath(property, conv, "x"), nil)
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Wait until the delayed request has arrived: the upload sent next
	// must come after it.
	time.Sleep(100 * time.Millisecond)
	h.upload(conv, pngFile(10))
	for _, r := range h.srv.Requests() {
		if r.Endpoint == sandbox.EndpointFileInfo {
			t.Errorf("a running request is listed: %+v", r)
		}
	}
	cancel()
	<-done
	waitFor(t, func() bool { return len(h.srv.Requests()) == 3 })
	var order []sandbox.Endpoint
	for _, r := range h.srv.Requests() {
		order = append(order, r.Endpoint)
	}
	want := []sandbox.Endpoint{sandbox.EndpointToken, sandbox.EndpointFileInfo, sandbox.EndpointUpload}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

// TestConcurrentUploadsOfOneFile sends one file from two clients at once
// into a sandbox with room for the file and one more chunk. Whatever the
// interleaving, one upload finishes and the other is told that its next
// chunk does not fit (507), never that its upload is unknown.
func TestConcurrentUploadsOfOneFile(t *testing.T) {
	const mb = 1000
	h := newHarness(t, sandbox.Options{MegabyteBytes: mb, MaxStoredBytes: 3500})
	content := pngFile(2500)
	type result struct {
		uploadID, attachmentID string
		refused                int      // the chunk that got a status other than 200; -1 if none
		refusal                response // its answer
	}
	results := make([]result, 2)
	t.Run("clients", func(t *testing.T) {
		for g := range results {
			t.Run(fmt.Sprint(g), func(t *testing.T) {
				t.Parallel()
				h := h.with(t)
				u := newChunkedUpload(content, mb)
				res := result{refused: -1}
				for i := range u.chunks() {
					r := h.send(http.MethodPost, chunksPath(property, conv), u.body(i, res.uploadID))
					if r.status != http.StatusOK {
						res.refused, res.refusal = i, r
						break
					}
					var d chunkData
					r.data(t, &d)
					if i == 0 {
						res.uploadID = *d.UploadID
					}
					if d.AttachmentID != nil {
						res.attachmentID = *d.AttachmentID
					}
				}
				results[g] = res
			})
		}
	})
	var finished, refused []result
	for _, res := range results {
		if res.refused < 0 {
			finished = append(finished, res)
		} else {
			refused = append(refused, res)
		}
	}
	if len(finished) != 1 || len(refused) != 1 {
		t.Fatalf("%d uploads finished and %d were refused, want 1 and 1: %+v", len(finished), len(refused), results)
	}
	if got := h.download(conv, finished[0].attachmentID, "?from=0"); !bytes.Equal(got, content) {
		t.Errorf("downloaded %d bytes that differ from the %d uploaded", len(got), len(content))
	}
	loser := refused[0]
	if loser.refused != 1 {
		t.Errorf("chunk %d refused, want chunk 1", loser.refused)
	}
	wantError(t, loser.refusal, http.StatusInsufficientStorage, "is full", "try again later")
	// The refused upload is still there, waiting for room.
	r := h.send(http.MethodPost, chunksPath(property, conv), newChunkedUpload(content, mb).body(1, loser.uploadID))
	wantError(t, r, http.StatusInsufficientStorage, "1000 bytes are held by 1 unfinished upload")
}
