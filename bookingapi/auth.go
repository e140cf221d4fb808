package bookingapi

import (
	"bytes"
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
	// exchangeTimeout bounds one token exchange, retries included. The
	// exchange runs on behalf of every waiting call, so it does not stop
	// when one of them gives up.
	exchangeTimeout = 60 * time.Second
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
func (s *tokenSource) refresh(flight *tokenFlight) {
	ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
	defer cancel()
	issued := time.Now()
	flight.token, flight.err = s.exchangeWithRetry(ctx)

	s.mu.Lock()
	if flight.err == nil {
		s.current, s.issued = flight.token, issued
	}
	s.inflight = nil
	s.mu.Unlock()
	close(flight.done)
}

// exchangeWithRetry exchanges the credentials, retrying as the client's
// policy allows. Its error is marked as retried already, so that the call
// that waited for the token does not retry the exchange once more.
func (s *tokenSource) exchangeWithRetry(ctx context.Context) (token string, err error) {
	err = s.client.withRetry(ctx, OpTokenExchange, func() error {
		token, err = s.exchange(ctx)
		return err
	})
	if e, ok := err.(*Error); ok {
		e.retried = true
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.authURL, bytes.NewReader(body))
	if err != nil {
		return "", &Error{Op: OpTokenExchange, Kind: KindUnauthenticated, Message: "invalid auth URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	start := time.Now()
	resp, err := s.client.http.Do(req)
	if err != nil {
		s.client.observer.Exchanged(ctx, OpTokenExchange, 0, "", time.Since(start))
		// Not networkError: ctx is the exchange's own, so its end means
		// that Booking did not answer in time, not that a caller gave up.
		return "", &Error{Op: OpTokenExchange, Kind: KindUnavailable, Message: "no response from Booking", Err: err}
	}
	defer resp.Body.Close()

	// The exchange answers {"jwt", "ruid"} on success and, like the other
	// endpoints, an envelope with errors and meta.ruid otherwise.
	var answer struct {
		JWT    string            `json:"jwt"`
		RUID   string            `json:"ruid"`
		Errors []json.RawMessage `json:"errors"`
		Meta   struct {
			RUID string `json:"ruid"`
		} `json:"meta"`
	}
	readErr := readJSON(resp, &answer)
	ruid := oneLine(answer.RUID)
	if ruid == "" {
		ruid = oneLine(answer.Meta.RUID)
	}
	s.client.observer.Exchanged(ctx, OpTokenExchange, resp.StatusCode, ruid, time.Since(start))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := statusError(OpTokenExchange, resp, answer.Errors, ruid)
		if e.Kind != KindRateLimited && e.Kind != KindUnavailable {
			// Any other refusal means the credentials are wrong.
			e.Kind = KindUnauthenticated
		}
		return "", e
	}
	if readErr != nil || answer.JWT == "" {
		return "", unusableAnswer(OpTokenExchange, resp.StatusCode, ruid, "response has no jwt")
	}
	return answer.JWT, nil
}
