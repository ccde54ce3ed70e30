package diag_test

import (
	"strings"
	"testing"

	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// want is what a diagnosis must say; the cause and evidence are checked by the phrases
// that tell the case apart from its neighbours.
type want struct {
	outcome  trace.Outcome
	code     int
	producer diag.Producer
	cause    []string // each must appear in the cause
	evidence []string // each must appear in one evidence line
	check    string   // must appear in one check
}

func TestDiagnoseTellsCausesApart(t *testing.T) {
	locate := diag.Producer{Kind: diag.ByStep, Step: "locate"}
	bob1 := diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: bobURI, Address: bob}
	tests := []struct {
		name string
		flow func() *tracetest.Flow
		want want
	}{
		{"404 unknown user", unknownUser, want{trace.OutcomeNotFound, 404, locate,
			[]string{"dave@localhost is not a user of siplens", "no phone was tried"},
			[]string{"404 Not Found sent to 127.0.0.1:5080 by locate: dave@localhost is not a user of this server"}, "siplens user list"}},
		{"480 known but not registered", notRegistered, want{trace.OutcomeUnavailable, 480, locate,
			[]string{"carol@localhost is a user of siplens but has no registered phone"},
			[]string{"locate decided: carol@localhost exists but has no registered contact"}, "registered"}},
		{"480 do not disturb", doNotDisturb, want{trace.OutcomeUnavailable, 480, locate,
			[]string{"do-not-disturb on", "without ringing any phone"},
			[]string{"locate decided: carol@localhost has do-not-disturb on"}, "do-not-disturb off"}},
		{"486 busy", busy, want{trace.OutcomeBusy, 486, bob1,
			[]string{"bob@localhost's phone at 127.0.0.1:5070 (branch 1, " + bobURI + ") answered 486 Busy Here"},
			[]string{"486 Busy Here from 127.0.0.1:5070 (branch 1, " + bobURI + ")"}, "was busy"}},
		{"603 declined", declined, want{trace.OutcomeDeclined, 603, bob1,
			[]string{"declined the call", "603 Decline", "cancelled the other branch"},
			[]string{"603 Decline from 127.0.0.1:5070 (branch 1"}, "refused the call"}},
		{"600 busy everywhere", busyEverywhere, want{trace.OutcomeBusy, 600,
			diag.Producer{Kind: diag.ByBranch, Branch: 2, Contact: bob2URI, Address: bob2},
			[]string{"600 Busy Everywhere", "busy on every device", "stopped the search", "cancelled the other branch"},
			[]string{"600 Busy Everywhere from 127.0.0.1:5072 (branch 2", "487 Request Terminated from 127.0.0.1:5070 (branch 1"}, "busy"}},
		{"401 loop: wrong password", func() *tracetest.Flow { return register("401-wrong-password", 401, 401, 401) }, want{trace.OutcomeUnauthorized, 401,
			diag.Producer{Kind: diag.ByStep, Step: "auth"},
			[]string{"answered siplens' challenge 2 times", "password", "bob@localhost", `realm "localhost"`},
			[]string{`with credentials (username "bob")`, "without stale=true", "auth decided: wrong password for bob@localhost"}, "Re-enter the password"}},
		{"401 stale nonce then success", staleThenOK, want{trace.OutcomeAnswered, 200, diag.Producer{Kind: diag.ByStep, Step: "registrar"},
			[]string{"registration of bob@localhost succeeded", "stale=true", "routine"},
			[]string{"401 Unauthorized with stale=true"}, ""}},
		{"401 then success is not a failure", func() *tracetest.Flow { return register("401-then-ok", 401, 200) }, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByStep, Step: "registrar"},
			[]string{"succeeded", "The 401 before it was the usual digest challenge", "not a failure"},
			[]string{"401 Unauthorized: digest challenge to the first attempt"}, ""}},
		{"403 locked out", func() *tracetest.Flow { return register("403-locked", 401, 401, 401, 403) }, want{trace.OutcomeRejected, 403,
			diag.Producer{Kind: diag.ByStep, Step: "auth"},
			[]string{"bob@localhost is locked out", "in 300 s", "2 attempt(s) with refused credentials"},
			[]string{"403 Forbidden (locked out); Retry-After: 300", "auth decided: bob@localhost is locked out"}, "wait for the lockout"}},
		{"403 ACL rule", aclDenied, want{trace.OutcomeRejected, 403, diag.Producer{Kind: diag.ByStep, Step: "acl", Rule: "deny 127.0.0.0/8"},
			[]string{"source 127.0.0.1:5080 matched the ACL rule \"deny 127.0.0.0/8\""},
			[]string{"acl decided"}, "ACL rules"}},
		{"403 relay refused", relayRefused, want{trace.OutcomeRejected, 403, locate,
			[]string{"example.org, a domain siplens does not serve", "not an open relay"},
			[]string{"Request-URI host example.org"}, "add it to `domains`"}},
		{"408 Timer C", timerC, want{trace.OutcomeTimedOut, 408,
			diag.Producer{Kind: diag.ByTimer, Timer: "Timer C", Branch: 1, Contact: bobURI, Address: bob},
			[]string{"rang for 30 s and nobody answered", "Timer C"},
			[]string{"180 Ringing from 127.0.0.1:5070", "Timer C fired on branch 1 after 30 s", "CANCEL sent to 127.0.0.1:5070"}, "no_answer_timeout"}},
		{"408 contact never answered", neverAnswered, want{trace.OutcomeTimedOut, 408,
			diag.Producer{Kind: diag.ByTimer, Timer: "Timer B", Branch: 1, Contact: bobURI, Address: bob},
			[]string{"contact at 127.0.0.1:5070", "never answered at all", "7 times over 32 s"},
			[]string{"INVITE sent to 127.0.0.1:5070 7 times (UDP), no response", "forward decided: the contact never answered"}, "something answers at 127.0.0.1:5070"}},
		{"503 rate limit", rateLimited, want{trace.OutcomeRejected, 503, diag.Producer{Kind: diag.ByStep, Step: "ratelimit", Rule: "per source 50/s"},
			[]string{"127.0.0.1:5080 sent more than its rate limit allows", "in 5 s"},
			[]string{"503 Service Unavailable; Retry-After: 5", "ratelimit decided: 127.0.0.1 sent 51 requests"}, "rate limit"}},
		{"500 from a branch's 503", converted503, want{trace.OutcomeFailed, 500, bob1,
			[]string{"answered 503 Service Unavailable", "siplens answered 500 instead"},
			[]string{"503 Service Unavailable from 127.0.0.1:5070 (branch 1, " + bobURI + "); Retry-After: 120; Warning: 399 gw \"trunk down\""}, "out of service"}},
		{"487 caller cancelled", callerCancelled, want{trace.OutcomeCancelled, 487, diag.Producer{Kind: diag.ByStack, Detail: "answering the caller's CANCEL"},
			[]string{"caller hung up after 12 s of ringing", "Nothing failed"},
			[]string{"CANCEL from 127.0.0.1:5080", "CANCEL sent to 127.0.0.1:5070 (branch 1)"}, "really rings"}},
		{"302 forwarded", forwarded, want{trace.OutcomeRedirected, 302, locate,
			[]string{"redirected", "a forwarding rule of bob@localhost", "sip:carol@localhost", "did not follow it"},
			[]string{"302 Moved Temporarily with Contact sip:carol@localhost"}, "sip:carol@localhost"}},
		{"400 missing header", missingCSeq, want{trace.OutcomeFailed, 400, diag.Producer{Kind: diag.ByStack, Detail: "before the request reached siplens' steps"},
			[]string{"refused the request as malformed: it has no CSeq header."},
			[]string{`400 Missing CSeq header; Warning: 399 siplens "the request has no CSeq header"`, "the request has no CSeq header"}, "Check the CSeq header that 127.0.0.1:5080 sends (User-Agent: brokenphone/1.0)"}},
		{"483 too many hops", tooManyHops, want{trace.OutcomeFailed, 483, diag.Producer{Kind: diag.ByStep, Step: "sanity"},
			[]string{"Max-Forwards 0", "passing 3 hop(s)", "routing loop"},
			[]string{"Via chain (last hop first): 10.0.0.7:5060 (received 192.0.2.7) <- 10.0.0.8:5060 <- 10.0.0.9:5060"}, "Via chain"}},
		{"482 loop", loopDetected, want{trace.OutcomeFailed, 482, diag.Producer{Kind: diag.ByStep, Step: "sanity"},
			[]string{"came back to siplens unchanged"},
			[]string{"127.0.0.1:5090 <- 127.0.0.1:5060 <- 127.0.0.1:5080"}, "Via chain"}},
		{"answered, clean", cleanCall, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: "sip:bob@" + bob, Address: bob},
			[]string{"The call was answered by bob@localhost at 127.0.0.1:5070", "after ringing for 5.0 s."},
			[]string{"200 OK from 127.0.0.1:5070"}, ""}},
		{"no audio: private address in SDP", privateAddress, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: "sip:bob@203.0.113.9:5060", Address: "203.0.113.9:5060"},
			[]string{"but the callee's SDP asks for audio at 192.168.1.50, a private address, while its signalling came from 203.0.113.9", "behind NAT"},
			[]string{"200 OK from 203.0.113.9:5060 has c=IN IP4 192.168.1.50"}, "STUN"}},
		{"no audio: no codec in common", noCommonCodec, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: "sip:bob@" + bob, Address: bob},
			[]string{"no codec in common: the offer has PCMU, PCMA and the answer G729"},
			[]string{"offer codecs: PCMU, PCMA", "answer codecs: G729"}, "common codec"}},
		{"no audio: sendonly on both sides", bothSendOnly, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: "sip:bob@" + bob, Address: bob},
			[]string{"both sides say a=sendonly"},
			[]string{"offer: a=sendonly", "answer: a=sendonly"}, "direction attributes"}},
		{"no audio: ACK never arrived", noACK, want{trace.OutcomeAnswered, 200,
			diag.Producer{Kind: diag.ByBranch, Branch: 1, Contact: "sip:bob@" + bob, Address: bob},
			[]string{"caller never acknowledged the 200 OK", "10 times", "after 32 s"},
			[]string{"200 OK sent to 127.0.0.1:5080 10 times, no ACK received", "BYE from 127.0.0.1:5070 32 s after the 200 OK"}, "reaches the caller"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diag.Diagnose(tt.flow().Call())
			if d.Outcome != tt.want.outcome || d.FinalCode != tt.want.code || d.Producer != tt.want.producer {
				t.Errorf("got outcome %s, code %d, producer %+v\nwant %s, %d, %+v", d.Outcome, d.FinalCode, d.Producer,
					tt.want.outcome, tt.want.code, tt.want.producer)
			}
			for _, c := range tt.want.cause {
				if !strings.Contains(d.Cause, c) {
					t.Errorf("cause lacks %q:\n%s", c, d.Cause)
				}
			}
			for _, e := range tt.want.evidence {
				if !hasLine(evidenceTexts(d), e) {
					t.Errorf("no evidence with %q in:\n%s", e, strings.Join(evidenceTexts(d), "\n"))
				}
			}
			if tt.want.check != "" && !hasLine(d.Checks, tt.want.check) {
				t.Errorf("no check with %q in:\n%s", tt.want.check, strings.Join(d.Checks, "\n"))
			}
			if d.FinalCode >= 300 && len(d.Checks) == 0 {
				t.Error("a failure without anything to check")
			}
			for _, e := range d.Evidence {
				if e.Message >= len(tt.flow().Call().Messages) {
					t.Errorf("evidence points past the messages: %+v", e)
				}
			}
		})
	}
}

func evidenceTexts(d diag.Diagnosis) []string {
	var out []string
	for _, e := range d.Evidence {
		out = append(out, e.Text)
	}
	return out
}

func hasLine(lines []string, part string) bool {
	for _, l := range lines {
		if strings.Contains(l, part) {
			return true
		}
	}
	return false
}

func TestDiagnoseWithoutDecisions(t *testing.T) {
	// A record from a capture has no decision events: the wire alone names the branch
	// and tells a busy callee from a silent one.
	strip := func(f *tracetest.Flow) *trace.Call {
		c := f.Call()
		c.Events = nil
		return c
	}
	d := diag.Diagnose(strip(busy()))
	if d.FinalCode != 486 || d.Producer.Kind != diag.ByBranch || d.Producer.Address != bob {
		t.Errorf("busy without events: %+v", d)
	}
	d = diag.Diagnose(strip(neverAnswered()))
	if d.Producer.Timer != "Timer B" || !strings.Contains(d.Cause, "never answered at all") {
		t.Errorf("silent contact without events: %+v", d)
	}
	d = diag.Diagnose(strip(timerC()))
	if d.Producer.Timer != "Timer C" || !strings.Contains(d.Cause, "rang for 30 s") {
		t.Errorf("Timer C without events: %+v", d)
	}
	d = diag.Diagnose(strip(converted503()))
	if d.Producer.Kind != diag.ByBranch || !strings.Contains(d.Cause, "500 instead") {
		t.Errorf("503 turned 500 without events: %+v", d)
	}
	d = diag.Diagnose(strip(register("401-wire", 401, 401)))
	if d.Outcome != trace.OutcomeUnauthorized || !strings.Contains(d.Cause, "challenged again") {
		t.Errorf("wrong password without events: %+v", d)
	}
}

func TestDiagnoseIncompleteRecords(t *testing.T) {
	d := diag.Diagnose(&trace.Call{CallID: "empty"})
	if d.Outcome != trace.OutcomeUnanswered || d.Cause == "" {
		t.Errorf("empty record: %+v", d)
	}
	f, _, _ := ringing("still-ringing", [2]string{bobURI, bob})
	d = diag.Diagnose(f.Call())
	if d.Outcome != trace.OutcomeUnanswered || d.FinalCode != 0 || !strings.Contains(d.Cause, "without a final answer") {
		t.Errorf("ringing call: %+v", d)
	}
	g := tracetest.New("dropped", t0)
	g.Invite(alice, "alice", "bob")
	g.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "sanity", Method: "INVITE", CSeq: 1, Reason: "the top Via has no host"})
	d = diag.Diagnose(g.Call())
	if !strings.Contains(d.Cause, "dropped the INVITE without answering: the top Via has no host") {
		t.Errorf("dropped request: %+v", d)
	}
}

// A record that starts inside a dialog (a lone BYE: its INVITE was recorded before a
// restart, or pruned) has no attempt to explain; it must say so, not panic.
func TestDiagnoseLoneInDialogRequest(t *testing.T) {
	bye := "BYE sip:bob@10.0.0.7:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKlone\r\n" +
		"From: <sip:alice@localhost>;tag=a1\r\nTo: <sip:bob@localhost>;tag=b1\r\nCall-ID: lone\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
	c := &trace.Call{CallID: "lone", Messages: []trace.Message{{CallID: "lone", Time: t0, Direction: trace.In, Transport: "UDP",
		Local: "127.0.0.1:5060", Remote: "10.0.0.5:5060", Raw: []byte(bye)}}}
	d := diag.Diagnose(c)
	if d.Method != "BYE" || d.Outcome != trace.OutcomeUnanswered || !strings.Contains(d.Cause, "starts inside a dialog") {
		t.Errorf("lone BYE: %+v", d)
	}
}

func TestDiagnoseLeavesTheCallAlone(t *testing.T) {
	c := busy().Call()
	c.Messages[0], c.Messages[1] = c.Messages[1], c.Messages[0]
	before := c.Messages[0].Seq
	diag.Diagnose(c)
	if c.Messages[0].Seq != before {
		t.Error("Diagnose sorted the caller's record")
	}
}
