package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// newRUID returns a fresh response id shaped like Booking's: 96 characters
// of standard base64.
func newRUID() string {
	b := make([]byte, 72)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newUUID returns a random id in the 8-4-4-4-12 hex form Booking uses for
// attachment and upload ids.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newToken returns an opaque bearer token.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
