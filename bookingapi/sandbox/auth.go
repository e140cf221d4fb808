package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokenStore holds the tokens this server issued. It is safe for
// concurrent use.
type tokenStore struct {
	mu        sync.Mutex
	tokens    map[string]tokenState
	exchanges int
}

type tokenState struct {
	expires time.Time
	revoked bool
}

// issue returns a new token valid until now+ttl and counts the exchange.
func (t *tokenStore) issue(now time.Time, ttl time.Duration) string {
	tok := newToken()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens[tok] = tokenState{expires: now.Add(ttl)}
	t.exchanges++
	return tok
}

// check returns why tok is not accepted at now, or nil.
func (t *tokenStore) check(tok string, now time.Time) *apiError {
	t.mu.Lock()
	st, ok := t.tokens[tok]
	t.mu.Unlock()
	switch {
	case !ok:
		return accessDenied("the bearer token was not issued by this server")
	case st.revoked:
		return accessDenied("the bearer token was revoked; exchange credentials for a new one")
	case !now.Before(st.expires):
		return accessDenied("the bearer token expired at %s; exchange credentials for a new one",
			st.expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// TokenExchanges returns the number of successful token exchanges so far.
func (s *Server) TokenExchanges() int {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	return s.tokens.exchanges
}

// RevokeTokens makes every token issued so far invalid: the next messaging
// call with one gets 401. Tokens issued afterwards are valid. It is meant
// for testing a client's refresh after a 401.
func (s *Server) RevokeTokens() {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	for tok, st := range s.tokens.tokens {
		st.revoked = true
		s.tokens.tokens[tok] = st
	}
}

// authenticate checks that r carries "Authorization: Bearer <token>" with
// a token this server issued, unexpired and not revoked. The scheme must
// be spelled "Bearer" exactly, as Booking's documentation writes it.
func (s *Server) authenticate(r *http.Request) *apiError {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return accessDenied("the Authorization header is missing; send \"Authorization: Bearer <token>\"")
	case len(values) > 1:
		return accessDenied("the Authorization header appears %d times", len(values))
	}
	tok, ok := strings.CutPrefix(values[0], "Bearer ")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t") {
		return accessDenied("the Authorization header must be \"Bearer <token>\"")
	}
	return s.tokens.check(tok, s.opts.Now())
}

// accessDenied returns the 401 for a messaging call without a valid token.
func accessDenied(format string, args ...any) *apiError {
	return errorf(http.StatusUnauthorized, "access denied: "+format, args...)
}

// parsePropertyID parses the property_id path value: a positive decimal
// integer, without sign or leading zeros.
func parsePropertyID(v string) (int64, *apiError) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || !isDigits(v) || v[0] == '0' {
		return 0, badRequest("property_id %q is not a positive decimal integer", v)
	}
	return id, nil
}

// isDigits reports whether v is one or more ASCII decimal digits.
func isDigits(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
