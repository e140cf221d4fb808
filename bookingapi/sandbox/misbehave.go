package sandbox

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fireFault fires the faults matching this request and keeps the one that
// fires. Unless it is Processed, the fault's first stage acts now. It
// returns true if the request is to be handled, false if the fault has
// answered it; it does not return if the fault sends no answer.
func (c *call) fireFault(action string) bool {
	f, ok := c.s.faults.fire(c.rec.Endpoint, action)
	if !ok {
		return true
	}
	c.fault = f
	return f.Processed || !c.misbehave()
}

// misbehave runs the first stage of the call's fault: Delay, Hang, Drop,
// then Status. It returns true if it has replaced the answer; it does not
// return if no answer is to be sent.
func (c *call) misbehave() bool {
	f := c.fault
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			c.abort()
		}
	}
	if f.Hang {
		<-c.r.Context().Done()
		c.abort()
	}
	if f.Drop {
		c.abort()
	}
	if f.Status == 0 {
		return false
	}
	if f.HTML {
		c.ans = errorPage(f.Status)
	} else {
		c.fail(errorf(f.Status, "injected fault: %d %s", f.Status, strings.ToLower(http.StatusText(f.Status))))
	}
	if f.RetryAfter != "" {
		c.ans.header.Set("Retry-After", f.RetryAfter)
	}
	return true
}

// deliver sends the handler's answer: a Processed fault's first stage acts
// on it now, then the second stage shapes its body.
func (c *call) deliver() {
	f := c.fault
	if f.Processed {
		c.misbehave()
	}
	if f.Alter != nil {
		c.ans.alter(f.Alter)
	}
	contentType, body := c.ans.encode()
	if f.PadBytes > 0 {
		body = append(body, strings.Repeat(" ", f.PadBytes)...)
	}
	h := c.w.Header()
	maps.Copy(h, c.ans.header)
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.rec.Status, c.rec.RUID = c.ans.status, c.ans.ruid
	c.s.log.finish(c.entry, c.rec)
	c.w.WriteHeader(c.ans.status)
	if f.CutAfter > 0 && f.CutAfter < len(body) {
		c.w.Write(body[:f.CutAfter])
		// Flush pushes the bytes out of net/http's buffer, which the abort
		// would otherwise discard; the connection is then closed short of
		// the announced length.
		http.NewResponseController(c.w).Flush()
		c.abort()
	}
	c.w.Write(body)
}

// abort ends the request without writing anything more: net/http closes
// the connection and logs nothing for this panic value. The deferred log
// entry in handle records the request.
func (c *call) abort() {
	panic(http.ErrAbortHandler)
}
