package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// object is a JSON object whose members are looked up by exact name.
// (encoding/json's struct decoding also matches other capitalizations,
// which Booking may not accept.) Unknown members are ignored.
type object struct {
	path    string                     // e.g. "attachment.chunk"; empty for the body itself
	members map[string]json.RawMessage // nil if the object is missing or not an object
}

// name returns the dotted name of member, used in error messages.
func (o object) name(member string) string {
	if o.path == "" {
		return member
	}
	return o.path + "." + member
}

// value returns member's raw JSON, or nil if it is absent or null.
func (o object) value(member string) json.RawMessage {
	v := o.members[member]
	if string(v) == "null" {
		return nil
	}
	return v
}

// decoder reads typed members out of a JSON body. It keeps the first error
// and goes on reading, so that a parse reads as much as it can: the
// request log records even rejected requests.
type decoder struct {
	err *apiError
}

func (d *decoder) fail(err *apiError) {
	if d.err == nil {
		d.err = err
	}
}

// body decodes a request body, which must be a JSON object.
func (d *decoder) body(b []byte) object {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		d.fail(badRequest("request body is empty: send a JSON object"))
		return object{}
	}
	var m map[string]json.RawMessage
	err := json.Unmarshal(b, &m)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) || err == nil && m == nil:
		// Valid JSON of another type; null leaves m nil.
		d.fail(badRequest("request body must be a JSON object, got %s", kind(trimmed)))
	case err != nil:
		d.fail(badRequest("request body is not valid JSON: %v", err))
	}
	return object{members: m}
}

// object returns the required object member.
func (d *decoder) object(o object, member string) object {
	name := o.name(member)
	v := o.value(member)
	switch {
	case v == nil:
		d.fail(missing(name))
		return object{path: name}
	case v[0] != '{':
		d.fail(badRequest("%s must be a JSON object, got %s", name, kind(v)))
		return object{path: name}
	}
	var m map[string]json.RawMessage
	json.Unmarshal(v, &m) // part of a valid body: cannot fail
	return object{path: name, members: m}
}

// string returns the required string member.
func (d *decoder) string(o object, member string) string {
	if o.value(member) == nil {
		d.fail(missing(o.name(member)))
		return ""
	}
	return d.optionalString(o, member)
}

// optionalString returns the string member, or "" if it is absent or null.
func (d *decoder) optionalString(o object, member string) string {
	v := o.value(member)
	if v == nil {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		d.fail(badRequest("%s must be a JSON string, got %s", o.name(member), kind(v)))
		return ""
	}
	return s
}

// integer returns the required member, which must be a JSON integer. ok is
// false if it is missing or not an integer.
func (d *decoder) integer(o object, member string) (n int64, ok bool) {
	name := o.name(member)
	v := o.value(member)
	if v == nil {
		d.fail(missing(name))
		return 0, false
	}
	if kind(v) != "number" {
		d.fail(badRequest("%s must be a JSON integer, got %s", name, kind(v)))
		return 0, false
	}
	return d.parseInt(name, string(v), "a JSON integer")
}

// count returns the required member, which may be a JSON integer or a
// string of decimal digits: Booking's tables type chunk_number and
// chunk_size as strings while its examples send numbers. ok is false if it
// is missing or neither.
func (d *decoder) count(o object, member string) (n int64, ok bool) {
	const want = "a JSON integer or a string of decimal digits"
	name := o.name(member)
	v := o.value(member)
	if v == nil {
		d.fail(missing(name))
		return 0, false
	}
	switch kind(v) {
	case "number":
		return d.parseInt(name, string(v), want)
	case "string":
		var s string
		json.Unmarshal(v, &s) // part of a valid body: cannot fail
		if !isDigits(s) {
			d.fail(badRequest("%s must be %s, got the string %q", name, want, s))
			return 0, false
		}
		return d.parseInt(name, s, want)
	}
	d.fail(badRequest("%s must be %s, got %s", name, want, kind(v)))
	return 0, false
}

// parseInt parses text, the decimal integer value of the member name.
func (d *decoder) parseInt(name, text, want string) (int64, bool) {
	n, err := strconv.ParseInt(text, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		d.fail(badRequest("%s is out of range: %s", name, text))
		return 0, false
	}
	if err != nil {
		d.fail(badRequest("%s must be %s, got %s", name, want, text))
		return 0, false
	}
	return n, true
}

func missing(name string) *apiError {
	return badRequest("%s is required", name)
}

// kind names the JSON type of the valid JSON value v.
func kind(v []byte) string {
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
