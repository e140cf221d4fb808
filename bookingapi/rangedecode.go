package bookingapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// A download's answer is about 1.33 MB of base64 in a small envelope.
// encoding/json would scan the whole body three times before decoding the
// base64; decodeRangeAnswer finds file_content instead, decodes its base64
// straight into a pooled buffer, and leaves only the small rest of the
// envelope to encoding/json. Any answer that is not of the plain shape
// (escapes in the string, the key twice, the key not data's) goes to the
// general decoder, so that the result never depends on the fast path.

// fileContentKey is the member that carries a download's bytes.
var fileContentKey = []byte(`"file_content"`)

// rangeBuffers holds buffers for the decoded bytes of one range: a few per
// Reader in flight.
var rangeBuffers = newBufferPool(base64.StdEncoding.DecodedLen(base64.StdEncoding.EncodedLen(MaxRangeBytes+1)), 16)

// rangeContent is the decoded bytes of one download answer; release gives
// a pooled buffer back once the bytes are used.
type rangeContent struct {
	bytes  []byte
	pooled bool
}

func (c *rangeContent) release() {
	if c.pooled {
		rangeBuffers.put(c.bytes)
	}
	c.bytes, c.pooled = nil, false
}

// rangeData is the data of a download answer as the general decoder reads
// it.
type rangeData struct {
	dataStatus
	FileContent []byte `json:"file_content"`
}

// decodeRangeAnswer decodes a download's answer as decodeResponse would,
// and returns its file_content.
func decodeRangeAnswer(a *answer) (rangeContent, string, error) {
	if content, ruid, ok := decodePlainRange(a); ok {
		return content, ruid, nil
	}
	var out rangeData
	ruid, err := decodeResponse(OpDownload, a, &out)
	return rangeContent{bytes: out.FileContent}, ruid, err
}

// decodePlainRange is the fast path of decodeRangeAnswer. It reports false,
// having decoded nothing for good, for any answer it does not take whole:
// then the general decoder decides, errors included.
func decodePlainRange(a *answer) (rangeContent, string, bool) {
	body := a.body
	if !a.success() {
		return rangeContent{}, "", false
	}
	key := bytes.Index(body, fileContentKey)
	if key < 0 {
		return rangeContent{}, "", false
	}
	start := skipSpace(body, key+len(fileContentKey))
	if start >= len(body) || body[start] != ':' {
		return rangeContent{}, "", false
	}
	start = skipSpace(body, start+1)
	if start >= len(body) || body[start] != '"' {
		return rangeContent{}, "", false
	}
	start++
	length := bytes.IndexByte(body[start:], '"')
	if length < 0 {
		return rangeContent{}, "", false
	}
	value, after := body[start:start+length], body[start+length:]
	// Escapes would need JSON's decoding; line breaks, which base64 would
	// skip, are not allowed in a JSON string. Another file_content would be
	// the one encoding/json keeps.
	if bytes.IndexByte(value, '\\') >= 0 || bytes.IndexByte(value, '\n') >= 0 || bytes.IndexByte(value, '\r') >= 0 ||
		bytes.Contains(after, fileContentKey) {
		return rangeContent{}, "", false
	}

	// The rest of the envelope, with file_content emptied, must decode as
	// the general decoder's would, with that member in data.
	rest := make([]byte, 0, start+len(after))
	rest = append(append(rest, body[:start]...), after...)
	var out struct {
		dataStatus
		FileContent json.RawMessage `json:"file_content"`
	}
	ruid, err := decodeResponse(OpDownload, &answer{status: a.status, header: a.header, body: rest, unframed: a.unframed}, &out)
	if err != nil || string(out.FileContent) != `""` {
		return rangeContent{}, "", false
	}

	need := base64.StdEncoding.DecodedLen(len(value))
	content := rangeContent{pooled: rangeBuffers.fits(need)}
	if content.pooled {
		content.bytes = rangeBuffers.get()[:need]
	} else {
		content.bytes = make([]byte, need)
	}
	n, err := base64.StdEncoding.Decode(content.bytes, value)
	if err != nil {
		content.release()
		return rangeContent{}, "", false
	}
	content.bytes = content.bytes[:n]
	return content, ruid, true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
