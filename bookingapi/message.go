package bookingapi

import (
	"context"
	"net/http"
)

// OpMessage is the call that posts a message, as named in Error.Op and to
// an Observer.
const OpMessage = "message"

// Message is a message to post to a guest conversation.
type Message struct {
	// Content is the text the guest reads. Booking requires it, attachments
	// or not.
	Content string
	// AttachmentIDs are the attachments to show with it: ids that uploads
	// to the same conversation returned. May be empty.
	AttachmentIDs []string
}

// PostedMessage is a message Booking has taken.
type PostedMessage struct {
	// ID is Booking's message_id.
	ID string
	// RUID is Booking's ruid of the answer.
	RUID string
}

// messageBody is the body of a message post.
type messageBody struct {
	Message struct {
		Content       string   `json:"content"`
		AttachmentIDs []string `json:"attachment_ids,omitempty"`
	} `json:"message"`
}

// PostMessage posts m to conv, where the guest sees it.
//
// A guest would see a repeat, so the post is sent again only when Booking
// certainly did not process it (not sent, or refused with 429 or 503). Any
// other failure returns an *Error at once; its Outcome tells whether the
// message may have been posted (OutcomeMaybeProcessed: the answer was
// lost, cut off, a 500, 502 or 504, or a success without a message_id).
// If ctx ends after the post was written, the error wraps ctx's error with
// OutcomeMaybeProcessed; before, it is ctx's error itself.
func (c *Client) PostMessage(ctx context.Context, conv Conversation, m Message) (PostedMessage, error) {
	var body messageBody
	body.Message.Content, body.Message.AttachmentIDs = m.Content, m.AttachmentIDs
	var out struct {
		dataStatus
		MessageID string `json:"message_id"`
	}
	ruid, err := c.do(ctx, &request{
		op:     OpMessage,
		method: http.MethodPost,
		path:   conv.path(),
		body:   mustMarshal(body),
		resend: resendUnlessProcessed,
	}, &out)
	if err != nil {
		return PostedMessage{}, err
	}
	if out.MessageID == "" {
		// Booking took the post, as far as its status says: the message is
		// likely there, but it cannot be named.
		return PostedMessage{}, unusableAnswer(OpMessage, http.StatusOK, ruid, "response has no message_id")
	}
	return PostedMessage{ID: out.MessageID, RUID: ruid}, nil
}
