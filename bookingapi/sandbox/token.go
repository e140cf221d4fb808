package sandbox

import (
	"crypto/subtle"
	"net/http"
)

// tokenResponse is the token exchange's answer; unlike the messaging
// endpoints it is not wrapped in an envelope.
type tokenResponse struct {
	JWT  string `json:"jwt"`
	RUID string `json:"ruid"`
}

// serveToken answers POST /token-based-authentication/exchange with body
// {"client_id": "...", "client_secret": "..."}.
func (s *Server) serveToken(c *call) {
	body, readErr := c.readBody()
	if !c.fireFault("") {
		return
	}
	if err := checkBody(c.r, readErr); err != nil {
		c.fail(err)
		return
	}
	if err := s.checkCredentials(body); err != nil {
		c.fail(err)
		return
	}
	ruid := newRUID()
	tok := s.tokens.issue(s.opts.Now(), s.opts.TokenTTL)
	c.done(newAnswer(http.StatusOK, ruid, tokenResponse{JWT: tok, RUID: ruid}))
}

// checkCredentials returns nil if body holds the accepted client_id and
// client_secret.
func (s *Server) checkCredentials(body []byte) *apiError {
	var d decoder
	root := d.body(body)
	id := d.optionalString(root, "client_id")
	secret := d.optionalString(root, "client_secret")
	switch {
	case d.err != nil:
		return d.err
	case id == "":
		return accessDenied("client_id is missing")
	case secret == "":
		return accessDenied("client_secret is missing")
	}
	if !equal(id, s.opts.ClientID) || !equal(secret, s.opts.ClientSecret) {
		return accessDenied("client_id or client_secret is wrong")
	}
	return nil
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
