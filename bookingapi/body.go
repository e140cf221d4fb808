package bookingapi

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// The request bodies of the two upload endpoints are written by hand into
// a buffer of their exact size, taken from a pool: the base64 of the bytes,
// most of a body, is encoded once, straight into place from the segments
// the file is held in, with no buffer that grows and no final copy
// (encoding/json's Marshal does both). The
// field names and their order are those of Booking's reference; strings
// are encoded by encoding/json.

// bodyBuffers holds buffers for request bodies: a chunk of MaxChunkBytes,
// or a single upload of BinaryMegabyteBytes, in base64 with room for the
// rest of the body.
var bodyBuffers = newBufferPool(base64.StdEncoding.EncodedLen(BinaryMegabyteBytes)+4096, 4)

// body is a request body; release gives its buffer back to bodyBuffers
// once no request reads it any more.
type body struct {
	bytes  []byte
	pooled bool
}

func (b *body) release() {
	if b.pooled {
		bodyBuffers.put(b.bytes)
	}
	b.bytes, b.pooled = nil, false
}

// newBody returns the body prefix + base64(the n bytes of segments) +
// suffix.
func newBody(prefix []byte, segments [][]byte, n int, suffix []byte) body {
	size := len(prefix) + base64.StdEncoding.EncodedLen(n) + len(suffix)
	b := body{pooled: bodyBuffers.fits(size)}
	var buf []byte
	if b.pooled {
		buf = bodyBuffers.get()
	} else {
		buf = make([]byte, 0, size)
	}
	buf = append(buf, prefix...)
	at := len(buf)
	buf = buf[:at+base64.StdEncoding.EncodedLen(n)]
	encodeBase64(buf[at:], segments)
	b.bytes = append(buf, suffix...)
	return b
}

// singleUploadBody is the body of a single upload of the n bytes of
// segments:
//
//	{"attachment":{"file_name":…,"file_content":"…","file_type":…,"file_size":…}}
func singleUploadBody(file FileHeader, segments [][]byte, n int) body {
	prefix := append([]byte(`{"attachment":{"file_name":`), jsonString(file.Name)...)
	prefix = append(prefix, `,"file_content":"`...)
	suffix := append([]byte(`","file_type":`), jsonString(file.Type)...)
	suffix = append(suffix, `,"file_size":`...)
	suffix = strconv.AppendInt(suffix, int64(n), 10)
	suffix = append(suffix, "}}"...)
	return newBody(prefix, segments, n, suffix)
}

// chunkBody is the body of chunk number of a chunked upload, the n bytes of
// segments, without upload_id for start. Numbers are JSON numbers, as in
// Booking's examples; its table says string.
//
//	{"attachment":{"action":…,"upload_id":…,"file_name":…,"file_type":…,"file_size":…,
//	 "chunk":{"chunk_number":…,"chunk_content":"…","chunk_size":…}}}
func chunkBody(action, uploadID string, file FileHeader, number int, segments [][]byte, n int) body {
	prefix := append([]byte(`{"attachment":{"action":`), jsonString(action)...)
	if uploadID != "" {
		prefix = append(prefix, `,"upload_id":`...)
		prefix = append(prefix, jsonString(uploadID)...)
	}
	prefix = append(prefix, `,"file_name":`...)
	prefix = append(prefix, jsonString(file.Name)...)
	prefix = append(prefix, `,"file_type":`...)
	prefix = append(prefix, jsonString(file.Type)...)
	prefix = append(prefix, `,"file_size":`...)
	prefix = strconv.AppendInt(prefix, file.Size, 10)
	prefix = append(prefix, `,"chunk":{"chunk_number":`...)
	prefix = strconv.AppendInt(prefix, int64(number), 10)
	prefix = append(prefix, `,"chunk_content":"`...)
	suffix := append([]byte(`","chunk_size":`), strconv.Itoa(n)...)
	suffix = append(suffix, "}}}"...)
	return newBody(prefix, segments, n, suffix)
}

// jsonString is s as a JSON string.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// mustMarshal encodes a body of plain strings and slices of them, which
// always encodes.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("bookingapi: encoding a request body: " + err.Error())
	}
	return b
}
