package bookingapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// Defaults of Config.
const (
	DefaultResponseTimeout = 15 * time.Second
	DefaultRequestTimeout  = 45 * time.Second
	DefaultMaxInFlight     = 32
	DefaultParallelRanges  = 4
)

// HTTPDoer sends HTTP requests; *http.Client is one. Like it, Do must close
// the request's body, even on errors: the Client reuses the buffers of
// bodies once they are closed.
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
	// HTTPClient sends the requests. Nil means an http.Client on
	// NewTransport(MaxInFlight). The Client keeps its own timeouts
	// (ResponseTimeout, RequestTimeout), so an HTTPDoer needs none.
	HTTPClient HTTPDoer
	// Retry bounds retries; the zero value gives its documented defaults.
	Retry RetryPolicy
	// ResponseTimeout bounds each attempt's two waits: for the response
	// headers once the request is on its way (connecting included), then
	// for the whole response body. An attempt that passes it fails like a
	// lost connection and may be retried. 0 means DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// RequestTimeout bounds one request to Booking with all its attempts,
	// the waits between them and the wait for a slot, unless the caller's
	// context ends sooner. When it passes, the request fails with
	// KindUnavailable: a caller that set no deadline of its own is not kept
	// waiting by a Booking that never answers. 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxInFlight bounds the requests to the Messaging API in flight at
	// once, across all calls; the others wait for a slot within their
	// deadline. The token exchange, one at a time, is not counted. 0 means
	// DefaultMaxInFlight.
	MaxInFlight int
	// ParallelRanges is how many range GETs a Reader keeps in flight; 1
	// fetches one at a time. 0 means DefaultParallelRanges.
	ParallelRanges int
	// Memory accounts for what uploads and downloads hold: the file bytes
	// an Uploader keeps, the request body of the chunk in flight, and the
	// answers and bytes of the ranges a Reader has fetched. Nil bounds
	// nothing.
	Memory Memory
	// Observer is told of every HTTP exchange with Booking. May be nil.
	Observer Observer
	// Logger receives warnings an operator should see, such as a commit
	// sent again after its answer was lost. Nil discards them.
	Logger *slog.Logger
}

// Client calls Booking's attachment endpoints. It is safe for concurrent use.
type Client struct {
	base            *url.URL
	http            HTTPDoer
	retry           RetryPolicy
	budget          *retryBudget
	slots           slots
	responseTimeout time.Duration
	requestTimeout  time.Duration
	parallelRanges  int
	memory          Memory
	tokens          *tokenSource
	observer        Observer
	log             *slog.Logger
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
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: NewTransport(cfg.MaxInFlight)}
	}
	if cfg.ParallelRanges <= 0 {
		cfg.ParallelRanges = DefaultParallelRanges
	}
	if cfg.Memory == nil {
		cfg.Memory = unbounded{}
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	retry := cfg.Retry.withDefaults()
	c := &Client{
		base:            base,
		http:            cfg.HTTPClient,
		retry:           retry,
		budget:          newRetryBudget(retry.BudgetTokens, retry.BudgetRatio),
		slots:           make(slots, cfg.MaxInFlight),
		responseTimeout: cfg.ResponseTimeout,
		requestTimeout:  cfg.RequestTimeout,
		parallelRanges:  cfg.ParallelRanges,
		memory:          cfg.Memory,
		observer:        cfg.Observer,
		log:             cfg.Logger,
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

// InFlight returns how many requests to the Messaging API are in flight
// now, at most Config.MaxInFlight.
func (c *Client) InFlight() int { return len(c.slots) }

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
	resend resend // when it may be sent again

	// bodyKept tells that the transport may still read body after the
	// request returned: its buffer must not be reused.
	bodyKept bool
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

// do sends r, again after the failures its policy and c.retry allow, and
// decodes the response's data into out.
func (c *Client) do(ctx context.Context, r *request, out any) (ruid string, err error) {
	err = c.retryLoop(ctx, &retryState{}, func(ctx context.Context) error {
		ruid, err = c.send(ctx, r, out)
		return err
	})
	return ruid, err
}

// send sends r once with the shared token; on a 401 it exchanges the
// credentials for a new token and sends r once more. It decodes the
// response's data into out and returns Booking's ruid.
func (c *Client) send(ctx context.Context, r *request, out any) (string, error) {
	return c.sendDecoded(ctx, r, func(a *answer) (string, error) { return decodeResponse(r.op, a, out) })
}

// sendRange is send for a download range, whose answer decodeRangeAnswer
// reads.
func (c *Client) sendRange(ctx context.Context, r *request) (rangeContent, string, error) {
	var content rangeContent
	ruid, err := c.sendDecoded(ctx, r, func(a *answer) (ruid string, err error) {
		content, ruid, err = decodeRangeAnswer(a)
		return ruid, err
	})
	return content, ruid, err
}

// sendDecoded is send with the answer read by decode.
func (c *Client) sendDecoded(ctx context.Context, r *request, decode func(*answer) (string, error)) (string, error) {
	token, err := c.tokens.token(ctx)
	if err != nil {
		return "", err
	}
	ruid, err := c.sendWith(ctx, r, token, decode)
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized {
		c.tokens.reject(token)
		if token, err = c.tokens.token(ctx); err != nil {
			return "", err
		}
		ruid, err = c.sendWith(ctx, r, token, decode)
	}
	return ruid, err
}

// sendWith is one round trip of r with token, and the decoding of its
// answer.
func (c *Client) sendWith(ctx context.Context, r *request, token string, decode func(*answer) (string, error)) (string, error) {
	target, err := r.url(c.base)
	if err != nil {
		return "", err
	}
	a, err := c.roundTrip(ctx, r, target, token)
	var ruid string
	if err == nil {
		ruid, err = decode(a)
		c.report(ctx, a, ruid)
		a.release() // decoding keeps no part of the body
	}
	c.settle(err, r.resend)
	return ruid, err
}

// settle counts a request's result against the shared retry budget and
// marks its error with the request's policy.
func (c *Client) settle(err error, policy resend) {
	var e *Error
	switch {
	case err == nil:
		c.budget.succeeded()
	case errors.As(err, &e):
		e.resend = policy
		if e.Kind == KindUnavailable || e.Kind == KindRateLimited {
			c.budget.failed()
		}
	}
}

type nopObserver struct{}

func (nopObserver) Exchanged(context.Context, Exchange) {}
func (nopObserver) Retried(context.Context, Retry)      {}
func (nopObserver) NotRetried(context.Context, string, string) {
}
