package bookingapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

const (
	// tokenLifetime is how long Booking accepts a token.
	tokenLifetime = time.Hour
	// tokenEarlyRefresh is how long before expiry a token is replaced, so
	// that no request carries a token that expires on its way.
	tokenEarlyRefresh = 5 * time.Minute
	// rejectionInterval is the least time between two 401 answers that each
	// replace the token. An account may create only 30 tokens an hour: when
	// Booking refuses fresh tokens too, the calls fail instead of spending
	// them all.
	rejectionInterval = 2 * time.Minute
)

// tokenSource caches the access token shared by all calls of a Client and
// replaces it shortly before it expires, with one exchange at a time however
// many calls wait for it.
type tokenSource struct {
	client       *Client
	authURL      string
	clientID     string
	clientSecret string

	mu           sync.Mutex
	current      string
	issued       time.Time
	lastRejected time.Time    // when a 401 last replaced the token
	inflight     *tokenFlight // the running exchange, if any
}

// tokenFlight is one token exchange that callers wait for.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

func newTokenSource(c *Client, authURL, clientID, clientSecret string) *tokenSource {
	return &tokenSource{client: c, authURL: authURL, clientID: clientID, clientSecret: clientSecret}
}

// token returns a token valid for a while yet, exchanging the credentials for
// a new one when needed. A caller whose ctx ends stops waiting; the exchange
// goes on for the others.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.current != "" && time.Since(s.issued) < tokenLifetime-tokenEarlyRefresh {
		token := s.current
		s.mu.Unlock()
		return token, nil
	}
	flight := s.inflight
	if flight == nil {
		flight = &tokenFlight{done: make(chan struct{})}
		s.inflight = flight
		go s.refresh(flight)
	}
	s.mu.Unlock()

	select {
	case <-flight.done:
		return flight.token, flight.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// reject drops token after Booking answered 401 to it, so that the next call
// exchanges the credentials again; unless the token was replaced already, or
// another was dropped less than rejectionInterval ago.
func (s *tokenSource) reject(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == token && time.Since(s.lastRejected) >= rejectionInterval {
		s.current = ""
		s.lastRejected = time.Now()
	}
}

// refresh runs one exchange and hands its result to the waiting callers.
// The exchange runs on behalf of every waiting call, so it does not stop
// when one of them gives up; the client's request timeout bounds it.
func (s *tokenSource) refresh(flight *tokenFlight) {
	issued := time.Now()
	flight.token, flight.err = s.exchangeWithRetry(context.Background())

	s.mu.Lock()
	if flight.err == nil {
		s.current, s.issued = flight.token, issued
	}
	s.inflight = nil
	s.mu.Unlock()
	close(flight.done)
}

// exchangeWithRetry exchanges the credentials, retrying as the client's
// policy allows. Its error is marked final, so that the call that waited
// for the token does not retry the exchange once more.
func (s *tokenSource) exchangeWithRetry(ctx context.Context) (token string, err error) {
	err = s.client.retryLoop(ctx, &retryState{}, func(ctx context.Context) error {
		token, err = s.exchange(ctx)
		s.client.settle(err, resendSafe)
		return err
	})
	if e, ok := err.(*Error); ok {
		e.final = true
	}
	return token, err
}

// exchange trades the credentials for a token once.
func (s *tokenSource) exchange(ctx context.Context) (string, error) {
	body, err := json.Marshal(struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}{s.clientID, s.clientSecret})
	if err != nil {
		return "", err
	}
	r := &request{op: OpTokenExchange, method: http.MethodPost, body: body, resend: resendSafe}
	a, err := s.client.roundTrip(ctx, r, s.authURL, "")
	if err != nil {
		return "", err
	}

	token, ruid, err := decodeToken(a)
	s.client.report(ctx, a, ruid)
	a.release()
	return token, err
}

// decodeToken reads the token exchange's answer: {"jwt", "ruid"} on
// success and, like the other endpoints, an envelope with errors and
// meta.ruid otherwise.
func decodeToken(a *answer) (token, ruid string, err error) {
	var answer struct {
		JWT    string            `json:"jwt"`
		RUID   string            `json:"ruid"`
		Errors []json.RawMessage `json:"errors"`
		Meta   struct {
			RUID string `json:"ruid"`
		} `json:"meta"`
	}
	decodeErr := json.Unmarshal(a.body, &answer)
	ruid = oneLine(answer.RUID)
	if ruid == "" {
		ruid = oneLine(answer.Meta.RUID)
	}
	switch {
	case !a.success():
		e := statusError(OpTokenExchange, a, answer.Errors, ruid)
		if e.Kind != KindRateLimited && e.Kind != KindUnavailable {
			// Any other refusal means the credentials are wrong.
			e.Kind = KindUnauthenticated
		}
		return "", ruid, e
	case decodeErr != nil && a.unframed && truncated(a.body):
		return "", ruid, cutShort(OpTokenExchange, a.status, ruid, len(a.body))
	case decodeErr != nil || answer.JWT == "":
		return "", ruid, unusableAnswer(OpTokenExchange, a.status, ruid, "response has no jwt")
	}
	return answer.JWT, ruid, nil
}
