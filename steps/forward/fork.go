package forward

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/trace"
)

// branch is one forwarded copy of the request and what became of it.
type branch struct {
	index      int
	target     chain.Target
	req        *sip.Request
	tx         sip.ClientTransaction
	ringing    bool // a provisional response arrived (a CANCEL may now be sent, RFC 3261 9.1)
	final      *sip.Response
	code       int    // final code counted for best-response selection
	why        string // for synthesised codes (timeouts, transport errors)
	timedOut   bool   // Timer C fired
	cancel     bool   // CANCEL wanted as soon as the branch rings
	cancelSent bool
	cancelWhy  trace.Verdict
	done       bool
	timerC     *time.Timer
	name       string // label(), once built
	uriText    string // uri(), once built
	destText   string // dest(), once built
}

type event struct {
	b   *branch
	res *sip.Response // nil when the transaction ended
	err error
}

// fork runs every target in parallel and answers the caller (RFC 3261 16.6-16.7).
func (s *Step) fork(ctx context.Context, w chain.ResponseWriter, r *chain.Request, newDialog bool) error {
	isInvite := r.SIP.Method == sip.INVITE
	if isInvite && r.Callee != "" && s.Dialogs != nil {
		// The call counts against the callee's limit from now until it fails or its BYE.
		s.Dialogs.Start(r.Callee, r.CallID(), s.Now())
		defer func() {
			if !w.Final() || w.Status() >= 300 {
				s.Dialogs.End(r.CallID())
			}
		}()
	}
	st := &forkState{}
	groups := [][]chain.Target{r.Targets}
	if s.Sequential && isInvite {
		groups = byPreference(r.Targets)
	}
	var all []*branch
	for _, group := range groups {
		all = append(all, s.runGroup(ctx, w, r, group, newDialog, isInvite, st)...)
		if st.winner != nil || st.global || w.Final() || r.CancelledNow() {
			break
		}
	}
	if st.winner != nil || w.Final() || r.CancelledNow() {
		return nil
	}
	return s.answerBest(ctx, w, r, all)
}

// forkState is what one request's branches share across sequential groups.
type forkState struct {
	winner *sip.Response // the 2xx relayed to the caller
	global bool          // a 6xx ended the search
	count  int           // branches opened so far (their numbers in logs and traces)
	trying bool          // 100 Trying sent (INVITE)
}

// byPreference splits targets into groups of equal q, highest first: the groups are tried
// one after the other, the targets of a group in parallel (RFC 3261 16.6, 16.7 step 1).
func byPreference(targets []chain.Target) [][]chain.Target {
	var groups [][]chain.Target
	for _, t := range targets { // already sorted by q, highest first
		if n := len(groups); n > 0 && groups[n-1][0].Q == t.Q {
			groups[n-1] = append(groups[n-1], t)
		} else {
			groups = append(groups, []chain.Target{t})
		}
	}
	return groups
}

// runGroup sends the request to targets in parallel and follows their branches until every
// one has ended; provisional responses and the first 2xx are relayed at once.
func (s *Step) runGroup(ctx context.Context, w chain.ResponseWriter, r *chain.Request, targets []chain.Target, newDialog, isInvite bool, st *forkState) []*branch {
	// Room for one late Timer C per branch, so that a timer firing after the loop is
	// over never blocks; watchers' events are all read before the loop ends.
	events := make(chan event, len(targets)+1)
	var branches []*branch
	for _, t := range targets {
		st.count++
		b := &branch{index: st.count, target: t, req: s.prepare(r, t, newDialog)}
		branches = append(branches, b)
		if !s.allowed(t) {
			b.done, b.code, b.why = true, 503, "destination refused by the forwarding guard"
			continue
		}
		if t.Destination == "" && s.IsSelf(t.URI) {
			// A contact naming siplens itself would only bring the request back here.
			b.done, b.code, b.why = true, 482, fmt.Sprintf("the contact %s points back at siplens itself", t.URI.String())
			continue
		}
		tx, err := s.Client.TransactionRequest(context.WithoutCancel(ctx), b.req, noBuild)
		if err != nil {
			b.done, b.code, b.why = true, 503, fmt.Sprintf("could not send to %s: %v", t.URI.String(), err)
			continue
		}
		b.tx = tx
		branchEvent(ctx, b, trace.Opened, 0, "")
		if isInvite {
			// The callee resends its 2xx until the caller's ACK reaches it; the client
			// transaction absorbs the copies (RFC 6026 Accepted state) unless told where
			// they go. A proxy passes every 2xx on (RFC 3261 16.7 step 4), statelessly: the
			// caller's ACK is what stops them, so a lost 200 or ACK must be retried end to end.
			tx.OnRetransmission(func(res *sip.Response) {
				if res.IsSuccess() {
					s.relayStateless(r, res)
				}
			})
			b.timerC = time.AfterFunc(s.NoAnswer, func() { events <- event{b: b, err: errTimerC} })
		}
	}
	if isInvite && !st.trying {
		// RFC 3261 16.2: tell the caller the request is being worked on, so it stops
		// retransmitting while the branches ring. Sent once the first branches are on their
		// way, so that the callee starts ringing sooner; it still precedes anything relayed.
		st.trying = true
		if err := w.Reply(100, ""); err != nil {
			s.Log.Debug("sending 100 Trying failed", "call_id", r.CallID(), "error", err)
		}
	}

	pending := 0
	for _, b := range branches {
		if !b.done {
			pending++
		}
	}
	// One branch (the usual case: one registered phone) is read directly; several are
	// fanned in, a watcher goroutine each. The direct read saves a goroutine and a channel
	// hop per response.
	var (
		direct     *branch
		directResp <-chan *sip.Response
		directDone <-chan struct{}
	)
	for _, b := range branches {
		switch {
		case b.done:
		case pending == 1:
			direct, directResp, directDone = b, b.tx.Responses(), b.tx.Done()
		default:
			go watch(b, events)
		}
	}
	cancelled := r.Cancelled
	for pending > 0 {
		var ev event
		select {
		case <-cancelled:
			// The caller sent CANCEL: sipgo has answered it and sent 487 upstream. Cancel
			// every branch still going (RFC 3261 16.10).
			cancelled = nil
			for _, b := range branches {
				s.cancelBranch(ctx, b, trace.CallerCancelled)
			}
			continue
		case ev = <-events:
		case res := <-directResp:
			ev = event{b: direct, res: res}
			if !res.IsProvisional() {
				directResp, directDone = nil, nil
			}
		case <-directDone:
			ev = event{b: direct, err: direct.tx.Err()}
			directResp, directDone = nil, nil
		}
		b := ev.b
		if b.done {
			continue
		}
		if ev.err == errTimerC {
			// Timer C: ringing too long without a final answer (16.8).
			b.timedOut = true
			trace.Decision(ctx, trace.Event{Kind: trace.KindTimer, Verdict: trace.TimerC, Producer: "timer C", Branch: b.index,
				Target: b.uri(), Duration: s.NoAnswer, Reason: fmt.Sprintf("%s rang for %s without a final answer", b.uri(), s.NoAnswer)})
			if b.ringing {
				s.cancelBranch(ctx, b, trace.NoAnswer)
			} else {
				b.tx.Terminate()
			}
			continue
		}
		if ev.res == nil {
			b.done = true
			pending--
			stopTimer(b)
			if b.timedOut {
				b.code, b.why = 408, fmt.Sprintf("no final answer from %s within %s (Timer C)", b.uri(), s.NoAnswer)
			} else {
				b.code, b.why = errCode(ev.err)
				if b.code == 408 {
					trace.Decision(ctx, trace.Event{Kind: trace.KindTimer, Verdict: trace.TimerB, Producer: "timer B", Branch: b.index,
						Target: b.uri(), Destination: b.dest(), Reason: b.why})
				}
			}
			branchEvent(ctx, b, trace.Failed, b.code, b.why)
			continue
		}
		res := ev.res
		if res.IsProvisional() {
			b.ringing = true
			if res.StatusCode > 100 {
				branchEvent(ctx, b, trace.Provisional, res.StatusCode, res.Reason)
			}
			if b.cancel {
				s.cancelBranch(ctx, b, b.cancelWhy)
			}
			if isInvite && b.timerC != nil {
				b.timerC.Reset(s.NoAnswer) // any provisional restarts Timer C (16.7 step 2)
			}
			if res.StatusCode > 100 && st.winner == nil && !w.Final() {
				w.SetProducer(b.label())
				s.relay(w, r, res)
			}
			continue
		}
		// A final response ends this branch.
		b.done, b.final, b.code = true, res, res.StatusCode
		branchEvent(ctx, b, trace.Final, res.StatusCode, res.Reason)
		pending--
		stopTimer(b)
		if b.timedOut && res.StatusCode == 487 {
			// Our own CANCEL from Timer C: count it as the timeout it is.
			b.code = 408
			b.why = fmt.Sprintf("%s rang for %s without a final answer (Timer C); siplens cancelled it", b.uri(), s.NoAnswer)
		}
		switch {
		case res.IsSuccess():
			if st.winner == nil {
				st.winner = res
				if r.CancelledNow() {
					// 16.7 step 10: a 2xx that crossed the caller's CANCEL is still relayed;
					// the server transaction is gone, so it goes statelessly.
					s.relayStateless(r, res)
				} else {
					w.SetProducer(b.label())
					s.relay(w, r, res)
				}
				for _, other := range branches {
					s.cancelBranch(ctx, other, trace.AnsweredElsewhere)
				}
			} else if isInvite {
				// Another 2xx after the first: forwarded too (16.7 step 5); the caller
				// resolves it with ACK and BYE.
				s.relayStateless(r, res)
			}
		case res.StatusCode >= 600 && isInvite && st.winner == nil:
			// 16.7 step 5: a 6xx ends the search (later groups are not tried either);
			// cancel the others.
			st.global = true
			for _, other := range branches {
				s.cancelBranch(ctx, other, trace.GlobalFailure)
			}
		}
	}
	return branches
}

// branchEvent records a branch event, building it (labels, addresses) only when the call
// is being recorded: these run for every response on the proxy's hot path.
func branchEvent(ctx context.Context, b *branch, v trace.Verdict, code int, reason string) {
	if trace.Enabled(ctx) {
		trace.Decision(ctx, b.event(v, code, reason))
	}
}

// event is a branch event for the call's timeline.
func (b *branch) event(v trace.Verdict, code int, reason string) trace.Event {
	return trace.Event{Kind: trace.KindBranch, Verdict: v, Producer: b.label(), Branch: b.index, Code: code, Reason: reason,
		Target: b.uri(), Destination: b.dest()}
}

// label names the branch as the producer of what it answered; built once per branch
// (every relayed response and branch event asks for it).
func (b *branch) label() string {
	if b.name == "" {
		b.name = "branch " + strconv.Itoa(b.index) + " (" + b.uri() + ")"
	}
	return b.name
}

// uri is the branch's target as text, built once: sipgo formats a URI and a destination
// anew on every call (with fmt and an IP parse), and every branch event names both.
func (b *branch) uri() string {
	if b.uriText == "" {
		b.uriText = b.target.URI.String()
	}
	return b.uriText
}

// dest is the address the branch's request went to, built once (see uri).
func (b *branch) dest() string {
	if b.destText == "" {
		b.destText = b.req.Destination()
	}
	return b.destText
}

// errTimerC marks the Timer C event.
var errTimerC = fmt.Errorf("timer C")

func watch(b *branch, events chan<- event) {
	for {
		select {
		case res := <-b.tx.Responses():
			events <- event{b: b, res: res}
			if !res.IsProvisional() {
				return
			}
		case <-b.tx.Done():
			events <- event{b: b, err: b.tx.Err()}
			return
		}
	}
}

func stopTimer(b *branch) {
	if b.timerC != nil {
		b.timerC.Stop()
	}
}

// cancelBranch sends CANCEL to a branch that has rung; one that has not yet is marked so
// the CANCEL goes as soon as it does (RFC 3261 9.1: no CANCEL before a provisional).
func (s *Step) cancelBranch(ctx context.Context, b *branch, why trace.Verdict) {
	if b.done || b.tx == nil || b.req.Method != sip.INVITE {
		return
	}
	if !b.ringing {
		b.cancel, b.cancelWhy = true, why
		return
	}
	if b.cancelSent {
		return
	}
	b.cancel, b.cancelSent = false, true
	trace.Decision(ctx, trace.Event{Kind: trace.KindCancel, Verdict: why, Producer: "forward", Branch: b.index, Target: b.uri()})
	cancel := cancelFor(b.req)
	go func() {
		ctx, stop := context.WithTimeout(context.Background(), 32*time.Second)
		defer stop()
		if _, err := s.Client.Do(ctx, cancel, noBuild); err != nil {
			s.Log.Debug("CANCEL of a branch got no answer", "target", b.uri(), "error", err)
		}
	}()
}

// cancelFor builds the CANCEL for a branch from the branch's own request: same
// Request-URI, top Via, Call-ID, From, To, CSeq number and Route set (RFC 3261 9.1).
func cancelFor(inv *sip.Request) *sip.Request {
	c := sip.NewRequest(sip.CANCEL, *inv.Recipient.Clone())
	c.AppendHeader(sip.HeaderClone(inv.Via()))
	for _, h := range inv.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	c.AppendHeader(sip.HeaderClone(inv.From()))
	c.AppendHeader(sip.HeaderClone(inv.To()))
	c.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.CANCEL})
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.SetBody(nil)
	c.SetTransport(inv.Transport())
	c.SetDestination(inv.Destination())
	return c
}

// relay passes a branch's response to the caller: our Via comes off the top.
func (s *Step) relay(w chain.ResponseWriter, r *chain.Request, res *sip.Response) {
	out := upstream(r, res)
	if err := w.Relay(out); err != nil {
		s.Log.Debug("relaying a response failed", "call_id", r.CallID(), "code", res.StatusCode, "error", err)
	}
}

func (s *Step) relayStateless(r *chain.Request, res *sip.Response) {
	if err := s.Client.TransportLayer().WriteMsg(upstream(r, res)); err != nil {
		s.Log.Debug("relaying a response statelessly failed", "call_id", r.CallID(), "code", res.StatusCode, "error", err)
	}
}

// upstream turns a branch's response into the caller's, in place: sipgo hands every
// response it reads to one reader (the branch, or the retransmission hook) and has built
// the ACK of a non-2xx before that, so nothing else reads it afterwards, and a deep copy
// per relayed response cost about 3% of the proxy's CPU at load. Each response goes
// upstream once: the 2xx that wins, each provisional, and the best final answer (a merged
// challenge is a copy of its own).
func upstream(r *chain.Request, res *sip.Response) *sip.Response {
	res.RemoveHeader("Via") // removes the first, topmost Via: ours (RFC 3261 16.7 step 3)
	res.SetTransport(r.Transport)
	res.SetDestination(r.Source)
	return res
}

// answerBest chooses the response for the caller when every branch has ended without a
// 2xx (RFC 3261 16.7 step 6).
func (s *Step) answerBest(ctx context.Context, w chain.ResponseWriter, r *chain.Request, branches []*branch) error {
	best := bestBranch(branches)
	if best == nil {
		return chain.Reject(408, "no branch answered")
	}
	trace.Decision(ctx, trace.Event{Kind: trace.KindBest, Producer: "forward", Branch: best.index, Code: best.code, Target: best.target.URI.String(),
		Reason: fmt.Sprintf("best of %d branches (RFC 3261 16.7): %d from branch %d", len(branches), best.code, best.index)})
	w.SetProducer(best.label())
	switch {
	case best.final == nil:
		// Synthesised: a timeout or a transport error. 503 becomes 500 (16.7 step 6).
		code := best.code
		if code == 503 {
			code = 500
		}
		return &chain.Error{Code: code, Reason: best.why, Step: w.Producer()}
	case best.code == 503:
		return &chain.Error{Code: 500, Reason: fmt.Sprintf("the contact %s answered 503; a proxy passes that on as 500 (RFC 3261 16.7)", best.target.URI.String()), Step: w.Producer()}
	case best.code == 401 || best.code == 407:
		s.relay(w, r, mergeChallenges(best.final, branches))
		return nil
	case best.code == 408 && best.timedOut:
		return &chain.Error{Code: 408, Reason: best.why, Step: w.Producer()}
	}
	s.relay(w, r, best.final)
	return nil
}

// bestBranch: 6xx first; otherwise the lowest class among 3xx-5xx, preferring within 4xx
// the codes the caller can act on (401, 407, 415, 420, 484), then the lowest code.
func bestBranch(branches []*branch) *branch {
	var best *branch
	rank := func(b *branch) int {
		c := b.code
		switch {
		case c >= 600:
			return 0
		case c == 401 || c == 407 || c == 415 || c == 420 || c == 484:
			return 400*10 - 1
		}
		return c * 10
	}
	for _, b := range branches {
		if b.code < 300 {
			continue
		}
		if best == nil || rank(b) < rank(best) {
			best = b
		}
	}
	return best
}

// mergeChallenges collects every WWW-Authenticate and Proxy-Authenticate from the branches'
// 401 and 407 answers into one response (RFC 3261 16.7 step 7).
func mergeChallenges(chosen *sip.Response, branches []*branch) *sip.Response {
	out := chosen.Clone()
	for _, b := range branches {
		if b.final == nil || b.final == chosen || (b.code != 401 && b.code != 407) {
			continue
		}
		for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
			for _, h := range b.final.GetHeaders(name) {
				out.AppendHeader(sip.HeaderClone(h))
			}
		}
	}
	return out
}
