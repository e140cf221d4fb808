package main

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// requestJSON is a sandbox.Request in the control API. Fields that do not
// apply to the request's endpoint hold "", 0 or null.
type requestJSON struct {
	Endpoint      string     `json:"endpoint"` // "" when the path matched no endpoint (404)
	Action        string     `json:"action"`
	ChunkNumber   int        `json:"chunk_number"`
	UploadID      string     `json:"upload_id"`
	DecodedBytes  int        `json:"decoded_bytes"`
	FileSize      int64      `json:"file_size"`
	Query         url.Values `json:"query"`
	AttachmentIDs []string   `json:"attachment_ids"`
	Processed     bool       `json:"processed"`
	Status        int        `json:"status"`
	RUID          string     `json:"ruid"`
}

// requestsJSON is the answer of GET /_sandbox/requests.
type requestsJSON struct {
	// Pending counts the requests that reached the sandbox and are not in
	// Requests yet: their answers are still to come.
	Pending  int           `json:"pending"`
	Requests []requestJSON `json:"requests"`
}

// messageJSON is a sandbox.Message in the control API.
type messageJSON struct {
	MessageID     string   `json:"message_id"`
	Content       string   `json:"content"`
	AttachmentIDs []string `json:"attachment_ids"` // [] if none
}

// requests answers GET /_sandbox/requests[?endpoint=NAME...]: the request
// log in arrival order, of the named endpoints only if any are named.
func (c *control) requests(w http.ResponseWriter, r *http.Request) {
	q, err := queryOf(r, map[string]bool{"endpoint": true})
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	var want []sandbox.Endpoint
	for _, name := range q["endpoint"] {
		if !slices.Contains(sandbox.Endpoints(), sandbox.Endpoint(name)) {
			fail(w, http.StatusBadRequest, "endpoint %q is unknown: use one of %s", name, endpointNames())
			return
		}
		want = append(want, sandbox.Endpoint(name))
	}
	out := requestsJSON{Pending: c.sb.Pending(), Requests: []requestJSON{}}
	for _, req := range c.sb.Requests() {
		if len(want) > 0 && !slices.Contains(want, req.Endpoint) {
			continue
		}
		out.Requests = append(out.Requests, requestJSON{
			Endpoint:      string(req.Endpoint),
			Action:        req.Action,
			ChunkNumber:   req.ChunkNumber,
			UploadID:      req.UploadID,
			DecodedBytes:  req.DecodedBytes,
			FileSize:      req.FileSize,
			Query:         req.Query,
			AttachmentIDs: req.AttachmentIDs,
			Processed:     req.Processed,
			Status:        req.Status,
			RUID:          req.RUID,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// messages answers GET /_sandbox/messages?property_id=&conversation_id=:
// the conversation's messages in posting order, what the guest sees.
func (c *control) messages(w http.ResponseWriter, r *http.Request) {
	propertyID, conversationID, err := conversationQuery(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	out := []messageJSON{}
	for _, m := range c.sb.Messages(propertyID, conversationID) {
		ids := m.AttachmentIDs
		if ids == nil {
			ids = []string{}
		}
		out = append(out, messageJSON{MessageID: m.ID, Content: m.Content, AttachmentIDs: ids})
	}
	writeJSON(w, http.StatusOK, map[string][]messageJSON{"messages": out})
}

// attachments answers GET /_sandbox/attachments?property_id=&conversation_id=:
// the ids of the conversation's stored attachments, sorted.
func (c *control) attachments(w http.ResponseWriter, r *http.Request) {
	propertyID, conversationID, err := conversationQuery(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	ids := c.sb.AttachmentIDs(propertyID, conversationID)
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"attachment_ids": ids})
}

// attachment answers GET
// /_sandbox/attachments/{property_id}/{conversation_id}/{attachment_id}:
// the stored file's bytes, with its type as Content-Type and its name in
// Content-Disposition.
func (c *control) attachment(w http.ResponseWriter, r *http.Request) {
	if _, err := queryOf(r, nil); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	propertyID, err := parsePropertyID(r.PathValue("property_id"))
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	conversationID, attachmentID := r.PathValue("conversation_id"), r.PathValue("attachment_id")
	f, ok := c.sb.Attachment(propertyID, conversationID, attachmentID)
	if !ok {
		fail(w, http.StatusNotFound, "no attachment %q in conversation %q of property %d", attachmentID, conversationID, propertyID)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}); d != "" {
		h.Set("Content-Disposition", d)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(f.Content)
}

// conversationQuery reads the query of a request about one conversation:
// property_id and conversation_id, both required, each once.
func conversationQuery(r *http.Request) (propertyID int64, conversationID string, err error) {
	q, err := queryOf(r, map[string]bool{"property_id": false, "conversation_id": false})
	if err != nil {
		return 0, "", err
	}
	switch {
	case !q.Has("property_id"):
		return 0, "", errors.New("property_id is required, with conversation_id")
	case q.Get("conversation_id") == "":
		return 0, "", errors.New("conversation_id is required and must not be empty, with property_id")
	}
	propertyID, err = parsePropertyID(q.Get("property_id"))
	if err != nil {
		return 0, "", err
	}
	return propertyID, q.Get("conversation_id"), nil
}

// endpointNames lists the endpoint names for error messages.
func endpointNames() string {
	names := make([]string, 0, len(sandbox.Endpoints()))
	for _, ep := range sandbox.Endpoints() {
		names = append(names, string(ep))
	}
	return strings.Join(names, ", ")
}
