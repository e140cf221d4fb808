package sandbox

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault makes the server misbehave on chosen requests. Faults act before
// anything else, authentication included, so they also fire on requests
// that would be rejected.
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

	// Status answers with this HTTP status and an error envelope (with a
	// ruid) instead of handling the request. 0 handles the request
	// normally after Delay.
	Status int

	// RetryAfter, if set, is sent as the Retry-After header with Status.
	// Booking documents no Retry-After, so it is never sent otherwise.
	RetryAfter string

	// Drop closes the connection without answering instead of handling
	// the request. It takes precedence over Status.
	Drop bool

	// Delay waits this long before acting (answering with Status,
	// dropping, or handling the request). If the client goes away while
	// waiting, the server stops and answers nothing.
	Delay time.Duration
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

// applyFault fires the faults matching this request. It returns true if a
// fault has answered or dropped the request (or the client went away
// during its Delay), false if the request is to be handled normally.
func (c *call) applyFault(action string) bool {
	f, ok := c.s.faults.fire(c.rec.Endpoint, action)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			return true
		}
	}
	switch {
	case f.Drop:
		// The server closes the connection without writing a response,
		// and logs nothing for this panic value. The deferred log entry
		// in handle still records the request, with Status 0.
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		if f.RetryAfter != "" {
			c.w.Header().Set("Retry-After", f.RetryAfter)
		}
		c.fail(errorf(f.Status, "injected fault: %d %s", f.Status,
			strings.ToLower(http.StatusText(f.Status))))
		return true
	}
	return false
}
