package sandbox

import (
	"net/url"
	"slices"
	"sync"
)

// Request records one request the server received, for tests to inspect.
// Fields that come from the body hold what could be read from it, even when
// the request was rejected or faulted; the rest keep their zero values.
type Request struct {
	// Endpoint is the endpoint whose path the request matched; empty when
	// the path matched none (the server answered 404).
	Endpoint Endpoint

	// Action is the chunked upload's action: "start", "resume", "finish",
	// or whatever string the client sent. Chunks only.
	Action string

	// ChunkNumber is the chunk's number; -1 if absent or not a number.
	// Chunks only (0 for other endpoints).
	ChunkNumber int

	// UploadID is the upload_id the client sent. Chunks only.
	UploadID string

	// DecodedBytes is the number of bytes file_content or chunk_content
	// decodes to; 0 if there is none or it is not valid base64.
	DecodedBytes int

	// FileSize is file_size in an upload or chunk request.
	FileSize int64

	// Query holds a download's query parameters as received.
	Query url.Values

	// AttachmentIDs holds a message's attachment_ids as sent, leaving out
	// elements that are not strings; nil if absent or not an array.
	// Messages only.
	AttachmentIDs []string

	// Processed reports whether the endpoint handled the request with
	// success, so that its effects took place: an attachment stored, a
	// chunk accepted, a token issued, an attachment or its file_info read.
	// It is true for a Processed fault's request even when the client got
	// another answer or none; false for rejected requests and for requests
	// a fault answered before they were handled.
	Processed bool

	// Status is the HTTP status of the answer the client received; 0 if
	// the server sent none (Drop or Hang, or the client went away during a
	// Delay). An answer cut short by CutAfter keeps its status.
	Status int

	// RUID is meta.ruid (or ruid, for the token exchange) of the answer
	// sent, even if CutAfter cut it off; empty if the answer had none (an
	// HTML page) or none was sent.
	RUID string
}

// requestLog holds the Requests in arrival order. It is safe for
// concurrent use.
type requestLog struct {
	mu      sync.Mutex
	entries []logEntry
}

type logEntry struct {
	request Request
	done    bool
}

// arrive reserves the next place in arrival order and returns its index
// for finish.
func (l *requestLog) arrive() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, logEntry{})
	return len(l.entries) - 1
}

// finish records r in the place arrive reserved.
func (l *requestLog) finish(i int, r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[i] = logEntry{request: r, done: true}
}

func (l *requestLog) all() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Request, 0, len(l.entries))
	for _, e := range l.entries {
		if !e.done {
			continue
		}
		r := e.request
		if r.Query != nil {
			r.Query = cloneValues(r.Query)
		}
		r.AttachmentIDs = slices.Clone(r.AttachmentIDs)
		out = append(out, r)
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Requests returns a copy of the requests received so far, in arrival
// order, across all endpoints and including faulted and rejected ones. A
// request appears once the server begins to send its answer (or, if it
// gets none, once the server is done with it): still-running requests,
// hung ones included, are left out. The log is never trimmed.
func (s *Server) Requests() []Request {
	return s.log.all()
}

// pending counts the requests that arrived and are not recorded yet.
func (l *requestLog) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if !e.done {
			n++
		}
	}
	return n
}

// Pending returns how many requests have arrived that Requests does not
// show yet: their answers are still to come, or, for requests that get
// none (a Hang or a Drop), their handlers have not returned. Tests wait for
// it to reach 0 before they count requests that a client gave up on.
func (s *Server) Pending() int {
	return s.log.pending()
}
