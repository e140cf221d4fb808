package sandbox

import (
	"net/http"
)

// Endpoint names one of the emulated endpoints.
type Endpoint string

// The emulated endpoints, with their methods and paths.
const (
	// EndpointToken is POST /token-based-authentication/exchange.
	EndpointToken Endpoint = "token"
	// EndpointUpload is POST
	// /messaging/properties/{property_id}/conversations/{conversation_id}/attachments.
	EndpointUpload Endpoint = "upload"
	// EndpointChunks is POST
	// /messaging/properties/{property_id}/conversations/{conversation_id}/attachment_chunks.
	EndpointChunks Endpoint = "chunks"
	// EndpointDownload is GET
	// /messaging/properties/{property_id}/conversations/{conversation_id}/attachments/{attachment_id}.
	EndpointDownload Endpoint = "download"
	// EndpointFileInfo is GET
	// /messaging/properties/{property_id}/conversations/{conversation_id}/attachments/{attachment_id}/file_info.
	EndpointFileInfo Endpoint = "file_info"
	// EndpointMessages is POST
	// /messaging/properties/{property_id}/conversations/{conversation_id},
	// which posts a message to the guest.
	EndpointMessages Endpoint = "messages"
)

// Endpoints returns every emulated endpoint, in the order of the list
// above: the names a Fault's Endpoint and a Request's Endpoint take.
func Endpoints() []Endpoint {
	return []Endpoint{EndpointToken, EndpointUpload, EndpointChunks, EndpointDownload, EndpointFileInfo, EndpointMessages}
}

const (
	tokenPath        = "/token-based-authentication/exchange"
	conversationPath = "/messaging/properties/{property_id}/conversations/{conversation_id}"
	uploadPath       = conversationPath + "/attachments"
	chunksPath       = conversationPath + "/attachment_chunks"
	downloadPath     = conversationPath + "/attachments/{attachment_id}"
	fileInfoPath     = downloadPath + "/file_info"
)

func (s *Server) routes() {
	s.route(http.MethodPost, tokenPath, EndpointToken, s.serveToken)
	s.route(http.MethodPost, uploadPath, EndpointUpload, s.serveUpload)
	s.route(http.MethodPost, chunksPath, EndpointChunks, s.serveChunks)
	s.route(http.MethodGet, downloadPath, EndpointDownload, s.serveDownload)
	s.route(http.MethodGet, fileInfoPath, EndpointFileInfo, s.serveFileInfo)
	s.route(http.MethodPost, conversationPath, EndpointMessages, s.serveMessages)
	s.mux.HandleFunc("/", s.unrouted)
}

// route serves ep on method and path, and answers other methods on path
// with 405 in Booking's envelope (http.ServeMux's own 405 is plain text).
func (s *Server) route(method, path string, ep Endpoint, serve func(*call)) {
	s.mux.Handle(method+" "+path, s.handle(ep, serve))
	s.mux.Handle(path, s.handle(ep, func(c *call) {
		c.fail(errorf(http.StatusMethodNotAllowed,
			"method %s is not allowed on %s: use %s", c.r.Method, c.r.URL.Path, method))
		c.ans.header.Set("Allow", method)
	}))
}

// unrouted answers a request whose path matches no endpoint.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	s.handle("", func(c *call) {
		c.fail(errorf(http.StatusNotFound, "no endpoint at %s %s", r.Method, r.URL.EscapedPath()))
	})(w, r)
}
