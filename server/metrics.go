package server

import (
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/auth"
	"github.com/siplens/siplens/steps/ratelimit"
)

// The call metrics come from the frame, not from the call recorder: the recorder's
// summaries exist only while recording is on, and the frame sees every initial INVITE
// from its arrival to its final answer whatever the config. The times of the first 18x
// and of the 2xx come from the response writer, which every relayed and local response
// passes through.

// callClock times one initial INVITE for the metrics. Responses may be written from
// another goroutine than the frame's (the forward step's), hence the atomics.
type callClock struct {
	start    time.Time
	ringing  atomic.Int64 // nanoseconds from start to the first 18x sent, 0 for none yet
	answered atomic.Int64 // and to the first 2xx
}

// startCall returns a clock for an initial INVITE when the metrics are on, else nil. It
// costs two small allocations per initial INVITE (the clock and its OnWrite), none for
// any other request.
func (s *Server) startCall(r *chain.Request, w *chain.Writer) *callClock {
	if s.metrics == nil || r.SIP.Method != sip.INVITE || r.InDialog() {
		return nil
	}
	c := &callClock{start: time.Now()}
	w.OnWrite = c.wrote
	return c
}

func (c *callClock) wrote(wr chain.Written) {
	code := wr.Response.StatusCode
	if code < 180 || code >= 300 {
		return
	}
	since := max(int64(time.Since(c.start)), 1) // 0 means "not yet"
	if code < 200 {
		c.ringing.CompareAndSwap(0, since)
	} else {
		c.answered.CompareAndSwap(0, since)
	}
}

// endCall counts the call once the frame knows its final code and who produced it.
func (s *Server) endCall(c *callClock, code int, producer string) {
	if c == nil {
		return
	}
	s.metrics.CallEnded(code, producer, time.Duration(c.ringing.Load()), time.Duration(c.answered.Load()))
}

// authCounter and rateLimitCounter give the steps the metrics behind their small
// interfaces, or a nil interface when the metrics are off (a nil *metrics.Metrics in an
// interface would not compare equal to nil).
func (s *Server) authCounter() auth.Counter {
	if s.metrics == nil {
		return nil
	}
	return s.metrics
}

func (s *Server) rateLimitCounter() ratelimit.Counter {
	if s.metrics == nil {
		return nil
	}
	return s.metrics
}
