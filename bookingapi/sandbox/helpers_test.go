package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

const (
	property = 1234
	conv     = "7e706d21-7bf3-53cf-b2fb-5ef6466971e0"
	mib      = 1 << 20
)

// megabytes are the two readings of Booking's "1MB".
var megabytes = []int64{1_000_000, 1_048_576}

// harness is a sandbox served over HTTP with a token already exchanged.
type harness struct {
	t      *testing.T
	srv    *sandbox.Server
	url    string
	client *http.Client
	token  string
}

func newHarness(t *testing.T, opts sandbox.Options) *harness {
	t.Helper()
	h := serve(t, opts)
	h.token = h.exchange()
	return h
}

// with returns a copy of h that reports to t, for subtests.
func (h *harness) with(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// serve returns a harness without a token.
func serve(t *testing.T, opts sandbox.Options) *harness {
	t.Helper()
	srv := sandbox.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &harness{t: t, srv: srv, url: ts.URL, client: ts.Client()}
}

// exchange gets a new token with the default credentials.
func (h *harness) exchange() string {
	h.t.Helper()
	body := fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, sandbox.DefaultClientID, sandbox.DefaultClientSecret)
	resp, err := h.client.Post(h.url+"/token-based-authentication/exchange", "application/json", strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("token exchange: %v", err)
	}
	defer resp.Body.Close()
	var tok struct{ JWT, RUID string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.JWT == "" {
		h.t.Fatalf("token exchange: status %d, jwt %q, decode error %v", resp.StatusCode, tok.JWT, err)
	}
	return tok.JWT
}

// envelope is Booking's response body.
type envelope struct {
	Data     json.RawMessage   `json:"data"`
	Errors   []envelopeError   `json:"errors"`
	Warnings []json.RawMessage `json:"warnings"`
	Meta     struct {
		RUID string `json:"ruid"`
	} `json:"meta"`
}

type envelopeError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// response is one answer of the sandbox.
type response struct {
	status int
	header http.Header
	raw    []byte
	env    envelope
}

// message returns the first error message, or "".
func (r response) message() string {
	if len(r.env.Errors) == 0 {
		return ""
	}
	return r.env.Errors[0].Message
}

// data decodes the envelope's data into v.
func (r response) data(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.env.Data, v); err != nil {
		t.Fatalf("decoding data %s: %v", r.env.Data, err)
	}
}

// option changes a request before it is sent.
type option func(*http.Request)

func withHeader(key, value string) option {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

func withoutHeader(key string) option {
	return func(r *http.Request) { r.Header.Del(key) }
}

// send sends a request with the harness token and, for a body, Content-Type
// application/json. body is sent as is if it is []byte or string, else as
// JSON. It fails the test on a transport error or a body that is not a
// well-formed envelope.
func (h *harness) send(method, path string, body any, opts ...option) response {
	h.t.Helper()
	resp, err := h.try(h.client, method, path, body, opts...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// try is send returning the transport error.
func (h *harness) try(client *http.Client, method, path string, body any, opts ...option) (response, error) {
	h.t.Helper()
	return h.roundTrip(client, h.request(method, path, body, opts...))
}

// request returns the request send sends.
func (h *harness) request(method, path string, body any, opts ...option) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bodyReader(h.t, body))
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	return req
}

// rawResponse is an answer as the client received it, unchecked.
type rawResponse struct {
	status  int
	header  http.Header
	body    []byte // as much of the body as arrived
	readErr error  // why the body ended early; nil if it arrived whole
}

// sendRaw sends the request send sends, with client, and returns the
// answer without checking it; err is the transport's error, when no
// answer came.
func (h *harness) sendRaw(client *http.Client, method, path string, body any) (rawResponse, error) {
	h.t.Helper()
	resp, err := client.Do(h.request(method, path, body))
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b, readErr: err}, nil
}

// outcome says in a few words what a client got from sendRaw: "no
// answer", the status with "cut" for a body that ended early or "html"
// for an HTML page, or else just the status.
func outcome(r rawResponse, err error) string {
	switch {
	case err != nil:
		return "no answer"
	case r.readErr != nil:
		return fmt.Sprintf("%d cut", r.status)
	case strings.HasPrefix(r.header.Get("Content-Type"), "text/html"):
		return fmt.Sprintf("%d html", r.status)
	}
	return strconv.Itoa(r.status)
}

// freshClient returns a client that opens a new connection for every
// request, so that net/http does not silently retry a GET whose
// connection the server closed, and that gives up after timeout (0 for
// never).
func freshClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

func (h *harness) roundTrip(client *http.Client, req *http.Request) (response, error) {
	h.t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	checkEnvelope(h.t, req, &r)
	return r, nil
}

func bodyReader(t *testing.T, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case []byte:
		return bytes.NewReader(b)
	case string:
		return strings.NewReader(b)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encoding body: %v", err)
	}
	return bytes.NewReader(b)
}

// checkEnvelope decodes r.raw into r.env and checks the envelope's shape:
// JSON content type, arrays for errors and warnings, a ruid, null data and
// one error carrying the status on failures, no error on success.
func checkEnvelope(t *testing.T, req *http.Request, r *response) {
	t.Helper()
	what := req.Method + " " + req.URL.Path
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &fields); err != nil {
		t.Fatalf("%s: body %q is not a JSON object: %v", what, r.raw, err)
	}
	for _, k := range []string{"data", "errors", "warnings", "meta"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("%s: envelope %s has no %q", what, r.raw, k)
		}
	}
	if err := json.Unmarshal(r.raw, &r.env); err != nil {
		t.Fatalf("%s: decoding envelope %s: %v", what, r.raw, err)
	}
	if string(fields["errors"]) == "null" || string(fields["warnings"]) == "null" {
		t.Errorf("%s: errors and warnings must be arrays: %s", what, r.raw)
	}
	checkRUID(t, what, r.env.Meta.RUID)
	if r.status == http.StatusOK {
		if len(r.env.Errors) != 0 || string(r.env.Data) == "null" {
			t.Errorf("%s: 200 with errors %v and data %s", what, r.env.Errors, r.env.Data)
		}
		return
	}
	if string(r.env.Data) != "null" {
		t.Errorf("%s: status %d with data %s, want null", what, r.status, r.env.Data)
	}
	if len(r.env.Errors) != 1 || r.env.Errors[0].Code != r.status || r.env.Errors[0].Message == "" {
		t.Errorf("%s: status %d with errors %+v, want one with code %d and a message", what, r.status, r.env.Errors, r.status)
	}
}

func checkRUID(t *testing.T, what, ruid string) {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(ruid)
	if err != nil || len(ruid) < 64 {
		t.Errorf("%s: ruid %q is not ~96 characters of base64 (%d bytes, error %v)", what, ruid, len(b), err)
	}
}

// wantError checks that r failed with status and a message containing
// every one of parts.
func wantError(t *testing.T, r response, status int, parts ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d (%s), want %d", r.status, r.raw, status)
		return
	}
	for _, p := range parts {
		if !strings.Contains(r.message(), p) {
			t.Errorf("message %q does not contain %q", r.message(), p)
		}
	}
}

// wantOK checks that r succeeded.
func wantOK(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", r.status, r.raw)
	}
}

// lastRequest returns the last request the sandbox has logged.
func (h *harness) lastRequest() sandbox.Request {
	h.t.Helper()
	reqs := h.srv.Requests()
	if len(reqs) == 0 {
		h.t.Fatalf("no request logged")
	}
	return reqs[len(reqs)-1]
}

// Paths of the endpoints for property and conversation.

// conversationPath is also the path messages are posted to.
func conversationPath(property any, conversation string) string {
	return fmt.Sprintf("/messaging/properties/%v/conversations/%s", property, url.PathEscape(conversation))
}

func uploadPath(property any, conversation string) string {
	return conversationPath(property, conversation) + "/attachments"
}

func chunksPath(property any, conversation string) string {
	return conversationPath(property, conversation) + "/attachment_chunks"
}

func downloadPath(property any, conversation, attachment string) string {
	return uploadPath(property, conversation) + "/" + url.PathEscape(attachment)
}

// swapProperty returns path with its property_id replaced.
func swapProperty(path, propertyID string) string {
	return strings.Replace(path, fmt.Sprintf("/properties/%d/", property), "/properties/"+propertyID+"/", 1)
}

func fileInfoPath(property any, conversation, attachment string) string {
	return downloadPath(property, conversation, attachment) + "/file_info"
}

// Files.

var (
	pngSignature  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	jpegSignature = []byte{0xFF, 0xD8, 0xFF}
)

// image returns n bytes that begin with signature, the rest random but
// the same for the same n.
func image(signature []byte, n int) []byte {
	b := make([]byte, n)
	var seed [32]byte
	seed[0], seed[1], seed[2] = byte(n), byte(n>>8), byte(n>>16)
	rand.NewChaCha8(seed).Read(b)
	copy(b, signature)
	return b
}

func pngFile(n int) []byte  { return image(pngSignature, n) }
func jpegFile(n int) []byte { return image(jpegSignature, n) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// uploadBody returns a single upload's body for a file.
func uploadBody(name, fileType string, content []byte) map[string]any {
	return map[string]any{"attachment": map[string]any{
		"file_name":    name,
		"file_type":    fileType,
		"file_content": b64(content),
		"file_size":    len(content),
	}}
}

// messageBody returns the body of a message post.
func messageBody(content string, attachmentIDs ...string) map[string]any {
	m := map[string]any{"content": content}
	if attachmentIDs != nil {
		m["attachment_ids"] = attachmentIDs
	}
	return map[string]any{"message": m}
}

// attachment returns the attachment object of a request body.
func attachment(body map[string]any) map[string]any {
	return body["attachment"].(map[string]any)
}

// chunk returns the chunk object of a chunk request body.
func chunk(body map[string]any) map[string]any {
	return attachment(body)["chunk"].(map[string]any)
}

// upload stores content with a single upload and returns its attachment id.
func (h *harness) upload(conversation string, content []byte) string {
	h.t.Helper()
	r := h.send(http.MethodPost, uploadPath(property, conversation), uploadBody("a.png", "image/png", content))
	wantOK(h.t, r)
	var d struct {
		OK           string `json:"ok"`
		AttachmentID string `json:"attachment_id"`
	}
	r.data(h.t, &d)
	if d.AttachmentID == "" || d.OK != "true" {
		h.t.Fatalf("upload data %s, want ok \"true\" and an attachment_id", r.env.Data)
	}
	return d.AttachmentID
}

// chunkedUpload describes one chunked upload of content, cut into chunks
// of at most mb bytes.
type chunkedUpload struct {
	name, fileType string
	content        []byte
	mb             int
}

func newChunkedUpload(content []byte, mb int64) *chunkedUpload {
	return &chunkedUpload{name: "big.png", fileType: "image/png", content: content, mb: int(mb)}
}

// chunks returns the number of chunks.
func (u *chunkedUpload) chunks() int {
	return (len(u.content) + u.mb - 1) / u.mb
}

// part returns chunk i.
func (u *chunkedUpload) part(i int) []byte {
	return u.content[i*u.mb : min((i+1)*u.mb, len(u.content))]
}

// body returns the correct request for chunk i of the upload uploadID.
func (u *chunkedUpload) body(i int, uploadID string) map[string]any {
	action := "resume"
	switch i {
	case 0:
		action = "start"
	case u.chunks() - 1:
		action = "finish"
	}
	a := map[string]any{
		"action":    action,
		"file_name": u.name,
		"file_type": u.fileType,
		"file_size": len(u.content),
		"chunk": map[string]any{
			"chunk_number":  i,
			"chunk_content": b64(u.part(i)),
			"chunk_size":    len(u.part(i)),
		},
	}
	if i > 0 {
		a["upload_id"] = uploadID
	}
	return map[string]any{"attachment": a}
}

// chunkData is the data of a successful chunk.
type chunkData struct {
	OK           any     `json:"ok"`
	UploadID     *string `json:"upload_id"`
	AttachmentID *string `json:"attachment_id"`
}

// sendChunk sends chunk i of u and checks that it succeeds.
func (h *harness) sendChunk(conversation string, u *chunkedUpload, i int, uploadID string) chunkData {
	h.t.Helper()
	r := h.send(http.MethodPost, chunksPath(property, conversation), u.body(i, uploadID))
	wantOK(h.t, r)
	var d chunkData
	r.data(h.t, &d)
	return d
}

// start sends chunk 0 of u and returns the upload id.
func (h *harness) start(conversation string, u *chunkedUpload) string {
	h.t.Helper()
	d := h.sendChunk(conversation, u, 0, "")
	if d.UploadID == nil || *d.UploadID == "" || d.AttachmentID != nil {
		h.t.Fatalf("start data %+v, want an upload_id and a null attachment_id", d)
	}
	return *d.UploadID
}

// finishFrom sends chunks from..last of the upload uploadID and returns
// the attachment id.
func (h *harness) finishFrom(conversation string, u *chunkedUpload, from int, uploadID string) string {
	h.t.Helper()
	for i := from; i < u.chunks()-1; i++ {
		d := h.sendChunk(conversation, u, i, uploadID)
		if d.UploadID != nil || d.AttachmentID != nil {
			h.t.Fatalf("resume %d data %+v, want null ids", i, d)
		}
	}
	d := h.sendChunk(conversation, u, u.chunks()-1, uploadID)
	if d.UploadID != nil || d.AttachmentID == nil || *d.AttachmentID == "" {
		h.t.Fatalf("finish data %+v, want an attachment_id and a null upload_id", d)
	}
	return *d.AttachmentID
}

// uploadChunked uploads u from start to finish and returns the
// attachment id.
func (h *harness) uploadChunked(conversation string, u *chunkedUpload) string {
	h.t.Helper()
	return h.finishFrom(conversation, u, 1, h.start(conversation, u))
}

// wantStored checks that the sandbox holds want under id.
func (h *harness) wantStored(conversation, id string, want []byte) {
	h.t.Helper()
	f, ok := h.srv.Attachment(property, conversation, id)
	if !ok {
		h.t.Fatalf("attachment %s not stored", id)
	}
	if !bytes.Equal(f.Content, want) {
		h.t.Errorf("attachment %s holds %d bytes that differ from the %d sent", id, len(f.Content), len(want))
	}
}

// download fetches an attachment with the given raw query and returns the
// decoded bytes.
func (h *harness) download(conversation, id, query string) []byte {
	h.t.Helper()
	r := h.send(http.MethodGet, downloadPath(property, conversation, id)+query, nil)
	wantOK(h.t, r)
	var d struct {
		OK             string `json:"ok"`
		FileContent    string `json:"file_content"`
		AttachmentID   string `json:"attachment_id"`
		ConversationID string `json:"conversation_id"`
	}
	r.data(h.t, &d)
	if d.OK != "true" || d.AttachmentID != id || d.ConversationID != conversation {
		h.t.Errorf("download data ok %q, attachment_id %q, conversation_id %q; want \"true\", %q, %q",
			d.OK, d.AttachmentID, d.ConversationID, id, conversation)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(d.FileContent)
	if err != nil {
		h.t.Fatalf("file_content is not base64: %v", err)
	}
	return b
}

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition still false after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
