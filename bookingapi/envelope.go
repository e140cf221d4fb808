package bookingapi

import (
	"bytes"
	"encoding/json"
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
