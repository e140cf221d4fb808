package service_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service/idempotency"
)

// sendReq is a SendMessageRequest to the test conversation.
func sendReq(content string, attachmentIDs ...string) *attachmentsv1.SendMessageRequest {
	return &attachmentsv1.SendMessageRequest{PropertyId: testProperty, ConversationId: testConversation,
		Content: content, AttachmentIds: attachmentIDs}
}

// messages returns what the guest sees in the test conversation.
func (e *env) messages() []sandbox.Message {
	return e.sandbox.Messages(testProperty, testConversation)
}

// errorInfo returns err's ErrorInfo detail, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// checkMessages fails the test unless the guest sees exactly want.
func checkMessages(t *testing.T, e *env, want ...sandbox.Message) {
	t.Helper()
	got := e.messages()
	if len(got) != len(want) {
		t.Fatalf("the guest sees %d messages %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].Content != want[i].Content || !slices.Equal(got[i].AttachmentIDs, want[i].AttachmentIDs) ||
			want[i].ID != "" && got[i].ID != want[i].ID {
			t.Errorf("message %d is %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.mustUpload(t, metadata("a.png", 100), image("image/png", 100, 1)).GetAttachmentId()
	b := e.mustUpload(t, metadata("b.jpg", 200), image("image/jpeg", 200, 2)).GetAttachmentId()

	with, err := e.client.SendMessage(context.Background(), sendReq("Your room, as promised", a, b))
	if err != nil || with.GetMessageId() == "" {
		t.Fatalf("SendMessage with two attachments = %v, %v; want a message_id", with, err)
	}
	without, err := e.client.SendMessage(context.Background(), sendReq("Check-in is from 3 pm.\nSee you!"))
	if err != nil || without.GetMessageId() == "" || without.GetMessageId() == with.GetMessageId() {
		t.Fatalf("SendMessage without attachments = %v, %v; want a new message_id", without, err)
	}
	checkMessages(t, e,
		sandbox.Message{ID: with.GetMessageId(), Content: "Your room, as promised", AttachmentIDs: []string{a, b}},
		sandbox.Message{ID: without.GetMessageId(), Content: "Check-in is from 3 pm.\nSee you!"})
	if len(e.requests(sandbox.EndpointMessages)) != 2 {
		t.Errorf("the sandbox saw %d posts, want 2", len(e.requests(sandbox.EndpointMessages)))
	}

	// An attachment of another conversation is unknown in this one: Booking
	// refuses, and its reason and ruid reach the caller.
	meta := metadata("c.png", 100)
	meta.ConversationId = "conv-other"
	other := e.mustUpload(t, meta, image("image/png", 100, 3)).GetAttachmentId()
	_, err = e.client.SendMessage(context.Background(), sendReq("wrong photo", other))
	wantCode(t, err, codes.InvalidArgument)
	if info := errorInfo(err); info.GetReason() != "BOOKING_MESSAGE_FAILED" || ruidOf(err) == "" || !strings.Contains(err.Error(), other) {
		t.Errorf("SendMessage with another conversation's attachment = %v (ErrorInfo %v), want Booking's refusal naming it, with a ruid", err, info)
	}
	if n := len(e.messages()); n != 2 {
		t.Errorf("the guest sees %d messages, want 2", n)
	}
}

func TestUploadWithMessage(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1000, 2_500_000} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandbox.Options{})
			content := image("image/jpeg", size, 3)
			meta := metadata("room.jpg", size)
			meta.MessageContent = "Here is a photo of your room."
			resp := e.mustUpload(t, meta, content)
			if resp.GetMessageId() == "" || resp.GetAttachmentId() == "" {
				t.Fatalf("upload with message_content = %v, want an attachment_id and a message_id", resp)
			}
			e.readBack(t, resp.GetAttachmentId(), content)
			checkMessages(t, e, sandbox.Message{ID: resp.GetMessageId(), Content: meta.MessageContent,
				AttachmentIDs: []string{resp.GetAttachmentId()}})
		})
	}
}

func TestBadMessagesReachBookingWithNothing(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 4097) // 8,194 bytes
	ids := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("att-%d", i))
		}
		return out
	}
	tests := []struct {
		name string
		req  *attachmentsv1.SendMessageRequest
		want string
	}{
		{"no property", &attachmentsv1.SendMessageRequest{ConversationId: testConversation, Content: "hi"}, "property_id"},
		{"bad conversation", &attachmentsv1.SendMessageRequest{PropertyId: testProperty, ConversationId: "a/b", Content: "hi"}, "conversation_id"},
		{"no content", sendReq(""), "content is required"},
		{"no content but an attachment", sendReq("", "att-1"), "content is required"},
		{"only white space", sendReq(" \n\t "), "white space"},
		{"content too long", sendReq(long), "over the limit of 8192"},
		{"a control character", sendReq("hi\x07"), "control characters"},
		{"too many attachments", sendReq("hi", ids(11)...), "at most 10"},
		{"an attachment twice", sendReq("hi", "att-1", "att-2", "att-1"), "twice"},
		{"a bad attachment id", sendReq("hi", "../x"), "attachment_ids"},
		{"an empty attachment id", sendReq("hi", ""), "attachment_ids"},
		{"request_id too long", withRequestID(sendReq("hi"), strings.Repeat("r", 65)), "request_id is longer than 64"},
		{"request_id with a space", withRequestID(sendReq("hi"), "r 1"), "request_id may hold only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandbox.Options{})
			_, err := e.client.SendMessage(context.Background(), tt.req)
			wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SendMessage with %s = %v, want it to say %q", tt.name, err, tt.want)
			}
			if n := len(e.sandbox.Requests()); n != 0 {
				t.Errorf("SendMessage with %s sent %d requests to Booking, want none", tt.name, n)
			}
		})
	}
	uploads := []struct {
		name string
		edit func(*attachmentsv1.UploadMetadata)
		want string
	}{
		{"message_content only white space", func(m *attachmentsv1.UploadMetadata) { m.MessageContent = "   " }, "message_content"},
		{"message_content too long", func(m *attachmentsv1.UploadMetadata) { m.MessageContent = long }, "message_content is 8194 bytes"},
		{"bad request_id", func(m *attachmentsv1.UploadMetadata) { m.RequestId = "#1" }, "request_id"},
	}
	for _, tt := range uploads {
		t.Run("upload with "+tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandbox.Options{})
			meta := metadata("a.png", 100)
			tt.edit(meta)
			_, err := e.upload(context.Background(), meta, image("image/png", 100, 1), evenSplit(100))
			wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("upload with %s = %v, want it to say %q", tt.name, err, tt.want)
			}
			if n := len(e.sandbox.Requests()); n != 0 {
				t.Errorf("upload with %s sent %d requests to Booking, want none", tt.name, n)
			}
		})
	}
}

func withRequestID(req *attachmentsv1.SendMessageRequest, id string) *attachmentsv1.SendMessageRequest {
	req.RequestId = id
	return req
}

// TestPostFailsAfterUpload makes the post that follows an upload fail: the
// call fails with the post's status, and ErrorInfo names the committed
// attachment, which SendMessage then delivers without a second upload.
func TestPostFailsAfterUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      sandbox.Fault
		want       codes.Code
		wantReason string
		wantPosted int // messages the guest sees after the failed call
	}{
		{"403", sandbox.Fault{Status: 403}, codes.PermissionDenied, "BOOKING_MESSAGE_FAILED", 0},
		{"400", sandbox.Fault{Status: 400}, codes.InvalidArgument, "BOOKING_MESSAGE_FAILED", 0},
		{"503 every time", sandbox.Fault{Status: 503, Times: 4}, codes.Unavailable, "BOOKING_MESSAGE_FAILED", 0}, // the gateway's 4 attempts
		{"answer lost after the post", sandbox.Fault{Drop: true, Processed: true}, codes.Unavailable, "BOOKING_OUTCOME_UNKNOWN", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandbox.Options{})
			fault := tt.fault
			fault.Endpoint = sandbox.EndpointMessages
			e.sandbox.InjectFault(fault)
			meta := metadata("a.png", 1000)
			meta.MessageContent = "Your invoice"
			_, err := e.upload(context.Background(), meta, image("image/png", 1000, 4), evenSplit(1000))
			wantCode(t, err, tt.want)
			info := errorInfo(err)
			stored := e.sandbox.AttachmentIDs(testProperty, testConversation)
			if info == nil || len(stored) != 1 || info.GetMetadata()["attachment_id"] != stored[0] || info.GetReason() != tt.wantReason {
				t.Fatalf("upload whose post fails with %s = %v (ErrorInfo %v), want reason %s and attachment_id %v", tt.name, err, info, tt.wantReason, stored)
			}
			if !strings.Contains(err.Error(), stored[0]) {
				t.Errorf("the message %q does not name the attachment", err)
			}
			if n := len(e.messages()); n != tt.wantPosted {
				t.Fatalf("the guest sees %d messages after the failed call, want %d", n, tt.wantPosted)
			}
			if tt.wantPosted > 0 {
				return // posting again would show it twice
			}
			resp, err := e.client.SendMessage(context.Background(), sendReq("Your invoice", stored[0]))
			if err != nil {
				t.Fatalf("SendMessage of the committed attachment = %v", err)
			}
			checkMessages(t, e, sandbox.Message{ID: resp.GetMessageId(), Content: "Your invoice", AttachmentIDs: stored})
			if n := len(e.sandbox.AttachmentIDs(testProperty, testConversation)); n != 1 {
				t.Errorf("Booking holds %d attachments, want the one uploaded once", n)
			}
		})
	}
}

// TestMessagePostsAreNeverSentTwice gives the post every failure after
// which Booking may have posted it: the call fails with UNAVAILABLE and
// BOOKING_OUTCOME_UNKNOWN after one post, and a repeat with the same
// request_id gets the same answer without a post; failures after which
// Booking certainly did not post are retried and post once.
func TestMessagePostsAreNeverSentTwice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     sandbox.Fault
		deadline  time.Duration // the caller's, 0: none
		wantPosts int           // requests that reach the endpoint
		unknown   bool
	}{
		{"answer lost after the post", sandbox.Fault{Drop: true, Processed: true}, 0, 1, true},
		{"500 after the post", sandbox.Fault{Status: 500, Processed: true}, 0, 1, true},
		{"502 from a proxy", sandbox.Fault{Status: 502, HTML: true}, 0, 1, true},
		{"answer cut off", sandbox.Fault{CutAfter: 20}, 0, 1, true},
		{"no answer in time", sandbox.Fault{Hang: true, Processed: true}, 0, 1, true},
		{"caller's deadline passes during the post", sandbox.Fault{Delay: 2 * time.Second, Processed: true}, 500 * time.Millisecond, 1, true},
		{"no message_id in the answer", sandbox.Fault{Alter: func(d map[string]any) { delete(d, "message_id") }}, 0, 1, true},
		{"503 once", sandbox.Fault{Status: 503}, 0, 2, false},
		{"429 once", sandbox.Fault{Status: 429}, 0, 2, false},
		// The gateway cannot tell this drop from one after the post.
		{"connection dropped before Booking processed it", sandbox.Fault{Drop: true}, 0, 1, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, sandbox.Options{}, envConfig{booking: func(c *bookingapi.Config) {
				c.ResponseTimeout = time.Second
			}})
			e.mustUpload(t, metadata("warm.png", 100), image("image/png", 100, 1)) // the token
			fault := tt.fault
			fault.Endpoint = sandbox.EndpointMessages
			e.sandbox.InjectFault(fault)
			req := withRequestID(sendReq("See you tomorrow"), fmt.Sprintf("never-twice-%d", i))
			resp, err := e.client.SendMessage(withDeadline(t, tt.deadline), req)
			waitFor(t, "the sandbox to finish", func() bool { return e.sandbox.Pending() == 0 })
			posts := len(e.requests(sandbox.EndpointMessages))
			if posts != tt.wantPosts {
				t.Errorf("SendMessage with %s sent %d posts, want %d", tt.name, posts, tt.wantPosts)
			}
			if !tt.unknown {
				if err != nil {
					t.Fatalf("SendMessage with %s = %v, want success after a retry", tt.name, err)
				}
				checkMessages(t, e, sandbox.Message{ID: resp.GetMessageId(), Content: "See you tomorrow"})
				return
			}
			if tt.deadline > 0 {
				wantCode(t, err, codes.DeadlineExceeded)
			} else {
				wantCode(t, err, codes.Unavailable)
				if info := errorInfo(err); info.GetReason() != "BOOKING_OUTCOME_UNKNOWN" || !strings.Contains(err.Error(), "may or may not have been posted") {
					t.Errorf("SendMessage with %s = %v (ErrorInfo %v), want BOOKING_OUTCOME_UNKNOWN saying it may or may not have been posted", tt.name, err, info)
				}
			}
			waitFor(t, "the post to end", func() bool { return len(e.requests(sandbox.EndpointMessages)) == tt.wantPosts })
			again, err := e.client.SendMessage(context.Background(), req)
			wantCode(t, err, codes.Unavailable)
			if info := errorInfo(err); info.GetReason() != "BOOKING_OUTCOME_UNKNOWN" || again != nil {
				t.Errorf("the repeat with the same request_id = %v, %v (ErrorInfo %v), want BOOKING_OUTCOME_UNKNOWN again", again, err, info)
			}
			if n := len(e.requests(sandbox.EndpointMessages)); n != tt.wantPosts {
				t.Errorf("the repeat sent a post: %d in all, want %d", n, tt.wantPosts)
			}
		})
	}
}

// TestConcurrentRepeatsPostOnce sends 20 calls with one request_id at once,
// while Booking is slow: one post reaches Booking, and all 20 get its
// message_id.
func TestConcurrentRepeatsPostOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	a := e.mustUpload(t, metadata("a.png", 100), image("image/png", 100, 1)).GetAttachmentId()
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Delay: 300 * time.Millisecond})
	req := withRequestID(sendReq("Welcome!", a), "0b6c3f4e-5a2d-4e7b-9c1f-6d8e2a4b7c90")
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			resp, err := e.client.SendMessage(context.Background(), req)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			ids[i] = resp.GetMessageId()
		})
	}
	wg.Wait()
	checkMessages(t, e, sandbox.Message{Content: "Welcome!", AttachmentIDs: []string{a}})
	for i, id := range ids {
		if id != e.messages()[0].ID {
			t.Errorf("call %d got message_id %q, want %q", i, id, e.messages()[0].ID)
		}
	}
	if n := len(e.requests(sandbox.EndpointMessages)); n != 1 {
		t.Errorf("20 calls with one request_id sent %d posts, want 1", n)
	}

	t.Run("uploads", func(t *testing.T) {
		meta := metadata("room.jpg", 2_500_000)
		meta.MessageContent, meta.RequestId = "Your room", "upload-1"
		content := image("image/jpeg", 2_500_000, 9)
		var wg sync.WaitGroup
		resps := make([]*attachmentsv1.UploadAttachmentResponse, 5)
		for i := range resps {
			wg.Go(func() {
				resp, err := e.upload(context.Background(), meta, content, evenSplit(500_000))
				if err != nil {
					t.Errorf("upload %d: %v", i, err)
				}
				resps[i] = resp
			})
		}
		wg.Wait()
		if n := len(e.sandbox.AttachmentIDs(testProperty, testConversation)); n != 2 {
			t.Errorf("Booking holds %d attachments, want the first and one uploaded once", n)
		}
		for i, r := range resps {
			if r.GetMessageId() == "" || r.GetMessageId() != resps[0].GetMessageId() || r.GetAttachmentId() != resps[0].GetAttachmentId() {
				t.Errorf("upload %d = %v, want the same answer as upload 0 (%v)", i, r, resps[0])
			}
		}
		if n := len(e.messages()); n != 2 {
			t.Errorf("the guest sees %d messages, want 2", n)
		}
	})
}

// TestReusedRequestID refuses a request_id used by another request: other
// content, other metadata, other bytes, another method.
func TestReusedRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	if _, err := e.client.SendMessage(context.Background(), withRequestID(sendReq("first"), "id-1")); err != nil {
		t.Fatal(err)
	}
	meta := metadata("a.png", 1000)
	meta.RequestId = "id-2"
	content := image("image/png", 1000, 5)
	if _, err := e.upload(context.Background(), meta, content, evenSplit(1000)); err != nil {
		t.Fatal(err)
	}
	before := len(e.sandbox.Requests())

	otherName := metadata("b.png", 1000)
	otherName.RequestId = "id-2"
	otherBytes := image("image/png", 1000, 6)
	tests := []struct {
		name string
		call func() error
	}{
		{"other content", func() error {
			_, err := e.client.SendMessage(context.Background(), withRequestID(sendReq("second"), "id-1"))
			return err
		}},
		{"other attachments", func() error {
			_, err := e.client.SendMessage(context.Background(), withRequestID(sendReq("first", "x1"), "id-1"))
			return err
		}},
		{"other metadata", func() error {
			_, err := e.upload(context.Background(), otherName, content, evenSplit(1000))
			return err
		}},
		{"other bytes", func() error {
			_, err := e.upload(context.Background(), meta, otherBytes, evenSplit(1000))
			return err
		}},
		{"an upload's id for a message", func() error {
			_, err := e.client.SendMessage(context.Background(), withRequestID(sendReq("first"), "id-2"))
			return err
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		wantCode(t, err, codes.InvalidArgument)
		if !strings.Contains(err.Error(), "another request") {
			t.Errorf("a repeat with %s = %v, want it to say the id belongs to another request", tt.name, err)
		}
	}
	if n := len(e.sandbox.Requests()) - before; n != 0 {
		t.Errorf("the refused repeats sent %d requests to Booking, want none", n)
	}
	// The same request again gets the first answer.
	again, err := e.upload(context.Background(), meta, content, evenSplit(300))
	if err != nil || again.GetAttachmentId() != e.sandbox.AttachmentIDs(testProperty, testConversation)[0] {
		t.Errorf("the same upload again = %v, %v; want the first answer", again, err)
	}
	if n := len(e.sandbox.Requests()) - before; n != 0 {
		t.Errorf("the repeat sent %d requests to Booking, want none", n)
	}
}

// TestFailedCallFreesRequestID checks that a call that certainly failed may
// be repeated with its request_id, and then runs.
func TestFailedCallFreesRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Status: 403})
	req := withRequestID(sendReq("hello"), "retry-me")
	_, err := e.client.SendMessage(context.Background(), req)
	wantCode(t, err, codes.PermissionDenied)
	resp, err := e.client.SendMessage(context.Background(), req)
	if err != nil {
		t.Fatalf("the repeat of a call that failed with 403 = %v, want it to run and succeed", err)
	}
	checkMessages(t, e, sandbox.Message{ID: resp.GetMessageId(), Content: "hello"})
}

// clock is a settable time for stores.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRequestIDsExpire(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	e := newEnvWith(t, sandbox.Options{}, envConfig{records: idempotency.NewMemory(idempotency.MemoryOptions{TTL: 24 * time.Hour, Now: c.Now})})
	req := withRequestID(sendReq("first"), "daily")
	if _, err := e.client.SendMessage(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	c.advance(23*time.Hour + 59*time.Minute)
	if _, err := e.client.SendMessage(context.Background(), req); err != nil || len(e.messages()) != 1 {
		t.Fatalf("a repeat within 24h = %v with %d messages, want the first answer and 1 message", err, len(e.messages()))
	}
	c.advance(2 * time.Minute)
	other := withRequestID(sendReq("second"), "daily")
	if _, err := e.client.SendMessage(context.Background(), other); err != nil {
		t.Fatalf("another request with the id after 24h = %v, want it to run", err)
	}
	checkMessages(t, e, sandbox.Message{Content: "first"}, sandbox.Message{Content: "second"})
}

// TestRepeatWaitIsBounded keeps the first call running longer than a
// repeat may wait: the repeat gets ABORTED, and nothing is posted twice.
func TestRepeatWaitIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, sandbox.Options{}, envConfig{repeatWait: 200 * time.Millisecond})
	e.mustUpload(t, metadata("warm.png", 100), image("image/png", 100, 1))
	e.sandbox.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Delay: 2 * time.Second})
	req := withRequestID(sendReq("slow"), "slow-1")
	first := make(chan error, 1)
	go func() {
		_, err := e.client.SendMessage(context.Background(), req)
		first <- err
	}()
	waitFor(t, "the first post to reach Booking", func() bool { return e.sandbox.Pending() == 1 })
	_, err := e.client.SendMessage(context.Background(), req)
	wantCode(t, err, codes.Aborted)
	if err := <-first; err != nil {
		t.Fatalf("the first call = %v", err)
	}
	if n := len(e.requests(sandbox.EndpointMessages)); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
}
