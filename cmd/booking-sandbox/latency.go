package main

import (
	"net/http"
	"time"
)

// withLatency returns h with a wait of d before each request is handled,
// as if every request took d longer to reach Booking. If the client goes
// away or the server closes its connection while waiting, the request is
// never handled, so it is not in the sandbox's request log. d of 0 returns
// h itself.
func withLatency(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
			// Nobody is left to answer; net/http closes the connection.
			panic(http.ErrAbortHandler)
		}
	})
}
