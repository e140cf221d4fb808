package sandbox

import (
	"sync"
	"time"
)

// Fault makes the server misbehave on chosen requests: answer with an
// error, late, never or in part, lose an answer after doing the work, or
// send an answer other than the one Booking would.
//
// A fault that fires acts in two stages. The first decides whether an
// answer is sent, and which, in this order: Delay waits; Hang never
// answers; Drop closes the connection; Status replaces the answer with an
// error (an HTML page with HTML). The second changes the body of the
// answer that is sent, in this order: Alter, PadBytes, then CutAfter.
//
// Without Processed the first stage acts before anything else,
// authentication included, so a fault also fires on requests that would
// be rejected; if it leaves the request unanswered (Status 0, neither Hang
// nor Drop), the request is then handled normally and the second stage
// acts on the real answer. With Processed the request is handled normally
// first, so that its effects take place, and both stages then act on its
// answer.
//
// Request logs what the client received: Status 0 and no RUID when
// nothing was sent.
//
// A Drop gives the client a network error, but net/http's Transport
// silently retries an idempotent request (a GET) whose connection was
// reused from its idle pool; the retry is one more matching request. Set
// Times above 1, or disable keep-alives in the client, to make a dropped
// GET reach the caller.
type Fault struct {
	// Endpoint is the endpoint whose requests the fault matches.
	Endpoint Endpoint

	// Action, for EndpointChunks only, narrows the match to requests whose
	// body holds this action ("start", "resume" or "finish"); empty matches
	// any, including bodies that cannot be read.
	Action string

	// Nth makes the fault fire on the Nth matching request counted from
	// injection (1-based; 0 means 1).
	Nth int

	// Times makes the fault fire on this many consecutive matching
	// requests from the Nth on (0 means 1).
	Times int

	// Processed handles the request normally before the fault acts, as if
	// the fault struck between Booking and the client: the attachment is
	// stored, the chunk accepted, the message posted, the token issued,
	// whatever the client then receives. Request.Processed shows it. With
	// Drop or Hang the answer is lost after Booking did the work; with
	// Status it is replaced, as by a proxy that gave up waiting (a 504);
	// with Delay it comes late.
	Processed bool

	// Delay waits this long before the rest of the first stage (and, with
	// Processed, after handling the request). If the client goes away
	// while waiting, the server stops and answers nothing.
	Delay time.Duration

	// Hang never answers: the server waits until the client goes away (the
	// request's context is done), then closes the connection without
	// writing anything. It takes precedence over Drop and Status. A hung
	// request keeps httptest.Server's Close waiting for its client, so
	// give the client a timeout.
	Hang bool

	// Drop closes the connection without answering. It takes precedence
	// over Status.
	Drop bool

	// Status answers with this HTTP status and an error envelope with a
	// fresh ruid, instead of handling the request or, with Processed,
	// instead of its real answer. 0 sends the real answer.
	Status int

	// HTML, with Status, makes the error answer an HTML page
	// (Content-Type text/html) such as a load balancer sends, with no
	// envelope and no ruid. It has no effect without Status.
	HTML bool

	// RetryAfter, if set, is sent as the Retry-After header with Status.
	// Booking documents no Retry-After, so it is never sent otherwise.
	RetryAfter string

	// Alter changes a successful answer's data: if the answer's status is
	// 2xx and its envelope has a data object, that object is decoded as
	// encoding/json decodes into a map (numbers become float64), passed to
	// Alter, and encoded again in place of the real data. It changes only
	// what the client receives, never what the server stores. Other
	// answers, the token exchange's included, are sent unaltered. Alter is
	// called on the request's goroutine, so it must be safe for concurrent
	// use if the fault fires on concurrent requests.
	Alter func(data map[string]any)

	// PadBytes appends this many spaces to the body. After a JSON value
	// they are white space, so the body stays valid JSON; Content-Length
	// counts them.
	PadBytes int

	// CutAfter, if positive and less than the body's length (padding
	// included), sends only the body's first CutAfter bytes after headers
	// that announce its full Content-Length, then closes the connection:
	// net/http clients read io.ErrUnexpectedEOF from the body. Request
	// logs the status and ruid of the answer that was cut.
	CutAfter int
}

// InjectFault adds f. Faults are independent: every fault counts the
// requests it matches, and when several fire on one request the first
// injected wins. A fault is forgotten once it has fired Times times.
func (s *Server) InjectFault(f Fault) {
	if f.Nth <= 0 {
		f.Nth = 1
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &faultState{Fault: f})
}

// ClearFaults forgets every injected fault, so that requests from now on
// are handled normally until another fault is injected; a fault injected
// later counts its requests from its own injection. It does not stop a
// fault that has already fired: a request held by a Delay or Hang stays
// held.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	clear(s.faults.faults)
	s.faults.faults = nil
}

// faultList holds the injected faults in injection order. It is safe for
// concurrent use.
type faultList struct {
	mu     sync.Mutex
	faults []*faultState
}

type faultState struct {
	Fault
	matched int // matching requests so far
}

// fire counts a request to ep with action against every fault and returns
// the first that fires on it.
func (l *faultList) fire(ep Endpoint, action string) (Fault, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var fired *Fault
	kept := l.faults[:0]
	for _, f := range l.faults {
		if f.Endpoint == ep && (f.Action == "" || f.Action == action) {
			f.matched++
			if fired == nil && f.matched >= f.Nth {
				fired = &f.Fault
			}
		}
		if f.matched < f.Nth+f.Times-1 {
			kept = append(kept, f)
		}
	}
	clear(l.faults[len(kept):])
	l.faults = kept
	if fired == nil {
		return Fault{}, false
	}
	return *fired, true
}
