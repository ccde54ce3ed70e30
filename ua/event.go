package ua

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/codes"
)

// Event types.
const (
	// EventSent is a SIP message the phone sent.
	EventSent = "sent"
	// EventReceived is a SIP message the phone received.
	EventReceived = "received"
	// EventNote is a decision or a change of state: what the phone does about a message.
	EventNote = "note"
	// EventBinding is one binding listed in a registrar's 200 to a REGISTER.
	EventBinding = "binding"
	// EventResult is the outcome of a command: a call, a registration, one OPTIONS probe.
	EventResult = "result"
)

// Event is one thing that happened, in the order it happened. The CLI prints one line (or
// one JSON object) per event; a call's events make its ladder.
type Event struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	CallID string    `json:"call_id,omitempty"`
	// Call is the number of an incoming call in an answer session (1, 2, ...).
	Call int `json:"call,omitempty"`
	// Method is the request method, or for a response the method of its CSeq.
	Method string `json:"method,omitempty"`
	// URI is the Request-URI of a request, or the URI of a binding.
	URI    string `json:"uri,omitempty"`
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Local and Peer are the addresses the message went between ("host:port").
	Local string `json:"local,omitempty"`
	Peer  string `json:"peer,omitempty"`
	// Meaning is what a response code means, in one sentence (from the codes package).
	Meaning string `json:"meaning,omitempty"`
	// Text is the note itself, or what the phone does next.
	Text string `json:"text,omitempty"`
	// Expires is the lifetime of a binding in seconds.
	Expires *int `json:"expires,omitempty"`
	// Mine marks the binding of this phone.
	Mine bool `json:"mine,omitempty"`
	// Outcome, Exit and RTT belong to results.
	Outcome string  `json:"outcome,omitempty"`
	Exit    *int    `json:"exit,omitempty"`
	RTTms   float64 `json:"rtt_ms,omitempty"`
}

// IsMessage reports whether the event is a SIP message (sent or received).
func (e Event) IsMessage() bool { return e.Type == EventSent || e.Type == EventReceived }

// Arrow is "→" for a sent message and "←" for a received one.
func (e Event) Arrow() string {
	if e.Type == EventSent {
		return "→"
	}
	return "←"
}

// Summary is the first line of the message: "INVITE sip:bob@x" or "180 Ringing".
func (e Event) Summary() string {
	if e.Code != 0 {
		s := fmt.Sprintf("%d %s", e.Code, e.Reason)
		if e.Method != "" && e.Method != "INVITE" {
			s += " (" + e.Method + ")"
		}
		return strings.TrimSpace(s)
	}
	if e.URI != "" {
		return e.Method + " " + e.URI
	}
	return e.Method
}

// Line renders the event as one line of text for a terminal.
func (e Event) Line() string {
	ts := e.Time.Format("15:04:05.000")
	prefix := ts
	if e.Call > 0 {
		prefix += fmt.Sprintf(" [call %d]", e.Call)
	}
	switch e.Type {
	case EventSent:
		return fmt.Sprintf("%s → %s  to %s", prefix, e.Summary(), e.Peer)
	case EventReceived:
		s := fmt.Sprintf("%s ← %s  from %s", prefix, e.Summary(), e.Peer)
		if e.Meaning != "" {
			s += ": " + e.Meaning
		}
		return s
	case EventBinding:
		exp := "?"
		if e.Expires != nil {
			exp = fmt.Sprintf("%ds", *e.Expires)
		}
		mine := ""
		if e.Mine {
			mine = " (this phone)"
		}
		return fmt.Sprintf("%s   binding %s expires in %s%s", prefix, e.URI, exp, mine)
	case EventResult:
		return fmt.Sprintf("%s = %s", prefix, e.Text)
	}
	return fmt.Sprintf("%s   %s", prefix, e.Text)
}

// Meaning is the one-sentence meaning of a response code: the first sentence of the code's
// entry in the codes package.
func Meaning(code int) string {
	m := codes.Lookup(code).Meaning
	if i := strings.Index(m, ". "); i >= 0 {
		m = m[:i+1]
	}
	return m
}

// recorder collects the events of one call or command and hands each to the observer.
type recorder struct {
	mu      sync.Mutex
	events  []Event
	observe func(Event)
	callID  string
	call    int
	now     func() time.Time
}

func newRecorder(observe func(Event), callID string, call int) *recorder {
	return &recorder{observe: observe, callID: callID, call: call, now: time.Now}
}

func (r *recorder) add(e Event) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	if e.CallID == "" {
		e.CallID = r.callID
	}
	if e.Call == 0 {
		e.Call = r.call
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.observe != nil {
		r.observe(e)
	}
}

func (r *recorder) note(format string, args ...any) {
	r.add(Event{Type: EventNote, Text: fmt.Sprintf(format, args...)})
}

func (r *recorder) sent(req *sip.Request, local string) {
	r.add(Event{Type: EventSent, Method: string(req.Method), URI: req.Recipient.String(), Local: local, Peer: req.Destination()})
}

func (r *recorder) sentResponse(res *sip.Response, local string) {
	method := ""
	if c := res.CSeq(); c != nil {
		method = string(c.MethodName)
	}
	r.add(Event{Type: EventSent, Method: method, Code: res.StatusCode, Reason: res.Reason, Local: local, Peer: res.Destination()})
}

func (r *recorder) received(res *sip.Response, local string) {
	method := ""
	if c := res.CSeq(); c != nil {
		method = string(c.MethodName)
	}
	r.add(Event{Type: EventReceived, Method: method, Code: res.StatusCode, Reason: res.Reason,
		Local: local, Peer: res.Source(), Meaning: Meaning(res.StatusCode)})
}

func (r *recorder) receivedRequest(req *sip.Request, local string) {
	r.add(Event{Type: EventReceived, Method: string(req.Method), URI: req.Recipient.String(), Local: local, Peer: req.Source()})
}

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// WriteLadder writes the SIP messages among events as a ladder: one timestamped line per
// message with its direction, the two addresses and its first line, plus the phone's notes
// indented between them.
func WriteLadder(w io.Writer, events []Event) error {
	var start time.Time
	var b strings.Builder
	for _, e := range events {
		if e.Type != EventSent && e.Type != EventReceived && e.Type != EventNote {
			continue
		}
		if start.IsZero() {
			start = e.Time
		}
		off := e.Time.Sub(start).Seconds()
		if e.Type == EventNote {
			fmt.Fprintf(&b, "  +%7.3fs  %s\n", off, "   ("+e.Text+")")
			continue
		}
		local := e.Local
		if local == "" {
			local = "phone"
		}
		fmt.Fprintf(&b, "  +%7.3fs  %s %s %s  %s\n", off, local, e.Arrow(), e.Peer, e.Summary())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
