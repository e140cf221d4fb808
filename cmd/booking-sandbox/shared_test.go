package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// Nothing is kept per connection: a token issued on one connection works
// on another, and gateways with clients of their own (separate
// connections) see each other's attachments and messages and the same
// faults.
func TestSharedAcrossConnections(t *testing.T) {
	inst := start(t)

	// Every request of this client opens a connection of its own.
	fresh := newHTTPClient(t, true)
	body := fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, inst.env["BOOKING_CLIENT_ID"], inst.env["BOOKING_CLIENT_SECRET"])
	tok, err := inst.try(fresh, http.MethodPost, tokenPath, body, "")
	if err != nil || tok.status != http.StatusOK {
		t.Fatalf("token exchange: %v %d %s", err, tok.status, tok.body)
	}
	var jwt struct{ JWT string }
	if err := json.Unmarshal(tok.body, &jwt); err != nil {
		t.Fatal(err)
	}
	r, err := inst.try(fresh, http.MethodPost, uploadPath, uploadBody(pngBytes(10)), jwt.JWT)
	if err != nil || r.status != http.StatusOK {
		t.Errorf("upload on another connection than the token's: %v %d %s", err, r.status, r.body)
	}

	// Two gateways, each with its own client and transport.
	a, b := inst.booking(t), inst.booking(t)
	content := pngBytes(1_500_000)
	id := upload(t, a, conv, content)
	ref := bookingapi.AttachmentRef{PropertyID: property, ConversationID: conv, AttachmentID: id}
	info, err := b.FileInfo(context.Background(), ref)
	if err != nil || info.Size != int64(len(content)) {
		t.Fatalf("gateway b's file_info of gateway a's upload: %+v, %v", info, err)
	}
	rd, err := b.NewReader(context.Background(), ref, info.Size, 0, info.Size)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	rd.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("gateway b's download of gateway a's upload: %d bytes, %v; want the %d bytes", len(got), err, len(content))
	}
	posted, err := b.PostMessage(context.Background(), bookingapi.Conversation{PropertyID: property, ConversationID: conv},
		bookingapi.Message{Content: "From b, with a's photo", AttachmentIDs: []string{id}})
	if err != nil {
		t.Fatalf("gateway b posting gateway a's attachment: %v", err)
	}
	var msgs struct{ Messages []messageJSON }
	inst.control(t, http.MethodGet, "/_sandbox/messages?property_id=1234&conversation_id=conv-1", "", http.StatusOK, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].MessageID != posted.ID {
		t.Errorf("messages %+v, want b's post %s", msgs.Messages, posted.ID)
	}

	// A fault fires on the second file_info, whichever gateway sends it.
	inst.inject(t, `{"endpoint": "file_info", "nth": 2, "status": 400}`)
	if _, err := a.FileInfo(context.Background(), ref); err != nil {
		t.Errorf("gateway a's file_info, the first: %v", err)
	}
	if _, err := b.FileInfo(context.Background(), ref); err == nil {
		t.Error("gateway b's file_info, the second, succeeded; want the fault's 400")
	}
}

// Many gateways upload at once into one sandbox, and every upload is
// stored once.
func TestConcurrentGateways(t *testing.T) {
	inst := start(t)
	const gateways, uploads = 4, 3
	var wg sync.WaitGroup
	errs := make(chan error, gateways*uploads)
	for g := range gateways {
		c := inst.booking(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range uploads {
				if _, err := uploadErr(c, fmt.Sprintf("conv-%d", g), pngBytes(1_500_000)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("upload: %v", err)
	}
	for g := range gateways {
		var ids struct {
			AttachmentIDs []string `json:"attachment_ids"`
		}
		inst.control(t, http.MethodGet, fmt.Sprintf("/_sandbox/attachments?property_id=1234&conversation_id=conv-%d", g), "", http.StatusOK, &ids)
		if len(ids.AttachmentIDs) != uploads {
			t.Errorf("conv-%d holds %d attachments, want %d", g, len(ids.AttachmentIDs), uploads)
		}
	}
	if n := len(inst.requests(t, sandbox.EndpointChunks).Requests); n != gateways*uploads*2 {
		t.Errorf("%d chunk requests logged, want %d (2 chunks per upload)", n, gateways*uploads*2)
	}
}
