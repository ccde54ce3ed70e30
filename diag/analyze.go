package diag

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/siplens/siplens/trace"
)

// msg is one recorded message with what the diagnosis reads from it.
type msg struct {
	index int // in the call's sorted Messages
	m     *trace.Message
	p     trace.Parsed
	ok    bool // parsed

	cseq       uint32
	cseqMethod string
	branch     string // top Via branch: names the transaction
	// retrans marks a copy of an earlier message: same direction, peer, start line,
	// transaction and To tag.
	retrans bool
	// copies counts how often the first copy was seen (on the first copy only).
	copies int
}

func (m *msg) isRequest(method string) bool {
	return m.ok && m.p.Request && (method == "" || m.p.Method == method)
}

func (m *msg) isResponse() bool { return m.ok && !m.p.Request }

func (m *msg) time() time.Time { return m.m.Time }

// attempt is one transaction of the initial request: the first one, or a retry after a
// 401/407 challenge (a new CSeq).
type attempt struct {
	req         *msg
	final       *msg   // the first final answer back to the requester
	ringing     *msg   // the first 18x back to the requester
	cancel      *msg   // the requester's CANCEL
	acks        []*msg // ACKs from the requester
	acksOut     []*msg // ACKs siplens sent on (relayed 2xx ACKs, and its own for branch failures)
	branches    []*branch
	events      []*trace.Event
	finalCopies int // how often the final answer went out (retransmitted 2xx)
}

// branch is one copy of the request siplens forwarded (RFC 3261 16.6).
type branch struct {
	index   int
	req     *msg // first copy sent
	target  string
	dest    string
	ringing *msg // first 18x
	any     *msg // first response of any kind
	final   *msg
	cancel  *msg // siplens' CANCEL of the branch
	opened  *trace.Event
	failed  *trace.Event
}

// label names the branch in text: "branch 1 (sip:bob@10.0.0.7:5060)".
func (b *branch) label() string {
	return fmt.Sprintf("branch %d (%s)", b.index, b.target)
}

// analysis is what the diagnosis and the ladder know about a call.
type analysis struct {
	call     *trace.Call
	msgs     []*msg
	first    *msg            // the initial request
	dir      trace.Direction // its direction
	attempts []*attempt
}

func (an *analysis) last() *attempt {
	if len(an.attempts) == 0 {
		return nil
	}
	return an.attempts[len(an.attempts)-1]
}

// analyze reads a sorted call.
func analyze(call *trace.Call) *analysis {
	an := &analysis{call: call}
	seen := map[string]*msg{}
	for i := range call.Messages {
		m := &msg{index: i, m: &call.Messages[i]}
		p, err := trace.Parse(m.m.Raw)
		if err == nil {
			m.p, m.ok = p, true
			m.cseq, m.cseqMethod = p.CSeq()
			m.branch = p.Branch()
		}
		key := retransKey(m)
		if orig, ok := seen[key]; ok {
			m.retrans = true
			orig.copies++
		} else {
			seen[key] = m
			m.copies = 1
		}
		an.msgs = append(an.msgs, m)
	}
	for _, m := range an.msgs {
		if m.isRequest("") && !m.retrans {
			an.first, an.dir = m, m.m.Direction
			break
		}
	}
	if an.first == nil {
		return an
	}
	method := an.first.p.Method
	for _, m := range an.msgs {
		if m.retrans || !m.isRequest(method) || m.m.Direction != an.dir || m.p.ToTag() != "" {
			continue
		}
		if an.attemptOf(m.cseq) == nil {
			an.attempts = append(an.attempts, &attempt{req: m})
		}
	}
	for _, a := range an.attempts {
		an.fill(a)
	}
	return an
}

// retransKey identifies a message up to retransmission. Without a parse the bytes
// themselves are the key.
func retransKey(m *msg) string {
	if !m.ok {
		return m.m.Direction.String() + "|" + m.m.Remote + "|" + string(m.m.Raw)
	}
	return strings.Join([]string{m.m.Direction.String(), m.m.Remote, m.p.Method, m.p.URI, strconv.Itoa(m.p.Code),
		m.branch, strconv.FormatUint(uint64(m.cseq), 10), m.cseqMethod, m.p.ToTag()}, "|")
}

func (an *analysis) attemptOf(cseq uint32) *attempt {
	for _, a := range an.attempts {
		if a.req.cseq == cseq {
			return a
		}
	}
	return nil
}

// fill finds the answers, the CANCEL, the ACKs and the branches of an attempt.
func (an *analysis) fill(a *attempt) {
	method := a.req.p.Method
	back := opposite(an.dir)
	for _, m := range an.msgs {
		if !m.ok {
			continue
		}
		switch {
		case m.isResponse() && m.m.Direction == back && m.branch == a.req.branch && (m.cseqMethod == method || m.cseqMethod == a.req.cseqMethod):
			// An answer to the requester.
			switch {
			case m.p.Code >= 200:
				if a.final == nil || (m.p.Code < 300 && a.final.p.Code >= 300 && !m.retrans) {
					a.final = m // (a 2xx that crossed a CANCEL follows the 487: it counts)
				}
				if m.p.Code == a.final.p.Code {
					a.finalCopies++
				}
			case m.p.Code > 100 && a.ringing == nil:
				a.ringing = m
			}
		case m.isRequest("CANCEL") && m.m.Direction == an.dir && m.branch == a.req.branch && a.cancel == nil:
			a.cancel = m
		case m.isRequest("ACK") && m.cseq == a.req.cseq:
			if m.m.Direction == an.dir && m.m.Remote == a.req.m.Remote {
				a.acks = append(a.acks, m)
			} else if m.m.Direction == back {
				a.acksOut = append(a.acksOut, m)
			}
		case m.isRequest(method) && m.m.Direction == back && m.cseq == a.req.cseq && m.branch != a.req.branch && !m.retrans:
			a.branches = append(a.branches, &branch{index: len(a.branches) + 1, req: m, target: m.p.URI, dest: m.m.Remote})
		}
	}
	for _, b := range a.branches {
		for _, m := range an.msgs {
			if !m.ok || m.retrans || m.branch != b.req.branch {
				continue
			}
			switch {
			case m.isResponse() && m.m.Direction == an.dir && m.cseqMethod == method:
				if b.any == nil {
					b.any = m
				}
				if m.p.Code >= 200 && b.final == nil {
					b.final = m
				} else if m.p.Code > 100 && m.p.Code < 200 && b.ringing == nil {
					b.ringing = m
				}
			case m.isRequest("CANCEL") && m.m.Direction == back && b.cancel == nil:
				b.cancel = m
			}
		}
	}
	for i := range an.call.Events {
		ev := &an.call.Events[i]
		if ev.CSeq == a.req.cseq && (ev.Method == "" || ev.Method == method) ||
			ev.CSeq == 0 && !ev.Time.Before(a.req.time()) && (a.final == nil || !ev.Time.After(a.final.time().Add(time.Second))) {
			a.events = append(a.events, ev)
		}
	}
	// Tie the forward step's branch events to the branches on the wire: by destination
	// and target, else by number.
	for _, ev := range a.events {
		if ev.Kind != trace.KindBranch {
			continue
		}
		b := a.branchFor(ev)
		if b == nil {
			continue
		}
		switch ev.Verdict {
		case trace.Opened:
			b.opened = ev
		case trace.Failed:
			b.failed = ev
		}
	}
}

func (a *attempt) branchFor(ev *trace.Event) *branch {
	for _, b := range a.branches {
		if ev.Destination != "" && b.dest == ev.Destination && (ev.Target == "" || ev.Target == b.target) {
			return b
		}
	}
	if ev.Branch > 0 && ev.Branch <= len(a.branches) {
		return a.branches[ev.Branch-1]
	}
	return nil
}

// ackRelayed reports whether siplens passed the requester's ACK for a 2xx on: an ACK it
// sent that is not its own ACK of a branch's failure (those reuse the branch's Via).
func (a *attempt) ackRelayed() bool {
	for _, ack := range a.acksOut {
		own := false
		for _, b := range a.branches {
			if ack.branch == b.req.branch {
				own = true
			}
		}
		if !own {
			return true
		}
	}
	return false
}

// branchNumbered returns branch n (1-based) or nil.
func (a *attempt) branchNumbered(n int) *branch {
	if n > 0 && n <= len(a.branches) {
		return a.branches[n-1]
	}
	return nil
}

// event returns the last event of that kind (and verdict, when given).
func (a *attempt) event(kind trace.Kind, verdicts ...trace.Verdict) *trace.Event {
	for i := len(a.events) - 1; i >= 0; i-- {
		ev := a.events[i]
		if ev.Kind != kind {
			continue
		}
		if len(verdicts) == 0 {
			return ev
		}
		for _, v := range verdicts {
			if ev.Verdict == v {
				return ev
			}
		}
	}
	return nil
}

// answer is the answer event for the final code.
func (a *attempt) answer() *trace.Event {
	if a.final == nil {
		return a.event(trace.KindAnswer)
	}
	for i := len(a.events) - 1; i >= 0; i-- {
		if ev := a.events[i]; ev.Kind == trace.KindAnswer && ev.Code == a.final.p.Code {
			return ev
		}
	}
	return nil
}

// hasCredentials reports whether the attempt answered a challenge.
func (a *attempt) hasCredentials() bool {
	return a.req.p.Has("Authorization") || a.req.p.Has("Proxy-Authorization")
}

func (a *attempt) code() int {
	if a.final == nil {
		return 0
	}
	return a.final.p.Code
}

func opposite(d trace.Direction) trace.Direction {
	if d == trace.In {
		return trace.Out
	}
	return trace.In
}

// seconds writes a duration the way a person says it.
func seconds(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}
