package sandbox

import (
	"net/http"
	"path"
	"strings"
)

// Server emulates Booking's token exchange and attachment endpoints. It is
// an http.Handler, safe for concurrent use. Create it with New.
type Server struct {
	opts   Options
	denied map[int64]bool
	mux    *http.ServeMux
	tokens tokenStore
	faults faultList
	store  *store
	log    requestLog
}

var _ http.Handler = (*Server)(nil)

// New returns a Server configured by opts, with no tokens, attachments or
// faults yet.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:   opts,
		denied: make(map[int64]bool, len(opts.DeniedPropertyIDs)),
		mux:    http.NewServeMux(),
		tokens: tokenStore{tokens: make(map[string]tokenState)},
		store:  newStore(opts.MaxStoredBytes, opts.Now),
	}
	for _, id := range opts.DeniedPropertyIDs {
		s.denied[id] = true
	}
	s.routes()
	return s
}

// ServeHTTP answers one request as Booking would, or misbehaves as an
// injected Fault says.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); cleanPath(p) != p {
		// http.ServeMux would redirect to the clean path; Booking's URLs
		// are fixed, so a client that sends another one has a bug.
		s.unrouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath is path.Clean keeping a trailing slash, as http.ServeMux
// cleans paths.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// call is one request on its way through an endpoint handler. rec is
// recorded in the request log when the handler returns.
type call struct {
	s   *Server
	w   http.ResponseWriter
	r   *http.Request
	rec Request
}

// handle returns the handler of one endpoint: it logs the request and
// passes it to serve.
func (s *Server) handle(ep Endpoint, serve func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := s.log.arrive()
		c := &call{s: s, w: w, r: r, rec: Request{Endpoint: ep}}
		if ep == EndpointChunks {
			c.rec.ChunkNumber = -1
		}
		// Deferred so that a Drop fault, which panics, is logged too.
		defer func() { s.log.finish(i, c.rec) }()
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
	c.rec.Status = status
	c.rec.RUID = newRUID()
	writeJSON(c.w, status, envelope{
		Data:     data,
		Errors:   errs,
		Warnings: []envelopeItem{},
		Meta:     envelopeMeta{RUID: c.rec.RUID},
	})
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
