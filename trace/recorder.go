package trace

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Recorder records the decisions taken about one request (or one call) onto the call's
// timeline. It rides in the request's context (WithRecorder), the way net/http/httptrace
// hooks do, so that steps need no tracing parameters. Every method is safe on a nil
// Recorder: tracing off costs a context lookup and nothing else.
type Recorder struct {
	callID string
	method string
	cseq   uint32

	tracer *Tracer     // the server's tracer, or
	local  *localCalls // a standalone recorder's own memory
}

// localCalls is the memory of a standalone recorder (NewRecorder).
type localCalls struct {
	mu   sync.Mutex
	now  func() time.Time
	seq  uint64
	call Call
}

// ForRequest returns a recorder for the decisions about req: they carry its Call-ID,
// method and CSeq number, which tie them to the request's transaction on the timeline.
// It returns nil (a recorder that records nothing) on a nil Tracer.
func (t *Tracer) ForRequest(req *sip.Request) *Recorder {
	if t == nil || req == nil {
		return nil
	}
	r := &Recorder{tracer: t, method: string(req.Method)}
	if h := req.CallID(); h != nil {
		r.callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		r.cseq = h.SeqNo
	}
	return r
}

// ForCall returns a recorder for decisions about a call as a whole (not tied to one
// request). It returns nil on a nil Tracer.
func (t *Tracer) ForCall(callID string) *Recorder {
	if t == nil {
		return nil
	}
	return &Recorder{tracer: t, callID: callID}
}

// NewRecorder returns a recorder that keeps what it records in memory instead of
// writing it anywhere: for step tests, which check the decisions a step records, and for
// building records by hand. now may be nil (time.Now).
func NewRecorder(callID string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{callID: callID, local: &localCalls{now: now, call: Call{CallID: callID}}}
}

// CallID is the call the recorder writes to.
func (r *Recorder) CallID() string {
	if r == nil {
		return ""
	}
	return r.callID
}

// Decision records a decision. CallID, Method and CSeq are filled from the recorder when
// empty; a zero Time is stamped now.
func (r *Recorder) Decision(ev Event) {
	if r == nil {
		return
	}
	if ev.CallID == "" {
		ev.CallID = r.callID
	}
	if ev.Method == "" && ev.CSeq == 0 {
		ev.Method, ev.CSeq = r.method, r.cseq
	}
	if r.tracer != nil {
		r.tracer.event(ev)
		return
	}
	l := r.local
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.Time.IsZero() {
		ev.Time = micros(l.now())
	}
	l.seq++
	ev.Seq = l.seq
	l.call.Events = append(l.call.Events, ev)
}

// Message records a message on the recorder's call (tests and importers; the server's
// messages come from the wire tap). The recorder keeps m.Raw.
func (r *Recorder) Message(m Message) {
	if r == nil {
		return
	}
	if m.CallID == "" {
		m.CallID = r.callID
	}
	if r.tracer != nil {
		r.tracer.Message(m)
		return
	}
	l := r.local
	l.mu.Lock()
	defer l.mu.Unlock()
	if m.Time.IsZero() {
		m.Time = micros(l.now())
	}
	l.seq++
	m.Seq = l.seq
	l.call.Messages = append(l.call.Messages, m)
}

// Call returns a sorted copy of what a standalone recorder holds; nil for a recorder that
// writes to a Tracer (read the call from its sink).
func (r *Recorder) Call() *Call {
	if r == nil || r.local == nil {
		return nil
	}
	r.local.mu.Lock()
	defer r.local.mu.Unlock()
	c := r.local.call.Clone()
	c.Sort()
	return c
}

type recorderKey struct{}

// WithRecorder attaches a recorder to a context. A nil recorder leaves ctx as it is.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	if r == nil {
		return ctx
	}
	return context.WithValue(ctx, recorderKey{}, r)
}

// FromContext returns the context's recorder, or nil (which records nothing).
func FromContext(ctx context.Context) *Recorder {
	r, _ := ctx.Value(recorderKey{}).(*Recorder)
	return r
}

// Enabled reports whether decisions made with ctx are recorded: a step may skip building
// an expensive reason when they are not.
func Enabled(ctx context.Context) bool { return FromContext(ctx) != nil }

// Decision records a decision on the recorder of ctx, if there is one.
func Decision(ctx context.Context, ev Event) {
	FromContext(ctx).Decision(ev)
}
