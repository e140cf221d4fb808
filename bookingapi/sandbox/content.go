package sandbox

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// signatures maps each permitted file_type to the bytes its files begin
// with. Booking accepts only these two types.
var signatures = map[string][]byte{
	"image/jpeg": {0xFF, 0xD8, 0xFF},
	"image/png":  {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
}

// checkFile checks the file_name and file_type of an upload.
func checkFile(name, fileType string) *apiError {
	if name == "" {
		return badRequest("attachment.file_name must not be empty")
	}
	if _, ok := signatures[fileType]; !ok {
		return badRequest("attachment.file_type must be image/jpeg or image/png, got %q", fileType)
	}
	return nil
}

// checkSignature checks that content, the value of the member name,
// begins with the signature of fileType, a permitted type.
func checkSignature(name, fileType string, content []byte) *apiError {
	sig := signatures[fileType]
	if !bytes.HasPrefix(content, sig) {
		return badRequest("%s does not begin with the %s signature % X: the bytes are not of the declared file_type",
			name, fileType, sig)
	}
	return nil
}

// base64 returns the decoded value of the required member, which must be
// standard base64 with padding (RFC 4648 section 4), strictly: no line
// breaks, no missing padding, no stray bits.
func (d *decoder) base64(o object, member string) []byte {
	name := o.name(member)
	s := d.string(o, member)
	if strings.ContainsAny(s, "\r\n") {
		// encoding/base64 skips line breaks even in strict mode.
		d.fail(badRequest("%s is not valid standard base64: it contains a line break", name))
		return nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		d.fail(badRequest("%s is not valid standard base64 with padding: %v", name, err))
		return nil
	}
	return b
}
