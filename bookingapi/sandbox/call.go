package sandbox

import "net/http"

// call is one request on its way through an endpoint handler. The handler
// leaves its answer in ans; deliver then lets the fault act on it and
// sends it. rec is recorded in the request log just before the answer is
// written, so that a client that has its answer finds its request in
// Requests(), and again when the handler returns, for requests that get
// no answer.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	rec   Request
	entry int // rec's place in the request log

	fault Fault   // the fault that fired on the request; zero if none
	ans   *answer // the answer to send
}

// handle returns the handler of one endpoint: it logs the request, passes
// it to serve, and sends the answer serve leaves.
func (s *Server) handle(ep Endpoint, serve func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, rec: Request{Endpoint: ep}, entry: s.log.arrive()}
		if ep == EndpointChunks {
			c.rec.ChunkNumber = -1
		}
		// Deferred so that a request that gets no answer, which panics,
		// is logged too.
		defer func() { s.log.finish(c.entry, c.rec) }()
		serve(c)
		c.deliver()
	}
}

// fail answers with err in Booking's envelope.
func (c *call) fail(err *apiError) {
	c.ans = envelopeAnswer(err.status, nil, []envelopeItem{{Code: err.status, Message: err.message}})
}

// succeed answers 200 with data in Booking's envelope.
func (c *call) succeed(data any) {
	c.done(envelopeAnswer(http.StatusOK, data, []envelopeItem{}))
}

// done answers with a, the answer of a request the server has handled:
// its effects have taken place.
func (c *call) done(a *answer) {
	c.rec.Processed = true
	c.ans = a
}

// admit runs the steps every messaging request takes before its
// endpoint's own checks: faults (matched with action), authentication,
// then property_id. It returns false if it has answered the request.
func (c *call) admit(action string) (propertyID int64, ok bool) {
	if !c.fireFault(action) {
		return 0, false
	}
	if err := c.s.authenticate(c.r); err != nil {
		c.fail(err)
		return 0, false
	}
	propertyID, err := parsePropertyID(c.r.PathValue("property_id"))
	if err != nil {
		c.fail(err)
		return 0, false
	}
	if c.s.denied[propertyID] {
		// Booking's wording, from its messaging troubleshooting page.
		c.fail(errorf(http.StatusForbidden, "This account doesn't have access to this property"))
		return 0, false
	}
	return propertyID, true
}

// reply answers with err if it is not nil, else with data.
func (c *call) reply(data any, err *apiError) {
	if err != nil {
		c.fail(err)
		return
	}
	c.succeed(data)
}

// firstError returns the first non-nil error.
func firstError(errs ...*apiError) *apiError {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
