package bookingapi

import (
	"net"
	"net/http"
	"time"
)

// NewTransport returns an HTTP transport for a Client that has up to
// maxInFlight requests in flight: it keeps that many idle connections per
// host, so that a connection is reused rather than opened (with its TLS
// handshake) for each request under load, and it speaks HTTP/2 where the
// server offers it. It sets no response timeout: the Client keeps its own.
func NewTransport(maxInFlight int) *http.Transport {
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2: true,
		// The Messaging API and the token exchange are on two hosts.
		MaxIdleConns:          2 * maxInFlight,
		MaxIdleConnsPerHost:   maxInFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
