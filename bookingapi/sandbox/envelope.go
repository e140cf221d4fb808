package sandbox

import (
	"fmt"
	"net/http"
)

// envelope is the body of every messaging response, as Booking sends it.
type envelope struct {
	Data     any            `json:"data"`
	Errors   []envelopeItem `json:"errors"`
	Warnings []envelopeItem `json:"warnings"`
	Meta     envelopeMeta   `json:"meta"`
}

// envelopeItem is one entry of an envelope's errors (or warnings).
type envelopeItem struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type envelopeMeta struct {
	RUID string `json:"ruid"`
}

// apiError is a rejection: the HTTP status and the one-line message sent in
// the envelope's errors. It is not a Go error; handlers pass it to
// call.fail.
type apiError struct {
	status  int
	message string
}

// errorf returns an apiError with the given status and formatted message.
func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// badRequest returns a 400 apiError.
func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

// okValue is data.ok as this server sends it: the string "true" like
// Booking's examples, or the boolean its tables describe.
func (s *Server) okValue() any {
	if s.opts.BooleanOK {
		return true
	}
	return "true"
}
