package sandbox

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readBody reads the request body, capped at maxBodyBytes. Its error is
// reported by checkBody, after authentication.
func (c *call) readBody() ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
}

// checkBody returns the error for a POST whose body cannot be JSON: a
// Content-Type other than application/json (415), a body over
// maxBodyBytes (413), or one that could not be read (400).
func checkBody(r *http.Request, readErr error) *apiError {
	ct := r.Header.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "application/json" {
		return errorf(http.StatusUnsupportedMediaType,
			"Content-Type is %q: send the body as application/json", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType,
			"Content-Type charset is %q: JSON must be utf-8", cs)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(readErr, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge,
			"request body is larger than %d bytes", tooLarge.Limit)
	case readErr != nil:
		return badRequest("reading the request body: %v", readErr)
	}
	return nil
}
