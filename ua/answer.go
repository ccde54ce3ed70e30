package ua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/codes"
)

// AnswerOptions say how the phone answers incoming calls.
type AnswerOptions struct {
	// Default is the behaviour for calls no script rule matches.
	Default Behaviour
	// Script, when set, picks a behaviour per caller or per call number.
	Script *Script
	// Codecs the phone accepts (default PCMU, PCMA, opus).
	Codecs []Codec
	// OnCall receives each call's result when the call is over (from the call's goroutine).
	OnCall func(*AnswerResult)
}

// AnswerResult is how one incoming call went.
type AnswerResult struct {
	Call      int
	CallID    string
	From      string
	Behaviour Behaviour
	Outcome   string // answered, rejected, cancelled, error
	Code      int    // the final response the phone sent (487 when the caller cancelled)
	Text      string
	Events    []Event
}

// Outcomes of an incoming call.
const (
	InAnswered  = "answered"
	InRejected  = "rejected"
	InCancelled = "cancelled" // the caller cancelled while the phone rang
	InError     = "error"
)

type answerer struct {
	p     *Phone
	o     AnswerOptions
	dua   *sipgo.DialogUA
	n     atomic.Int64
	mu    sync.Mutex
	calls map[string]*uasCall // by dialog ID
	wg    sync.WaitGroup
}

type uasCall struct {
	n       int
	dlg     *sipgo.DialogServerSession
	rec     *recorder
	bye     chan struct{}
	byeOnce sync.Once
}

// Answer makes the phone answer incoming INVITEs as o says, several at once, until it is
// closed. Without Answer an incoming INVITE gets 486 Busy Here.
func (p *Phone) Answer(o AnswerOptions) error {
	if len(o.Codecs) == 0 {
		o.Codecs, _ = ParseCodecs(DefaultCodecs)
	}
	if err := o.Default.Validate(); err != nil {
		return err
	}
	a := &answerer{p: p, o: o, calls: map[string]*uasCall{},
		dua: &sipgo.DialogUA{Client: p.client, ContactHDR: *p.contactHeader()}}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ans != nil {
		return errors.New("ua: the phone already answers calls")
	}
	p.ans = a
	return nil
}

func (a *answerer) wait() { a.wg.Wait() }

func (a *answerer) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	a.wg.Add(1)
	defer a.wg.Done()
	n := int(a.n.Add(1))
	p := a.p
	rec := newRecorder(p.cfg.OnEvent, req.CallID().Value(), n)
	rec.receivedRequest(req, p.Addr())
	from := req.From().Address
	beh, rule := a.o.Script.For(n, from, a.o.Default)
	how := "the command line"
	if rule != nil {
		how = fmt.Sprintf("script line %d (%s)", rule.Line, rule.Selector)
	}
	rec.note("call %d from %s: %s, from %s", n, from.String(), beh, how)
	result := &AnswerResult{Call: n, CallID: req.CallID().Value(), From: from.String(), Behaviour: beh}
	defer func() {
		code := result.Code
		rec.add(Event{Type: EventResult, Outcome: result.Outcome, Code: code, Text: result.Text})
		result.Events = rec.snapshot()
		if a.o.OnCall != nil {
			a.o.OnCall(result)
		}
	}()

	tx.OnCancel(func(r *sip.Request) {
		// sipgo answers the CANCEL (200) and the INVITE (487) by itself.
		rec.receivedRequest(r, p.Addr())
		rec.add(Event{Type: EventSent, Method: "CANCEL", Code: 200, Reason: "OK", Local: p.Addr(), Peer: r.Source()})
		rec.add(Event{Type: EventSent, Method: "INVITE", Code: 487, Reason: "Request Terminated", Local: p.Addr(), Peer: req.Source()})
	})
	dlg, err := a.dua.ReadInvite(req, tx)
	if err != nil {
		res := sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
		res.AppendHeader(sip.NewHeader("Warning", `399 siplens "`+sanitize(err.Error())+`"`))
		_ = tx.Respond(res)
		rec.sentResponse(res, p.Addr())
		result.Outcome, result.Code, result.Text = InError, 400, "cannot take the call: "+err.Error()
		return
	}
	uc := &uasCall{n: n, dlg: dlg, rec: rec, bye: make(chan struct{})}
	a.mu.Lock()
	a.calls[dlg.ID] = uc
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.calls, dlg.ID)
		a.mu.Unlock()
		dlg.Close()
	}()

	// Work out the SDP answer first: without a common codec a 200 (or early media) is
	// impossible (488).
	var answer []byte
	var media *rtpSink
	if beh.Final == 200 || beh.Early {
		media, err = newRTPSink(p.contactIP)
		if err != nil {
			a.reject(uc, req, result, 500, "cannot open a media port: "+err.Error())
			return
		}
		defer media.Close()
		if len(req.Body()) > 0 {
			body, chosen, err := Answer(req.Body(), p.contactIP, media.Port(), a.o.Codecs)
			if err != nil {
				a.reject(uc, req, result, 488, err.Error(), sip.NewHeader("Warning", `304 siplens "`+sanitize(err.Error())+`"`))
				return
			}
			answer = body
			rec.note("offer accepted: %s", CodecNames(chosen))
		} else {
			// No offer in the INVITE: the 200 carries ours, the ACK the answer (RFC 3264).
			answer, _ = BuildOffer(p.contactIP, media.Port(), a.o.Codecs)
			rec.note("the INVITE has no SDP: offering %s in the 200", CodecNames(a.o.Codecs))
		}
	}

	switch {
	case beh.Early && len(req.Body()) > 0:
		// Early media (RFC 3960): the answer goes in the 183 already; the 200 repeats it.
		if err := a.send(uc, req, 183, "Session Progress", answer, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
			result.Outcome, result.Text = InError, "sending 183 failed: "+err.Error()
			return
		}
	case beh.Ring > 0 || beh.Final == 0 || beh.Early:
		if err := a.send(uc, req, 180, "Ringing", nil); err != nil {
			result.Outcome, result.Text = InError, "sending 180 failed: "+err.Error()
			return
		}
	}
	var ringDone <-chan time.Time
	if beh.Final != 0 {
		t := time.NewTimer(beh.Ring)
		defer t.Stop()
		ringDone = t.C
	}
	select {
	case <-ringDone:
	case <-dlg.Context().Done():
		result.Outcome, result.Code = InCancelled, 487
		result.Text = "the caller cancelled while the phone rang: 200 to the CANCEL, 487 to the INVITE (sent by sipgo)"
		return
	case <-p.closed:
		a.reject(uc, req, result, 480, "the phone stopped while ringing")
		return
	}

	switch {
	case beh.Final == 200:
		a.answer(uc, req, result, beh, answer, media)
	case beh.Final >= 300 && beh.Final < 400:
		target, _ := ParseTarget(beh.Contact, "")
		a.reject(uc, req, result, beh.Final, "redirected to "+target.String(), &sip.ContactHeader{Address: target})
	default:
		var extra []sip.Header
		if beh.RetryAfter > 0 {
			extra = append(extra, sip.NewHeader("Retry-After", strconv.Itoa(beh.RetryAfter)))
		}
		a.reject(uc, req, result, beh.Final, "as told", extra...)
	}
}

func sanitize(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}

// send sends a response to the INVITE through the dialog session and records it.
func (a *answerer) send(uc *uasCall, req *sip.Request, code int, reason string, body []byte, extra ...sip.Header) error {
	uc.rec.add(Event{Type: EventSent, Method: "INVITE", Code: code, Reason: reason, Local: a.p.Addr(), Peer: req.Source()})
	return uc.dlg.Respond(code, reason, body, extra...)
}

func reasonFor(code int) string {
	if r := codes.Lookup(code).Reason; r != "" {
		return r
	}
	return "Unknown"
}

func (a *answerer) reject(uc *uasCall, req *sip.Request, result *AnswerResult, code int, why string, extra ...sip.Header) {
	reason := reasonFor(code)
	result.Code = code
	err := a.send(uc, req, code, reason, nil, extra...)
	switch {
	case err != nil && errors.Is(err, sip.ErrTransactionCanceled):
		result.Outcome, result.Code = InCancelled, 487
		result.Text = "the caller cancelled before the final answer"
	case err != nil:
		result.Outcome, result.Text = InError, fmt.Sprintf("sending %d failed: %v", code, err)
	default:
		result.Outcome = InRejected
		result.Text = fmt.Sprintf("rejected with %d %s (%s)", code, reason, why)
	}
}

// answer sends the 200 with SDP, waits for the ACK (sipgo retransmits the 200 until it
// comes, RFC 3261 13.3.1.4), then holds the call until the caller's BYE, the hangup timer
// or the phone's stop.
func (a *answerer) answer(uc *uasCall, req *sip.Request, result *AnswerResult, beh Behaviour, answer []byte, media *rtpSink) {
	p := a.p
	uc.rec.add(Event{Type: EventSent, Method: "INVITE", Code: 200, Reason: "OK", Local: p.Addr(), Peer: req.Source()})
	res := sip.NewSDPResponseFromRequest(uc.dlg.InviteRequest, answer)
	start := time.Now()
	if err := uc.dlg.WriteResponse(res); err != nil {
		if errors.Is(err, sip.ErrTransactionCanceled) {
			result.Outcome, result.Code, result.Text = InCancelled, 487, "the caller cancelled before the 200"
			return
		}
		result.Outcome, result.Code = InError, 200
		result.Text = "answered, but no ACK came: " + err.Error()
		a.hangup(uc, req)
		return
	}
	result.Code = 200
	how := "the caller hung up"
	var hang <-chan time.Time
	if beh.Hangup > 0 {
		t := time.NewTimer(beh.Hangup)
		defer t.Stop()
		hang = t.C
	}
	select {
	case <-uc.bye:
	case <-hang:
		how = "the phone hung up after " + beh.Hangup.String()
		a.hangup(uc, req)
	case <-p.closed:
		how = "the phone hung up as it stopped"
		a.hangup(uc, req)
	}
	result.Outcome = InAnswered
	result.Text = fmt.Sprintf("answered; %s after %.1fs; %d RTP packets received", how, time.Since(start).Seconds(), media.Packets())
}

// hangup sends BYE on an answered call (RFC 3261 15.1.1).
func (a *answerer) hangup(uc *uasCall, req *sip.Request) {
	p := a.p
	dest := req.Source()
	if rr := req.GetHeaders("Record-Route"); len(rr) > 0 {
		var r sip.RouteHeader
		params := sip.NewParams()
		if _, err := sip.ParseAddressValue(rr[0].Value(), &r.Address, &params); err == nil {
			port := r.Address.Port
			if port == 0 {
				port = 5060
			}
			dest = net.JoinHostPort(r.Address.Host, strconv.Itoa(port))
		}
	} else if ct := req.Contact(); ct != nil {
		dest = ct.Address.HostPort()
	}
	uc.rec.add(Event{Type: EventSent, Method: "BYE", URI: req.Contact().Address.String(), Local: p.Addr(), Peer: dest})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := uc.dlg.Bye(ctx); err != nil {
		uc.rec.note("the BYE failed: %v", err)
		return
	}
	uc.rec.add(Event{Type: EventReceived, Method: "BYE", Code: 200, Reason: "OK", Local: p.Addr(), Peer: dest, Meaning: Meaning(200)})
}

func (a *answerer) lookup(req *sip.Request) *uasCall {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[id]
}

func (a *answerer) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	uc := a.lookup(req)
	if uc == nil {
		return
	}
	uc.rec.receivedRequest(req, a.p.Addr())
	if len(req.Body()) > 0 && isSDP(req) {
		if st, err := ParseAudio(req.Body()); err == nil {
			uc.rec.note("the ACK carries the SDP answer: %s", st)
		}
	}
	_ = uc.dlg.ReadAck(req, tx)
}

func (a *answerer) handleBye(req *sip.Request, tx sip.ServerTransaction) bool {
	uc := a.lookup(req)
	if uc == nil {
		return false
	}
	uc.rec.receivedRequest(req, a.p.Addr())
	if err := uc.dlg.ReadBye(req, tx); err != nil {
		uc.rec.note("answering the BYE failed: %v", err)
	} else {
		uc.rec.add(Event{Type: EventSent, Method: "BYE", Code: 200, Reason: "OK", Local: a.p.Addr(), Peer: req.Source()})
	}
	uc.byeOnce.Do(func() { close(uc.bye) })
	return true
}
