package bookingapi

import "encoding/json"

// The request bodies of the two upload endpoints. File bytes are []byte,
// which encoding/json writes as standard base64 with padding, as Booking
// asks, encoding straight into its output buffer. (A hand-written encoder
// that wrote the base64 into a body of exact size was measured against it:
// no faster, no fewer bytes allocated; see BenchmarkChunkBody.)

// singleUpload is the body of a single upload.
type singleUpload struct {
	Attachment struct {
		FileName    string `json:"file_name"`
		FileContent []byte `json:"file_content"`
		FileType    string `json:"file_type"`
		FileSize    int    `json:"file_size"`
	} `json:"attachment"`
}

// chunkUpload is the body of one chunk of a chunked upload. Numbers are sent
// as JSON numbers, as in Booking's examples; its table says string.
type chunkUpload struct {
	Attachment struct {
		Action   string `json:"action"`
		UploadID string `json:"upload_id,omitempty"` // empty for start
		FileName string `json:"file_name"`
		FileType string `json:"file_type"`
		FileSize int64  `json:"file_size"`
		Chunk    struct {
			ChunkNumber  int    `json:"chunk_number"`
			ChunkContent []byte `json:"chunk_content"`
			ChunkSize    int    `json:"chunk_size"`
		} `json:"chunk"`
	} `json:"attachment"`
}

// singleUploadBody is the JSON body of a single upload of content.
func singleUploadBody(file FileHeader, content []byte) []byte {
	var body singleUpload
	a := &body.Attachment
	a.FileName, a.FileType, a.FileSize, a.FileContent = file.Name, file.Type, len(content), content
	return mustMarshal(body)
}

// chunkBody is the JSON body of chunk number of a chunked upload.
func chunkBody(action, uploadID string, file FileHeader, number int, content []byte) []byte {
	var body chunkUpload
	a := &body.Attachment
	a.Action, a.UploadID = action, uploadID
	a.FileName, a.FileType, a.FileSize = file.Name, file.Type, file.Size
	a.Chunk.ChunkNumber, a.Chunk.ChunkContent, a.Chunk.ChunkSize = number, content, len(content)
	return mustMarshal(body)
}

// mustMarshal encodes a body type, which has only strings, numbers and bytes
// and so always encodes.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("bookingapi: encoding a request body: " + err.Error())
	}
	return b
}
