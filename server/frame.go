package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/trace"
)

// handle is the frame around the chain for every request sipgo passes up: it builds the
// chain.Request, runs the chain, turns an unanswered rejection or failure into its
// response, and logs the transaction once.
func (s *Server) handle(req *sip.Request, tx sip.ServerTransaction) {
	s.inProgress.Add(1)
	defer s.inProgress.Add(-1)
	start := s.now()
	r := &chain.Request{SIP: req, Source: req.Source(), Transport: req.Transport(), Received: start}
	r.Domain, r.ToServer = s.classify(req)
	w := chain.NewWriter(req, tx)
	call := s.startCall(r, w) // nil unless an initial INVITE with metrics on

	if req.Method == sip.INVITE {
		cancelled := make(chan struct{})
		var once sync.Once
		tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) })
		r.Cancelled = cancelled
	}

	if req.Method != sip.ACK && r.InDialog() {
		s.acks.wait(r.CallID()) // an ACK read before this request goes first (order.go)
	}
	ctx := context.Background()
	if s.tracer != nil {
		ctx = trace.WithRecorder(ctx, s.tracer.ForRequest(req))
	}
	err := s.chain.Serve(ctx, w, r)
	if req.Method == sip.ACK {
		s.acks.handled(r.CallID(), s.now())
	}
	code, producer, reason := s.finish(w, r, err)
	s.endCall(call, code, producer)

	if req.Method == sip.ACK {
		return // ACKs are not transactions of their own; nothing to log per ACK
	}
	// The answer on the call's timeline: who produced the final code and why.
	trace.Decision(ctx, trace.Event{Kind: trace.KindAnswer, Producer: producer, Code: code, Reason: reason, User: r.AuthUser})
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, level) {
		return // the attributes below cost a dozen allocations per transaction
	}
	attrs := []any{
		"call_id", r.CallID(), "method", string(req.Method), "source", r.Source, "transport", r.Transport,
		"code", code, "by", producer, "ms", time.Since(start).Milliseconds(),
	}
	if reason != "" {
		attrs = append(attrs, "reason", reason)
	}
	s.log.Log(context.Background(), level, "transaction", attrs...)
}

// finish sends the response the chain's error calls for, unless one went out already. It
// returns the final code, who produced it and why, for the log.
func (s *Server) finish(w *chain.Writer, r *chain.Request, err error) (int, string, string) {
	if r.CancelledNow() && !w.Final() {
		return 487, "caller CANCEL", "the caller cancelled the request"
	}
	if err == nil || r.SIP.Method == sip.ACK || w.Final() {
		if err != nil && r.SIP.Method != sip.ACK {
			s.log.Warn("step failed after the answer was sent", "call_id", r.CallID(), "error", err)
		}
		return w.Status(), w.Producer(), ""
	}
	var rej *chain.Error
	if errors.As(err, &rej) && rej.Dropped() {
		s.Dropped.Add(1)
		return 0, rej.Step, rej.Reason
	}
	if errors.As(err, &rej) {
		w.SetProducer(rej.Step)
		if werr := w.Reply(rej.Code, rej.StatusPhrase(), rej.Headers...); werr != nil {
			s.log.Debug("sending the rejection failed", "call_id", r.CallID(), "error", werr)
		}
		return rej.Code, rej.Step, rej.Reason
	}
	// Anything else is our fault: a 500 for this request only, with what happened logged.
	var p *chain.PanicError
	if errors.As(err, &p) {
		s.Panics.Add(1)
		s.log.Error("panic in the request path", "call_id", r.CallID(), "step", p.Step, "panic", p.Value, "stack", string(p.Stack))
	} else {
		s.log.Error("request failed", "call_id", r.CallID(), "error", err)
	}
	w.SetProducer("server")
	_ = w.Reply(500, "", sip.NewHeader("Retry-After", "5"))
	return 500, "server", err.Error()
}

// classify finds the served domain of the Request-URI and whether it addresses siplens
// itself (no user part, or a Route/Request-URI host that is one of our addresses).
func (s *Server) classify(req *sip.Request) (domain string, toServer bool) {
	host := req.Recipient.Host
	domain, served := s.domains.Canonical(host)
	if !served {
		return "", false
	}
	if req.Recipient.User == "" {
		return domain, true
	}
	return domain, false
}

// sipgo keeps a process-wide default logger that parts of it use whatever logger the user
// agent was given. It is set once, to a handler that forwards to the handler of the latest
// server, swapped atomically: setting the global per server would race with the sipgo
// goroutines of an earlier server in the same process (tests run several).
var (
	sipgoDefaultOnce sync.Once
	sipgoDefault     atomic.Pointer[slog.Handler]
)

func setSipgoDefaultLogger(h slog.Handler) {
	sipgoDefault.Store(&h)
	sipgoDefaultOnce.Do(func() { sip.SetDefaultLogger(slog.New(forwardHandler{})) })
}

// forwardHandler hands every record to the current default handler.
type forwardHandler struct{ attrs []slog.Attr }

func (forwardHandler) current() slog.Handler { return *sipgoDefault.Load() }

func (f forwardHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return f.current().Enabled(ctx, l)
}

func (f forwardHandler) Handle(ctx context.Context, r slog.Record) error {
	return f.current().WithAttrs(f.attrs).Handle(ctx, r)
}

func (f forwardHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return forwardHandler{attrs: append(append([]slog.Attr(nil), f.attrs...), attrs...)}
}

func (f forwardHandler) WithGroup(string) slog.Handler { return f }

// sipgoLogHandler quiets sipgo: its parse failures become a counted drop at debug level,
// and its chatter stays below our own log lines.
type sipgoLogHandler struct {
	next    slog.Handler
	dropped interface{ Add(int64) int64 }
	attrs   []slog.Attr
}

func (h *sipgoLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *sipgoLogHandler) Handle(ctx context.Context, rec slog.Record) error {
	if strings.HasPrefix(rec.Message, "failed to parse") {
		h.dropped.Add(1)
		rec.Level = slog.LevelDebug
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
	} else if rec.Level < slog.LevelWarn {
		rec.Level = slog.LevelDebug
		if !h.next.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
	}
	rec.AddAttrs(slog.String("component", "sipgo"))
	return h.next.WithAttrs(h.attrs).Handle(ctx, rec)
}

func (h *sipgoLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sipgoLogHandler{next: h.next, dropped: h.dropped, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

func (h *sipgoLogHandler) WithGroup(name string) slog.Handler {
	return &sipgoLogHandler{next: h.next.WithGroup(name), dropped: h.dropped, attrs: h.attrs}
}
