package bookingapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Booking's production endpoints.
const (
	DefaultBaseURL = "https://supply-xml.booking.com"
	DefaultAuthURL = "https://connectivity-authentication.booking.com/token-based-authentication/exchange"
)

// maxResponseBytes bounds how much of a response body is read. The largest
// answer this client asks for is a download range of 1,000,000 bytes, about
// 1.4 MB once base64 and the envelope are added.
const maxResponseBytes = 16 << 20

// HTTPDoer sends HTTP requests; *http.Client is one.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Config configures a [Client]. Zero values give the defaults documented on
// each field.
type Config struct {
	// BaseURL is the Messaging API's root. Empty means DefaultBaseURL.
	BaseURL string
	// AuthURL is the token exchange endpoint. Empty means DefaultAuthURL.
	AuthURL string
	// ClientID and ClientSecret are the machine account's credentials
	// (an account of type "API token"). Both are required.
	ClientID     string
	ClientSecret string
	// HTTPClient sends the requests. Nil means a client with a 60-second
	// timeout per request.
	HTTPClient HTTPDoer
	// Retry bounds retries; the zero value gives its documented defaults.
	Retry RetryPolicy
	// Observer is told of every HTTP exchange with Booking. May be nil.
	Observer Observer
}

// Observer hears of every HTTP exchange the client has with Booking, for
// metrics and logs. Its methods must be safe for concurrent use and return
// quickly.
type Observer interface {
	// Exchanged reports one finished request: the call, the HTTP status (0
	// when no answer arrived), Booking's ruid, how long it took and ctx of
	// the call it was made for.
	Exchanged(ctx context.Context, op string, status int, ruid string, took time.Duration)
	// Retried reports that a request is sent again after a failure worth
	// retrying.
	Retried(ctx context.Context, op string)
	// Restarted reports that a chunked upload starts again from start
	// after a failed chunk.
	Restarted(ctx context.Context)
}

// Client calls Booking's attachment endpoints. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	http     HTTPDoer
	retry    RetryPolicy
	tokens   *tokenSource
	observer Observer
}

// New returns a Client for cfg. It sends nothing: the first call exchanges
// the credentials for a token.
func New(cfg Config) (*Client, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("bookingapi: client id and client secret are required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("bookingapi: base URL %q is not an absolute URL", cfg.BaseURL)
	}
	if u, err := url.Parse(cfg.AuthURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("bookingapi: auth URL %q is not an absolute URL", cfg.AuthURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	c := &Client{
		base:     base,
		http:     cfg.HTTPClient,
		retry:    cfg.Retry.withDefaults(),
		observer: cfg.Observer,
	}
	c.tokens = newTokenSource(c, cfg.AuthURL, cfg.ClientID, cfg.ClientSecret)
	return c, nil
}

// The calls to Booking, as named in Error.Op and to an Observer.
const (
	OpTokenExchange = "token exchange"
	OpUpload        = "upload"
	OpChunkStart    = "chunk start"
	OpChunkResume   = "chunk resume"
	OpChunkFinish   = "chunk finish"
	OpDownload      = "download"
	OpFileInfo      = "file_info"
)

// Authenticate makes sure the client holds a valid token, exchanging its
// credentials for one if needed. Calls do this on their own; a server may
// call it at start-up to learn that its credentials work.
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.tokens.token(ctx)
	return err
}

// Conversation names a guest conversation of a property.
type Conversation struct {
	PropertyID     int64
	ConversationID string
}

// AttachmentRef names an attachment in a conversation.
type AttachmentRef struct {
	PropertyID     int64
	ConversationID string
	AttachmentID   string
}

// request is one call to the Messaging API.
type request struct {
	op     string
	method string
	path   []string // segments below the base URL, escaped when the URL is built
	query  url.Values
	body   []byte // JSON; nil for a GET
}

// url builds the request's URL, escaping every path segment, so that an id
// can never name another resource. It refuses empty, "." and ".." segments,
// which escaping leaves as they are and a server may resolve.
func (r *request) url(base *url.URL) (string, error) {
	segments := make([]string, len(r.path))
	for i, s := range r.path {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("bookingapi: %s: %q is not a valid id", r.op, s)
		}
		segments[i] = url.PathEscape(s)
	}
	u := *base
	u.RawPath = base.EscapedPath() + "/" + strings.Join(segments, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = r.query.Encode()
	return u.String(), nil
}

// sendWithRetry sends r, retrying network errors, 429 and 5xx answers as
// c.retry allows, and decodes the response's data into out.
func (c *Client) sendWithRetry(ctx context.Context, r *request, out any) (ruid string, err error) {
	err = c.withRetry(ctx, r.op, func() error {
		ruid, err = c.send(ctx, r, out)
		return err
	})
	return ruid, err
}

// send sends r once with the shared token; on a 401 it exchanges the
// credentials for a new token and sends r once more. It decodes the
// response's data into out and returns Booking's ruid.
func (c *Client) send(ctx context.Context, r *request, out any) (string, error) {
	token, err := c.tokens.token(ctx)
	if err != nil {
		return "", err
	}
	ruid, err := c.exchange(ctx, r, token, out)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized {
		c.tokens.reject(token)
		if token, err = c.tokens.token(ctx); err != nil {
			return "", err
		}
		ruid, err = c.exchange(ctx, r, token, out)
	}
	return ruid, err
}

// exchange is one HTTP round trip of r.
func (c *Client) exchange(ctx context.Context, r *request, token string, out any) (string, error) {
	target, err := r.url(c.base)
	if err != nil {
		return "", err
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return "", fmt.Errorf("bookingapi: %s: %w", r.op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observer.Exchanged(ctx, r.op, 0, "", time.Since(start))
		return "", networkError(ctx, r.op, err)
	}
	defer resp.Body.Close()
	ruid, err := decodeResponse(r.op, resp, out)
	c.observer.Exchanged(ctx, r.op, resp.StatusCode, ruid, time.Since(start))
	return ruid, err
}

// networkError wraps a failed round trip. A caller's cancel or deadline is
// returned as the context's error, so that it is never retried or mistaken
// for an outage of Booking.
func networkError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return &Error{Op: op, Kind: KindUnavailable, Message: "no response from Booking", Err: err}
}

// decodeResponse reads a response in one pass: on success its data goes into
// out (which may embed dataStatus); otherwise it becomes an *Error.
func decodeResponse(op string, resp *http.Response, out any) (ruid string, err error) {
	status := resp.StatusCode
	success := status >= 200 && status <= 299
	if out == nil || !success {
		out = new(dataStatus)
	}
	env := envelope{Data: out}
	readErr := readJSON(resp, &env)
	ruid = oneLine(env.Meta.RUID)
	if !success {
		return ruid, statusError(op, resp, env.Errors, ruid)
	}
	switch {
	case readErr != nil:
		return ruid, unusableAnswer(op, status, ruid, "%v", readErr)
	case len(env.Errors) > 0:
		return ruid, unusableAnswer(op, status, ruid, "success status with errors: %s", errorText(env.Errors))
	}
	if s, ok := out.(interface{ failed() bool }); ok && s.failed() {
		return ruid, unusableAnswer(op, status, ruid, "response data says ok: false")
	}
	return ruid, nil
}

// readJSON decodes a response body of at most maxResponseBytes into v.
func readJSON(resp *http.Response, v any) error {
	var buf bytes.Buffer
	if resp.ContentLength > 0 && resp.ContentLength <= maxResponseBytes {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if n > maxResponseBytes {
		return fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("response is not Booking's JSON envelope: %w", err)
	}
	return nil
}

type nopObserver struct{}

func (nopObserver) Exchanged(context.Context, string, int, string, time.Duration) {}
func (nopObserver) Retried(context.Context, string)                               {}
func (nopObserver) Restarted(context.Context)                                     {}
