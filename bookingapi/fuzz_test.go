package bookingapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// The fuzz targets run as ordinary tests on their seeds and on the corpus
// committed in testdata/fuzz; `go test -fuzz=FuzzX ./bookingapi` explores
// further.

// FuzzDecodeResponse feeds arbitrary answers to every decoder of Booking's
// answers and checks what a caller relies on: no panic; a non-2xx status
// is always an *Error of that status, kind and outcome; error texts and
// ruids are one line; success only from a 2xx answer holding valid JSON.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, false, []byte(`{"errors":[],"data":{"ok":"true","attachment_id":"a1","upload_id":"u1","file_content":"YWJj","file_name":"a.png","file_type":"image/png","file_size":3},"meta":{"ruid":"R"}}`))
	f.Add(200, false, []byte(`{"data":{"ok":false},"meta":{"ruid":"R\nX"}}`))
	f.Add(200, true, []byte(`{"data":{"ok":"true","attachment_id":"a1"`))
	f.Add(200, false, []byte(`{"jwt":"j","ruid":"r"}`))
	f.Add(400, false, []byte(`{"data":null,"errors":[{"code":400,"message":"bad\r\nthing"},"x",{"description":"d"},3],"meta":{"ruid":"R"}}`))
	f.Add(429, false, []byte(``))
	f.Add(503, true, []byte(`<html><body>503</body></html>`))
	f.Add(302, false, []byte(`{}`))
	f.Add(200, false, []byte(`{"data":{"file_content":"not base64"}}`))
	f.Add(201, false, []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, status int, unframed bool, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		a := &answer{status: status, header: http.Header{}, body: body, unframed: unframed}
		outs := map[string]func() any{
			OpUpload: func() any {
				return &struct {
					dataStatus
					AttachmentID string `json:"attachment_id"`
				}{}
			},
			OpChunkStart: func() any {
				return &struct {
					dataStatus
					UploadID     string `json:"upload_id"`
					AttachmentID string `json:"attachment_id"`
				}{}
			},
			OpDownload: func() any {
				return &struct {
					dataStatus
					FileContent []byte `json:"file_content"`
				}{}
			},
			OpFileInfo: func() any {
				return &struct {
					FileName string `json:"file_name"`
					FileType string `json:"file_type"`
					FileSize *int64 `json:"file_size"`
				}{}
			},
		}
		for op, out := range outs {
			ruid, err := decodeResponse(op, a, out())
			checkDecoded(t, op, a, ruid, err)
		}
		token, ruid, err := decodeToken(a)
		checkDecoded(t, OpTokenExchange, a, ruid, err)
		if err == nil && token == "" {
			t.Errorf("decodeToken(%d, %q) = no token and no error", status, body)
		}
	})
}

// checkDecoded checks the result of decoding a, by op.
func checkDecoded(t *testing.T, op string, a *answer, ruid string, err error) {
	t.Helper()
	if strings.ContainsAny(ruid, "\r\n") || !utf8.ValidString(ruid) && utf8.ValidString(string(a.body)) {
		t.Errorf("%s: ruid %q of %q is not one line of text", op, ruid, a.body)
	}
	if err == nil {
		if !a.success() {
			t.Errorf("%s: status %d decoded as success", op, a.status)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: decoding %d %q = %v (%T), want an *Error", op, a.status, a.body, err, err)
	}
	if text := e.Error(); strings.ContainsAny(text, "\r\n") {
		t.Errorf("%s: error text %q is not one line", op, text)
	}
	if !a.success() {
		wantKind := kindOfStatus(a.status)
		if op == OpTokenExchange && wantKind != KindRateLimited && wantKind != KindUnavailable {
			wantKind = KindUnauthenticated
		}
		if e.StatusCode != a.status || e.Kind != wantKind || e.Outcome != outcomeOfStatus(a.status) {
			t.Errorf("%s: status %d gave %v (status %d, Kind %v, Outcome %v), want Kind %v, Outcome %v",
				op, a.status, err, e.StatusCode, e.Kind, e.Outcome, wantKind, outcomeOfStatus(a.status))
		}
	}
}

// FuzzReaderRanges reads ranges of files of every size through a Reader,
// against a model of Booking's download endpoint under both readings of
// to, whose file may be another size than file_info says. It checks what
// the Reader promises: it returns exactly the bytes asked for or fails with
// KindDataLoss; the bytes it returns before failing are the file's; every
// GET asks for at most MaxRangeBytes under either reading of to, and to
// never points past the last byte of the file as file_info described it.
func FuzzReaderRanges(f *testing.F) {
	f.Add(int64(10), int64(0), int64(10), int64(0), false)
	f.Add(int64(2_500_000), int64(0), int64(2_500_000), int64(0), true)
	f.Add(int64(2_500_000), int64(999_999), int64(1_000_002), int64(0), false)
	f.Add(int64(1_000_000), int64(1_000_000), int64(0), int64(0), true)
	f.Add(int64(5_000_010), int64(0), int64(5_000_010), int64(-10), true)
	f.Add(int64(5_000_010), int64(0), int64(5_000_010), int64(-10), false)
	f.Add(int64(3_000_000), int64(4), int64(2_999_000), int64(7), false)
	f.Add(int64(10_485_760), int64(5), int64(0), int64(0), true)
	f.Fuzz(func(t *testing.T, infoSize, offset, length, sizeError int64, inclusive bool) {
		const maxSize = 12 << 20
		if infoSize < 0 || infoSize > maxSize || sizeError < -maxSize || sizeError > maxSize {
			return
		}
		realSize := infoSize + sizeError
		if realSize < 0 || realSize > maxSize || offset < 0 || offset > infoSize {
			return
		}
		if length <= 0 || length > infoSize-offset {
			length = infoSize - offset
		}
		model := &rangeModel{size: realSize, inclusive: inclusive, infoSize: infoSize}
		c := newTestClient(t, Config{BaseURL: "https://booking.invalid", ClientID: testClientID, ClientSecret: testSecret,
			HTTPClient: model, Retry: oneTry})
		ref := AttachmentRef{PropertyID: testProperty, ConversationID: testConversation, AttachmentID: "a1"}
		got, err := io.ReadAll(openReader(t, c, context.Background(), ref, infoSize, offset, length))
		call := fmt.Sprintf("reading [%d, +%d) of a %d-byte file that file_info says has %d bytes, inclusive to %v",
			offset, length, realSize, infoSize, inclusive)
		if v := model.broken(); v != "" {
			t.Fatalf("%s: %s", call, v)
		}
		if !bytes.Equal(got, model.content(offset, offset+int64(len(got)))) {
			t.Fatalf("%s: returned bytes other than the file's", call)
		}
		switch {
		case err == nil && int64(len(got)) != length:
			t.Fatalf("%s: returned %d bytes and no error", call, len(got))
		case err == nil && length > 0 && realSize < offset+length:
			t.Fatalf("%s: succeeded past the real end of the file", call)
		case err != nil:
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindDataLoss {
				t.Fatalf("%s: %v, want KindDataLoss", call, err)
			}
			if realSize == infoSize {
				t.Fatalf("%s: %v although the sizes agree", call, err)
			}
		}
	})
}

// rangeModel is an HTTPDoer that answers the token exchange and downloads of
// a file of size bytes (the start of modelFile), as Booking would
// under one reading of to. It records the first request that breaks the
// Reader's promises.
type rangeModel struct {
	size, infoSize int64
	inclusive      bool

	mu        sync.Mutex // the Reader's GETs run concurrently
	violation string
}

// modelFile is the content of every rangeModel's file, up to 12 MiB.
var modelFile = sync.OnceValue(func() []byte {
	b := make([]byte, 12<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
})

func (m *rangeModel) content(from, to int64) []byte {
	if to <= from {
		return nil
	}
	return modelFile()[from:to]
}

// broken returns the first request that broke the Reader's promises, or "".
func (m *rangeModel) broken() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.violation
}

func (m *rangeModel) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close() // as a client's transport does
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	if req.URL.Path == authPath {
		io.WriteString(rec, `{"jwt":"`+testJWT+`","ruid":"token-ruid"}`)
		return rec.Result(), nil
	}
	q := req.URL.Query()
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	to, hasTo := int64(0), q.Has("to")
	if hasTo {
		to, _ = strconv.ParseInt(q.Get("to"), 10, 64)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.violation == "" {
		switch {
		case !q.Has("from") || from < 0 || from >= m.infoSize:
			m.violation = fmt.Sprintf("GET from=%q outside the file file_info described", q.Get("from"))
		case hasTo && (to <= from || to > m.infoSize-1):
			m.violation = fmt.Sprintf("GET from=%d to=%d: to must be after from and at most the last byte", from, to)
		case hasTo && to-from+1 > MaxRangeBytes:
			m.violation = fmt.Sprintf("GET from=%d to=%d asks for more than %d bytes if to is inclusive", from, to, MaxRangeBytes)
		case !hasTo && m.infoSize-from > MaxRangeBytes:
			m.violation = fmt.Sprintf("GET from=%d without to asks for %d bytes", from, m.infoSize-from)
		}
	}
	end := m.size
	switch {
	case from >= m.size:
		rec.WriteHeader(http.StatusBadRequest)
		io.WriteString(rec, `{"data":null,"errors":[{"code":400,"message":"from is not before the end"}],"meta":{"ruid":"R"}}`)
		return rec.Result(), nil
	case hasTo && m.inclusive:
		end = min(to+1, m.size)
	case hasTo:
		end = min(to, m.size)
	}
	fmt.Fprintf(rec, `{"data":{"ok":"true","file_content":"%s"},"meta":{"ruid":"R"}}`,
		base64.StdEncoding.EncodeToString(m.content(from, end)))
	return rec.Result(), nil
}

// FuzzUploaderChunks hands files of every size to an Uploader in pieces of
// every size, with Take and Write, against the sandbox served in process,
// and checks that the chunked protocol holds (the sandbox refuses every
// mistake), that every chunk but the last carries exactly MaxChunkBytes and
// encodes to the base64 of its bytes, however many segments hold it, and
// that the stored file is the one written.
func FuzzUploaderChunks(f *testing.F) {
	f.Add(uint32(10), true, []byte{1})
	f.Add(uint32(1_000_000), false, []byte{255, 255, 255})
	f.Add(uint32(1_000_001), true, []byte{0, 1, 2, 3})
	f.Add(uint32(2_000_000), true, []byte{100, 7, 200, 1, 1})
	f.Add(uint32(3_500_123), false, []byte{30, 30, 30, 30, 30, 30})
	f.Add(uint32(10_485_760), true, []byte{255})
	f.Fuzz(func(t *testing.T, size uint32, declared bool, pieces []byte) {
		if size < 8 || size > MaxFileBytes || len(pieces) == 0 { // a PNG starts with an 8-byte signature
			return
		}
		opts := sandbox.Options{MegabyteBytes: 1_000_000}
		if size > 10*1_000_000 {
			opts.MegabyteBytes = 1 << 20 // a Booking that takes such a file
		}
		sb := sandbox.New(opts)
		c := newTestClient(t, Config{BaseURL: "https://booking.invalid", ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
			HTTPClient: inProcess{sb}, Retry: oneTry})
		content := pngFile(int(size))
		file := FileHeader{Name: "f.png", Type: "image/png"}
		if declared {
			file.Size = int64(size)
		}
		u, err := c.NewUploader(context.Background(), testConv, file)
		if err != nil {
			t.Fatal(err)
		}
		// Each piece's length is its byte times a scale that lets a few
		// pieces cover a 10 MB file, and one-byte writes too.
		scale := 1 + int(size)/(255*len(pieces))
		// Odd pieces are handed over with Take, even ones copied with Write.
		kept := bytes.Clone(content)
		for rest, i := kept, 0; len(rest) > 0; i++ {
			piece := pieces[i%len(pieces)]
			n := min(len(rest), max(1, int(piece)*scale))
			var err error
			if piece%2 == 1 {
				err = u.Take(rest[:n])
			} else {
				_, err = u.Write(rest[:n])
			}
			if err != nil {
				t.Fatalf("Take or Write of %d bytes at %d of %d: %v", n, len(content)-len(rest), size, err)
			}
			rest = rest[n:]
		}
		for i, chunk := range u.held.chunks {
			if i < len(u.held.chunks)-1 && chunk.n != MaxChunkBytes {
				t.Fatalf("chunk %d of %d holds %d bytes, want %d", i, len(u.held.chunks), chunk.n, MaxChunkBytes)
			}
			var joined []byte
			for _, seg := range chunk.segments {
				joined = append(joined, seg...)
			}
			encoded := make([]byte, base64.StdEncoding.EncodedLen(chunk.n))
			if n := encodeBase64(encoded, chunk.segments); n != len(encoded) || string(encoded) != base64.StdEncoding.EncodeToString(joined) {
				t.Fatalf("chunk %d in %d segments encodes to other base64 than its bytes", i, len(chunk.segments))
			}
		}
		a, err := u.Close()
		if err != nil {
			t.Fatalf("Close of %d bytes: %v", size, err)
		}
		stored, ok := sb.Attachment(testProperty, testConversation, a.ID)
		if !ok || !bytes.Equal(stored.Content, content) {
			t.Fatalf("the sandbox holds %d bytes under %q, want the %d written", len(stored.Content), a.ID, size)
		}
		if a.Chunked != (size > MaxChunkBytes) {
			t.Errorf("a %d-byte file went chunked: %v", size, a.Chunked)
		}
	})
}

// inProcess is an HTTPDoer that serves requests with a handler in the same
// goroutine, without a network.
type inProcess struct{ h http.Handler }

func (p inProcess) Do(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close() // as a client's transport does
	}
	return rec.Result(), nil
}

// FuzzRangeFastPath decodes arbitrary download answers with
// decodeRangeAnswer, whose fast path takes the plain ones, and with the
// general decoder alone: they must agree on the bytes, the ruid, and
// whether and how decoding fails.
func FuzzRangeFastPath(f *testing.F) {
	f.Add(200, []byte(`{"data":{"ok":"true","file_content":"YWJj","attachment_id":"x"},"meta":{"ruid":"R"}}`))
	f.Add(200, []byte(`{"meta":{"file_content":"ZGVm"},"data":{"file_content":"YWJj"}}`))
	f.Add(200, []byte(`{"data":{"file_content":"YW\/j"}}`))
	f.Add(200, []byte(`{"data":{"file_content" : "YWJj", "ok": "false"}, "errors": []}`))
	f.Add(200, []byte("{\"data\":{\"file_content\":\"YW\rJj\"}}"))
	f.Add(404, []byte(`{"data":null,"errors":[{"message":"gone"}],"meta":{"ruid":"R"}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		a := &answer{status: status, header: http.Header{}, body: body}
		got, ruid, err := decodeRangeAnswer(a)
		defer got.release()
		var general rangeData
		wantRUID, wantErr := decodeResponse(OpDownload, a, &general)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got.bytes, general.FileContent) || ruid != wantRUID {
			t.Fatalf("decodeRangeAnswer(%d, %q) = %q, %q, %v; the general decoder gives %q, %q, %v",
				status, body, got.bytes, ruid, err, general.FileContent, wantRUID, wantErr)
		}
		var e, want *Error
		if errors.As(err, &e) && errors.As(wantErr, &want) && (e.Kind != want.Kind || e.Outcome != want.Outcome) {
			t.Fatalf("decodeRangeAnswer(%d, %q) failed with Kind %v, Outcome %v; the general decoder with %v, %v",
				status, body, e.Kind, e.Outcome, want.Kind, want.Outcome)
		}
	})
}
