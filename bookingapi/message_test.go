package bookingapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// TestPostMessage posts messages to the strict sandbox, with attachments
// and without, and checks what the guest sees and the body Booking got.
func TestPostMessage(t *testing.T) {
	t.Parallel()
	var bodies [][]byte
	env := newSandboxEnv(t, sandbox.Options{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/messaging/properties/1234/conversations/conv-42" {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, b)
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
			next.ServeHTTP(w, r)
		})
	})
	ref := env.seed(t, pngFile(10))
	with, err := env.client.PostMessage(context.Background(), testConv, Message{Content: "Your room", AttachmentIDs: []string{ref.AttachmentID}})
	if err != nil || with.ID == "" || with.RUID == "" {
		t.Fatalf("PostMessage with an attachment = %+v, %v; want an id and a ruid", with, err)
	}
	without, err := env.client.PostMessage(context.Background(), testConv, Message{Content: "Welcome"})
	if err != nil {
		t.Fatalf("PostMessage without attachments = %v", err)
	}
	got := env.sandbox.Messages(testProperty, testConversation)
	if len(got) != 2 || got[0].ID != with.ID || !slices.Equal(got[0].AttachmentIDs, []string{ref.AttachmentID}) ||
		got[1].ID != without.ID || got[1].Content != "Welcome" || len(got[1].AttachmentIDs) != 0 {
		t.Errorf("the guest sees %+v", got)
	}
	var body struct {
		Message map[string]json.RawMessage `json:"message"`
	}
	if len(bodies) != 2 || json.Unmarshal(bodies[1], &body) != nil || body.Message["attachment_ids"] != nil {
		t.Errorf("the post without attachments sent %s, want no attachment_ids", bodies)
	}
}

// TestPostMessageWithoutID answers a post with success but no message_id:
// the message is likely posted, so the error says Booking may have
// processed it, and nothing is sent again.
func TestPostMessageWithoutID(t *testing.T) {
	t.Parallel()
	env := newSandboxEnv(t, sandbox.Options{}, nil)
	env.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Alter: func(d map[string]any) { delete(d, "message_id") }})
	_, err := env.client.PostMessage(context.Background(), testConv, Message{Content: "hi"})
	e := asError(t, "PostMessage answered without a message_id", err)
	if e.Outcome != OutcomeMaybeProcessed || e.Op != OpMessage {
		t.Errorf("PostMessage answered without a message_id = %v (Outcome %v), want maybe processed", err, e.Outcome)
	}
	if n := len(env.requestsTo(sandbox.EndpointMessages)); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
}
