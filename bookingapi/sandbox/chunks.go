package sandbox

// The chunked upload's actions.
const (
	actionStart  = "start"
	actionResume = "resume"
	actionFinish = "finish"
)

// chunkRequest is the body of a chunked upload request.
type chunkRequest struct {
	action, uploadID   string
	fileName, fileType string
	fileSize           int64
	chunkNumber        int64 // -1 if missing or not a number
	chunkSize          int64
	content            []byte // chunk_content, decoded
}

// chunkData is the data of a successful chunk: upload_id is set only by
// start, attachment_id only by finish.
type chunkData struct {
	OK           any     `json:"ok"`
	UploadID     *string `json:"upload_id"`
	AttachmentID *string `json:"attachment_id"`
}

// serveChunks answers POST .../attachment_chunks, one chunk of an upload
// of more than 1MB.
func (s *Server) serveChunks(c *call) {
	body, readErr := c.readBody()
	req, parseErr := parseChunk(body)
	c.rec.Action = req.action
	c.rec.UploadID = req.uploadID
	c.rec.ChunkNumber = int(req.chunkNumber)
	c.rec.FileSize = req.fileSize
	c.rec.DecodedBytes = len(req.content)
	propertyID, ok := c.admit(req.action)
	if !ok {
		return
	}
	if err := firstError(checkBody(c.r, readErr), parseErr); err != nil {
		c.fail(err)
		return
	}
	c.reply(s.chunk(propertyID, c.r.PathValue("conversation_id"), req))
}

// parseChunk reads a chunk request's body, as far as it can: the returned
// request is filled in even with an error.
func parseChunk(body []byte) (chunkRequest, *apiError) {
	var d decoder
	a := d.object(d.body(body), "attachment")
	req := chunkRequest{chunkNumber: -1}
	req.action = d.string(a, "action")
	switch req.action {
	case actionStart, actionResume, actionFinish:
	default:
		if a.value("action") != nil {
			d.fail(badRequest(`attachment.action must be "start", "resume" or "finish", got %q`, req.action))
		}
	}
	req.uploadID = d.optionalString(a, "upload_id")
	req.fileName = d.string(a, "file_name")
	req.fileType = d.string(a, "file_type")
	req.fileSize, _ = d.integer(a, "file_size")
	chunk := d.object(a, "chunk")
	if n, ok := d.count(chunk, "chunk_number"); ok {
		req.chunkNumber = n
	}
	req.chunkSize, _ = d.count(chunk, "chunk_size")
	req.content = d.base64(chunk, "chunk_content")
	return req, d.err
}

// chunk checks req and applies it.
func (s *Server) chunk(propertyID int64, conversationID string, req chunkRequest) (any, *apiError) {
	if req.action == actionStart {
		return s.startUpload(propertyID, conversationID, req)
	}
	return s.continueUpload(propertyID, conversationID, req)
}

// startUpload checks a start and stores its upload.
func (s *Server) startUpload(propertyID int64, conversationID string, req chunkRequest) (any, *apiError) {
	mb := s.opts.MegabyteBytes
	switch {
	case req.uploadID != "":
		return nil, badRequest("attachment.upload_id must be absent with action start, got %q", req.uploadID)
	case req.chunkNumber != 0:
		return nil, badRequest("attachment.chunk.chunk_number must be 0 with action start, got %d", req.chunkNumber)
	}
	if err := checkFile(req.fileName, req.fileType); err != nil {
		return nil, err
	}
	switch {
	case req.fileSize <= mb:
		return nil, badRequest("attachment.file_size %d is not more than 1MB (%d bytes): "+
			"upload files up to 1MB with the attachments endpoint", req.fileSize, mb)
	case req.fileSize > 10*mb:
		return nil, badRequest("attachment.file_size %d is more than 10MB (%d bytes), the largest attachment Booking accepts",
			req.fileSize, 10*mb)
	}
	// A chunk is at most 1MB and file_size more, so it cannot overrun the
	// file or complete it.
	if err := s.checkChunk(req); err != nil {
		return nil, err
	}
	if err := checkSignature("attachment.chunk.chunk_content", req.fileType, req.content); err != nil {
		return nil, err
	}
	id, err := s.store.startUpload(propertyID, conversationID, &upload{
		name:     req.fileName,
		fileType: req.fileType,
		size:     req.fileSize,
		received: int64(len(req.content)),
		next:     1,
		chunks:   [][]byte{req.content},
	})
	if err != nil {
		return nil, err
	}
	return chunkData{OK: s.okValue(), UploadID: &id}, nil
}

// continueUpload checks a resume or finish and adds its chunk to the
// upload.
func (s *Server) continueUpload(propertyID int64, conversationID string, req chunkRequest) (any, *apiError) {
	if req.uploadID == "" {
		return nil, badRequest("attachment.upload_id is required with action %s: send the upload_id that start returned", req.action)
	}
	if err := s.checkChunk(req); err != nil {
		return nil, err
	}
	finish := req.action == actionFinish
	k := uploadKey{propertyID, conversationID, req.uploadID}
	id, err := s.store.continueUpload(k, req.content, finish, func(u *upload) *apiError {
		return checkNext(u, req)
	})
	switch {
	case err != nil:
		return nil, err
	case finish:
		return chunkData{OK: s.okValue(), AttachmentID: &id}, nil
	}
	return chunkData{OK: s.okValue()}, nil
}

// checkChunk checks a chunk on its own: its content and chunk_size.
func (s *Server) checkChunk(req chunkRequest) *apiError {
	n := int64(len(req.content))
	mb := s.opts.MegabyteBytes
	switch {
	case n == 0:
		return badRequest("attachment.chunk.chunk_content is empty")
	case n != req.chunkSize:
		return badRequest("attachment.chunk.chunk_size is %d but chunk_content decodes to %d bytes", req.chunkSize, n)
	case n > mb:
		return badRequest("attachment.chunk is %d bytes, over the limit of 1MB (%d bytes) per chunk", n, mb)
	}
	return nil
}

// checkNext checks that req, a resume or finish, continues u.
func checkNext(u *upload, req chunkRequest) *apiError {
	switch {
	case req.fileName != u.name:
		return badRequest("attachment.file_name %q differs from %q sent with start", req.fileName, u.name)
	case req.fileType != u.fileType:
		return badRequest("attachment.file_type %q differs from %q sent with start", req.fileType, u.fileType)
	case req.fileSize != u.size:
		return badRequest("attachment.file_size %d differs from %d sent with start", req.fileSize, u.size)
	case req.chunkNumber != u.next:
		return badRequest("attachment.chunk.chunk_number %d is out of order: expected %d", req.chunkNumber, u.next)
	}
	total := u.received + int64(len(req.content))
	switch {
	case total > u.size:
		return badRequest("attachment.chunk would bring the upload to %d bytes, over its file_size of %d", total, u.size)
	case req.action == actionResume && total == u.size:
		return badRequest("this chunk completes the %d-byte file: send the last chunk with action finish", u.size)
	case req.action == actionFinish && total < u.size:
		return badRequest("finish would leave %d of the file's %d bytes unsent: "+
			"send every chunk but the last with action resume", u.size-total, u.size)
	}
	return nil
}
