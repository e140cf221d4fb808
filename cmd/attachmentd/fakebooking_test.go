package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fakeBooking answers the gateway's requests with as little work of its own
// as it can, so that a measurement of the gateway counts the gateway: it
// reads request bodies without decoding them, answers from precomputed
// bodies, and serves downloads of one file, benchFile, under any id. It
// checks nothing; the sandbox is the strict one. latency, if set, delays
// every answer.
type fakeBooking struct {
	file    []byte
	latency atomic.Int64 // nanoseconds before each answer
	nextID  atomic.Int64

	mu     sync.Mutex
	ranges map[string][]byte // download answers by query
}

func newFakeBooking(file []byte) *fakeBooking {
	return &fakeBooking{file: file, ranges: make(map[string][]byte)}
}

func (f *fakeBooking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(f.latency.Load()))
	switch {
	case r.URL.Path == "/token-based-authentication/exchange":
		f.write(w, []byte(`{"jwt":"bench-token","ruid":"r"}`))
	case r.Method == http.MethodPost && bytes.HasSuffix([]byte(r.URL.Path), []byte("/attachments")):
		io.Copy(io.Discard, r.Body)
		f.write(w, fmt.Appendf(nil, `{"data":{"ok":"true","attachment_id":"a%d"},"meta":{"ruid":"r"}}`, f.nextID.Add(1)))
	case r.Method == http.MethodPost && bytes.HasSuffix([]byte(r.URL.Path), []byte("/attachment_chunks")):
		f.chunk(w, r)
	case r.Method == http.MethodPost:
		io.Copy(io.Discard, r.Body)
		f.write(w, fmt.Appendf(nil, `{"data":{"ok":"true","message_id":"m%d"},"meta":{"ruid":"r"}}`, f.nextID.Add(1)))
	case bytes.HasSuffix([]byte(r.URL.Path), []byte("/file_info")):
		f.write(w, fmt.Appendf(nil, `{"data":{"file_name":"bench.jpg","file_type":"image/jpeg","file_size":%d},"meta":{"ruid":"r"}}`, len(f.file)))
	default:
		f.write(w, f.rangeAnswer(r.URL.Query().Get("from"), r.URL.Query().Get("to")))
	}
}

// chunk answers a chunk by the action its body names in its first bytes,
// where the gateway puts it.
func (f *fakeBooking) chunk(w http.ResponseWriter, r *http.Request) {
	head := make([]byte, 64)
	n, _ := io.ReadFull(r.Body, head)
	io.Copy(io.Discard, r.Body)
	switch head = head[:n]; {
	case bytes.Contains(head, []byte(`"action":"start"`)):
		f.write(w, fmt.Appendf(nil, `{"data":{"ok":"true","upload_id":"u%d","attachment_id":null},"meta":{"ruid":"r"}}`, f.nextID.Add(1)))
	case bytes.Contains(head, []byte(`"action":"finish"`)):
		f.write(w, fmt.Appendf(nil, `{"data":{"ok":"true","upload_id":null,"attachment_id":"a%d"},"meta":{"ruid":"r"}}`, f.nextID.Add(1)))
	default:
		f.write(w, []byte(`{"data":{"ok":"true","upload_id":null,"attachment_id":null},"meta":{"ruid":"r"}}`))
	}
}

// rangeAnswer is the answer to a download from..to (exclusive), made once.
func (f *fakeBooking) rangeAnswer(fromText, toText string) []byte {
	key := fromText + "-" + toText
	f.mu.Lock()
	defer f.mu.Unlock()
	if body, ok := f.ranges[key]; ok {
		return body
	}
	from, _ := strconv.Atoi(fromText)
	to := len(f.file)
	if toText != "" {
		to, _ = strconv.Atoi(toText)
	}
	from, to = min(from, len(f.file)), min(to, len(f.file))
	body := fmt.Appendf(nil, `{"data":{"ok":"true","file_content":"%s","attachment_id":"bench","conversation_id":"c"},"meta":{"ruid":"r"},"errors":[],"warnings":[]}`,
		base64.StdEncoding.EncodeToString(f.file[from:to]))
	f.ranges[key] = body
	return body
}

func (f *fakeBooking) write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}
