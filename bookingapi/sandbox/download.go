package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
)

// downloadData is the data of a successful download.
type downloadData struct {
	OK             any    `json:"ok"`
	FileContent    string `json:"file_content"`
	AttachmentID   string `json:"attachment_id"`
	ConversationID string `json:"conversation_id"`
}

// serveDownload answers GET .../attachments/{attachment_id}, the whole
// attachment or the byte range the from and to query parameters select.
func (s *Server) serveDownload(c *call) {
	query, queryErr := url.ParseQuery(c.r.URL.RawQuery)
	c.rec.Query = query
	propertyID, ok := c.admit("")
	if !ok {
		return
	}
	if queryErr != nil {
		c.fail(badRequest("the query string is malformed: %v", queryErr))
		return
	}
	c.reply(s.download(propertyID, c.r.PathValue("conversation_id"), c.r.PathValue("attachment_id"), query))
}

// download returns the selected bytes of an attachment. Without to, the
// range runs from from to the end; with it, to is inclusive or exclusive
// as Options.InclusiveTo says, and a range past the end is cut at the end.
// The range's length is not capped: Booking's limit is unknown, and the
// client is to ask for at most 1,000,000 bytes.
func (s *Server) download(propertyID int64, conversationID, attachmentID string, query url.Values) (any, *apiError) {
	from, hasFrom, err := rangeParam(query, "from")
	if err != nil {
		return nil, err
	}
	to, hasTo, err := rangeParam(query, "to")
	if err != nil {
		return nil, err
	}
	f, err := s.lookup(propertyID, conversationID, attachmentID)
	if err != nil {
		return nil, err
	}
	size := int64(len(f.Content))
	switch {
	case !hasFrom && size > s.opts.MegabyteBytes:
		// Booking: "If you want to download an attachment larger than
		// 1MB, set the value of from to 0."
		return nil, badRequest("from is required for attachments larger than 1MB (%d bytes); this one is %d bytes",
			s.opts.MegabyteBytes, size)
	case from >= size:
		return nil, badRequest("from %d is not before the end of the %d-byte attachment", from, size)
	}
	end := size
	switch {
	case !hasTo:
	case s.opts.InclusiveTo && to < from:
		return nil, badRequest("to %d is before from %d (to is inclusive)", to, from)
	case s.opts.InclusiveTo:
		end = min(to, size-1) + 1
	case to <= from:
		return nil, badRequest("to %d must be greater than from %d (to is exclusive)", to, from)
	default:
		end = min(to, size)
	}
	return downloadData{
		OK:             s.okValue(),
		FileContent:    base64.StdEncoding.EncodeToString(f.Content[from:end]),
		AttachmentID:   attachmentID,
		ConversationID: conversationID,
	}, nil
}

// rangeParam returns the query parameter name, a non-negative decimal
// integer, and whether it is present.
func rangeParam(query url.Values, name string) (n int64, ok bool, err *apiError) {
	vs, ok := query[name]
	switch {
	case !ok:
		return 0, false, nil
	case len(vs) > 1:
		return 0, false, badRequest("query parameter %s appears %d times", name, len(vs))
	}
	n, perr := strconv.ParseInt(vs[0], 10, 64)
	if perr != nil || !isDigits(vs[0]) {
		return 0, false, badRequest("query parameter %s must be a non-negative decimal integer, got %q", name, vs[0])
	}
	return n, true, nil
}

// lookup returns a stored attachment, or 404.
func (s *Server) lookup(propertyID int64, conversationID, attachmentID string) (File, *apiError) {
	f, ok := s.store.attachment(attachmentKey{propertyID, conversationID, attachmentID})
	if !ok {
		return File{}, errorf(http.StatusNotFound, "attachment %q not found in conversation %q of property %d",
			attachmentID, conversationID, propertyID)
	}
	return f, nil
}
