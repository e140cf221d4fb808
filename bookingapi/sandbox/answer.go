package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// answer is a response as a handler made it, held back until it is sent
// so that a fault can replace, alter, pad or cut it first.
type answer struct {
	status int
	header http.Header // sent besides Content-Type and Content-Length
	ruid   string      // the body's ruid; empty if it has none
	body   any         // an envelope, a tokenResponse, or an htmlPage
}

// htmlPage is an answer's body that is an HTML page, not JSON.
type htmlPage []byte

// newAnswer returns an answer with no extra headers.
func newAnswer(status int, ruid string, body any) *answer {
	return &answer{status: status, header: http.Header{}, ruid: ruid, body: body}
}

// envelopeAnswer returns an answer in Booking's envelope, with a fresh
// ruid.
func envelopeAnswer(status int, data any, errs []envelopeItem) *answer {
	ruid := newRUID()
	return newAnswer(status, ruid, envelope{
		Data:     data,
		Errors:   errs,
		Warnings: []envelopeItem{},
		Meta:     envelopeMeta{RUID: ruid},
	})
}

// errorPage returns the HTML answer a load balancer in front of Booking
// sends when it gives up, shaped like nginx's.
func errorPage(status int) *answer {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	page := fmt.Appendf(nil, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"+
		"<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", title, title)
	return newAnswer(status, "", htmlPage(page))
}

// alter replaces a successful envelope's data with what fn makes of it;
// other answers are left as they are.
func (a *answer) alter(fn func(data map[string]any)) {
	env, ok := a.body.(envelope)
	if !ok || a.status/100 != 2 || env.Data == nil {
		return
	}
	var data map[string]any
	if err := json.Unmarshal(encodeJSON(env.Data), &data); err != nil || data == nil {
		return // not an object; every data this server sends is one
	}
	fn(data)
	env.Data = data
	a.body = env
}

// encode returns the answer's body and its media type.
func (a *answer) encode() (contentType string, body []byte) {
	if page, ok := a.body.(htmlPage); ok {
		return "text/html", page
	}
	return "application/json", encodeJSON(a.body)
}

// encodeJSON encodes v without escaping <, > and &, so that messages such
// as "Bearer <token>" read as written.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value encoded here is built from plain types, or was
		// decoded from JSON and then changed by a Fault's Alter.
		panic("sandbox: encoding a response: " + err.Error())
	}
	return buf.Bytes()
}
