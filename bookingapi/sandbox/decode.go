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
	path string // e.g. "attachment.chunk"; empty for the body itself

	// members holds the values as json.Decoder decodes them into any with
	// UseNumber: numbers stay json.Number, so "1.0" is not taken for 1.
	// It is nil if the object is missing or not an object.
	members map[string]any
}

// name returns the dotted name of member, used in error messages.
func (o object) name(member string) string {
	if o.path == "" {
		return member
	}
	return o.path + "." + member
}

// value returns member's value, or nil if it is absent or null.
func (o object) value(member string) any {
	return o.members[member]
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
	if len(trimJSONSpace(b)) == 0 {
		d.fail(badRequest("request body is empty: send a JSON object"))
		return object{}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		d.fail(badRequest("request body is not valid JSON: %v", err))
		return object{}
	}
	if len(trimJSONSpace(b[dec.InputOffset():])) > 0 {
		d.fail(badRequest("request body is not valid JSON: data after the top-level value at offset %d", dec.InputOffset()))
		return object{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(badRequest("request body must be a JSON object, got %s", kind(v)))
	}
	return object{members: m}
}

// trimJSONSpace trims the white space JSON allows around values.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// object returns the required object member.
func (d *decoder) object(o object, member string) object {
	name := o.name(member)
	switch v := o.value(member).(type) {
	case nil:
		d.fail(missing(name))
	case map[string]any:
		return object{path: name, members: v}
	default:
		d.fail(badRequest("%s must be a JSON object, got %s", name, kind(v)))
	}
	return object{path: name}
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
	switch v := o.value(member).(type) {
	case nil:
	case string:
		return v
	default:
		d.fail(badRequest("%s must be a JSON string, got %s", o.name(member), kind(v)))
	}
	return ""
}

// optionalStrings returns the member, an array of strings, or nil if it
// is absent or null. Elements that are not strings are reported and left
// out.
func (d *decoder) optionalStrings(o object, member string) []string {
	name := o.name(member)
	switch v := o.value(member).(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				d.fail(badRequest("%s[%d] must be a JSON string, got %s", name, i, kind(e)))
				continue
			}
			out = append(out, s)
		}
		return out
	default:
		d.fail(badRequest("%s must be a JSON array of strings, got %s", name, kind(v)))
		return nil
	}
}

// integer returns the required member, which must be a JSON integer. ok is
// false if it is missing or not an integer.
func (d *decoder) integer(o object, member string) (n int64, ok bool) {
	const want = "a JSON integer"
	name := o.name(member)
	switch v := o.value(member).(type) {
	case nil:
		d.fail(missing(name))
	case json.Number:
		return d.parseInt(name, string(v), want)
	default:
		d.fail(badRequest("%s must be %s, got %s", name, want, kind(v)))
	}
	return 0, false
}

// count returns the required member, which may be a JSON integer or a
// string of decimal digits: Booking's tables type chunk_number and
// chunk_size as strings while its examples send numbers. ok is false if it
// is missing or neither.
func (d *decoder) count(o object, member string) (n int64, ok bool) {
	const want = "a JSON integer or a string of decimal digits"
	name := o.name(member)
	switch v := o.value(member).(type) {
	case nil:
		d.fail(missing(name))
	case json.Number:
		return d.parseInt(name, string(v), want)
	case string:
		if isDigits(v) {
			return d.parseInt(name, v, want)
		}
		d.fail(badRequest("%s must be %s, got the string %q", name, want, v))
	default:
		d.fail(badRequest("%s must be %s, got %s", name, want, kind(v)))
	}
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

// kind names the JSON type of v, a value decoded with UseNumber.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}
