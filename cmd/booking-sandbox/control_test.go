package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// A fault posted to the control API makes the request it names misbehave
// as it says, and only that request.
func TestControlFaults(t *testing.T) {
	header := func(k, v string) func(*testing.T, reply, time.Duration) {
		return func(t *testing.T, r reply, _ time.Duration) {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s %q, want %q", k, got, v)
			}
		}
	}
	tests := []struct {
		name  string
		fault string // file_info's requests are sent; the fault may name another endpoint
		// want says what the first file_info request got: "no answer",
		// "cut", or the status with "html" for an HTML page.
		want       string
		check      func(t *testing.T, first reply, took time.Duration) // more about the first, if set
		wantSecond string                                              // what the second got
	}{
		{"status", `{"endpoint": "file_info", "status": 503}`, "503", nil, "200"},
		{"retry_after", `{"endpoint": "file_info", "status": 429, "retry_after": "3600"}`, "429", header("Retry-After", "3600"), "200"},
		{"html", `{"endpoint": "file_info", "status": 502, "html": true}`, "502 html", header("Content-Type", "text/html"), "200"},
		{"drop", `{"endpoint": "file_info", "drop": true}`, "no answer", nil, "200"},
		{"cut_after", `{"endpoint": "file_info", "cut_after": 10}`, "cut", nil, "200"},
		{"pad_bytes", `{"endpoint": "file_info", "pad_bytes": 1000}`, "200", func(t *testing.T, r reply, _ time.Duration) {
			if !bytes.HasSuffix(r.body, bytes.Repeat([]byte(" "), 1000)) {
				t.Errorf("body %q does not end with 1000 spaces", r.body)
			}
		}, "200"},
		{"delay", `{"endpoint": "file_info", "delay": "200ms"}`, "200", func(t *testing.T, _ reply, took time.Duration) {
			if took < 200*time.Millisecond {
				t.Errorf("took %v, want at least the delay of 200ms", took)
			}
		}, "200"},
		{"nth and times", `{"endpoint": "file_info", "nth": 2, "times": 2, "status": 500}`, "200", nil, "500"},
		{"another endpoint", `{"endpoint": "download", "status": 500}`, "200", nil, "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := start(t)
			id := upload(t, inst.booking(t), conv, pngBytes(10))
			token := inst.token(t)
			inst.inject(t, tt.fault)
			client := newHTTPClient(t, true)
			for i, want := range []string{tt.want, tt.wantSecond} {
				begin := time.Now()
				r, err := inst.try(client, http.MethodGet, fileInfoPath(id), "", token)
				took := time.Since(begin)
				if got := outcome(r, err); got != want {
					t.Errorf("file_info %d: %s (%s), want %s", i+1, got, r.body, want)
				}
				if i == 0 && tt.check != nil {
					tt.check(t, r, took)
				}
			}
		})
	}
}

// outcome says what a client got: "no answer", "cut" for a body that
// ended early, or the status, with "html" for an HTML page.
func outcome(r reply, err error) string {
	switch {
	case err != nil && r.status == 0:
		return "no answer"
	case err != nil:
		return "cut"
	case strings.HasPrefix(r.header.Get("Content-Type"), "text/html"):
		return strconv.Itoa(r.status) + " html"
	}
	return strconv.Itoa(r.status)
}

// The answer to a posted fault is the fault as it will act.
func TestControlFaultAnswer(t *testing.T) {
	inst := start(t)
	var got faultJSON
	inst.control(t, http.MethodPost, "/_sandbox/faults",
		`{"endpoint": "chunks", "action": "finish", "delay": "1500ms", "status": 500, "processed": true}`, http.StatusCreated, &got)
	want := faultJSON{Endpoint: "chunks", Action: "finish", Nth: 1, Times: 1, Processed: true, Delay: "1.5s", Status: 500}
	if got != want {
		t.Errorf("answer %+v, want %+v", got, want)
	}
}

// A fault the gateway's client retries is invisible to its caller, and
// the request log shows the retry; a processed fault on the commit leaves
// an orphan the attachment list shows.
func TestControlFaultsAgainstTheGatewaysClient(t *testing.T) {
	inst := start(t)
	c := inst.booking(t)
	inst.inject(t, `{"endpoint": "upload", "status": 503}`)
	id := upload(t, c, conv, pngBytes(10))
	var statuses []int
	for _, r := range inst.requests(t, sandbox.EndpointUpload).Requests {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []int{503, 200}) {
		t.Errorf("upload statuses %v, want [503 200]: one refused, one sent again", statuses)
	}

	inst.inject(t, `{"endpoint": "upload", "processed": true, "drop": true}`)
	orphan := upload(t, c, "conv-2", pngBytes(10))
	var ids struct {
		AttachmentIDs []string `json:"attachment_ids"`
	}
	inst.control(t, http.MethodGet, "/_sandbox/attachments?property_id=1234&conversation_id=conv-2", "", http.StatusOK, &ids)
	if len(ids.AttachmentIDs) != 2 || !slices.Contains(ids.AttachmentIDs, orphan) || slices.Contains(ids.AttachmentIDs, id) {
		t.Errorf("attachments of conv-2 %v, want 2: %s and the orphan of the lost answer", ids.AttachmentIDs, orphan)
	}
}

func TestControlClearFaults(t *testing.T) {
	inst := start(t)
	inst.inject(t, `{"endpoint": "token", "status": 503, "times": 100}`)
	inst.inject(t, `{"endpoint": "file_info", "status": 500}`)
	r := inst.send(t, http.MethodDelete, "/_sandbox/faults", "", "")
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("DELETE /_sandbox/faults: %d %q, want 204 and no body", r.status, r.body)
	}
	token := inst.token(t) // would be 503 with the fault
	r = inst.send(t, http.MethodGet, fileInfoPath("x"), "", token)
	wantBookingError(t, r, http.StatusNotFound, "not found")
}

func TestControlRequests(t *testing.T) {
	inst := start(t)
	token := inst.token(t)
	ok := inst.send(t, http.MethodPost, uploadPath, uploadBody(pngBytes(10)), token)
	var up struct {
		AttachmentID string `json:"attachment_id"`
	}
	json.Unmarshal(decodeEnvelope(t, ok).Data, &up)
	inst.send(t, http.MethodGet, fileInfoPath(up.AttachmentID), "", "")
	inst.send(t, http.MethodGet, downloadPath(up.AttachmentID)+"?from=2&to=6", "", token)
	inst.send(t, http.MethodGet, "/messaging/nowhere", "", token)

	all := inst.requests(t)
	var endpoints []string
	for _, r := range all.Requests {
		endpoints = append(endpoints, r.Endpoint)
	}
	if want := []string{"token", "upload", "file_info", "download", ""}; !slices.Equal(endpoints, want) || all.Pending != 0 {
		t.Errorf("log endpoints %q, pending %d; want %q, 0", endpoints, all.Pending, want)
	}
	if got := all.Requests[1]; got.Status != 200 || !got.Processed || got.DecodedBytes != 10 || got.FileSize != 10 ||
		got.RUID != decodeEnvelope(t, ok).Meta.RUID {
		t.Errorf("upload logged as %+v, want status 200, processed, 10 bytes and the ruid the client got", got)
	}
	if got := all.Requests[2]; got.Status != 401 || got.Processed {
		t.Errorf("file_info without a token logged as %+v, want 401, not processed", got)
	}
	if got := all.Requests[3].Query; !reflect.DeepEqual(got, url.Values{"from": {"2"}, "to": {"6"}}) {
		t.Errorf("download's query logged as %v", got)
	}

	tests := []struct {
		filter []sandbox.Endpoint
		want   []string
	}{
		{[]sandbox.Endpoint{sandbox.EndpointFileInfo}, []string{"file_info"}},
		{[]sandbox.Endpoint{sandbox.EndpointDownload, sandbox.EndpointToken}, []string{"token", "download"}},
		{[]sandbox.Endpoint{sandbox.EndpointMessages}, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range inst.requests(t, tt.filter...).Requests {
			got = append(got, r.Endpoint)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("requests of %v: %q, want %q", tt.filter, got, tt.want)
		}
	}
	if r := inst.send(t, http.MethodGet, "/_sandbox/requests?endpoint=messages", "", ""); string(r.body) != "{\"pending\":0,\"requests\":[]}\n" {
		t.Errorf("an empty log is %q, want an empty array", r.body)
	}
}

// What a gateway's client uploaded and posted is what the control API
// shows: the guest's messages, the conversation's attachments, their bytes.
func TestControlMessagesAndAttachments(t *testing.T) {
	inst := start(t)
	c := inst.booking(t)
	content := pngBytes(2_500_000) // chunked
	id := upload(t, c, conv, content)
	posted, err := c.PostMessage(context.Background(), bookingapi.Conversation{PropertyID: property, ConversationID: conv},
		bookingapi.Message{Content: "Your room <3>", AttachmentIDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostMessage(context.Background(), bookingapi.Conversation{PropertyID: property, ConversationID: conv},
		bookingapi.Message{Content: "Check-in is at 3 pm."}); err != nil {
		t.Fatal(err)
	}

	var msgs struct{ Messages []messageJSON }
	inst.control(t, http.MethodGet, "/_sandbox/messages?property_id=1234&conversation_id=conv-1", "", http.StatusOK, &msgs)
	want := []messageJSON{
		{MessageID: posted.ID, Content: "Your room <3>", AttachmentIDs: []string{id}},
		{Content: "Check-in is at 3 pm.", AttachmentIDs: []string{}},
	}
	if len(msgs.Messages) == 2 {
		want[1].MessageID = msgs.Messages[1].MessageID
	}
	if !reflect.DeepEqual(msgs.Messages, want) {
		t.Errorf("messages %+v, want %+v", msgs.Messages, want)
	}
	r := inst.send(t, http.MethodGet, "/_sandbox/messages?property_id=1234&conversation_id=conv-1", "", "")
	if !bytes.Contains(r.body, []byte(`"attachment_ids":[]`)) || !bytes.Contains(r.body, []byte("<3>")) {
		t.Errorf("messages body %s, want [] for no attachments and content unescaped", r.body)
	}

	var ids struct {
		AttachmentIDs []string `json:"attachment_ids"`
	}
	inst.control(t, http.MethodGet, "/_sandbox/attachments?property_id=1234&conversation_id=conv-1", "", http.StatusOK, &ids)
	if !slices.Equal(ids.AttachmentIDs, []string{id}) {
		t.Errorf("attachments %v, want [%s]", ids.AttachmentIDs, id)
	}
	r = inst.send(t, http.MethodGet, "/_sandbox/attachments/1234/conv-1/"+id, "", "")
	if r.status != http.StatusOK || !bytes.Equal(r.body, content) {
		t.Errorf("the attachment's bytes: status %d, %d bytes, want 200 and the %d bytes uploaded", r.status, len(r.body), len(content))
	}
	if got := r.header.Get("Content-Type"); got != "image/png" {
		t.Errorf("Content-Type %q, want image/png", got)
	}
	if got := r.header.Get("Content-Disposition"); got != `attachment; filename=photo.png` {
		t.Errorf("Content-Disposition %q, want the file's name", got)
	}

	// Another conversation, or another property, holds nothing.
	for _, q := range []string{"property_id=1234&conversation_id=conv-2", "property_id=99&conversation_id=conv-1"} {
		var empty struct {
			AttachmentIDs []string `json:"attachment_ids"`
			Messages      []messageJSON
		}
		inst.control(t, http.MethodGet, "/_sandbox/attachments?"+q, "", http.StatusOK, &empty)
		inst.control(t, http.MethodGet, "/_sandbox/messages?"+q, "", http.StatusOK, &empty)
		if empty.AttachmentIDs == nil || len(empty.AttachmentIDs) != 0 || empty.Messages == nil || len(empty.Messages) != 0 {
			t.Errorf("%s: %+v, want empty arrays", q, empty)
		}
	}
	inst.control(t, http.MethodGet, "/_sandbox/attachments/1234/conv-2/"+id, "", http.StatusNotFound, nil)
}

// revoke-tokens makes the next call with an old token 401; the gateway's
// client exchanges again and goes on.
func TestControlRevokeTokens(t *testing.T) {
	inst := start(t)
	c := inst.booking(t)
	id := upload(t, c, conv, pngBytes(10))
	token := inst.token(t)
	if r := inst.send(t, http.MethodGet, fileInfoPath(id), "", token); r.status != http.StatusOK {
		t.Fatalf("file_info before revoking: %d %s", r.status, r.body)
	}
	r := inst.send(t, http.MethodPost, "/_sandbox/revoke-tokens", "", "")
	if r.status != http.StatusNoContent {
		t.Fatalf("POST /_sandbox/revoke-tokens: %d %s, want 204", r.status, r.body)
	}
	wantBookingError(t, inst.send(t, http.MethodGet, fileInfoPath(id), "", token), http.StatusUnauthorized, "revoked")

	before := len(inst.requests(t).Requests)
	ref := bookingapi.AttachmentRef{PropertyID: property, ConversationID: conv, AttachmentID: id}
	if _, err := c.FileInfo(context.Background(), ref); err != nil {
		t.Fatalf("the gateway's client after revoke-tokens: %v", err)
	}
	var got []string
	for _, r := range inst.requests(t).Requests[before:] {
		got = append(got, r.Endpoint+" "+strconv.Itoa(r.Status))
	}
	if want := []string{"file_info 401", "token 200", "file_info 200"}; !slices.Equal(got, want) {
		t.Errorf("the client's requests after revoking: %q, want %q", got, want)
	}
}

// Bad control input gets a 4xx with a one-line message, and changes
// nothing.
func TestControlBadInput(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		want                     string
	}{
		{"unknown field", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503, "statuss": 1}`, 400, `unknown field "statuss"`},
		{"field of another case", "POST", "/_sandbox/faults", `{"Endpoint": "upload", "status": 503}`, 400, `unknown field "Endpoint"`},
		{"alter", "POST", "/_sandbox/faults", `{"endpoint": "upload", "alter": {}}`, 400, `unknown field "alter"`},
		{"field twice", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503, "status": 500}`, 400, `field "status" appears twice`},
		{"unknown endpoint", "POST", "/_sandbox/faults", `{"endpoint": "uploads", "status": 503}`, 400, `endpoint "uploads" is unknown: use one of token, upload, chunks, download, file_info, messages`},
		{"no endpoint", "POST", "/_sandbox/faults", `{"status": 503}`, 400, "endpoint is required"},
		{"empty body", "POST", "/_sandbox/faults", ``, 400, "the body is empty"},
		{"not JSON", "POST", "/_sandbox/faults", `endpoint=upload`, 400, "not valid JSON"},
		{"cut JSON", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503`, 400, "ends inside the object"},
		{"an array", "POST", "/_sandbox/faults", `[{"endpoint": "upload"}]`, 400, "must be a JSON object"},
		{"two objects", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503} {}`, 400, "more than one JSON value"},
		{"status as a string", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": "503"}`, 400, `status must be a JSON integer, got "503"`},
		{"status not an error", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 200}`, 400, "status 200 is not an error status"},
		{"status too large", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 600}`, 400, "status 600 is out of range"},
		{"fractional nth", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503, "nth": 1.5}`, 400, "nth must be a JSON integer"},
		{"negative times", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503, "times": -1}`, 400, "times -1 is out of range"},
		{"delay as a number", "POST", "/_sandbox/faults", `{"endpoint": "upload", "delay": 2}`, 400, "delay must be a JSON string"},
		{"delay without unit", "POST", "/_sandbox/faults", `{"endpoint": "upload", "delay": "2"}`, 400, `delay "2" is not a non-negative Go duration`},
		{"negative delay", "POST", "/_sandbox/faults", `{"endpoint": "upload", "delay": "-1s"}`, 400, "not a non-negative Go duration"},
		{"hang as a string", "POST", "/_sandbox/faults", `{"endpoint": "upload", "hang": "true"}`, 400, "hang must be true or false"},
		{"null", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": null}`, 400, "status must be a JSON integer, got null"},
		{"action off chunks", "POST", "/_sandbox/faults", `{"endpoint": "upload", "action": "start", "status": 503}`, 400, "action \"start\" is for endpoint chunks only"},
		{"unknown action", "POST", "/_sandbox/faults", `{"endpoint": "chunks", "action": "resum", "status": 503}`, 400, `action "resum" is unknown`},
		{"html without status", "POST", "/_sandbox/faults", `{"endpoint": "upload", "html": true, "delay": "1s"}`, 400, "html needs a status"},
		{"retry_after without status", "POST", "/_sandbox/faults", `{"endpoint": "upload", "retry_after": "5", "delay": "1s"}`, 400, "retry_after needs a status"},
		{"retry_after with a newline", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 429, "retry_after": "5\nX: y"}`, 400, "control character"},
		{"hang and drop", "POST", "/_sandbox/faults", `{"endpoint": "upload", "hang": true, "drop": true}`, 400, "hang and drop exclude each other"},
		{"drop with status", "POST", "/_sandbox/faults", `{"endpoint": "upload", "drop": true, "status": 500}`, 400, "no answer is sent"},
		{"hang with pad_bytes", "POST", "/_sandbox/faults", `{"endpoint": "upload", "hang": true, "pad_bytes": 5}`, 400, "no answer is sent"},
		{"pad_bytes too large", "POST", "/_sandbox/faults", `{"endpoint": "upload", "pad_bytes": 67108865}`, 400, "pad_bytes 67108865 is out of range"},
		{"a fault that does nothing", "POST", "/_sandbox/faults", `{"endpoint": "upload", "processed": true, "nth": 2}`, 400, "the fault does nothing"},
		{"query on faults", "POST", "/_sandbox/faults?times=2", `{"endpoint": "upload", "status": 503}`, 400, `unknown query parameter "times": /_sandbox/faults takes none`},
		{"body too large", "POST", "/_sandbox/faults", `{"endpoint": "upload", "status": 503, "retry_after": "` + strings.Repeat("9", 70_000) + `"}`, 413, "over 65536 bytes"},
		{"unknown filter", "GET", "/_sandbox/requests?endpoint=file-info", "", 400, `endpoint "file-info" is unknown`},
		{"empty filter", "GET", "/_sandbox/requests?endpoint=", "", 400, `endpoint "" is unknown`},
		{"unknown query parameter", "GET", "/_sandbox/requests?endpoints=upload", "", 400, `unknown query parameter "endpoints": /_sandbox/requests takes endpoint`},
		{"bad query", "GET", "/_sandbox/requests?endpoint=%zz", "", 400, "does not parse"},
		{"messages without property", "GET", "/_sandbox/messages?conversation_id=c", "", 400, "property_id is required"},
		{"messages without conversation", "GET", "/_sandbox/messages?property_id=1234", "", 400, "conversation_id is required"},
		{"messages with a bad property", "GET", "/_sandbox/messages?property_id=01234&conversation_id=c", "", 400, `property_id "01234" is not a positive decimal integer`},
		{"attachments with a property twice", "GET", "/_sandbox/attachments?property_id=1&property_id=2&conversation_id=c", "", 400, "property_id appears 2 times"},
		{"attachment with a bad property", "GET", "/_sandbox/attachments/abc/c/x", "", 400, `property_id "abc"`},
		{"unknown attachment", "GET", "/_sandbox/attachments/1234/c/x", "", 404, `no attachment "x" in conversation "c" of property 1234`},
		{"unknown path", "GET", "/_sandbox/fault", "", 404, "no control endpoint at GET /_sandbox/fault"},
		{"the root", "GET", "/_sandbox", "", 404, "no control endpoint"},
		{"not clean", "GET", "/_sandbox/x/../healthz", "", 404, "no control endpoint"},
		{"wrong method", "GET", "/_sandbox/faults", "", 405, "method GET is not allowed on /_sandbox/faults: use DELETE, POST"},
		{"revoke with GET", "GET", "/_sandbox/revoke-tokens", "", 405, "use POST"},
	}
	inst := start(t)
	token := inst.token(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := inst.send(t, tt.method, tt.path, tt.body, "")
			var e errorBody
			err := json.Unmarshal(r.body, &e)
			if r.status != tt.wantStatus || err != nil || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%s %s: %d %s, want %d with an error containing %q", tt.method, tt.path, r.status, r.body, tt.wantStatus, tt.want)
			}
			if n := bytes.Count(r.body, []byte("\n")); n != 1 || !bytes.HasSuffix(r.body, []byte("\n")) || strings.Contains(e.Error, "\n") {
				t.Errorf("the answer %q is not one line", r.body)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
		})
	}
	// None of them injected a fault.
	wantBookingError(t, inst.send(t, http.MethodGet, fileInfoPath("x"), "", token), http.StatusNotFound, "not found")
}
