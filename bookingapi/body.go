package bookingapi

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// The request bodies are written by hand rather than with json.Marshal: the
// base64 content is almost all of a body, and writing it straight into a
// buffer of the exact size encodes it once and copies it never.

// singleUploadBody is the body of a single upload:
// {"attachment": {"file_name", "file_type", "file_size", "file_content"}}.
func singleUploadBody(file FileHeader, content []byte) []byte {
	var head strings.Builder
	head.WriteString(`{"attachment":{"file_name":`)
	writeJSONString(&head, file.Name)
	head.WriteString(`,"file_type":`)
	writeJSONString(&head, file.Type)
	head.WriteString(`,"file_size":`)
	head.WriteString(strconv.Itoa(len(content)))
	head.WriteString(`,"file_content":"`)
	return withBase64(head.String(), content, `"}}`)
}

// chunkBody is the body of one chunk of a chunked upload. uploadID is empty
// for start and omitted from the body then. Numbers are sent as JSON numbers,
// as in Booking's examples (its table says string; the sandbox takes both).
func chunkBody(action, uploadID string, file FileHeader, number int, content []byte) []byte {
	var head strings.Builder
	head.WriteString(`{"attachment":{"action":`)
	writeJSONString(&head, action)
	if uploadID != "" {
		head.WriteString(`,"upload_id":`)
		writeJSONString(&head, uploadID)
	}
	head.WriteString(`,"file_name":`)
	writeJSONString(&head, file.Name)
	head.WriteString(`,"file_type":`)
	writeJSONString(&head, file.Type)
	head.WriteString(`,"file_size":`)
	head.WriteString(strconv.FormatInt(file.Size, 10))
	head.WriteString(`,"chunk":{"chunk_number":`)
	head.WriteString(strconv.Itoa(number))
	head.WriteString(`,"chunk_size":`)
	head.WriteString(strconv.Itoa(len(content)))
	head.WriteString(`,"chunk_content":"`)
	return withBase64(head.String(), content, `"}}}`)
}

// withBase64 returns head, the standard base64 of content, then tail.
func withBase64(head string, content []byte, tail string) []byte {
	encodedLen := base64.StdEncoding.EncodedLen(len(content))
	body := make([]byte, len(head)+encodedLen+len(tail))
	n := copy(body, head)
	base64.StdEncoding.Encode(body[n:], content)
	copy(body[n+encodedLen:], tail)
	return body
}

func writeJSONString(b *strings.Builder, s string) {
	quoted, _ := json.Marshal(s) // a string always marshals
	b.Write(quoted)
}
