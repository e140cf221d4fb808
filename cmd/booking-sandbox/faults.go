package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// maxPadBytes caps a fault's pad_bytes: 64 MiB is well past any client's
// limit on an answer (bookingapi's is 16 MiB), and each padded answer is
// held in memory while it is sent.
const maxPadBytes = 64 << 20

// faultJSON is a sandbox.Fault in the control API: every field but Alter,
// Delay as a Go duration string.
type faultJSON struct {
	Endpoint   string `json:"endpoint"`
	Action     string `json:"action"`
	Nth        int    `json:"nth"`
	Times      int    `json:"times"`
	Processed  bool   `json:"processed"`
	Delay      string `json:"delay"`
	Hang       bool   `json:"hang"`
	Drop       bool   `json:"drop"`
	Status     int    `json:"status"`
	HTML       bool   `json:"html"`
	RetryAfter string `json:"retry_after"`
	PadBytes   int    `json:"pad_bytes"`
	CutAfter   int    `json:"cut_after"`
}

// faultFields are the members a fault may have, in the order of faultJSON.
var faultFields = []string{
	"endpoint", "action", "nth", "times", "processed", "delay", "hang", "drop",
	"status", "html", "retry_after", "pad_bytes", "cut_after",
}

// newFaultJSON returns f as the sandbox will apply it: Nth and Times of 0
// are 1.
func newFaultJSON(f sandbox.Fault) faultJSON {
	return faultJSON{
		Endpoint: string(f.Endpoint), Action: f.Action,
		Nth: max(f.Nth, 1), Times: max(f.Times, 1),
		Processed: f.Processed, Delay: f.Delay.String(), Hang: f.Hang, Drop: f.Drop,
		Status: f.Status, HTML: f.HTML, RetryAfter: f.RetryAfter,
		PadBytes: f.PadBytes, CutAfter: f.CutAfter,
	}
}

// injectFault answers POST /_sandbox/faults: the body is one fault, which
// is injected; the answer (201) is the fault as it will act.
func (c *control) injectFault(w http.ResponseWriter, r *http.Request) {
	if _, err := queryOf(r, nil); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			fail(w, http.StatusRequestEntityTooLarge, "the body is over %d bytes; a fault is one small JSON object", maxControlBodyBytes)
			return
		}
		fail(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	f, err := parseFault(body)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	c.sb.InjectFault(f)
	writeJSON(w, http.StatusCreated, newFaultJSON(f))
}

// clearFaults answers DELETE /_sandbox/faults: every fault is forgotten.
func (c *control) clearFaults(w http.ResponseWriter, r *http.Request) {
	if _, err := queryOf(r, nil); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	c.sb.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// parseFault reads one fault from body, a JSON object whose member names
// are exactly those of faultJSON (case included), each at most once, and
// refuses values that are out of range or that would have no effect.
func parseFault(body []byte) (sandbox.Fault, error) {
	fields, err := jsonObject(body)
	if err != nil {
		return sandbox.Fault{}, err
	}
	var (
		f     sandbox.Fault
		delay string
	)
	// In faultJSON's order, so that the same body always gets the same
	// error.
	for _, name := range faultFields {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		var err error
		switch name {
		case "endpoint":
			var s string
			s, err = jsonString(name, raw)
			f.Endpoint = sandbox.Endpoint(s)
		case "action":
			f.Action, err = jsonString(name, raw)
		case "nth":
			f.Nth, err = jsonInt(name, raw, 0, 1<<31-1)
		case "times":
			f.Times, err = jsonInt(name, raw, 0, 1<<31-1)
		case "processed":
			f.Processed, err = jsonBool(name, raw)
		case "delay":
			delay, err = jsonString(name, raw)
		case "hang":
			f.Hang, err = jsonBool(name, raw)
		case "drop":
			f.Drop, err = jsonBool(name, raw)
		case "status":
			f.Status, err = jsonInt(name, raw, 0, 599)
		case "html":
			f.HTML, err = jsonBool(name, raw)
		case "retry_after":
			f.RetryAfter, err = jsonString(name, raw)
		case "pad_bytes":
			f.PadBytes, err = jsonInt(name, raw, 0, maxPadBytes)
		case "cut_after":
			f.CutAfter, err = jsonInt(name, raw, 0, 1<<31-1)
		}
		if err != nil {
			return sandbox.Fault{}, err
		}
	}
	if delay != "" {
		d, err := time.ParseDuration(delay)
		if err != nil || d < 0 {
			return sandbox.Fault{}, fmt.Errorf("delay %q is not a non-negative Go duration such as \"1.5s\" or \"200ms\"", delay)
		}
		f.Delay = d
	}
	return f, checkFault(f)
}

// checkFault refuses a fault that names no endpoint, or that has a field
// that could never act.
func checkFault(f sandbox.Fault) error {
	noAnswer := f.Hang || f.Drop
	switch {
	case f.Endpoint == "":
		return fmt.Errorf("endpoint is required: one of %s", endpointNames())
	case !slices.Contains(sandbox.Endpoints(), f.Endpoint):
		return fmt.Errorf("endpoint %q is unknown: use one of %s", f.Endpoint, endpointNames())
	case f.Action != "" && f.Endpoint != sandbox.EndpointChunks:
		return fmt.Errorf("action %q is for endpoint chunks only: other endpoints have no action", f.Action)
	case f.Action != "" && !slices.Contains([]string{"start", "resume", "finish"}, f.Action):
		return fmt.Errorf("action %q is unknown: use start, resume or finish, or leave it out to match any", f.Action)
	case f.Status != 0 && f.Status < 400:
		return fmt.Errorf("status %d is not an error status: use 400 to 599, or 0 for the real answer", f.Status)
	case f.HTML && f.Status == 0:
		return errors.New("html needs a status: it makes the error answer an HTML page")
	case f.RetryAfter != "" && f.Status == 0:
		return errors.New("retry_after needs a status: it is sent with the error answer only")
	case strings.ContainsFunc(f.RetryAfter, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("retry_after %q holds a control character, which no header value may", f.RetryAfter)
	case f.Hang && f.Drop:
		return errors.New("hang and drop exclude each other: hang waits for the client to give up, drop closes at once")
	case noAnswer && (f.Status != 0 || f.PadBytes != 0 || f.CutAfter != 0):
		return errors.New("with hang or drop no answer is sent, so status, html, retry_after, pad_bytes and cut_after cannot act")
	case f.Delay == 0 && !noAnswer && f.Status == 0 && f.PadBytes == 0 && f.CutAfter == 0:
		return errors.New("the fault does nothing: set delay, hang, drop, status, pad_bytes or cut_after")
	}
	return nil
}

// jsonObject splits body, one JSON object and nothing else, into its
// members. A name must be one of faultFields and appear once.
func jsonObject(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New(`the body is empty: send one JSON object, such as {"endpoint": "upload", "status": 503}`)
	case err != nil:
		return nil, fmt.Errorf("the body is not valid JSON: %v", err)
	case tok != json.Delim('{'):
		return nil, errors.New("the body must be a JSON object")
	}
	invalid := func(err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("the body is not valid JSON: it ends inside the object")
		}
		return fmt.Errorf("the body is not valid JSON: %v", err)
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid(err)
		}
		name := tok.(string) // inside an object, Token returns names as strings
		if _, ok := fields[name]; ok {
			return nil, fmt.Errorf("field %q appears twice", name)
		}
		if !slices.Contains(faultFields, name) {
			return nil, fmt.Errorf("unknown field %q: a fault has %s (names are case-sensitive)", name, strings.Join(faultFields, ", "))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, invalid(err)
		}
		fields[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, invalid(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("the body holds more than one JSON value: send one object")
	}
	return fields, nil
}

func jsonString(name string, raw json.RawMessage) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s must be a JSON string, got %s", name, raw)
	}
	return s, nil
}

func jsonBool(name string, raw json.RawMessage) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s must be true or false, got %s", name, raw)
}

// jsonInt reads a JSON integer, written without fraction or exponent,
// from lo to hi.
func jsonInt(name string, raw json.RawMessage, lo, hi int) (int, error) {
	n, err := strconv.Atoi(string(raw))
	switch {
	case err != nil && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return 0, fmt.Errorf("%s must be a JSON integer from %d to %d, without fraction or exponent, got %s", name, lo, hi, raw)
	case err != nil:
		return 0, fmt.Errorf("%s must be a JSON integer, got %s", name, raw)
	case n < lo || n > hi:
		return 0, fmt.Errorf("%s %d is out of range: use %d to %d", name, n, lo, hi)
	}
	return n, nil
}
