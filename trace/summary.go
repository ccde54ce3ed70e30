package trace

import (
	"slices"
	"strings"
	"time"
)

// Outcome is how a call ended, in the words a person looking at a list of calls uses.
// The values are stable: they are stored, filtered on and served by the API.
type Outcome string

const (
	OutcomeAnswered     Outcome = "answered"     // 2xx
	OutcomeRedirected   Outcome = "redirected"   // 3xx: the caller was told to try elsewhere
	OutcomeBusy         Outcome = "busy"         // 486, 600
	OutcomeUnavailable  Outcome = "unavailable"  // 480: not registered, do not disturb
	OutcomeDeclined     Outcome = "declined"     // 603, 607, 608
	OutcomeNotFound     Outcome = "not-found"    // 404, 604, 410, 484
	OutcomeUnauthorized Outcome = "unauthorized" // 401/407 as the last word: authentication never succeeded
	OutcomeRejected     Outcome = "rejected"     // refused by policy: 403 (ACL, lockout, relay), rate limit
	OutcomeFailed       Outcome = "failed"       // any other error: malformed, loop, server or branch failure
	OutcomeTimedOut     Outcome = "timed-out"    // 408, 504: nobody answered in time
	OutcomeCancelled    Outcome = "cancelled"    // 487: the caller gave up
	OutcomeUnanswered   Outcome = "unanswered"   // no final response recorded: in progress, dropped or lost
)

// Outcomes lists every outcome, for validating filters.
var Outcomes = []Outcome{
	OutcomeAnswered, OutcomeRedirected, OutcomeBusy, OutcomeUnavailable, OutcomeDeclined,
	OutcomeNotFound, OutcomeUnauthorized, OutcomeRejected, OutcomeFailed, OutcomeTimedOut,
	OutcomeCancelled, OutcomeUnanswered,
}

// Text is the outcome in plain words.
func (o Outcome) Text() string {
	switch o {
	case OutcomeNotFound:
		return "not found"
	case OutcomeUnauthorized:
		return "authentication failed"
	case OutcomeRejected:
		return "rejected by policy"
	case OutcomeTimedOut:
		return "timed out"
	case OutcomeCancelled:
		return "cancelled by the caller"
	case OutcomeUnanswered:
		return "no final answer"
	}
	return string(o)
}

// ClassifyOutcome maps the final code of a call, and who produced it, to its outcome.
// The producer matters where one code has two stories: a 503 from siplens' own rate
// limit is a policy refusal, a 503 from elsewhere a failure.
func ClassifyOutcome(code int, producer string) Outcome {
	switch {
	case code < 200:
		return OutcomeUnanswered
	case code < 300:
		return OutcomeAnswered
	case code < 400:
		return OutcomeRedirected
	}
	switch code {
	case 486, 600:
		return OutcomeBusy
	case 480:
		return OutcomeUnavailable
	case 603, 607, 608:
		return OutcomeDeclined
	case 404, 410, 484, 604:
		return OutcomeNotFound
	case 401, 407:
		return OutcomeUnauthorized
	case 403:
		return OutcomeRejected
	case 408, 504:
		return OutcomeTimedOut
	case 487:
		return OutcomeCancelled
	case 429, 503:
		if producer == "ratelimit" || producer == "acl" {
			return OutcomeRejected
		}
	}
	return OutcomeFailed
}

// Summary is what a list of calls shows about one call, derived from its record.
type Summary struct {
	CallID string    `json:"call_id"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	// Duration is Last - First.
	Duration time.Duration `json:"duration"`
	// Method is the method of the first request (INVITE, REGISTER, MESSAGE, ...).
	Method string `json:"method"`
	// From and To are "user@host" of the first request.
	From string `json:"from"`
	To   string `json:"to"`
	// Code is the final response to the initial request: to its last attempt when the
	// first was challenged (a 407 followed by a 200 is a 200). 0 when none was recorded.
	Code    int     `json:"code"`
	Outcome Outcome `json:"outcome"`
	// Producer and Reason say who sent Code and why, when siplens recorded it.
	Producer string `json:"producer,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Messages int    `json:"messages"`
	Events   int    `json:"events"`
}

// Summarize derives the summary of a call from its record.
func Summarize(c *Call) Summary {
	z := newSummarizer(c.CallID)
	for _, e := range c.Timeline() {
		if e.Message != nil {
			z.message(e.Message)
		} else {
			z.event(e.Event)
		}
	}
	return z.summary
}

// summarizer builds a Summary one entry at a time, so that the tracer's writer keeps the
// summaries of live calls current without reading their records back.
type summarizer struct {
	summary Summary
	// dir is the direction of the initial request; its answers go the other way.
	dir Direction
	// attempts are the CSeq numbers of the out-of-dialog requests of the initial method
	// (the first, and the retries after a 401/407).
	attempts []uint32
	codeCSeq uint32
	// cseqMethod is the method the initial request named in its CSeq: the same as its
	// own method, except in a malformed request, whose 400 echoes that CSeq.
	cseqMethod string
	// answers holds the last final answer event per CSeq number, to name the producer.
	answers map[uint32]Event
	gen     uint64 // the writer's batch that last touched it
}

func newSummarizer(callID string) *summarizer {
	return &summarizer{summary: Summary{CallID: callID, Outcome: OutcomeUnanswered}}
}

func (z *summarizer) touch(t time.Time) {
	s := &z.summary
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if t.After(s.Last) {
		s.Last = t
	}
	s.Duration = s.Last.Sub(s.First)
}

func (z *summarizer) message(m *Message) {
	z.summary.Messages++
	z.touch(m.Time)
	p, ok := factsOf(m.Raw)
	if !ok {
		return
	}
	s := &z.summary
	cseq, cseqMethod := p.cseq, p.cseqMethod
	if p.request {
		toTag := func() string { return Param(p.to, "tag") }
		switch {
		case s.Method == "":
			s.Method = internMethod(p.method)
			// AOR builds new strings or returns pieces of the value: clone, so that the
			// summary does not keep the message's bytes.
			s.From, s.To = strings.Clone(AOR(p.from)), strings.Clone(AOR(p.to))
			z.dir = m.Direction
			z.cseqMethod = strings.Clone(cseqMethod)
			if toTag() == "" {
				z.attempts = append(z.attempts, cseq)
			}
		case p.method == s.Method && m.Direction == z.dir && toTag() == "" && !slices.Contains(z.attempts, cseq):
			z.attempts = append(z.attempts, cseq)
		}
		return
	}
	// (A request without CSeq gets an answer without one: it counts as CSeq 0.)
	if p.code < 200 || m.Direction == z.dir || (cseqMethod != s.Method && cseqMethod != z.cseqMethod && cseqMethod != "") || !slices.Contains(z.attempts, cseq) {
		return
	}
	switch {
	case s.Code == 0, cseq > z.codeCSeq:
	case cseq == z.codeCSeq && p.code < 300 && s.Code >= 300:
		// A 2xx that crossed a CANCEL is relayed after the 487 (RFC 3261 16.7 step 10):
		// the call was answered after all.
	default:
		return // a retransmission, or a later 2xx of a forked call: the first one counts
	}
	s.Code, z.codeCSeq = p.code, cseq
	s.Producer, s.Reason = "", ""
	z.resolveProducer()
}

func (z *summarizer) event(ev *Event) {
	z.summary.Events++
	z.touch(ev.Time)
	if z.summary.Method == "" && ev.Method != "" {
		z.summary.Method = ev.Method
	}
	if ev.Kind != KindAnswer || ev.Code < 200 {
		return
	}
	if z.answers == nil {
		z.answers = map[uint32]Event{}
	}
	z.answers[ev.CSeq] = *ev
	z.resolveProducer()
}

// resolveProducer names who sent the final code, from the answer event for the same
// request when there is one.
func (z *summarizer) resolveProducer() {
	s := &z.summary
	if s.Code != 0 {
		ev, ok := z.answers[z.codeCSeq]
		if !ok {
			ev, ok = z.answers[0] // a recorder not tied to a request
		}
		if ok && ev.Code == s.Code {
			s.Producer, s.Reason = ev.Producer, ev.Reason
		}
	}
	s.Outcome = ClassifyOutcome(s.Code, strings.TrimSpace(s.Producer))
}
