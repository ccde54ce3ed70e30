package ua

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ProbeResult is the outcome of one OPTIONS request.
type ProbeResult struct {
	Seq     int
	Outcome string
	Exit    int
	Code    int
	Reason  string
	RTT     time.Duration
	Peer    string
	Text    string
	Events  []Event
}

// Prober sends OPTIONS to one target (RFC 3261 11), like "sipsak -s": one Call-ID for the
// whole run, CSeq increasing per probe.
type Prober struct {
	p       *Phone
	target  sip.Uri
	callID  string
	fromTag string
	cseq    uint32
	seq     int
}

// NewProber prepares OPTIONS probes to target.
func (p *Phone) NewProber(target sip.Uri) *Prober {
	return &Prober{p: p, target: target, callID: newCallID(p.contactIP), fromTag: sip.GenerateTagN(10)}
}

// Probe sends one OPTIONS and waits up to timeout for its final response.
func (pr *Prober) Probe(ctx context.Context, timeout time.Duration) *ProbeResult {
	pr.seq++
	pr.cseq++
	p := pr.p
	rec := newRecorder(p.cfg.OnEvent, pr.callID, 0)
	to := sip.Uri{Scheme: pr.target.Scheme, User: pr.target.User, Host: pr.target.Host, Port: pr.target.Port}
	req := p.newRequest(sip.OPTIONS, pr.target, to, pr.callID, pr.fromTag, pr.cseq)
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	r := &ProbeResult{Seq: pr.seq, Peer: req.Destination()}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res, err := p.do(tctx, req, rec)
	r.RTT = time.Since(start)
	switch {
	case err == nil:
		r.Outcome, r.Code, r.Reason = OutcomeOf(res.StatusCode), res.StatusCode, res.Reason
		r.Peer = res.Source()
		r.Text = fmt.Sprintf("%d %s from %s in %.1f ms", res.StatusCode, res.Reason, res.Source(), float64(r.RTT.Microseconds())/1000)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil, errors.Is(err, errTimeout):
		r.Outcome, r.RTT = OutcomeTimeout, 0
		r.Text = fmt.Sprintf("no answer from %s within %v", req.Destination(), timeout)
	case ctx.Err() != nil:
		r.Outcome, r.RTT = OutcomeCancelled, 0
		r.Text = "cancelled"
	default:
		r.Outcome, r.RTT = OutcomeError, 0
		r.Text = fmt.Sprintf("sending to %s failed: %v", req.Destination(), err)
	}
	r.Exit = ExitCode(r.Outcome)
	exit := r.Exit
	ev := Event{Type: EventResult, Outcome: r.Outcome, Code: r.Code, Reason: r.Reason, Exit: &exit, Peer: r.Peer, Text: r.Text}
	if r.RTT > 0 {
		ev.RTTms = float64(r.RTT.Microseconds()) / 1000
	}
	rec.add(ev)
	r.Events = rec.snapshot()
	return r
}
