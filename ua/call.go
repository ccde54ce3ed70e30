package ua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// CallOptions describe one outgoing call.
type CallOptions struct {
	Target sip.Uri
	// Codecs are offered in this order (default PCMU, PCMA, opus).
	Codecs []Codec
	// Duration is how long an answered call is held before the phone hangs up (BYE).
	Duration time.Duration
	// RingTimeout ends an unanswered call with CANCEL after this long (0: no limit; the
	// call then waits for the callee, the proxy or the transaction timer).
	RingTimeout time.Duration
	// MaxRedirects limits how many 3xx responses are followed (default 5).
	MaxRedirects int
	// MaxRetryAfter is the longest Retry-After of a 503 the phone waits for before it
	// retries once (default 10 s).
	MaxRetryAfter time.Duration
}

// CallResult is how a call ended.
type CallResult struct {
	CallID  string
	Outcome string // one of the Outcome constants
	Exit    int    // the exit status for the outcome
	Code    int    // the final response that decided the outcome (0 if none)
	Reason  string
	Text    string // the outcome in words
	// Media is the negotiated audio stream of an answered call, RTPPackets the number of
	// RTP packets received (early media included).
	Media      string
	RTPPackets int64
	Events     []Event
}

// Defaults for CallOptions.
const (
	DefaultMaxRedirects  = 5
	DefaultMaxRetryAfter = 10 * time.Second
)

// call is the state of one outgoing call.
type call struct {
	p       *Phone
	o       CallOptions
	rec     *recorder
	callID  string
	fromTag string
	cseq    uint32
	to      sip.Uri // the original callee: To of every INVITE of the call

	stop     chan struct{}
	stopOnce sync.Once
	stopMu   sync.Mutex
	stopWhy  string // why the call is being abandoned
	stopOut  string // OutcomeTimeout or OutcomeCancelled
	ring     *time.Timer
	wg       sync.WaitGroup // CANCEL transactions in flight
}

// Call places a call and follows it to its end, acting on every response as RFC 3261
// says a phone must (see the package documentation). Cancelling ctx abandons the call:
// CANCEL while it rings, BYE once answered.
func (p *Phone) Call(ctx context.Context, o CallOptions) *CallResult {
	if len(o.Codecs) == 0 {
		o.Codecs, _ = ParseCodecs(DefaultCodecs)
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	c := &call{p: p, o: o, callID: newCallID(p.contactIP), fromTag: sip.GenerateTagN(10), stop: make(chan struct{})}
	c.to = sip.Uri{Scheme: o.Target.Scheme, User: o.Target.User, Host: o.Target.Host, Port: o.Target.Port}
	c.rec = newRecorder(p.cfg.OnEvent, c.callID, 0)
	if o.RingTimeout > 0 {
		c.ring = time.AfterFunc(o.RingTimeout, func() {
			c.halt(OutcomeTimeout, fmt.Sprintf("no answer within the ring timeout of %v", o.RingTimeout))
		})
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			c.halt(OutcomeCancelled, "cancelled by the user")
		case <-done:
		}
	}()
	res := c.run(ctx)
	close(done)
	c.stopRing()
	c.wg.Wait()
	res.CallID = c.callID
	res.Exit = ExitCode(res.Outcome)
	exit := res.Exit
	c.rec.add(Event{Type: EventResult, Outcome: res.Outcome, Code: res.Code, Reason: res.Reason, Exit: &exit, Text: res.Text})
	res.Events = c.rec.snapshot()
	return res
}

func (c *call) halt(outcome, why string) {
	c.stopOnce.Do(func() {
		c.stopMu.Lock()
		c.stopOut, c.stopWhy = outcome, why
		c.stopMu.Unlock()
		close(c.stop)
	})
}

func (c *call) stopped() (bool, string, string) {
	select {
	case <-c.stop:
		c.stopMu.Lock()
		defer c.stopMu.Unlock()
		return true, c.stopOut, c.stopWhy
	default:
		return false, "", ""
	}
}

func (c *call) stopRing() {
	if c.ring != nil {
		c.ring.Stop()
	}
}

func (c *call) run(ctx context.Context) *CallResult {
	media, err := newRTPSink(c.p.contactIP)
	if err != nil {
		return &CallResult{Outcome: OutcomeError, Text: "cannot open a port for media: " + err.Error()}
	}
	defer media.Close()
	offer, err := BuildOffer(c.p.contactIP, media.Port(), c.o.Codecs)
	if err != nil {
		return &CallResult{Outcome: OutcomeError, Text: err.Error()}
	}
	c.rec.note("calling %s from %s, offering %s (audio port %d)", c.o.Target.String(), c.p.cfg.AOR.String(), CodecNames(c.o.Codecs), media.Port())

	st := &attempt{maxRedirects: c.o.MaxRedirects, maxRetryAfter: c.o.MaxRetryAfter, tried: map[string]bool{}}
	queue := []sip.Uri{c.o.Target}
	var last *sip.Response
	for len(queue) > 0 {
		target := queue[0]
		queue = queue[1:]
		st.tried[uriKey(target)] = true
		st.retriedAfter = false
		auth := newAuthState(c.p.cfg.AuthUser, c.p.cfg.Password)
		req := c.newInvite(target, offer)
	attempts:
		for {
			if s, out, why := c.stopped(); s {
				return c.stoppedResult(out, why, last)
			}
			res, tx, err := c.invite(req)
			if err != nil {
				return c.errorResult(err, req)
			}
			last = res
			if res.IsSuccess() {
				return c.answered(ctx, req, res, tx, media)
			}
			if s, out, why := c.stopped(); s && (res.StatusCode == 487 || res.StatusCode == 401 || res.StatusCode == 407 || res.StatusCode/100 == 3 || res.StatusCode == 503) {
				return c.stoppedResult(out, why, res)
			}
			st.pending = len(queue)
			d := decide(res, st)
			switch d.act {
			case actAuth:
				note, err := auth.apply(req, res)
				if err != nil {
					return c.final(res, err.Error())
				}
				c.rec.note("%s", note)
				req = c.again(req)
			case actRedirect:
				st.redirects++
				c.rec.note("%s", d.why)
				queue = append(d.targets, queue...)
				break attempts
			case actRetryAfter:
				st.retriedAfter = true
				c.rec.note("%s", d.why)
				select {
				case <-time.After(d.wait):
				case <-c.stop:
					_, out, why := c.stopped()
					return c.stoppedResult(out, why, res)
				}
				stripCredentials(req)
				auth = newAuthState(c.p.cfg.AuthUser, c.p.cfg.Password)
				req = c.again(req)
			case actNextTarget:
				c.rec.note("%s", d.why)
				break attempts
			default:
				return c.final(res, d.why)
			}
		}
	}
	if last != nil {
		return c.final(last, "no redirect target left to try")
	}
	return &CallResult{Outcome: OutcomeError, Text: "nothing to call"}
}

// final turns the response that ends the call into its result.
func (c *call) final(res *sip.Response, why string) *CallResult {
	out := OutcomeOf(res.StatusCode)
	text := fmt.Sprintf("%d %s: %s", res.StatusCode, res.Reason, why)
	if why == "final answer" {
		text = fmt.Sprintf("%d %s from %s: %s", res.StatusCode, res.Reason, res.Source(), Meaning(res.StatusCode))
	}
	return &CallResult{Outcome: out, Code: res.StatusCode, Reason: res.Reason, Text: text}
}

func (c *call) stoppedResult(outcome, why string, res *sip.Response) *CallResult {
	r := &CallResult{Outcome: outcome, Text: why}
	if res != nil {
		r.Code, r.Reason = res.StatusCode, res.Reason
		if res.StatusCode == 487 {
			r.Text = fmt.Sprintf("%s: the CANCEL was answered with 487 %s", why, res.Reason)
		} else {
			r.Text = fmt.Sprintf("%s (last response %d %s)", why, res.StatusCode, res.Reason)
		}
	}
	return r
}

func (c *call) errorResult(err error, req *sip.Request) *CallResult {
	if errors.Is(err, errTimeout) {
		return &CallResult{Outcome: OutcomeTimeout, Text: fmt.Sprintf("no final response from %s: the INVITE transaction timed out (RFC 3261 17.1.1.2, Timer B)", req.Destination())}
	}
	if errors.Is(err, errNoFinalAfterCancel) {
		_, out, why := c.stopped()
		return &CallResult{Outcome: out, Text: why + ": " + err.Error()}
	}
	return &CallResult{Outcome: OutcomeError, Text: fmt.Sprintf("sending to %s failed: %v", req.Destination(), err)}
}

func (c *call) nextCSeq() uint32 {
	c.cseq++
	return c.cseq
}

// newInvite builds the INVITE for one target: Request-URI the target, To the original
// callee, the SDP offer as body.
func (c *call) newInvite(target sip.Uri, offer []byte) *sip.Request {
	req := c.p.newRequest(sip.INVITE, target, c.to, c.callID, c.fromTag, c.nextCSeq())
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req
}

// again is the same request as a new transaction: a new branch and the next CSeq
// (RFC 3261 8.1.3.5). The old request stays untouched: its transaction still uses it.
func (c *call) again(req *sip.Request) *sip.Request {
	n := req.Clone()
	n.RemoveHeader("Via")
	n.PrependHeader(c.p.via())
	n.CSeq().SeqNo = c.nextCSeq()
	n.SetDestination("")
	c.p.route(n)
	return n
}

var errNoFinalAfterCancel = errors.New("no final response 64*T1 after the CANCEL (RFC 3261 9.1)")

// invite sends one INVITE and follows its transaction until a final response: provisional
// responses are shown, and once the call is halted a CANCEL goes out as soon as a
// provisional response allows it (RFC 3261 9.1).
func (c *call) invite(req *sip.Request) (*sip.Response, *sip.ClientTx, error) {
	tx, err := c.p.send(req, c.rec)
	if err != nil {
		return nil, nil, err
	}
	provisional, pendingCancel, cancelled := false, false, false
	stop := (<-chan struct{})(c.stop)
	var guard <-chan time.Time
	for {
		select {
		case res := <-tx.Responses():
			c.rec.received(res, c.p.Addr())
			if res.IsProvisional() {
				c.progress(res)
				provisional = true
				if pendingCancel && !cancelled {
					c.sendCancel(req)
					cancelled = true
					guard = time.After(64 * sip.T1)
				}
				continue
			}
			if !res.IsSuccess() {
				// The INVITE client transaction itself ACKs a non-2xx (RFC 3261 17.1.1.3).
				c.rec.add(Event{Type: EventSent, Method: "ACK", URI: req.Recipient.String(), Local: c.p.Addr(), Peer: req.Destination()})
			}
			return res, tx, nil
		case <-tx.Done():
			return nil, tx, txError(tx.Err())
		case <-stop:
			stop = nil
			_, _, why := c.stopped()
			if provisional {
				c.rec.note("%s: sending CANCEL", why)
				c.sendCancel(req)
				cancelled = true
				guard = time.After(64 * sip.T1)
			} else {
				pendingCancel = true
				c.rec.note("%s, but no provisional response yet: the CANCEL waits for one (RFC 3261 9.1)", why)
			}
		case <-guard:
			c.rec.note("no final response 32 s after the CANCEL: giving up on the INVITE")
			tx.Terminate()
			return nil, tx, errNoFinalAfterCancel
		case <-c.p.closed:
			tx.Terminate()
			return nil, tx, errors.New("phone closed")
		}
	}
}

// progress notes what a provisional response means for the call.
func (c *call) progress(res *sip.Response) {
	if len(res.Body()) > 0 && isSDP(res) {
		if st, err := ParseAudio(res.Body()); err == nil {
			c.rec.note("early media: %s", st)
		} else {
			c.rec.note("early media with an SDP that cannot be read: %v", err)
		}
	}
}

func isSDP(m interface{ GetHeader(string) sip.Header }) bool {
	h := m.GetHeader("Content-Type")
	return h != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "application/sdp")
}

// cancelRequest builds the CANCEL of an INVITE (RFC 3261 9.1): the same Request-URI, top
// Via, Call-ID, From, To, CSeq number and Route set.
func (c *call) cancelRequest(inv *sip.Request) *sip.Request {
	r := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	r.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, h := range inv.GetHeaders("Route") {
		r.AppendHeader(sip.HeaderClone(h))
	}
	mf := sip.MaxForwardsHeader(70)
	r.AppendHeader(&mf)
	r.AppendHeader(sip.HeaderClone(inv.From()))
	r.AppendHeader(sip.HeaderClone(inv.To()))
	r.AppendHeader(sip.HeaderClone(inv.CallID()))
	r.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	r.AppendHeader(sip.NewHeader("User-Agent", c.p.cfg.UserAgent))
	r.SetBody(nil)
	c.p.route(r)
	r.SetDestination(inv.Destination())
	return r
}

func (c *call) sendCancel(inv *sip.Request) {
	tx, err := c.p.send(c.cancelRequest(inv), c.rec)
	if err != nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				c.rec.received(res, c.p.Addr())
				if !res.IsProvisional() {
					return
				}
			case <-tx.Done():
				c.rec.note("the CANCEL got no answer")
				return
			case <-c.p.closed:
				return
			}
		}
	}()
}

// uacDialog is an answered outgoing call: the dialog state needed for ACK and BYE
// (RFC 3261 12.1.2) and to recognise the callee's BYE.
type uacDialog struct {
	c            *call
	inv          *sip.Request
	res          *sip.Response // the 2xx that made the dialog
	remoteTarget sip.Uri
	routes       []string // route set, from the 2xx's Record-Route in reverse order
	remoteTag    string
	bye          chan struct{}
	byeOnce      sync.Once
}

func newUACDialog(c *call, inv *sip.Request, res *sip.Response) *uacDialog {
	d := &uacDialog{c: c, inv: inv, res: res, remoteTarget: *inv.Recipient.Clone(), bye: make(chan struct{})}
	if ct := res.Contact(); ct != nil {
		d.remoteTarget = *ct.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		d.routes = append(d.routes, rr[i].Value())
	}
	if to := res.To(); to != nil {
		d.remoteTag, _ = to.Params.Get("tag")
	}
	return d
}

func (d *uacDialog) matches(req *sip.Request) bool {
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	ft, _ := from.Params.Get("tag")
	tt, _ := to.Params.Get("tag")
	return ft == d.remoteTag && tt == d.c.fromTag
}

func (d *uacDialog) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	d.c.rec.receivedRequest(req, d.c.p.Addr())
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	_ = tx.Respond(res)
	d.c.rec.sentResponse(res, d.c.p.Addr())
	d.byeOnce.Do(func() { close(d.bye) })
}

// request builds a request inside the dialog (RFC 3261 12.2.1.1).
func (d *uacDialog) request(method sip.RequestMethod, cseq uint32, to *sip.ToHeader) *sip.Request {
	p := d.c.p
	r := sip.NewRequest(method, d.remoteTarget)
	r.AppendHeader(p.via())
	for _, rt := range d.routes {
		r.AppendHeader(sip.NewHeader("Route", rt))
	}
	mf := sip.MaxForwardsHeader(70)
	r.AppendHeader(&mf)
	r.AppendHeader(sip.HeaderClone(d.inv.From()))
	r.AppendHeader(sip.HeaderClone(to))
	r.AppendHeader(sip.HeaderClone(d.inv.CallID()))
	r.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	if method == sip.ACK {
		r.AppendHeader(p.contactHeader())
	}
	r.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	r.SetBody(nil)
	p.route(r)
	return r
}

// answered confirms a 2xx with ACK (RFC 3261 13.2.2.4), holds the call and hangs up with
// BYE (RFC 3261 15.1.1) unless the callee does first.
func (c *call) answered(ctx context.Context, inv *sip.Request, res *sip.Response, tx *sip.ClientTx, media *rtpSink) *CallResult {
	c.stopRing()
	defer tx.Terminate()
	p := c.p
	d := newUACDialog(c, inv, res)
	ack := d.request(sip.ACK, inv.CSeq().SeqNo, res.To())
	ackCopy := ack.Clone()
	p.mu.Lock()
	p.dialogs[c.callID] = d
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.dialogs, c.callID)
		p.mu.Unlock()
	}()
	if err := p.ua.TransportLayer().WriteMsg(ack); err != nil {
		c.rec.note("sending the ACK failed: %v", err)
	} else {
		c.rec.sent(ack, p.Addr())
	}
	tx.OnRetransmission(func(r *sip.Response) {
		tag := ""
		if to := r.To(); to != nil {
			tag, _ = to.Params.Get("tag")
		}
		if tag == d.remoteTag {
			// The 2xx again: our ACK was lost (RFC 3261 13.2.2.4).
			_ = p.ua.TransportLayer().WriteMsg(ackCopy.Clone())
			return
		}
		// Another branch of a forked INVITE answered too: ACK it and end it at once
		// (RFC 3261 13.2.2.4).
		c.rec.received(r, p.Addr())
		c.rec.note("a second answer (To tag %s) from another branch: ACK and BYE it", tag)
		other := newUACDialog(c, inv, r)
		_ = p.ua.TransportLayer().WriteMsg(other.request(sip.ACK, inv.CSeq().SeqNo, r.To()))
		go func() {
			bctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _ = p.do(bctx, other.request(sip.BYE, inv.CSeq().SeqNo+1, r.To()), c.rec)
		}()
	})

	result := &CallResult{Outcome: OutcomeAnswered, Code: res.StatusCode, Reason: res.Reason}
	if len(res.Body()) > 0 && isSDP(res) {
		if st, err := ParseAudio(res.Body()); err == nil {
			result.Media = st.String()
			c.rec.note("answered: %s", st)
		} else {
			c.rec.note("answered, but the SDP answer cannot be read: %v", err)
		}
	} else {
		c.rec.note("answered, but the %d carries no SDP answer to our offer (RFC 3264)", res.StatusCode)
	}

	by := "the phone hung up after holding the call for " + c.o.Duration.String()
	if s, _, why := c.stopped(); s {
		c.rec.note("%s, but the call was answered as the CANCEL crossed it: hanging up at once", why)
		by = why + "; answered anyway, hung up at once"
	} else {
		c.rec.note("call established: holding it for %v", c.o.Duration)
		hold := time.NewTimer(c.o.Duration)
		select {
		case <-hold.C:
		case <-ctx.Done():
			by = "the phone hung up (cancelled by the user)"
		case <-d.bye:
			by = "the callee hung up"
		case <-p.closed:
			by = "the phone was closed"
		}
		hold.Stop()
	}
	select {
	case <-d.bye:
		if !strings.HasPrefix(by, "the callee") {
			by = "the callee hung up"
		}
	default:
		c.bye(d, inv)
	}
	result.RTPPackets = media.Packets()
	result.Text = fmt.Sprintf("answered (%d %s); %s", res.StatusCode, res.Reason, by)
	if result.Media != "" {
		result.Text += fmt.Sprintf("; media %s, %d RTP packets received", result.Media, result.RTPPackets)
	}
	return result
}

// bye hangs up, answering one digest challenge if the BYE gets one.
func (c *call) bye(d *uacDialog, inv *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bye := d.request(sip.BYE, c.nextCSeqAfter(inv), d.res.To())
	auth := newAuthState(c.p.cfg.AuthUser, c.p.cfg.Password)
	for i := 0; i < 3; i++ {
		res, err := c.p.do(ctx, bye, c.rec)
		if err != nil {
			c.rec.note("the BYE got no final answer: %v", err)
			return
		}
		if res.StatusCode != 401 && res.StatusCode != 407 {
			if !res.IsSuccess() {
				c.rec.note("the BYE was refused with %d %s; the call is over for the phone anyway", res.StatusCode, res.Reason)
			}
			return
		}
		note, err := auth.apply(bye, res)
		if err != nil {
			c.rec.note("the BYE was challenged: %v", err)
			return
		}
		c.rec.note("%s", note)
		bye = c.again(bye)
	}
}

func (c *call) nextCSeqAfter(inv *sip.Request) uint32 {
	if c.cseq <= inv.CSeq().SeqNo {
		c.cseq = inv.CSeq().SeqNo
	}
	return c.nextCSeq()
}
