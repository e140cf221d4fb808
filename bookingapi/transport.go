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
		// Bodies are up to 1.4 MB of base64 each way: buffers of the
		// default 4 KiB would take hundreds of system calls for each one
		// (a wrapper such as otelhttp's hides the body's WriteTo, so the
		// transport copies it through its buffer).
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
}
