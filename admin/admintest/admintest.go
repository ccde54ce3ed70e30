// Package admintest fills a trace sink and a location store with a few calls and
// registrations, for tests of the admin API and of its clients (the siplens commands).
// The calls are written as siplens records them (trace/tracetest), so the diagnosis and
// the ladders of the API are the real ones.
package admintest

import (
	"context"
	"testing"
	"time"

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// T0 is when the first call starts; the others follow a minute apart.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Now is the clock the fixtures are meant to be read with: an hour after T0.
var Now = T0.Add(time.Hour)

// Self is siplens' address in every recorded call.
const Self = "127.0.0.1:5060"

// Addresses of the phones.
const (
	Alice  = "127.0.0.1:5080"
	Bob    = "127.0.0.1:5070"
	BobURI = "sip:bob@127.0.0.1:5070;transport=udp"
)

// Call-IDs of the fixture calls, oldest first.
const (
	Answered = "call-200@127.0.0.1"   // T0: alice -> bob, answered, 5 s
	Busy     = "call-486@127.0.0.1"   // T0+1m: alice -> bob, 486 from bob's phone
	Offline  = "call-480@127.0.0.1"   // T0+2m: alice -> carol, 480 from locate (no binding)
	Unknown  = "call-404@127.0.0.1"   // T0+3m: bob -> dave, 404 from locate
	Odd      = "odd/id?x=1%2F..@host" // T0+4m: alice -> bob, 486, a Call-ID that needs escaping in a URL
)

// Calls returns the fixture calls, oldest first.
func Calls() []*trace.Call {
	return []*trace.Call{
		answered(Answered, T0),
		busy(Busy, T0.Add(time.Minute)),
		rejected(Offline, T0.Add(2*time.Minute), "alice", "carol", 480, trace.NoBinding, "carol@localhost exists but has no registered contact"),
		rejected(Unknown, T0.Add(3*time.Minute), "bob", "dave", 404, trace.NoSuchUser, "dave@localhost is not a user of this server"),
		busy(Odd, T0.Add(4*time.Minute)),
	}
}

// Sink returns a memory sink holding Calls, written as the tracer writes them.
func Sink(tb testing.TB) *trace.MemorySink {
	tb.Helper()
	s := trace.NewMemorySink()
	for _, c := range Calls() {
		b := trace.Batch{Messages: c.Messages, Events: c.Events, Summaries: []trace.Summary{trace.Summarize(c)}}
		if err := s.Write(context.Background(), b); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// Bindings are the registrations of Locations, as of Now.
func Bindings() []store.Binding {
	return []store.Binding{
		{AOR: "bob@localhost", Contact: BobURI, Q: 0.5, Expires: Now.Add(3599*time.Second + 500*time.Millisecond),
			CallID: "reg-bob-1", CSeq: 2, Source: Bob, Transport: "UDP", UserAgent: "SIPp", Updated: Now.Add(-time.Second)},
		{AOR: "bob@localhost", Contact: "sip:bob@192.168.1.20:5060", Q: 1, Expires: Now.Add(60 * time.Second),
			CallID: "reg-bob-2", CSeq: 7, Source: "203.0.113.9:40123", NAT: true, Transport: "UDP", UserAgent: "baresip", Updated: Now.Add(-time.Minute)},
		{AOR: "alice@localhost", Contact: "sip:alice@127.0.0.1:5080", Q: 1, Expires: Now.Add(10 * time.Minute),
			CallID: "reg-alice", CSeq: 1, Source: Alice, Transport: "TCP", UserAgent: "siplens", Updated: Now.Add(-time.Minute)},
		// Expired: not listed.
		{AOR: "carol@localhost", Contact: "sip:carol@127.0.0.1:5090", Q: 1, Expires: Now.Add(-time.Second),
			CallID: "reg-carol", CSeq: 1, Source: "127.0.0.1:5090", Transport: "UDP", Updated: Now.Add(-time.Hour)},
	}
}

// Locations returns a memory location store holding Bindings.
func Locations() *memory.Locations {
	l := memory.NewLocations()
	l.Load(Bindings())
	return l
}

func inv(ev trace.Event) trace.Event {
	ev.Method, ev.CSeq = "INVITE", 1
	return ev
}

func answered(callID string, start time.Time) *trace.Call {
	f := tracetest.New(callID, start)
	req := f.Invite(Alice, "alice", "bob")
	f.After(200*time.Microsecond).Reply(req, 100)
	f.Decision(inv(trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", User: "bob@localhost", Count: 1}))
	f.Decision(inv(trace.Event{Kind: trace.KindBranch, Verdict: trace.Opened, Producer: "forward", Branch: 1, Target: BobURI, Destination: Bob}))
	b := f.Forward(req, BobURI, Bob)
	f.After(40 * time.Millisecond)
	f.Relay(f.Reply(b, 180), req)
	f.After(2 * time.Second)
	ok := f.Reply(b, 200, tracetest.SDP(tracetest.Offer("127.0.0.1", 15070)))
	f.Decision(inv(trace.Event{Kind: trace.KindAnswer, Producer: "branch 1 (" + BobURI + ")", Code: 200}))
	f.Relay(ok, req)
	f.After(5 * time.Millisecond)
	ack := f.InDialog(trace.In, Alice, "ACK", Alice, req, ok, 1)
	f.Forward(ack, BobURI, Bob)
	f.After(5 * time.Second)
	bye := f.InDialog(trace.In, Alice, "BYE", Alice, req, ok, 2)
	byeOut := f.Forward(bye, BobURI, Bob)
	f.After(10 * time.Millisecond)
	f.Relay(f.Reply(byeOut, 200), bye)
	return f.Call()
}

func busy(callID string, start time.Time) *trace.Call {
	f := tracetest.New(callID, start)
	req := f.Invite(Alice, "alice", "bob")
	f.After(200*time.Microsecond).Reply(req, 100)
	f.Decision(inv(trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", User: "bob@localhost", Count: 1}))
	f.Decision(inv(trace.Event{Kind: trace.KindBranch, Verdict: trace.Opened, Producer: "forward", Branch: 1, Target: BobURI, Destination: Bob}))
	b := f.Forward(req, BobURI, Bob)
	f.After(40 * time.Millisecond)
	f.Relay(f.Reply(b, 180), req)
	f.After(3 * time.Second)
	res := f.Reply(b, 486)
	f.AckFailure(b, res)
	f.Decision(inv(trace.Event{Kind: trace.KindBest, Producer: "forward", Branch: 1, Code: 486, Reason: "the only final answer"}))
	f.Decision(inv(trace.Event{Kind: trace.KindAnswer, Producer: "branch 1 (" + BobURI + ")", Code: 486}))
	out := f.Relay(res, req)
	f.After(3*time.Millisecond).AckFailure(req, out)
	return f.Call()
}

func rejected(callID string, start time.Time, from, to string, code int, verdict trace.Verdict, reason string) *trace.Call {
	f := tracetest.New(callID, start)
	req := f.Invite(Alice, from, to)
	f.After(100 * time.Microsecond)
	f.Decision(inv(trace.Event{Kind: trace.KindLocate, Verdict: verdict, Producer: "locate", User: to + "@localhost", Code: code, Reason: reason}))
	f.Decision(inv(trace.Event{Kind: trace.KindAnswer, Producer: "locate", Code: code, Reason: reason}))
	res := f.Reply(req, code)
	f.After(2*time.Millisecond).AckFailure(req, res)
	return f.Call()
}
