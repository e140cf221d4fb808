package sandbox

// fileInfoData is the data of a successful file_info.
type fileInfoData struct {
	FileType string `json:"file_type"`
	FileName string `json:"file_name"`
	FileSize int64  `json:"file_size"`
}

// serveFileInfo answers GET .../attachments/{attachment_id}/file_info.
func (s *Server) serveFileInfo(c *call) {
	propertyID, ok := c.admit("")
	if !ok {
		return
	}
	f, err := s.lookup(propertyID, c.r.PathValue("conversation_id"), c.r.PathValue("attachment_id"))
	if err != nil {
		c.fail(err)
		return
	}
	c.succeed(fileInfoData{FileType: f.Type, FileName: f.Name, FileSize: int64(len(f.Content))})
}
