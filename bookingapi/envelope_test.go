package bookingapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// oneTry sends every request once, so that each crafted answer is seen once.
var oneTry = RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}

// TestUploadResponseDecoding answers a single upload with crafted responses
// and checks what Close makes of them.
func TestUploadResponseDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		bodySize   int      // if above len(body), body is padded with 'x' to it
		wantID     string   // the attachment id on success
		wantKind   Kind     // the *Error's kind on failure
		wantInText []string // on failure, in Error()
	}{
		{name: "ok as the string true", status: 200, wantID: "a1",
			body: `{"errors":[],"warnings":[],"data":{"ok":"true","attachment_id":"a1"},"meta":{"ruid":"R"}}`},
		{name: "ok as the boolean true", status: 200, wantID: "a1",
			body: `{"data":{"ok":true,"attachment_id":"a1"},"meta":{"ruid":"R"}}`},
		{name: "ok absent", status: 200, wantID: "a1",
			body: `{"data":{"attachment_id":"a1"},"meta":{"ruid":"R"}}`},
		{name: "201 is success too", status: 201, wantID: "a1",
			body: `{"data":{"ok":"true","attachment_id":"a1"}}`},
		{name: "unknown fields everywhere", status: 200, wantID: "a1",
			body: `{"data":{"ok":"true","attachment_id":"a1","extra":{"x":[1,2]},"upload_id":null},"meta":{"ruid":"R","took":3},"warnings":[{"message":"w"}],"new":true}`},
		{name: "missing meta", status: 200, wantID: "a1",
			body: `{"data":{"ok":"true","attachment_id":"a1"}}`},
		{name: "empty errors and warnings as null", status: 200, wantID: "a1",
			body: `{"data":{"attachment_id":"a1"},"errors":null,"warnings":null}`},

		{name: "ok as the boolean false", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":{"ok":false,"attachment_id":"a1"},"meta":{"ruid":"R-false"}}`,
			wantInText: []string{"upload", "HTTP 200", "ok: false", "R-false"}},
		{name: "ok as the string false", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":{"ok":"false","attachment_id":"a1"},"meta":{"ruid":"R-false"}}`,
			wantInText: []string{"upload", "HTTP 200", "ok: false", "R-false"}},
		{name: "attachment_id null", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":{"ok":"true","attachment_id":null},"meta":{"ruid":"R-null"}}`,
			wantInText: []string{"upload", "HTTP 200", "no attachment_id", "R-null"}},
		{name: "data null", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":null,"meta":{"ruid":"R-null"}}`,
			wantInText: []string{"upload", "no attachment_id", "R-null"}},
		{name: "empty object", status: 200, wantKind: KindMalformedResponse,
			body:       `{}`,
			wantInText: []string{"upload", "no attachment_id"}},
		{name: "non-empty errors with success status", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":{"ok":"true","attachment_id":"a1"},"errors":[{"code":1,"message":"half done"}],"meta":{"ruid":"R-err"}}`,
			wantInText: []string{"upload", "HTTP 200", "half done", "R-err"}},
		{name: "not JSON with success status", status: 200, wantKind: KindMalformedResponse,
			body:       `<html>gateway page</html>`,
			wantInText: []string{"upload", "HTTP 200", "not Booking's JSON envelope"}},
		{name: "empty body with success status", status: 200, wantKind: KindMalformedResponse,
			body:       ``,
			wantInText: []string{"upload", "HTTP 200"}},
		{name: "JSON array with success status", status: 200, wantKind: KindMalformedResponse,
			body:       `[{"data":{"attachment_id":"a1"}}]`,
			wantInText: []string{"upload", "HTTP 200"}},
		{name: "data of the wrong type", status: 200, wantKind: KindMalformedResponse,
			body:       `{"data":"a1"}`,
			wantInText: []string{"upload", "HTTP 200"}},
		// A body of exactly the limit is read whole, and found not to be
		// JSON (a JSON body of 16 MiB takes seconds to parse under -race);
		// one byte more is not parsed at all.
		{name: "body at the 16 MiB limit", status: 200, wantKind: KindMalformedResponse,
			body: `{"data":{"ok":"true","attachment_id":"a1"},"pad":"`, bodySize: maxResponseBytes,
			wantInText: []string{"upload", "HTTP 200", "not Booking's JSON envelope"}},
		{name: "body over the 16 MiB limit", status: 200, wantKind: KindMalformedResponse,
			body: `{"data":{"ok":"true","attachment_id":"a1"},"pad":"`, bodySize: maxResponseBytes + 1,
			wantInText: []string{"upload", "HTTP 200", "larger than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &fake{answer: answerWith(tt.status, tt.body), bodySize: tt.bodySize}
			c := srv.client(t, oneTry)
			file := FileHeader{Name: "a.png", Type: "image/png", Size: 3}

			a, err := upload(context.Background(), c, testConv, file, []byte("abc"))
			const call = "Close of a 3-byte upload"
			if tt.wantID != "" {
				if err != nil || a.ID != tt.wantID || a.Chunked {
					t.Fatalf("%s = %+v, %v; want ID %q, not chunked", call, a, err, tt.wantID)
				}
				return
			}
			checkError(t, call, err, "upload", tt.wantKind, tt.wantInText)
			if n := len(srv.requests()); n != 1 {
				t.Errorf("%s sent %d uploads, want 1 (a malformed answer is not retried)", call, n)
			}
		})
	}
}

// checkError checks that err is an *Error of op and kind whose text holds
// every string of wantInText, on one line, without secrets.
func checkError(t *testing.T, call string, err error, op string, kind Kind, wantInText []string) *Error {
	t.Helper()
	e := asError(t, call, err)
	if e.Op != op || e.Kind != kind {
		t.Errorf("%s = %q (Op %q, Kind %v), want Op %q, Kind %v", call, err, e.Op, e.Kind, op, kind)
	}
	for _, s := range wantInText {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s = %q, want it to contain %q", call, err, s)
		}
	}
	checkErrorText(t, call, err)
	return e
}

// chunkAnswers answers a chunked upload's requests by action.
type chunkAnswers map[string]string

// TestChunkResponseDecoding answers the chunked upload's start, resume and
// finish with crafted responses: null ids where Booking's reference shows
// them are fine, a missing upload_id or attachment_id is not.
func TestChunkResponseDecoding(t *testing.T) {
	t.Parallel()
	const (
		start  = `{"errors":[],"data":{"ok":"true","upload_id":"up-1","attachment_id":null},"meta":{"ruid":"R-start"}}`
		resume = `{"errors":[],"data":{"ok":"true","upload_id":null,"attachment_id":null},"meta":{"ruid":"R-resume"}}`
		finish = `{"errors":[],"data":{"ok":"true","upload_id":null,"attachment_id":"att-9"},"meta":{"ruid":"R-finish"}}`
	)
	tests := []struct {
		name        string
		answers     chunkAnswers
		wantID      string
		wantOp      string
		wantInText  []string
		wantActions []string // the actions sent, in order
	}{
		{name: "null ids as in the reference", wantID: "att-9",
			answers:     chunkAnswers{"start": start, "resume": resume, "finish": finish},
			wantActions: []string{"start", "resume", "finish"}},
		{name: "boolean ok and unknown fields", wantID: "att-9",
			answers: chunkAnswers{
				"start":  `{"data":{"ok":true,"upload_id":"up-1","next":1}}`,
				"resume": `{"data":{"ok":true,"received":2000000},"warnings":["slow"]}`,
				"finish": `{"data":{"ok":true,"attachment_id":"att-9","url":"x"}}`,
			},
			wantActions: []string{"start", "resume", "finish"}},
		{name: "start with upload_id null", wantOp: "chunk start",
			answers:     chunkAnswers{"start": `{"data":{"ok":"true","upload_id":null,"attachment_id":null},"meta":{"ruid":"R-start"}}`},
			wantInText:  []string{"chunk start", "no upload_id", "R-start"},
			wantActions: []string{"start"}},
		{name: "start without upload_id", wantOp: "chunk start",
			answers:     chunkAnswers{"start": `{"data":{"ok":"true"},"meta":{"ruid":"R-start"}}`},
			wantInText:  []string{"chunk start", "no upload_id", "R-start"},
			wantActions: []string{"start"}},
		{name: "resume with ok false", wantOp: "chunk resume",
			answers:     chunkAnswers{"start": start, "resume": `{"data":{"ok":"false"},"meta":{"ruid":"R-resume"}}`},
			wantInText:  []string{"chunk resume", "ok: false", "R-resume"},
			wantActions: []string{"start", "resume"}},
		{name: "finish with attachment_id null", wantOp: "chunk finish",
			answers:     chunkAnswers{"start": start, "resume": resume, "finish": `{"data":{"ok":"true","upload_id":null,"attachment_id":null},"meta":{"ruid":"R-finish"}}`},
			wantInText:  []string{"chunk finish", "no attachment_id", "R-finish"},
			wantActions: []string{"start", "resume", "finish"}},
		{name: "finish with data null", wantOp: "chunk finish",
			answers:     chunkAnswers{"start": start, "resume": resume, "finish": `{"data":null,"meta":{"ruid":"R-finish"}}`},
			wantInText:  []string{"chunk finish", "no attachment_id", "R-finish"},
			wantActions: []string{"start", "resume", "finish"}},
	}
	content := pngFile(2*MaxChunkBytes + 1) // three chunks
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var actions []string // written by the handler, read after Close
			srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) {
				// Finding the action in the body is enough; decoding
				// megabytes of JSON is slow under -race.
				body, _ := io.ReadAll(r.Body)
				action := "?"
				for _, a := range []string{"start", "resume", "finish"} {
					if bytes.Contains(body, []byte(`"action":"`+a+`"`)) {
						action = a
					}
				}
				mu.Lock()
				actions = append(actions, action)
				mu.Unlock()
				answer, ok := tt.answers[action]
				if !ok {
					writeBody(w, http.StatusBadRequest, `{"errors":["unexpected action"]}`)
					return
				}
				writeBody(w, http.StatusOK, answer)
			})
			c := srv.client(t, oneTry)
			file := FileHeader{Name: "big.png", Type: "image/png", Size: int64(len(content))}

			a, err := upload(context.Background(), c, testConv, file, content)
			const call = "chunked upload of 2,000,001 bytes"
			if tt.wantID != "" {
				if err != nil || a.ID != tt.wantID || !a.Chunked || a.RUID == "R-start" {
					t.Errorf("%s = %+v, %v; want ID %q, chunked, the ruid of finish", call, a, err, tt.wantID)
				}
			} else {
				checkError(t, call, err, tt.wantOp, KindMalformedResponse, tt.wantInText)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(actions, ","); got != strings.Join(tt.wantActions, ",") {
				t.Errorf("%s sent the actions %q, want %q", call, got, tt.wantActions)
			}
		})
	}
}

// TestDownloadResponseDecoding answers a download of a 3-byte file with
// crafted responses.
func TestDownloadResponseDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		want       string
		wantKind   Kind
		wantInText []string
	}{
		{name: "ok as the string true", body: `{"data":{"ok":"true","file_content":"YWJj"}}`, want: "abc"},
		{name: "ok absent and unknown fields", body: `{"data":{"file_content":"YWJj","attachment_id":"x","size":3},"meta":{"ruid":"R","x":1}}`, want: "abc"},
		{name: "ok false", body: `{"data":{"ok":false,"file_content":"YWJj"},"meta":{"ruid":"R-dl"}}`,
			wantKind: KindMalformedResponse, wantInText: []string{"download", "ok: false", "R-dl"}},
		{name: "invalid base64", body: `{"data":{"ok":"true","file_content":"not base64!"},"meta":{"ruid":"R-dl"}}`,
			wantKind: KindMalformedResponse, wantInText: []string{"download", "HTTP 200"}},
		{name: "no bytes", body: `{"data":{"ok":"true","file_content":""},"meta":{"ruid":"R-dl"}}`,
			wantKind: KindDataLoss, wantInText: []string{"download", "ends at 0", "R-dl"}},
		{name: "data null", body: `{"data":null,"meta":{"ruid":"R-dl"}}`,
			wantKind: KindDataLoss, wantInText: []string{"download", "R-dl"}},
		{name: "more bytes than the file has", body: `{"data":{"file_content":"YWJjZA=="},"meta":{"ruid":"R-dl"}}`,
			wantKind: KindDataLoss, wantInText: []string{"download", "holds 4", "R-dl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) { writeBody(w, http.StatusOK, tt.body) })
			c := srv.client(t, oneTry)
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

			got, err := io.ReadAll(openReader(t, c, context.Background(), ref, 3, 0, 3))
			const call = "io.ReadAll(NewReader(ref, 3, 0, 3))"
			if tt.want != "" {
				if err != nil || string(got) != tt.want {
					t.Fatalf("%s = %q, %v; want %q", call, got, err, tt.want)
				}
				return
			}
			checkError(t, call, err, "download", tt.wantKind, tt.wantInText)
		})
	}
}

// TestFileInfoResponseDecoding answers file_info with crafted responses.
func TestFileInfoResponseDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		want       FileInfo
		wantInText []string // set when a KindMalformedResponse is wanted
	}{
		{name: "as in the reference", want: FileInfo{Name: "test.jpg", Type: "image/jpeg", Size: 655933},
			body: `{"errors":[],"meta":{"ruid":"R"},"data":{"file_type":"image/jpeg","file_name":"test.jpg","file_size":655933},"warnings":[]}`},
		{name: "unknown fields", want: FileInfo{Name: "a", Type: "image/png", Size: 1},
			body: `{"data":{"file_type":"image/png","file_name":"a","file_size":1,"created":"today"}}`},
		{name: "file_size missing", wantInText: []string{"file_info", "file_size", "R-fi"},
			body: `{"data":{"file_type":"image/png","file_name":"a"},"meta":{"ruid":"R-fi"}}`},
		{name: "file_size null", wantInText: []string{"file_info", "file_size", "R-fi"},
			body: `{"data":{"file_type":"image/png","file_name":"a","file_size":null},"meta":{"ruid":"R-fi"}}`},
		{name: "file_size negative", wantInText: []string{"file_info", "file_size", "R-fi"},
			body: `{"data":{"file_type":"image/png","file_name":"a","file_size":-1},"meta":{"ruid":"R-fi"}}`},
		{name: "file_size a string", wantInText: []string{"file_info", "HTTP 200", "R-fi"},
			body: `{"data":{"file_type":"image/png","file_name":"a","file_size":"12"},"meta":{"ruid":"R-fi"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) { writeBody(w, http.StatusOK, tt.body) })
			c := srv.client(t, oneTry)
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

			got, err := c.FileInfo(context.Background(), ref)
			call := fmt.Sprintf("FileInfo(%+v)", ref)
			if tt.wantInText == nil {
				if err != nil || got != tt.want {
					t.Fatalf("%s = %+v, %v; want %+v", call, got, err, tt.want)
				}
				return
			}
			checkError(t, call, err, "file_info", KindMalformedResponse, tt.wantInText)
		})
	}
}

// TestErrorMessages answers 4xx and 5xx with the forms Booking's errors
// array may take and checks Booking's text reaches Error() on one line.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 1000)
	tests := []struct {
		name        string
		status      int
		body        string
		bodySize    int // if above len(body), body is padded with 'x' to it
		wantMessage string
		noRUID      bool // the body holds no readable meta.ruid
	}{
		{name: "object with message", status: 400,
			body:        `{"data":null,"errors":[{"code":400,"message":"attachment.file_type is wrong"}],"warnings":[],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "attachment.file_type is wrong"},
		{name: "several objects", status: 400,
			body:        `{"errors":[{"code":1,"message":"first"},{"code":2,"message":"second"}],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "first; second"},
		{name: "object with description only", status: 400,
			body:        `{"errors":[{"code":1,"description":"described"}],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "described"},
		{name: "strings", status: 400,
			body:        `{"errors":["first","second"],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "first; second"},
		{name: "other JSON kept compact", status: 400,
			body:        `{"errors":[42, {"code": 7}, true, null, ["x"]],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: `42; {"code":7}; true; ["x"]`},
		{name: "message over several lines", status: 400,
			body:        `{"errors":[{"message":"line one\nline two\r\n\ttabbed"}],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "line one line two tabbed"},
		{name: "long message is cut", status: 400,
			body:        `{"errors":[{"message":"` + long + `"}],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: strings.Repeat("é", 300) + "…"},
		{name: "empty errors array", status: 409,
			body:        `{"data":null,"errors":[],"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "Conflict"},
		{name: "no errors member", status: 413,
			body:        `{"meta":{"ruid":"RUID-1"}}`,
			wantMessage: "Request Entity Too Large"},
		{name: "not JSON on 500", status: 500,
			body:        `Internal error, please retry`,
			wantMessage: "Internal Server Error", noRUID: true},
		{name: "HTML on 502", status: 502,
			body:        `<html><body><h1>502 Bad Gateway</h1></body></html>`,
			wantMessage: "Bad Gateway", noRUID: true},
		{name: "body over the limit on 503", status: 503,
			body: `{"errors":[{"message":"huge"}],"meta":{"ruid":"RUID-1"},"pad":"`, bodySize: maxResponseBytes + 1,
			wantMessage: "Service Unavailable", noRUID: true},
		{name: "ruid with a line break", status: 400,
			body:        `{"errors":[{"message":"bad"}],"meta":{"ruid":"RUID-1\nforged: log line"}}`,
			wantMessage: "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := &fake{answer: answerWith(tt.status, tt.body), bodySize: tt.bodySize}
			c := srv.client(t, oneTry)
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

			_, err := c.FileInfo(context.Background(), ref)
			call := fmt.Sprintf("FileInfo(%+v) answered %d", ref, tt.status)
			e := checkError(t, call, err, "file_info", kindOfStatus(tt.status),
				[]string{"file_info", fmt.Sprintf("HTTP %d", tt.status), tt.wantMessage})
			if e.Message != tt.wantMessage || e.StatusCode != tt.status {
				t.Errorf("%s: Message %q, StatusCode %d; want %q, %d", call, e.Message, e.StatusCode, tt.wantMessage, tt.status)
			}
			switch {
			case tt.noRUID && e.RUID != "":
				t.Errorf("%s: RUID %q, want none", call, e.RUID)
			case !tt.noRUID && !strings.Contains(err.Error(), "(ruid RUID-1"):
				t.Errorf("%s = %q, want it to contain the ruid RUID-1", call, err)
			}
		})
	}
}

// TestStatusKinds maps every status Booking documents, and a few more, to
// its Kind, and checks what the error carries and how many requests it
// took: 429 and 5xx are retried, a 401 is sent once more after a new token
// exchange, other 4xx are final.
func TestStatusKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status        int
		wantKind      Kind
		wantRequests  int
		wantExchanges int
	}{
		{400, KindInvalidRequest, 1, 1},
		{401, KindUnauthenticated, 2, 2},
		{403, KindPermissionDenied, 1, 1},
		{404, KindNotFound, 1, 1},
		{405, KindInvalidRequest, 1, 1},
		{409, KindInvalidRequest, 1, 1},
		{413, KindInvalidRequest, 1, 1},
		{415, KindInvalidRequest, 1, 1},
		{422, KindInvalidRequest, 1, 1},
		{429, KindRateLimited, fastRetry.MaxAttempts, 1},
		{500, KindUnavailable, fastRetry.MaxAttempts, 1},
		{502, KindUnavailable, fastRetry.MaxAttempts, 1},
		{503, KindUnavailable, fastRetry.MaxAttempts, 1},
		{504, KindUnavailable, fastRetry.MaxAttempts, 1},
		{507, KindUnavailable, fastRetry.MaxAttempts, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			msg := fmt.Sprintf("Booking says %d", tt.status)
			ruid := fmt.Sprintf("ruid-%d", tt.status)
			srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) {
				writeBody(w, tt.status, fmt.Sprintf(`{"data":null,"errors":[{"code":%d,"message":%q}],"warnings":[],"meta":{"ruid":%q}}`, tt.status, msg, ruid))
			})
			c := srv.client(t, fastRetry)
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}

			_, err := c.FileInfo(context.Background(), ref)
			call := fmt.Sprintf("FileInfo(%+v) answered %d", ref, tt.status)
			e := checkError(t, call, err, "file_info", tt.wantKind, []string{"file_info", fmt.Sprintf("HTTP %d", tt.status), msg, ruid})
			if e.StatusCode != tt.status || e.Message != msg || e.RUID != ruid {
				t.Errorf("%s: StatusCode %d, Message %q, RUID %q; want %d, %q, %q", call, e.StatusCode, e.Message, e.RUID, tt.status, msg, ruid)
			}
			if errors.Unwrap(err) != nil {
				t.Errorf("%s: Unwrap = %v, want nil for an answer from Booking", call, errors.Unwrap(err))
			}
			if n := len(srv.requests()); n != tt.wantRequests {
				t.Errorf("%s sent %d requests, want %d", call, n, tt.wantRequests)
			}
			if n := srv.tokenExchanges(); n != tt.wantExchanges {
				t.Errorf("%s made %d token exchanges, want %d", call, n, tt.wantExchanges)
			}
		})
	}
}

// TestErrorString checks Error() for every combination of what an *Error
// may lack.
func TestErrorString(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp: connection refused")
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "everything", err: &Error{Op: "upload", StatusCode: 400, Message: "bad", RUID: "R1", Err: cause},
			want: "bookingapi: upload: HTTP 400: bad (ruid R1)"},
		{name: "no status", err: &Error{Op: "download", Message: "no response from Booking", Err: cause},
			want: "bookingapi: download: no response from Booking"},
		{name: "cause without message", err: &Error{Op: "download", Err: cause},
			want: "bookingapi: download: dial tcp: connection refused"},
		{name: "no ruid", err: &Error{Op: "file_info", StatusCode: 404, Message: "Not Found"},
			want: "bookingapi: file_info: HTTP 404: Not Found"},
		{name: "op only", err: &Error{Op: "chunk start"},
			want: "bookingapi: chunk start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("(%+v).Error() = %q, want %q", *tt.err, got, tt.want)
			}
			if !errors.Is(tt.err, cause) && tt.err.Err != nil {
				t.Errorf("errors.Is(%v, cause) = false, want true", tt.err)
			}
		})
	}
}
