package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// On SIGTERM, a request that is running gets its answer, then run
// returns nil.
func TestShutdownLetsRunningRequestsFinish(t *testing.T) {
	inst := start(t)
	token := inst.token(t)
	inst.inject(t, `{"endpoint": "file_info", "delay": "300ms"}`)
	answered := make(chan string, 1)
	go func() {
		r, err := inst.try(inst.client, http.MethodGet, fileInfoPath("x"), "", token)
		answered <- outcome(r, err)
	}()
	inst.waitPending(t, 1)
	inst.stop()
	if got := <-answered; got != "404" {
		t.Errorf("the request running at shutdown got %s, want its answer, 404", got)
	}
	if err := <-inst.done; err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	inst.done <- nil // for the cleanup
	if got := inst.stderr.String(); !strings.Contains(got, "stopped: every request finished") {
		t.Errorf("stderr %q, want it to say every request finished", got)
	}
}

// A request that would never finish is cut off at --shutdown-timeout.
func TestShutdownTimeoutCutsOffHungRequests(t *testing.T) {
	inst := start(t, "--shutdown-timeout", "100ms")
	inst.inject(t, `{"endpoint": "file_info", "hang": true}`)
	answered := make(chan string, 1)
	go func() {
		r, err := inst.try(inst.client, http.MethodGet, fileInfoPath("x"), "", "")
		answered <- outcome(r, err)
	}()
	inst.waitPending(t, 1)
	inst.stop()
	if err := <-inst.done; err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	inst.done <- nil
	if got := <-answered; got != "no answer" {
		t.Errorf("the hung request got %s, want no answer", got)
	}
	if got := inst.stderr.String(); !strings.Contains(got, "requests still running at the shutdown timeout were cut off") {
		t.Errorf("stderr %q, want it to say requests were cut off", got)
	}
}

// The latency's wait ends, without handling the request, when the
// request's context does: its client left, or the shutdown timeout passed.
func TestLatencyEndsWithTheRequest(t *testing.T) {
	handled := false
	h := withLatency(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { handled = true }), time.Hour)
	req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("{}"))
	ctx, cancel := context.WithCancel(req.Context())
	req = req.WithContext(ctx)
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	cancel()
	if got := <-done; got != http.ErrAbortHandler {
		t.Errorf("the wait ended with %v, want a panic of http.ErrAbortHandler (no answer)", got)
	}
	if handled {
		t.Error("the request was handled after its context ended")
	}
}

// At the shutdown timeout, even a request waiting out the latency with its
// body unread (so that net/http does not watch its connection) ends.
func TestShutdownTimeoutEndsLatencyWaits(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	waiting, left := make(chan struct{}), make(chan struct{})
	slow := withLatency(http.NotFoundHandler(), time.Hour)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(left)
		close(waiting)
		slow.ServeHTTP(w, r)
	})
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, h, lis, 50*time.Millisecond, &buffer{}) }()

	client := newHTTPClient(t, true)
	go client.Post("http://"+lis.Addr().String()+"/x", "application/json", strings.NewReader(strings.Repeat("{}", 1<<20)))
	<-waiting
	stop()
	if err := <-served; err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
	select {
	case <-left:
	case <-time.After(10 * time.Second):
		t.Fatal("the request waiting out the latency was still waiting 10s after the shutdown timeout")
	}
}
