package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// The control API lives under controlPrefix, which none of Booking's paths
// begins with.
const (
	controlRoot   = "/_sandbox"
	controlPrefix = controlRoot + "/"

	// maxControlBodyBytes caps a control request's body; a fault is far
	// smaller.
	maxControlBodyBytes = 64 << 10
)

// isControl reports whether a request for p goes to the control API.
func isControl(p string) bool {
	return p == controlRoot || strings.HasPrefix(p, controlPrefix)
}

// control serves the control API of a sandbox. It is safe for concurrent
// use and keeps no state of its own: everything it shows or changes is the
// sandbox's, shared by every connection.
type control struct {
	sb  *sandbox.Server
	mux *http.ServeMux
}

// newControl returns the control API's handler for sb.
func newControl(sb *sandbox.Server) http.Handler {
	c := &control{sb: sb, mux: http.NewServeMux()}
	c.route("/_sandbox/healthz", map[string]http.HandlerFunc{http.MethodGet: c.healthz})
	c.route("/_sandbox/faults", map[string]http.HandlerFunc{
		http.MethodPost:   c.injectFault,
		http.MethodDelete: c.clearFaults,
	})
	c.route("/_sandbox/requests", map[string]http.HandlerFunc{http.MethodGet: c.requests})
	c.route("/_sandbox/messages", map[string]http.HandlerFunc{http.MethodGet: c.messages})
	c.route("/_sandbox/attachments", map[string]http.HandlerFunc{http.MethodGet: c.attachments})
	c.route("/_sandbox/attachments/{property_id}/{conversation_id}/{attachment_id}",
		map[string]http.HandlerFunc{http.MethodGet: c.attachment})
	c.route("/_sandbox/revoke-tokens", map[string]http.HandlerFunc{http.MethodPost: c.revokeTokens})
	c.mux.HandleFunc("/", c.notFound)
	return c
}

// route serves each method of handlers on pattern, and answers other
// methods with 405 in the control API's error shape (http.ServeMux's own
// is plain text).
func (c *control) route(pattern string, handlers map[string]http.HandlerFunc) {
	methods := make([]string, 0, len(handlers))
	for method, h := range handlers {
		c.mux.Handle(method+" "+pattern, h)
		methods = append(methods, method)
	}
	slices.Sort(methods)
	allow := strings.Join(methods, ", ")
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		fail(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, allow)
	})
}

func (c *control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); path.Clean(p) != p {
		// http.ServeMux would redirect to the clean path, which may be one
		// of Booking's.
		c.notFound(w, r)
		return
	}
	c.mux.ServeHTTP(w, r)
}

func (c *control) notFound(w http.ResponseWriter, r *http.Request) {
	fail(w, http.StatusNotFound, "no control endpoint at %s %s: the control API has GET %[3]shealthz, "+
		"POST and DELETE %[3]sfaults, GET %[3]srequests, GET %[3]smessages, GET %[3]sattachments, "+
		"GET %[3]sattachments/{property_id}/{conversation_id}/{attachment_id} and POST %[3]srevoke-tokens",
		r.Method, r.URL.EscapedPath(), controlPrefix)
}

// healthz answers GET /_sandbox/healthz: the sandbox is serving.
func (c *control) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := queryOf(r, nil); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// revokeTokens answers POST /_sandbox/revoke-tokens: every token issued
// so far gets 401 from now on.
func (c *control) revokeTokens(w http.ResponseWriter, r *http.Request) {
	if _, err := queryOf(r, nil); err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	c.sb.RevokeTokens()
	w.WriteHeader(http.StatusNoContent)
}

// errorBody is every control error's body: one line saying what was wrong.
type errorBody struct {
	Error string `json:"error"`
}

// fail answers status with the message on one line.
func fail(w http.ResponseWriter, status int, format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	writeJSON(w, status, errorBody{Error: msg})
}

// writeJSON answers status with v as compact JSON on one line, without
// escaping <, > and &, so that content reads as the guest sees it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value written here is built from plain types.
		panic("booking-sandbox: encoding a control answer: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// queryOf returns r's query parameters after checking that it parses, that
// every parameter is one of params, and that those not marked repeatable
// appear once.
func queryOf(r *http.Request, params map[string]bool) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("the query %q does not parse: %v", r.URL.RawQuery, err)
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		repeatable, ok := params[name]
		switch {
		case !ok && len(params) == 0:
			return nil, fmt.Errorf("unknown query parameter %q: %s takes none", name, r.URL.Path)
		case !ok:
			return nil, fmt.Errorf("unknown query parameter %q: %s takes %s", name, r.URL.Path, strings.Join(sortedKeys(params), ", "))
		case !repeatable && len(q[name]) > 1:
			return nil, fmt.Errorf("query parameter %s appears %d times; give it once", name, len(q[name]))
		}
	}
	return q, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
