package sandbox

import (
	"slices"
	"strings"
)

// Message is a message posted to a conversation: what the guest sees.
type Message struct {
	ID            string   // message_id, uuid-like
	Content       string   // message.content, as sent
	AttachmentIDs []string // message.attachment_ids, in the order sent; nil if none
}

// Messages returns copies of the messages posted to a conversation, in
// posting order: exactly what the guest would see.
func (s *Server) Messages(propertyID int64, conversationID string) []Message {
	return s.store.conversationMessages(propertyID, conversationID)
}

// messageData is the data of a posted message.
type messageData struct {
	MessageID       string `json:"message_id"`
	OK              any    `json:"ok"`
	GuestHasAccount bool   `json:"guest_has_account"`
}

// serveMessages answers POST .../conversations/{conversation_id}, which
// posts a message with its attachments to the guest.
func (s *Server) serveMessages(c *call) {
	body, readErr := c.readBody()
	m, parseErr := parseMessage(body)
	c.rec.AttachmentIDs = m.AttachmentIDs
	propertyID, ok := c.admit("")
	if !ok {
		return
	}
	if err := firstError(checkBody(c.r, readErr), parseErr); err != nil {
		c.fail(err)
		return
	}
	c.reply(s.postMessage(propertyID, c.r.PathValue("conversation_id"), m))
}

// parseMessage reads a message post's body, as far as it can: the
// returned message is filled in even with an error.
func parseMessage(body []byte) (Message, *apiError) {
	var d decoder
	o := d.object(d.body(body), "message")
	// content's presence is checked with its value, in postMessage.
	m := Message{Content: d.optionalString(o, "content")}
	if ids := d.optionalStrings(o, "attachment_ids"); len(ids) > 0 {
		m.AttachmentIDs = ids
	}
	return m, d.err
}

// postMessage checks m and posts it.
func (s *Server) postMessage(propertyID int64, conversationID string, m Message) (any, *apiError) {
	blank := strings.TrimSpace(m.Content) == ""
	switch {
	case blank && m.AttachmentIDs != nil:
		// Booking's wording, from its managing-conversations page.
		return nil, badRequest("You cannot send an attachment without message content: " +
			"message.content is missing, empty or only white space")
	case blank:
		return nil, badRequest("message.content is required: send text that is not only white space")
	case len(m.Content) > maxContentBytes:
		return nil, badRequest("message.content is %d bytes, longer than the sandbox's limit of %d bytes",
			len(m.Content), maxContentBytes)
	}
	for i, id := range m.AttachmentIDs {
		if j := slices.Index(m.AttachmentIDs[:i], id); j >= 0 {
			return nil, badRequest("message.attachment_ids[%d] %q repeats message.attachment_ids[%d]: list each attachment once",
				i, id, j)
		}
	}
	id, err := s.store.postMessage(propertyID, conversationID, m)
	if err != nil {
		return nil, err
	}
	return messageData{MessageID: id, OK: s.okValue(), GuestHasAccount: false}, nil
}
