package trace

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Direction says whether siplens received a message or sent it.
type Direction uint8

const (
	// In is a message siplens received.
	In Direction = 1
	// Out is a message siplens sent.
	Out Direction = 2
)

func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "unknown"
}

// MarshalText writes "in" or "out", so that stored and served records read plainly.
func (d Direction) MarshalText() ([]byte, error) {
	if d != In && d != Out {
		return nil, fmt.Errorf("trace: invalid direction %d", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "in" or "out".
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "in":
		*d = In
	case "out":
		*d = Out
	default:
		return fmt.Errorf("trace: invalid direction %q", b)
	}
	return nil
}

// Message is one SIP message as it crossed the wire.
type Message struct {
	CallID string `json:"call_id"`
	// Seq orders entries recorded in the same microsecond; it carries no other meaning.
	Seq uint64 `json:"seq"`
	// Time is when the message was read or written, to the microsecond.
	Time      time.Time `json:"time"`
	Direction Direction `json:"direction"`
	// Transport is "UDP", "TCP", "TLS", "WS" or "WSS".
	Transport string `json:"transport"`
	// Local is siplens' own "ip:port" for this message, Remote the other end's.
	Local  string `json:"local"`
	Remote string `json:"remote"`
	// Raw is the message exactly as it was on the wire.
	Raw []byte `json:"raw"`
}

// From is the address the message came from.
func (m *Message) From() string {
	if m.Direction == In {
		return m.Remote
	}
	return m.Local
}

// To is the address the message went to.
func (m *Message) To() string {
	if m.Direction == In {
		return m.Local
	}
	return m.Remote
}

// Parse reads the message; see Parse.
func (m *Message) Parse() (Parsed, error) { return Parse(m.Raw) }

// Kind says what sort of decision an Event records.
type Kind string

const (
	// KindAnswer: siplens sent a response to the request; Producer says who wrote it (a
	// step, a branch it relayed, "server", "caller CANCEL"), Code and Reason what and why.
	KindAnswer Kind = "answer"
	// KindACL: an access-control rule matched (Rule; Verdict Allowed or Denied).
	KindACL Kind = "acl"
	// KindRateLimit: a rate-limit bucket or the overload guard refused the request (Rule,
	// Verdict Limited or Overloaded, RetryAfter).
	KindRateLimit Kind = "ratelimit"
	// KindAuth: an authentication verdict (Verdict, User).
	KindAuth Kind = "auth"
	// KindLocate: the location lookup result (Verdict, User, Count, Target for forwarding).
	KindLocate Kind = "locate"
	// KindBranch: a branch of the forward step (Verdict Opened, Provisional, Final or
	// Failed; Branch, Target, Destination, Code).
	KindBranch Kind = "branch"
	// KindTimer: a timer fired (Verdict TimerB, TimerC, ...; Branch, Duration).
	KindTimer Kind = "timer"
	// KindCancel: siplens sent (or queued) a CANCEL to a branch (Branch, Target, Verdict
	// says why).
	KindCancel Kind = "cancel"
	// KindBest: the forward step chose the response for the caller among the branches'
	// answers (RFC 3261 16.7; Branch, Code, Reason).
	KindBest Kind = "best"
	// KindNote: anything else worth seeing on the timeline.
	KindNote Kind = "note"
)

// Verdict is the result of a decision. The constants below are the vocabulary the steps
// and the diagnosis share; a step may use another word when none fits.
type Verdict string

// ACL verdicts.
const (
	Allowed Verdict = "allowed"
	Denied  Verdict = "denied"
)

// Rate-limit verdicts.
const (
	Limited    Verdict = "limited"    // the source's (or user's) bucket is empty
	Overloaded Verdict = "overloaded" // siplens as a whole is over its capacity
)

// Auth verdicts.
const (
	Challenged    Verdict = "challenged"     // no credentials yet: challenge sent
	Stale         Verdict = "stale"          // right password, expired nonce: stale=true
	WrongPassword Verdict = "wrong-password" // credentials did not verify (or no such user)
	Replayed      Verdict = "replayed"       // nonce not ours, or nonce-count reused
	LockedOut     Verdict = "locked-out"     // too many failures: refused with 403
	Authenticated Verdict = "authenticated"  // credentials verified
	Trusted       Verdict = "trusted"        // source trusted: no authentication asked
	Impersonation Verdict = "impersonation"  // authenticated as one user, claims another
)

// Locate verdicts.
const (
	NoSuchUser   Verdict = "no-such-user"
	NoBinding    Verdict = "no-binding"     // the user exists but has no registered contact
	DoNotDisturb Verdict = "do-not-disturb" // the user refuses calls for now
	Forwarded    Verdict = "forwarded"      // a forwarding rule: Target is the new address
	Found        Verdict = "found"          // Count contacts to try
	NotServed    Verdict = "not-served"     // the Request-URI domain is not ours: no relay
)

// Branch verdicts.
const (
	Opened      Verdict = "opened"
	Provisional Verdict = "provisional"
	Final       Verdict = "final"
	Failed      Verdict = "failed" // the branch ended without a response (timeout, transport)
)

// Timer verdicts name the timer (RFC 3261 17 and 16.6 step 11).
const (
	TimerB Verdict = "timer B" // INVITE client transaction: no response at all
	TimerF Verdict = "timer F" // non-INVITE client transaction: no final response
	TimerC Verdict = "timer C" // proxy: ringing too long without a final answer
	TimerH Verdict = "timer H" // INVITE server transaction: no ACK for a final response
)

// Cancel verdicts say why siplens cancelled a branch.
const (
	CallerCancelled   Verdict = "caller-cancelled"   // the caller sent CANCEL (16.10)
	AnsweredElsewhere Verdict = "answered-elsewhere" // another branch answered 2xx (16.7 step 5)
	GlobalFailure     Verdict = "global-failure"     // another branch answered 6xx
	NoAnswer          Verdict = "no-answer"          // Timer C fired (16.8)
)

// Event is one decision of siplens on the call's timeline. Only Kind is required; the
// other fields are filled where they apply (see the Kind constants).
type Event struct {
	CallID string    `json:"call_id"`
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	// Method and CSeq name the request the decision is about; a Recorder made for a
	// request fills them in.
	Method string `json:"method,omitempty"`
	CSeq   uint32 `json:"cseq,omitempty"`

	Kind    Kind    `json:"kind"`
	Verdict Verdict `json:"verdict,omitempty"`
	// Producer is who decided, in the words of the log: "locate", "auth", "acl",
	// "branch 1 (sip:bob@10.0.0.7:5060)", "timer C", "server".
	Producer string `json:"producer,omitempty"`
	// Reason says why, in plain words (the same text as the log line's reason).
	Reason string `json:"reason,omitempty"`
	// Code is the response code the decision leads to or reports; 0 for none.
	Code int `json:"code,omitempty"`
	// Rule is the ACL entry or rate-limit bucket that matched.
	Rule string `json:"rule,omitempty"`
	// User is the user concerned: the authenticated or claimed user, the address-of-record
	// looked up.
	User string `json:"user,omitempty"`
	// Branch is the 1-based branch number for branch, timer, cancel and best events.
	Branch int `json:"branch,omitempty"`
	// Target is the URI the branch was sent to, or where a forwarding rule points.
	Target string `json:"target,omitempty"`
	// Destination is the "ip:port" a branch was sent to.
	Destination string `json:"destination,omitempty"`
	// Count is the number of contacts found.
	Count int `json:"count,omitempty"`
	// RetryAfter is the Retry-After given, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`
	// Duration is how long a timer ran before it fired.
	Duration time.Duration `json:"duration,omitempty"`
}

// Call is the record of one call: everything seen and decided under one Call-ID.
type Call struct {
	CallID   string    `json:"call_id"`
	Messages []Message `json:"messages"`
	Events   []Event   `json:"events"`
}

// Entry is one line of a call's timeline: exactly one of Message and Event is set.
type Entry struct {
	Message *Message
	Event   *Event
}

// Time is when the entry was recorded.
func (e Entry) Time() time.Time {
	if e.Message != nil {
		return e.Message.Time
	}
	return e.Event.Time
}

func (e Entry) seq() uint64 {
	if e.Message != nil {
		return e.Message.Seq
	}
	return e.Event.Seq
}

// Sort puts messages and events in time order (ties broken by Seq), the order every
// reader of a record expects.
func (c *Call) Sort() {
	slices.SortStableFunc(c.Messages, func(a, b Message) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq))
	})
	slices.SortStableFunc(c.Events, func(a, b Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq))
	})
}

// Timeline merges messages and events in time order. The entries point into c, so c
// should be sorted (Sort) and not changed while they are in use.
func (c *Call) Timeline() []Entry {
	out := make([]Entry, 0, len(c.Messages)+len(c.Events))
	for i := range c.Messages {
		out = append(out, Entry{Message: &c.Messages[i]})
	}
	for i := range c.Events {
		out = append(out, Entry{Event: &c.Events[i]})
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		return cmp.Or(a.Time().Compare(b.Time()), cmp.Compare(a.seq(), b.seq()))
	})
	return out
}

// Clone returns a deep copy, so that a reader may keep it while the original changes.
func (c *Call) Clone() *Call {
	out := &Call{CallID: c.CallID, Messages: slices.Clone(c.Messages), Events: slices.Clone(c.Events)}
	for i := range out.Messages {
		out.Messages[i].Raw = slices.Clone(out.Messages[i].Raw)
	}
	return out
}
