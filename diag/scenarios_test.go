package diag_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// The scenarios below are synthetic records of the call flows the diagnosis must tell
// apart, written as siplens would record them: the messages it received and sent, and
// the decisions its steps take (with the producers and reasons the steps log).

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	alice   = "127.0.0.1:5080"
	bob     = "127.0.0.1:5070"
	bob2    = "127.0.0.1:5072"
	bobURI  = "sip:bob@127.0.0.1:5070;transport=udp"
	bob2URI = "sip:bob@127.0.0.1:5072;transport=udp"
)

// inv ties a decision to the first INVITE of the call.
func inv(_ *tracetest.Flow, ev trace.Event) trace.Event {
	ev.Method, ev.CSeq = "INVITE", 1
	return ev
}

// located records the locate step finding n contacts for bob.
func located(f *tracetest.Flow, n int) {
	f.Decision(inv(f, trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", User: "bob@localhost", Count: n}))
}

func opened(f *tracetest.Flow, n int, target, dest string) {
	f.Decision(inv(f, trace.Event{Kind: trace.KindBranch, Verdict: trace.Opened, Producer: "forward", Branch: n, Target: target, Destination: dest}))
}

func answered(f *tracetest.Flow, producer string, code int, reason string) {
	f.Decision(inv(f, trace.Event{Kind: trace.KindAnswer, Producer: producer, Code: code, Reason: reason}))
}

// rejectedByStep: siplens answers the INVITE itself after the decisions given.
func rejectedByStep(callID, toUser string, code int, producer, reason string, decisions ...trace.Event) *tracetest.Flow {
	f := tracetest.New(callID, t0)
	req := f.Invite(alice, "alice", toUser)
	f.After(100 * time.Microsecond)
	for _, d := range decisions {
		f.Decision(inv(f, d))
	}
	answered(f, producer, code, reason)
	res := f.Reply(req, code)
	f.After(2*time.Millisecond).AckFailure(req, res)
	return f
}

func unknownUser() *tracetest.Flow {
	return rejectedByStep("404-unknown", "dave", 404, "locate", "dave@localhost is not a user of this server",
		trace.Event{Kind: trace.KindLocate, Verdict: trace.NoSuchUser, Producer: "locate", User: "dave@localhost", Code: 404})
}

func notRegistered() *tracetest.Flow {
	return rejectedByStep("480-unregistered", "carol", 480, "locate", "carol@localhost exists but has no registered contact",
		trace.Event{Kind: trace.KindLocate, Verdict: trace.NoBinding, Producer: "locate", User: "carol@localhost", Code: 480,
			Reason: "carol@localhost exists but has no registered contact"})
}

func doNotDisturb() *tracetest.Flow {
	return rejectedByStep("480-dnd", "carol", 480, "locate", "carol@localhost has do-not-disturb on",
		trace.Event{Kind: trace.KindLocate, Verdict: trace.DoNotDisturb, Producer: "locate", User: "carol@localhost", Code: 480,
			Reason: "carol@localhost has do-not-disturb on"})
}

func aclDenied() *tracetest.Flow {
	return rejectedByStep("403-acl", "bob", 403, "acl", "source 127.0.0.1 denied by rule \"deny 127.0.0.0/8\"",
		trace.Event{Kind: trace.KindACL, Verdict: trace.Denied, Producer: "acl", Rule: "deny 127.0.0.0/8", Code: 403})
}

func relayRefused() *tracetest.Flow {
	f := tracetest.New("403-relay", t0)
	req := f.Record(trace.In, alice, f.NewRequest("INVITE", "sip:bob@example.org", alice, "sip:alice@localhost", "sip:bob@example.org", 1))
	f.Decision(inv(f, trace.Event{Kind: trace.KindLocate, Verdict: trace.NotServed, Producer: "locate", Code: 403}))
	answered(f, "locate", 403, `siplens does not relay to "example.org", a domain it does not serve`)
	f.AckFailure(req, f.Reply(req, 403))
	return f
}

func rateLimited() *tracetest.Flow {
	f := tracetest.New("503-ratelimit", t0)
	req := f.Invite(alice, "alice", "bob")
	f.After(100 * time.Microsecond)
	reason := "127.0.0.1 sent 51 requests in 1s; the limit is 50"
	f.Decision(inv(f, trace.Event{Kind: trace.KindRateLimit, Verdict: trace.Limited, Producer: "ratelimit", Rule: "per source 50/s", RetryAfter: 5, Code: 503, Reason: reason}))
	answered(f, "ratelimit", 503, reason)
	res := f.Reply(req, 503, tracetest.Header("Retry-After", "5"))
	f.After(2*time.Millisecond).AckFailure(req, res)
	return f
}

// ringing starts a call to bob's contacts: INVITE, 100, each branch opened and ringing.
func ringing(callID string, contacts ...[2]string) (*tracetest.Flow, *tracetest.Msg, []*tracetest.Msg) {
	return ringingWith(callID, nil, contacts...)
}

// ringingWith is ringing with options for the caller's INVITE (its SDP offer, say).
func ringingWith(callID string, inviteOpts []tracetest.Option, contacts ...[2]string) (*tracetest.Flow, *tracetest.Msg, []*tracetest.Msg) {
	f := tracetest.New(callID, t0)
	req := f.Invite(alice, "alice", "bob", inviteOpts...)
	f.After(200*time.Microsecond).Reply(req, 100)
	located(f, len(contacts))
	var branches []*tracetest.Msg
	for i, c := range contacts {
		opened(f, i+1, c[0], c[1])
		branches = append(branches, f.Forward(req, c[0], c[1]))
	}
	f.After(3 * time.Millisecond)
	for _, b := range branches {
		f.Reply(b, 100)
	}
	f.After(40 * time.Millisecond)
	relayed := false
	for _, b := range branches {
		r := f.Reply(b, 180)
		if !relayed {
			f.Relay(r, req)
			relayed = true
		}
	}
	return f, req, branches
}

// failOn ends branch b with code, relays it as the caller's answer (after cancelling the
// others for a 6xx) and collects the ACKs.
func failOn(f *tracetest.Flow, req *tracetest.Msg, branches []*tracetest.Msg, b int, code int, after time.Duration) {
	f.After(after)
	res := f.Reply(branches[b], code)
	f.AckFailure(branches[b], res)
	if code >= 600 {
		for i, o := range branches {
			if i == b {
				continue
			}
			f.Decision(inv(f, trace.Event{Kind: trace.KindCancel, Verdict: trace.GlobalFailure, Producer: "forward", Branch: i + 1, Target: requestURI(o)}))
			c := f.CancelBranch(o)
			f.After(time.Millisecond).Reply(c, 200)
			t := f.Reply(o, 487)
			f.AckFailure(o, t)
		}
	}
	label := fmt.Sprintf("branch %d (%s)", b+1, requestURI(branches[b]))
	f.Decision(inv(f, trace.Event{Kind: trace.KindBest, Producer: "forward", Branch: b + 1, Code: code, Reason: "the only final answer"}))
	answered(f, label, code, "")
	out := f.Relay(res, req)
	f.After(3*time.Millisecond).AckFailure(req, out)
}

func requestURI(m *tracetest.Msg) string {
	return strings.Fields(m.StartLine)[1]
}

func busy() *tracetest.Flow {
	f, req, br := ringing("486-busy", [2]string{bobURI, bob})
	failOn(f, req, br, 0, 486, 3*time.Second)
	return f
}

func declined() *tracetest.Flow {
	f, req, br := ringing("603-declined", [2]string{bobURI, bob}, [2]string{bob2URI, bob2})
	failOn(f, req, br, 0, 603, 4*time.Second)
	return f
}

func busyEverywhere() *tracetest.Flow {
	f, req, br := ringing("600-busy-everywhere", [2]string{bobURI, bob}, [2]string{bob2URI, bob2})
	failOn(f, req, br, 1, 600, 2*time.Second)
	return f
}

func timerC() *tracetest.Flow {
	f, req, br := ringing("408-timer-c", [2]string{bobURI, bob})
	f.After(30 * time.Second)
	f.Decision(inv(f, trace.Event{Kind: trace.KindTimer, Verdict: trace.TimerC, Producer: "forward", Branch: 1, Target: bobURI, Duration: 30 * time.Second}))
	f.Decision(inv(f, trace.Event{Kind: trace.KindCancel, Verdict: trace.NoAnswer, Producer: "forward", Branch: 1, Target: bobURI}))
	c := f.CancelBranch(br[0])
	f.After(2*time.Millisecond).Reply(c, 200)
	t := f.Reply(br[0], 487)
	f.AckFailure(br[0], t)
	answered(f, "branch 1 ("+bobURI+")", 408, "no final answer from "+bobURI+" within 30s (Timer C)")
	res := f.Reply(req, 408)
	f.After(time.Millisecond).AckFailure(req, res)
	return f
}

func neverAnswered() *tracetest.Flow {
	f := tracetest.New("408-silent", t0)
	req := f.Invite(alice, "alice", "bob")
	f.After(200*time.Microsecond).Reply(req, 100)
	located(f, 1)
	opened(f, 1, bobURI, bob)
	b := f.Forward(req, bobURI, bob)
	// Timer A doubles from 500 ms: resent at 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s.
	at := time.Duration(0)
	for _, gap := range []time.Duration{500, 1000, 2000, 4000, 8000, 16000} {
		at += gap * time.Millisecond
		f.At(at).Again(b)
	}
	f.At(32*time.Second + 500*time.Millisecond)
	f.Decision(inv(f, trace.Event{Kind: trace.KindTimer, Verdict: trace.TimerB, Producer: "forward", Branch: 1, Target: bobURI, Duration: 32 * time.Second}))
	f.Decision(inv(f, trace.Event{Kind: trace.KindBranch, Verdict: trace.Failed, Producer: "forward", Branch: 1, Target: bobURI, Destination: bob, Code: 408,
		Reason: "the contact never answered (Timer B/F expired)"}))
	answered(f, "branch 1 ("+bobURI+")", 408, "the contact never answered (Timer B/F expired)")
	res := f.Reply(req, 408)
	f.After(time.Millisecond).AckFailure(req, res)
	return f
}

func converted503() *tracetest.Flow {
	f := tracetest.New("500-from-503", t0)
	req := f.Invite(alice, "alice", "bob")
	f.Reply(req, 100)
	located(f, 1)
	opened(f, 1, bobURI, bob)
	b := f.Forward(req, bobURI, bob)
	res := f.After(20*time.Millisecond).Reply(b, 503, tracetest.Header("Retry-After", "120"), tracetest.Header("Warning", `399 gw "trunk down"`))
	f.AckFailure(b, res)
	answered(f, "branch 1 ("+bobURI+")", 500, "the contact "+bobURI+" answered 503; a proxy passes that on as 500 (RFC 3261 16.7)")
	out := f.Reply(req, 500)
	f.AckFailure(req, out)
	return f
}

func callerCancelled() *tracetest.Flow {
	f, req, br := ringing("487-cancelled", [2]string{bobURI, bob})
	f.After(12 * time.Second)
	c := f.Cancel(req)
	f.Reply(c, 200) // sipgo answers the CANCEL
	res := f.Reply(req, 487)
	f.Decision(inv(f, trace.Event{Kind: trace.KindCancel, Verdict: trace.CallerCancelled, Producer: "forward", Branch: 1, Target: bobURI}))
	bc := f.CancelBranch(br[0])
	f.After(time.Millisecond).Reply(bc, 200)
	t := f.Reply(br[0], 487)
	f.AckFailure(br[0], t)
	f.AckFailure(req, res)
	return f
}

func forwarded() *tracetest.Flow {
	f := tracetest.New("302-forwarded", t0)
	req := f.Invite(alice, "alice", "bob")
	f.Decision(inv(f, trace.Event{Kind: trace.KindLocate, Verdict: trace.Forwarded, Producer: "locate", User: "bob@localhost", Target: "sip:carol@localhost", Code: 302}))
	answered(f, "locate", 302, "bob@localhost forwards calls to sip:carol@localhost")
	res := f.Reply(req, 302, tracetest.Header("Contact", "<sip:carol@localhost>"))
	f.AckFailure(req, res)
	return f
}

// register sends REGISTERs from bob's phone, each answered with the next code; the first
// has no credentials, the others answer the challenge.
func register(callID string, answers ...int) *tracetest.Flow {
	f := tracetest.New(callID, t0)
	req := f.Record(trace.In, bob, f.NewRequest("REGISTER", "sip:localhost", bob, "sip:bob@localhost", "sip:bob@localhost", 1, tracetest.Header("Expires", "3600")))
	challenge := `Digest realm="localhost", nonce="n1", algorithm=MD5, qop="auth"`
	for i, code := range answers {
		if i > 0 {
			req = f.After(20*time.Millisecond).Retry(req, tracetest.Header("Authorization",
				`Digest username="bob", realm="localhost", nonce="n1", uri="sip:localhost", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"`))
		}
		f.After(time.Millisecond)
		ev := trace.Event{Method: "REGISTER", CSeq: uint32(i + 1), Producer: "auth", Code: code}
		switch {
		case code == 401 && i == 0:
			f.Decision(trace.Event{Method: "REGISTER", CSeq: 1, Kind: trace.KindAuth, Verdict: trace.Challenged, Producer: "auth", User: "bob@localhost", Code: 401})
			ev.Reason = "no credentials yet: challenge sent"
		case code == 401:
			f.Decision(trace.Event{Method: "REGISTER", CSeq: uint32(i + 1), Kind: trace.KindAuth, Verdict: trace.WrongPassword, Producer: "auth", User: "bob@localhost", Code: 401,
				Reason: "wrong password for bob@localhost, or no such user"})
			ev.Reason = "wrong password for bob@localhost, or no such user"
		case code == 403:
			f.Decision(trace.Event{Method: "REGISTER", CSeq: uint32(i + 1), Kind: trace.KindAuth, Verdict: trace.LockedOut, Producer: "auth", User: "bob@localhost", Code: 403,
				Reason: "bob@localhost is locked out for 5m0s after too many failed authentications"})
			ev.Reason = "bob@localhost is locked out for 5m0s after too many failed authentications"
		case code == 200:
			f.Decision(trace.Event{Method: "REGISTER", CSeq: uint32(i + 1), Kind: trace.KindAuth, Verdict: trace.Authenticated, Producer: "auth", User: "bob@localhost"})
			ev.Producer = "registrar"
		}
		ev.Kind = trace.KindAnswer
		f.Decision(ev)
		var opts []tracetest.Option
		switch code {
		case 401:
			opts = append(opts, tracetest.Header("WWW-Authenticate", challenge))
		case 403:
			opts = append(opts, tracetest.Phrase("Forbidden (locked out)"), tracetest.Header("Retry-After", "300"))
		case 200:
			opts = append(opts, tracetest.Header("Contact", "<sip:bob@"+bob+">;expires=3600"))
		}
		f.Reply(req, code, opts...)
	}
	return f
}

func staleThenOK() *tracetest.Flow {
	f := tracetest.New("401-stale", t0)
	auth := tracetest.Header("Authorization", `Digest username="bob", realm="localhost", nonce="old", uri="sip:localhost", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000002, cnonce="c"`)
	req := f.Record(trace.In, bob, f.NewRequest("REGISTER", "sip:localhost", bob, "sip:bob@localhost", "sip:bob@localhost", 7, auth))
	f.Decision(trace.Event{Method: "REGISTER", CSeq: 7, Kind: trace.KindAuth, Verdict: trace.Stale, Producer: "auth", User: "bob@localhost", Code: 401})
	f.Decision(trace.Event{Method: "REGISTER", CSeq: 7, Kind: trace.KindAnswer, Producer: "auth", Code: 401, Reason: "the nonce expired: challenged again with stale=true"})
	f.Reply(req, 401, tracetest.Header("WWW-Authenticate", `Digest realm="localhost", nonce="new", algorithm=MD5, qop="auth", stale=true`))
	retry := f.After(10*time.Millisecond).Retry(req, tracetest.Header("Authorization", `Digest username="bob", realm="localhost", nonce="new", uri="sip:localhost", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="d"`))
	f.Decision(trace.Event{Method: "REGISTER", CSeq: 8, Kind: trace.KindAnswer, Producer: "registrar", Code: 200})
	f.Reply(retry, 200, tracetest.Header("Contact", "<sip:bob@"+bob+">;expires=3600"))
	return f
}

func missingCSeq() *tracetest.Flow {
	f := tracetest.New("400-no-cseq", t0)
	req := f.NewRequest("OPTIONS", "sip:bob@localhost", alice, "sip:alice@localhost", "sip:bob@localhost", 1,
		tracetest.Without("CSeq"), tracetest.Header("User-Agent", "brokenphone/1.0"))
	req = f.Record(trace.In, alice, req)
	// The datagram prefilter answers before sipgo and the chain see it: no answer event.
	f.Reply(req, 400, tracetest.Phrase("Missing CSeq header"), tracetest.Header("Warning", `399 siplens "the request has no CSeq header"`))
	return f
}

func tooManyHops() *tracetest.Flow {
	f := tracetest.New("483-hops", t0)
	req := f.NewRequest("INVITE", "sip:bob@localhost", "10.0.0.9:5060", "sip:alice@elsewhere.example", "sip:bob@localhost", 1,
		tracetest.Header("Max-Forwards", "0"))
	req.Prepend("Via", "SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bKp2")
	req.Prepend("Via", "SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKp1;received=192.0.2.7")
	req = f.Record(trace.In, "192.0.2.7:5060", req)
	answered(f, "sanity", 483, "Max-Forwards is 0")
	f.AckFailure(req, f.Reply(req, 483))
	return f
}

func loopDetected() *tracetest.Flow {
	f := tracetest.New("482-loop", t0)
	req := f.NewRequest("INVITE", "sip:bob@localhost", alice, "sip:alice@localhost", "sip:bob@localhost", 1)
	req.Prepend("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.slabc.x1;rport=5060")
	req.Prepend("Via", "SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKother")
	req = f.Record(trace.In, "127.0.0.1:5090", req)
	answered(f, "sanity", 482, "the request already passed through siplens unchanged (loop)")
	f.AckFailure(req, f.Reply(req, 482))
	return f
}

// answeredCall: bob's phone at calleeAddr rings, then answers with answerSDP to the
// caller's offer (offerSDP, or the usual one when empty). The caller ACKs, unless noACK:
// then the callee resends its 200 for 32 s and hangs up.
func answeredCall(callID, offerSDP, answerSDP, calleeAddr string, noACK bool) *tracetest.Flow {
	var opts []tracetest.Option
	if offerSDP != "" {
		opts = append(opts, tracetest.SDP(offerSDP))
	}
	f, req, br := ringingWith(callID, opts, [2]string{"sip:bob@" + calleeAddr, calleeAddr})
	f.After(5 * time.Second)
	ok := f.Reply(br[0], 200, tracetest.SDP(answerSDP))
	answered(f, "branch 1 (sip:bob@"+calleeAddr+")", 200, "")
	out := f.Relay(ok, req)
	if noACK {
		// The callee resends its 200 (Timer G, doubling up to 4 s) for 32 s, siplens relays
		// each copy, and then the callee gives up with a BYE.
		at := time.Duration(0)
		for _, gap := range []time.Duration{500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000} {
			at += gap * time.Millisecond
			f.After(gap * time.Millisecond)
			f.Again(ok)
			f.Again(out)
		}
		f.After(32*time.Second - at)
		f.InDialog(trace.In, calleeAddr, "BYE", calleeAddr, req, ok, 1)
		return f
	}
	f.After(2 * time.Millisecond)
	ack := f.InDialog(trace.In, alice, "ACK", alice, req, out, 1)
	f.Forward(ack, "sip:bob@"+calleeAddr, calleeAddr)
	return f
}

func goodAnswer() string { return tracetest.Offer("127.0.0.1", 17070) }

func cleanCall() *tracetest.Flow { return answeredCall("200-clean", "", goodAnswer(), bob, false) }

func privateAddress() *tracetest.Flow {
	return answeredCall("200-nat", "", tracetest.Offer("192.168.1.50", 17070), "203.0.113.9:5060", false)
}

func noCommonCodec() *tracetest.Flow {
	return answeredCall("200-codec", "", tracetest.AudioSDP("127.0.0.1", 17070, "sendrecv", "18", "a=rtpmap:18 G729/8000"), bob, false)
}

func bothSendOnly() *tracetest.Flow {
	return answeredCall("200-sendonly", tracetest.AudioSDP("127.0.0.1", 15080, "sendonly", "0", "a=rtpmap:0 PCMU/8000"),
		tracetest.AudioSDP("127.0.0.1", 17070, "sendonly", "0", "a=rtpmap:0 PCMU/8000"), bob, false)
}

func noACK() *tracetest.Flow { return answeredCall("200-no-ack", "", goodAnswer(), bob, true) }
