package bookingapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// envelope is the frame of every Messaging API response. Decoding is
// tolerant: unknown fields are ignored and null ids read as empty.
type envelope struct {
	Data any `json:"data"` // a pointer to the call's data type

	Errors []json.RawMessage `json:"errors"`
	Meta   struct {
		RUID string `json:"ruid"`
	} `json:"meta"`
}

// decodeResponse decodes an answer in one pass: on success its data goes
// into out (which may embed dataStatus); otherwise it becomes an *Error.
func decodeResponse(op string, a *answer, out any) (ruid string, err error) {
	if out == nil || !a.success() {
		out = new(dataStatus)
	}
	env := envelope{Data: out}
	decodeErr := json.Unmarshal(a.body, &env)
	ruid = oneLine(env.Meta.RUID)
	if !a.success() {
		return ruid, statusError(op, a, env.Errors, ruid)
	}
	switch {
	case decodeErr != nil && a.unframed && truncated(a.body):
		return ruid, cutShort(op, a.status, ruid, len(a.body))
	case decodeErr != nil:
		return ruid, unusableAnswer(op, a.status, ruid, "response is not Booking's JSON envelope: %v", decodeErr)
	case len(env.Errors) > 0:
		return ruid, refusal(op, a.status, ruid, "success status with errors: %s", errorText(env.Errors))
	}
	if s, ok := out.(interface{ failed() bool }); ok && s.failed() {
		return ruid, refusal(op, a.status, ruid, "response data says ok: false")
	}
	return ruid, nil
}

// truncated reports whether body is JSON that ends before its value does,
// or nothing at all.
func truncated(body []byte) bool {
	var v any
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&v)
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// dataStatus is the ok flag of a response's data; data types embed it.
type dataStatus struct {
	OK *okFlag `json:"ok"`
}

// failed reports whether Booking explicitly said ok: false.
func (s dataStatus) failed() bool { return s.OK != nil && !bool(*s.OK) }

// okFlag is data.ok, which Booking's table types as boolean while its
// examples send the string "true". Absent counts as true; only an explicit
// false (or "false") marks a failure.
type okFlag bool

func (f *okFlag) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "false", `"false"`:
		*f = false
	default:
		*f = true
	}
	return nil
}

// errorText joins the messages of Booking's errors array into one line. An
// entry may be a string or an object with a message; anything else is kept as
// compact JSON so that nothing Booking said is lost.
func errorText(entries []json.RawMessage) string {
	var parts []string
	for _, raw := range entries {
		var text string
		if json.Unmarshal(raw, &text) == nil && text != "" {
			parts = append(parts, text)
			continue
		}
		var obj struct {
			Message     string `json:"message"`
			Description string `json:"description"`
		}
		if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Description != "") {
			text := strings.Join(slices.DeleteFunc([]string{obj.Message, obj.Description}, func(s string) bool { return s == "" }), ": ")
			parts = append(parts, text)
			continue
		}
		var compact bytes.Buffer
		if json.Compact(&compact, raw) == nil && compact.Len() > 0 && compact.String() != "null" {
			parts = append(parts, compact.String())
		}
	}
	return oneLine(strings.Join(parts, "; "))
}

// oneLine keeps remote text on one line and of a readable length.
func oneLine(s string) string {
	const maxRunes = 300
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "…"
	}
	return s
}
