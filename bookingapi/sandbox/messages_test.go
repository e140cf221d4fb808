package sandbox_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

func TestMessages(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	first := h.upload(conv, pngFile(10))
	second := h.upload(conv, pngFile(11))
	elsewhere := h.upload("other", pngFile(12))
	const content = "Here is your invoice"
	tests := []struct {
		name       string
		edit       func(m map[string]any) // changes the message of a valid post with both attachments
		path       string                 // if set, replaces the conversation's path
		wantStatus int
		wantMsg    string
		want       sandbox.Message // the posted message, ID aside
	}{
		{name: "text and attachments", edit: func(map[string]any) {},
			wantStatus: 200, want: sandbox.Message{Content: content, AttachmentIDs: []string{first, second}}},
		{name: "text only", edit: func(m map[string]any) { delete(m, "attachment_ids") },
			wantStatus: 200, want: sandbox.Message{Content: content}},
		{name: "empty attachment_ids", edit: func(m map[string]any) { m["attachment_ids"] = []string{} },
			wantStatus: 200, want: sandbox.Message{Content: content}},
		{name: "null attachment_ids", edit: func(m map[string]any) { m["attachment_ids"] = nil },
			wantStatus: 200, want: sandbox.Message{Content: content}},
		{name: "attachments in the order sent", edit: func(m map[string]any) { m["attachment_ids"] = []string{second, first} },
			wantStatus: 200, want: sandbox.Message{Content: content, AttachmentIDs: []string{second, first}}},
		{name: "content kept as sent", edit: func(m map[string]any) { m["content"] = "  Hi <b>&</b>\n" },
			wantStatus: 200, want: sandbox.Message{Content: "  Hi <b>&</b>\n", AttachmentIDs: []string{first, second}}},
		{name: "content at the limit", edit: func(m map[string]any) { m["content"] = strings.Repeat("é", 32<<10) },
			wantStatus: 200, want: sandbox.Message{Content: strings.Repeat("é", 32<<10), AttachmentIDs: []string{first, second}}},
		{name: "unknown members ignored", edit: func(m map[string]any) { m["subject"] = "x" },
			wantStatus: 200, want: sandbox.Message{Content: content, AttachmentIDs: []string{first, second}}},
		{name: "attachment_ids capitalized is another member", edit: func(m map[string]any) {
			m["Attachment_ids"] = m["attachment_ids"]
			delete(m, "attachment_ids")
		}, wantStatus: 200, want: sandbox.Message{Content: content}},

		{name: "content missing", edit: func(m map[string]any) { delete(m, "content"); delete(m, "attachment_ids") },
			wantStatus: 400, wantMsg: "message.content is required"},
		{name: "content empty", edit: func(m map[string]any) { m["content"] = ""; delete(m, "attachment_ids") },
			wantStatus: 400, wantMsg: "message.content is required"},
		{name: "content white space", edit: func(m map[string]any) { m["content"] = " \t\n\u00a0"; delete(m, "attachment_ids") },
			wantStatus: 400, wantMsg: "message.content is required"},
		{name: "attachments without content", edit: func(m map[string]any) { delete(m, "content") },
			wantStatus: 400, wantMsg: "You cannot send an attachment without message content"},
		{name: "attachments with null content", edit: func(m map[string]any) { m["content"] = nil },
			wantStatus: 400, wantMsg: "You cannot send an attachment without message content"},
		{name: "attachments with empty content", edit: func(m map[string]any) { m["content"] = "" },
			wantStatus: 400, wantMsg: "You cannot send an attachment without message content"},
		{name: "attachments with white space", edit: func(m map[string]any) { m["content"] = "  " },
			wantStatus: 400, wantMsg: "You cannot send an attachment without message content"},
		{name: "content capitalized", edit: func(m map[string]any) { m["Content"] = content; delete(m, "content") },
			wantStatus: 400, wantMsg: "You cannot send an attachment without message content"},
		{name: "content not a string", edit: func(m map[string]any) { m["content"] = 5 },
			wantStatus: 400, wantMsg: "message.content must be a JSON string, got number"},
		{name: "content over the limit", edit: func(m map[string]any) { m["content"] = strings.Repeat("é", 32<<10) + "!" },
			wantStatus: 400, wantMsg: "message.content is 65537 bytes, longer than the sandbox's limit of 65536 bytes"},

		{name: "attachment_ids a string", edit: func(m map[string]any) { m["attachment_ids"] = first },
			wantStatus: 400, wantMsg: "message.attachment_ids must be a JSON array of strings, got string"},
		{name: "attachment_ids an object", edit: func(m map[string]any) { m["attachment_ids"] = map[string]any{"id": first} },
			wantStatus: 400, wantMsg: "got object"},
		{name: "attachment id a number", edit: func(m map[string]any) { m["attachment_ids"] = []any{first, 7} },
			wantStatus: 400, wantMsg: "message.attachment_ids[1] must be a JSON string, got number"},
		{name: "attachment id null", edit: func(m map[string]any) { m["attachment_ids"] = []any{nil} },
			wantStatus: 400, wantMsg: "message.attachment_ids[0] must be a JSON string, got null"},
		{name: "unknown attachment", edit: func(m map[string]any) { m["attachment_ids"] = []string{first, "nope"} },
			wantStatus: 400, wantMsg: fmt.Sprintf(`message.attachment_ids[1] "nope" is not an attachment of conversation %q of property %d`, conv, property)},
		{name: "empty attachment id", edit: func(m map[string]any) { m["attachment_ids"] = []string{""} },
			wantStatus: 400, wantMsg: `message.attachment_ids[0] "" is not an attachment`},
		{name: "attachment of another conversation", edit: func(m map[string]any) { m["attachment_ids"] = []string{elsewhere} },
			wantStatus: 400, wantMsg: fmt.Sprintf(`%q is not an attachment of conversation %q`, elsewhere, conv)},
		{name: "attachment of another property", path: conversationPath(property+1, conv), edit: func(map[string]any) {},
			wantStatus: 400, wantMsg: fmt.Sprintf(`%q is not an attachment of conversation %q of property %d`, first, conv, property+1)},
		{name: "attachment twice", edit: func(m map[string]any) { m["attachment_ids"] = []string{first, second, first} },
			wantStatus: 400, wantMsg: fmt.Sprintf(`message.attachment_ids[2] %q repeats message.attachment_ids[0]`, first)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := messageBody(content, first, second)
			tt.edit(body["message"].(map[string]any))
			path := tt.path
			if path == "" {
				path = conversationPath(property, conv)
			}
			before := len(h.srv.Messages(property, conv))
			r := h.send(http.MethodPost, path, body)
			posted := h.srv.Messages(property, conv)
			if tt.wantStatus != http.StatusOK {
				wantError(t, r, tt.wantStatus, tt.wantMsg)
				if len(posted) != before || len(h.srv.Messages(property+1, conv)) != 0 {
					t.Errorf("a rejected message was posted: %+v", posted[before:])
				}
				return
			}
			wantOK(t, r)
			var d struct {
				MessageID       string `json:"message_id"`
				OK              string `json:"ok"`
				GuestHasAccount *bool  `json:"guest_has_account"`
			}
			r.data(t, &d)
			if len(d.MessageID) != 36 || d.OK != "true" || d.GuestHasAccount == nil || *d.GuestHasAccount {
				t.Errorf("data %s, want a uuid-like message_id, ok \"true\" and guest_has_account false", r.env.Data)
			}
			want := tt.want
			want.ID = d.MessageID
			if len(posted) != before+1 || !reflect.DeepEqual(posted[before], want) {
				t.Errorf("posted %+v, want one more message, %+v", posted[before:], want)
			}
		})
	}
}

// TestMessagesPosted checks that Messages shows each conversation's
// messages in posting order, and only copies of them.
func TestMessagesPosted(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	photo := h.upload(conv, pngFile(10))
	post := func(conversation string, body map[string]any) string {
		t.Helper()
		r := h.send(http.MethodPost, conversationPath(property, conversation), body)
		wantOK(t, r)
		var d struct {
			MessageID string `json:"message_id"`
		}
		r.data(t, &d)
		return d.MessageID
	}
	want := []sandbox.Message{
		{Content: "Hello"},
		{Content: "Your photo", AttachmentIDs: []string{photo}},
		{Content: "Your photo again", AttachmentIDs: []string{photo}}, // may be sent twice
	}
	for i := range want {
		want[i].ID = post(conv, messageBody(want[i].Content, want[i].AttachmentIDs...))
	}
	other := post("other", messageBody("Elsewhere"))
	got := h.srv.Messages(property, conv)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Messages(%d, %q) =\n%+v\nwant\n%+v", property, conv, got, want)
	}
	if got := h.srv.Messages(property, "other"); len(got) != 1 || got[0].ID != other {
		t.Errorf("Messages of the other conversation %+v, want only %s", got, other)
	}
	if got := h.srv.Messages(property+1, conv); len(got) != 0 {
		t.Errorf("Messages of another property %+v, want none", got)
	}
	got[1].AttachmentIDs[0], got[0].Content = "changed", "changed"
	if again := h.srv.Messages(property, conv); !reflect.DeepEqual(again, want) {
		t.Errorf("Messages() shares its records: %+v", again)
	}
}
