package service

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// Limits of the identifiers, names and messages a caller gives.
const (
	maxIDLength       = 128
	maxFileNameBytes  = 255
	sha256HexLength   = 64
	signaturePeekSize = 8 // the longest signature, PNG's

	// Booking documents no limit on a message's content or its
	// attachments; these are the gateway's, generous for a message to a
	// guest.
	maxContentBytes       = 8192
	maxMessageAttachments = 10
	maxRequestIDLength    = 64
)

// The image types Booking accepts.
const (
	typeJPEG = "image/jpeg"
	typePNG  = "image/png"
)

var (
	jpegSignature = []byte{0xFF, 0xD8, 0xFF}
	pngSignature  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
)

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// validateMetadata checks everything about an upload that is known before
// its bytes arrive.
func validateMetadata(m *attachmentsv1.UploadMetadata) error {
	if err := validateConversation(m.GetPropertyId(), m.GetConversationId()); err != nil {
		return err
	}
	if err := validateFileName(m.GetFileName()); err != nil {
		return err
	}
	switch m.GetFileType() {
	case "", typeJPEG, typePNG:
	default:
		return invalid("file_type %q is not accepted: use image/jpeg, image/png, or leave it empty to detect it", m.GetFileType())
	}
	switch size := m.GetFileSize(); {
	case size < 0:
		return invalid("file_size must not be negative, got %d", size)
	case size > bookingapi.MaxFileBytes:
		return invalid("file_size %d is over the limit of %d bytes", size, bookingapi.MaxFileBytes)
	}
	if d := m.GetSha256(); d != "" && !isLowerHex(d, sha256HexLength) {
		return invalid("sha256 must be %d lowercase hex characters", sha256HexLength)
	}
	if c := m.GetMessageContent(); c != "" {
		if err := validateContent("message_content", c); err != nil {
			return err
		}
	}
	return validateRequestID(m.GetRequestId())
}

// validateMessage checks a message to post before anything reaches Booking.
func validateMessage(m *attachmentsv1.SendMessageRequest) error {
	if err := validateConversation(m.GetPropertyId(), m.GetConversationId()); err != nil {
		return err
	}
	if err := validateContent("content", m.GetContent()); err != nil {
		return err
	}
	ids := m.GetAttachmentIds()
	if len(ids) > maxMessageAttachments {
		return invalid("a message may carry at most %d attachment_ids, got %d", maxMessageAttachments, len(ids))
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := validateID("attachment_ids", id); err != nil {
			return err
		}
		if seen[id] {
			return invalid("attachment_ids names %q twice", id)
		}
		seen[id] = true
	}
	return validateRequestID(m.GetRequestId())
}

// validateContent accepts the text of a message: valid UTF-8, not only
// white space, at most maxContentBytes, without control characters other
// than tab, line feed and carriage return.
func validateContent(field, content string) error {
	switch {
	case strings.TrimSpace(content) == "":
		return invalid("%s is required (Booking sends no attachment without message content) and must not be only white space", field)
	case len(content) > maxContentBytes:
		return invalid("%s is %d bytes, over the limit of %d", field, len(content), maxContentBytes)
	case !utf8.ValidString(content):
		return invalid("%s is not valid UTF-8", field)
	}
	for _, r := range content {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return invalid("%s must not contain control characters other than tab and line breaks (found %U)", field, r)
		}
	}
	return nil
}

// validateRequestID accepts an empty request_id, or up to 64 characters of
// A-Z, a-z, 0-9, '.', '_' and '-'.
func validateRequestID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) > maxRequestIDLength {
		return invalid("request_id is longer than %d characters", maxRequestIDLength)
	}
	return validateID("request_id", id)
}

func validateConversation(propertyID int64, conversationID string) error {
	if propertyID <= 0 {
		return invalid("property_id must be positive, got %d", propertyID)
	}
	return validateID("conversation_id", conversationID)
}

func validateAttachment(propertyID int64, conversationID, attachmentID string) error {
	if err := validateConversation(propertyID, conversationID); err != nil {
		return err
	}
	return validateID("attachment_id", attachmentID)
}

// validateID accepts 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-',
// other than "." and "..": enough for Booking's ids, and never a path.
func validateID(field, id string) error {
	switch {
	case id == "":
		return invalid("%s is required", field)
	case len(id) > maxIDLength:
		return invalid("%s is longer than %d characters", field, maxIDLength)
	case id == "." || id == "..":
		return invalid("%s must not be %q", field, id)
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("%s may hold only letters, digits, '.', '_' and '-'", field)
		}
	}
	return nil
}

func validateFileName(name string) error {
	switch {
	case name == "":
		return invalid("file_name is required")
	case len(name) > maxFileNameBytes:
		return invalid("file_name is longer than %d bytes", maxFileNameBytes)
	case !utf8.ValidString(name):
		return invalid("file_name is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return invalid("file_name must not contain control characters or path separators")
		}
	}
	return nil
}

// imageType checks the file's first bytes against the declared type and
// returns the type: the declared one, or the detected one when none was
// declared.
func imageType(head []byte, declared string) (string, error) {
	var detected string
	switch {
	case bytes.HasPrefix(head, pngSignature):
		detected = typePNG
	case bytes.HasPrefix(head, jpegSignature):
		detected = typeJPEG
	case len(head) == 0:
		return "", invalid("the file is empty")
	default:
		return "", invalid("the file is neither a JPEG nor a PNG image (it starts with % x)", head)
	}
	if declared != "" && declared != detected {
		return "", invalid("file_type is %s but the file's bytes are of type %s", declared, detected)
	}
	return detected, nil
}

func isLowerHex(s string, length int) bool {
	if len(s) != length {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
