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
