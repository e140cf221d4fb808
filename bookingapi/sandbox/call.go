package sandbox

import "net/http"

// call is one request on its way through an endpoint handler. rec is
// recorded in the request log just before the answer is written, so that a
// client that has its answer finds its request in Requests(), and again when
// the handler returns, for requests that are dropped.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	rec   Request
	entry int // rec's place in the request log
}

// handle returns the handler of one endpoint: it logs the request and
// passes it to serve.
func (s *Server) handle(ep Endpoint, serve func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: w, r: r, rec: Request{Endpoint: ep}, entry: s.log.arrive()}
		if ep == EndpointChunks {
			c.rec.ChunkNumber = -1
		}
		// Deferred so that a Drop fault, which panics, is logged too.
		defer func() { s.log.finish(c.entry, c.rec) }()
		serve(c)
	}
}

// fail answers with err in Booking's envelope.
func (c *call) fail(err *apiError) {
	c.writeEnvelope(err.status, nil, []envelopeItem{{Code: err.status, Message: err.message}})
}

// succeed answers 200 with data in Booking's envelope.
func (c *call) succeed(data any) {
	c.writeEnvelope(http.StatusOK, data, []envelopeItem{})
}

func (c *call) writeEnvelope(status int, data any, errs []envelopeItem) {
	ruid := newRUID()
	c.answer(status, ruid, envelope{
		Data:     data,
		Errors:   errs,
		Warnings: []envelopeItem{},
		Meta:     envelopeMeta{RUID: ruid},
	})
}

// answer records the request with its status and ruid, then writes body.
func (c *call) answer(status int, ruid string, body any) {
	c.rec.Status, c.rec.RUID = status, ruid
	c.s.log.finish(c.entry, c.rec)
	writeJSON(c.w, status, body)
}

// admit runs the steps every messaging request takes before its
// endpoint's own checks: faults (matched with action), authentication,
// then property_id. It returns false if it has answered or dropped the
// request.
func (c *call) admit(action string) (propertyID int64, ok bool) {
	if c.applyFault(action) {
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
