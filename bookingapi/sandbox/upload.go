package sandbox

// uploadRequest is the body of a single upload.
type uploadRequest struct {
	fileName, fileType string
	fileSize           int64
	content            []byte // file_content, decoded
}

// uploadData is the data of a successful single upload.
type uploadData struct {
	OK           any    `json:"ok"`
	AttachmentID string `json:"attachment_id"`
}

// serveUpload answers POST .../attachments, the single upload of a file of
// at most 1MB.
func (s *Server) serveUpload(c *call) {
	body, readErr := c.readBody()
	req, parseErr := parseUpload(body)
	c.rec.FileSize = req.fileSize
	c.rec.DecodedBytes = len(req.content)
	propertyID, ok := c.admit("")
	if !ok {
		return
	}
	if err := firstError(checkBody(c.r, readErr), parseErr); err != nil {
		c.fail(err)
		return
	}
	c.reply(s.upload(propertyID, c.r.PathValue("conversation_id"), req))
}

// parseUpload reads a single upload's body, as far as it can: the
// returned request is filled in even with an error.
func parseUpload(body []byte) (uploadRequest, *apiError) {
	var d decoder
	a := d.object(d.body(body), "attachment")
	var req uploadRequest
	req.fileName = d.string(a, "file_name")
	req.fileType = d.string(a, "file_type")
	req.fileSize, _ = d.integer(a, "file_size")
	req.content = d.base64(a, "file_content")
	return req, d.err
}

// upload checks req and stores it as a new attachment.
func (s *Server) upload(propertyID int64, conversationID string, req uploadRequest) (any, *apiError) {
	if err := checkFile(req.fileName, req.fileType); err != nil {
		return nil, err
	}
	n := int64(len(req.content))
	mb := s.opts.MegabyteBytes
	switch {
	case n == 0:
		return nil, badRequest("attachment.file_content is empty")
	case n != req.fileSize:
		return nil, badRequest("attachment.file_size is %d but file_content decodes to %d bytes", req.fileSize, n)
	case n > mb:
		return nil, badRequest("attachment is %d bytes, over this endpoint's limit of 1MB (%d bytes): "+
			"upload larger files with attachment_chunks", n, mb)
	}
	if err := checkSignature("attachment.file_content", req.fileType, req.content); err != nil {
		return nil, err
	}
	id, err := s.store.addAttachment(propertyID, conversationID, File{
		Name:    req.fileName,
		Type:    req.fileType,
		Content: req.content,
	})
	if err != nil {
		return nil, err
	}
	return uploadData{OK: s.okValue(), AttachmentID: id}, nil
}
