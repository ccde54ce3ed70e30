package e2e

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/trace"
)

// render is the diagnosis of a recorded call, as a value and as `siplens show` prints it.
func render(t *testing.T, c *trace.Call) (diag.Diagnosis, string) {
	t.Helper()
	d := diag.Diagnose(c)
	var b bytes.Buffer
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return d, b.String()
}

// diagCase is one cause the issue lists: a real call flow through siplens (SIPp, the
// phone commands, or raw datagrams on the wire) and what the diagnosis of the recorded
// call must say. The same cases drive the assertions (TestDiagnosis*, by group) and the
// examples document (TestDiagnosisExamples, in this order).
type diagCase struct {
	group string // the test that asserts it: calls, auth, policy, malformed, audio, timeout
	name  string // the subtest's name and the document's heading
	flow  string // one sentence for the document: what happened on the wire
	// run starts the server(s), makes the call, and returns the server that recorded it
	// and the record.
	run     func(t *testing.T) (*testServer, *trace.Call)
	outcome string // "" for any
	code    int
	want    []string // substrings of the rendered diagnosis
	not     []string // what it must not say
	check   func(t *testing.T, d diag.Diagnosis, text string)
	ladder  bool // the document shows the ladder too
	noDoc   bool // asserted, but not in the document (a second flow for a cause shown already)
}

// settledCall is srv.call once the record has stopped growing: a peer may have its last
// answer (and exit) a moment before the wire tap has handed that answer to the recorder.
func settledCall(t *testing.T, srv *testServer, method, toUser string) *trace.Call {
	t.Helper()
	c := srv.call(t, method, toUser)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		again := srv.call(t, method, toUser)
		if again.CallID == c.CallID && len(again.Messages) == len(c.Messages) && len(again.Events) == len(c.Events) {
			break
		}
		c = again
	}
	return c
}

// A few flows every group uses.

// serverThen starts a server with edit, runs flow against it and returns the recorded
// call of method to user toUser.
func serverThen(edit func(*config.Config), method, toUser string, flow func(t *testing.T, srv *testServer)) func(t *testing.T) (*testServer, *trace.Call) {
	return func(t *testing.T) (*testServer, *trace.Call) {
		srv := startServer(t, "", edit)
		flow(t, srv)
		return srv, settledCall(t, srv, method, toUser)
	}
}

// sippCaller runs a SIPp caller scenario from alice to callee, which must succeed.
func sippCaller(scenario, callee string) func(t *testing.T, srv *testServer) {
	return func(t *testing.T, srv *testServer) {
		sipp(t, srv, "udp", scenario, "alice", map[string]string{"callee": callee}).Run(t).RequireOK(t)
	}
}

// rejectingPhone registers bob with a SIPp phone that answers every call with code.
func rejectingPhone(code string, then func(t *testing.T, srv *testServer)) func(t *testing.T, srv *testServer) {
	return func(t *testing.T, srv *testServer) {
		callee(t, srv, "udp", "bob", "uas_reject.xml", map[string]string{"code": code})
		then(t, srv)
	}
}

// rawInvites sends an INVITE datagram times times and waits for each final answer.
func rawInvites(msg []byte, times int) func(t *testing.T, srv *testServer) {
	return func(t *testing.T, srv *testServer) {
		for i := 0; i < times; i++ {
			finalOf(t, siptest.SendUDP(t, srv.Addr, msg, 200*time.Millisecond))
		}
	}
}

// inviteTo is a raw INVITE from alice@localhost to user@host, answered 407 or not at all
// depending on policy; tests that need no authentication trust loopback.
func inviteTo(user, host, extra string) []byte {
	return crlf("INVITE sip:" + user + "@" + host + " SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:" + user + "@" + host + ">\nCall-ID: {{call_id}}\nCSeq: 1 INVITE\nContact: <sip:alice@{{local}}>\nMax-Forwards: 70\n" + extra + "Content-Length: 0\n\n")
}

func trust(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} }

// trustedPhone is bob's SIPp phone running answer on a server that trusts loopback: the
// server would not challenge register_auth.xml, so a raw REGISTER binds the phone's port.
func trustedPhone(t *testing.T, srv *testServer, answer string, vars map[string]string, extra ...string) *siptest.Process {
	t.Helper()
	port := siptest.FreePort(t)
	registerRaw(t, srv, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(port)+";transport=udp>")
	p := sipp(t, srv, "udp", answer, "bob", nil)
	p.Vars, p.Target, p.Auth, p.LocalPort = vars, "", siptest.Auth{}, port
	p.Timeout = 30 * time.Second
	p.ExtraArgs = extra
	return p.Start(t)
}

// secondsIn reads the first "N.N s" after prefix in text, -1 if there is none.
func secondsIn(text, prefix string) float64 {
	m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `\s+(\d+(?:\.\d+)?) s\b`).FindStringSubmatch(strings.Join(strings.Fields(text), " "))
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// atLeastSeconds checks that the diagnosis gives a duration after prefix of at least min.
func atLeastSeconds(prefix string, min float64) func(t *testing.T, d diag.Diagnosis, text string) {
	return func(t *testing.T, d diag.Diagnosis, text string) {
		if v := secondsIn(text, prefix); v < min {
			t.Errorf("the diagnosis gives %v s after %q, want at least %v s", v, prefix, min)
		}
	}
}

// diagnosisCases lists the causes in the order of the issue.
func diagnosisCases() []diagCase {
	// (Trusting loopback spares the caller the 407: the ladder shows only the call.)
	noAnswer := func(c *config.Config) {
		trust(c)
		c.Proxy.NoAnswerTimeout = config.Duration{Duration: time.Second}
	}
	lockout := func(c *config.Config) {
		c.Auth.Lockout = config.Lockout{MaxFailures: 1, Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: time.Minute}}
	}
	wrongPassword := func(t *testing.T, srv *testServer) {
		s := sipp(t, srv, "udp", "register_wrong_password.xml", "carol", nil)
		s.Auth.Password = "nope"
		s.Run(t) // with a lockout the second answer is a 403, which this scenario does not expect
	}
	answeringPhone := func(answer string, vars map[string]string) func(t *testing.T, srv *testServer) {
		return func(t *testing.T, srv *testServer) { phone(t, srv, "udp", "bob", answer, vars) }
	}
	then := func(fs ...func(t *testing.T, srv *testServer)) func(t *testing.T, srv *testServer) {
		return func(t *testing.T, srv *testServer) {
			for _, f := range fs {
				f(t, srv)
			}
		}
	}
	return []diagCase{
		// Who is called and whether anyone can take the call.
		{group: "calls", name: "404 unknown user",
			flow: "alice calls `nobody`, who is not a user of this server.",
			run:  serverThen(nil, "INVITE", "nobody", sippCaller("uac_expect_404.xml", "nobody")),
			code: 404, outcome: "not-found", want: []string{"locate", "nobody@localhost"}},
		{group: "calls", name: "480 known user, not registered",
			flow: "alice calls carol, a user of this server whose phone has not registered.",
			run:  serverThen(nil, "INVITE", "carol", sippCaller("uac_expect_480.xml", "carol")),
			code: 480, outcome: "unavailable", want: []string{"carol@localhost", "no registered phone"}, not: []string{"has do-not-disturb on"}},
		{group: "calls", name: "480 do-not-disturb",
			flow: "alice calls bob, whose account is set to do-not-disturb (`dnd: 480`).",
			run:  serverThen(withUser("bob", func(u *config.User) { u.DND = 480 }), "INVITE", "bob", sippCaller("uac_expect_480.xml", "bob")),
			code: 480, outcome: "unavailable", want: []string{"has do-not-disturb on"}, not: []string{"no registered phone"}},
		{group: "calls", name: "486 busy",
			flow: "bob's phone (SIPp) answers every call with 486 Busy Here.",
			run:  serverThen(nil, "INVITE", "bob", rejectingPhone("486", sippCaller("uac_expect_486.xml", "bob"))),
			code: 486, outcome: "busy", want: []string{"486 Busy Here", "branch 1", "on another call"}},
		{group: "calls", name: "603 declined",
			flow: "bob's phone answers with 603 Decline: its user pressed reject.",
			run:  serverThen(nil, "INVITE", "bob", rejectingPhone("603", sippCaller("uac_expect_603.xml", "bob"))),
			code: 603, outcome: "declined", want: []string{"603", "branch 1", "pressed reject"}},
		{group: "calls", name: "600 busy everywhere",
			flow: "bob's phone answers with 600 Busy Everywhere.",
			run:  serverThen(nil, "INVITE", "bob", rejectingPhone("600", sippCaller("uac_expect_600.xml", "bob"))),
			code: 600, outcome: "busy", want: []string{"600 Busy Everywhere", "busy on every device"}},

		// Authentication.
		{group: "auth", name: "401 wrong password",
			flow: "carol's phone registers with a wrong password: it answers the challenge and is challenged again.",
			run:  serverThen(nil, "REGISTER", "carol", wrongPassword),
			code: 401, want: []string{"challenged again", "password", "without stale=true"}, not: []string{"with stale=true"}},
		{group: "auth", name: "401 stale nonce, then success",
			flow: "bob registers, then refreshes his registration after the nonce has expired (`auth.nonce_lifetime: 5s`): siplens challenges the refresh with `stale=true`, the phone retries at once and is registered.",
			run: serverThen(func(c *config.Config) { c.Auth.NonceLifetime = config.Duration{Duration: 5 * time.Second} }, "REGISTER", "bob",
				func(t *testing.T, srv *testServer) {
					sipp(t, srv, "udp", "register_stale_nonce.xml", "bob", map[string]string{"wait": "5500"}).Run(t).RequireOK(t)
				}),
			code: 200, outcome: "answered", want: []string{"stale=true", "routine", "not a failure"}},
		{group: "auth", name: "403 locked out",
			flow: "carol's phone keeps a wrong password; with `auth.lockout.max_failures: 1` its next attempt is refused.",
			run:  serverThen(lockout, "REGISTER", "carol", wrongPassword),
			code: 403, outcome: "rejected", want: []string{"locked out"}},

		// Policy refusals.
		{group: "policy", name: "403 by an ACL rule",
			flow: "An INVITE from 127.0.0.1 while the ACL denies 127.0.0.0/8.",
			run:  serverThen(func(c *config.Config) { c.ACL.Deny = []string{"127.0.0.0/8"} }, "INVITE", "bob", rawInvites(inviteTo("bob", "localhost", ""), 1)),
			code: 403, outcome: "rejected", want: []string{"acl", "127.0.0.0/8"}, not: []string{"locked out", "relay"}},
		{group: "policy", name: "403 relay refused",
			flow: "An INVITE for bob@example.org, a domain siplens does not serve, from a source it trusts but that is no authenticated local user.",
			run:  serverThen(trust, "INVITE", "bob", rawInvites(inviteTo("bob", "example.org", ""), 1)),
			code: 403, outcome: "rejected", want: []string{"example.org", "relay"}, not: []string{"locked out", "acl"}},

		// Timers.
		{group: "calls", name: "408 Timer C: nobody answered",
			flow: "bob's phone rings and nobody picks up; `proxy.no_answer_timeout` is 1 s.",
			run: serverThen(noAnswer, "INVITE", "bob", then(func(t *testing.T, srv *testServer) { trustedPhone(t, srv, "uas_ring_until_cancel.xml", nil) },
				sippCaller("uac_expect_408.xml", "bob"))),
			code: 408, outcome: "timed-out", want: []string{"Timer C", "nobody answered"}, not: []string{"Timer B"},
			check: atLeastSeconds("rang for", 0.9), ladder: true},
		{group: "timeout", name: "408 a contact that never answered",
			flow: "bob's registered contact is a port where nothing listens (a phone that went away without unregistering); the INVITE gets no answer at all until Timer B (64*T1; T1 is 100 ms in these tests).",
			run:  neverAnswered,
			code: 408, outcome: "timed-out", want: []string{"never answered at all"}, not: []string{"Timer C"}},

		// Load.
		{group: "policy", name: "503 rate limit",
			flow: "The same source sends two INVITEs with `ratelimit.per_source: 0.1` (burst 1) and `retry_after: 7`.",
			run: serverThen(func(c *config.Config) {
				trust(c)
				c.RateLimit.PerSource, c.RateLimit.PerSourceBurst, c.RateLimit.RetryAfter = 0.1, 1, 7
			}, "INVITE", "nobody", rawInvites(inviteTo("nobody", "localhost", ""), 2)),
			code: 503, outcome: "rejected", want: []string{"ratelimit", "rate limit", "7 s"}, not: []string{"capacity"}},
		{group: "policy", name: "503 overload",
			flow: "With `ratelimit.max_in_progress: 1` and `retry_after: 9`, carol calls dave while another call (to bob) is still ringing.",
			run:  overloaded,
			code: 503, outcome: "rejected", want: []string{"capacity", "max_in_progress", "9 s"}},
		{group: "calls", name: "503 from a phone becomes 500",
			flow: "bob's phone answers 503 Service Unavailable; a proxy must not pass a 503 on.",
			run: serverThen(nil, "INVITE", "bob", rejectingPhone("503", func(t *testing.T, srv *testServer) {
				sipp(t, srv, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t) // fails with 500, as it should
			})),
			code: 500, outcome: "failed", want: []string{"503", "500", "must not pass a 503 on"}},

		// Ends of calls that are not failures.
		{group: "calls", name: "487 the caller cancelled",
			flow: "bob's phone rings; the caller gives up after about a second and sends CANCEL.",
			run: serverThen(nil, "INVITE", "bob", then(answeringPhone("uas_ring_until_cancel.xml", nil),
				func(t *testing.T, srv *testServer) {
					sipp(t, srv, "udp", "uac_cancel.xml", "alice", cancelVars("bob", "1000")).Run(t).RequireOK(t)
				})),
			code: 487, outcome: "cancelled", want: []string{"CANCEL", "hung up", "of ringing"},
			check: atLeastSeconds("hung up after", 0.9), ladder: true},
		{group: "calls", name: "302 forwarded, not followed",
			flow: "bob forwards his calls to carol (`forward_to: sip:carol@localhost`); the caller (SIPp) does not follow the redirect.",
			run:  serverThen(withUser("bob", func(u *config.User) { u.ForwardTo = "sip:carol@localhost" }), "INVITE", "bob", sippCaller("uac_expect_302.xml", "bob")),
			code: 302, outcome: "redirected", want: []string{"sip:carol@localhost", "forwarding rule", "did not follow"}},
		{group: "calls", name: "302 forwarded and followed",
			flow: "The same forwarding, but the caller is `siplens call`, which follows the 302 to carol in the same call; carol's phone answers.",
			run:  followedRedirect,
			code: 200, outcome: "answered", want: []string{"answered by carol@localhost", "followed a 302", "sip:carol@localhost"}},

		// Malformed requests and loops.
		{group: "malformed", name: "400 which header was wrong",
			flow: "An INVITE whose CSeq names another method (`CSeq: 1 OPTIONS`).",
			run:  serverThen(trust, "", "bob", rawInvites([]byte(strings.Replace(string(inviteTo("bob", "localhost", "")), "CSeq: 1 INVITE", "CSeq: 1 OPTIONS", 1)), 1)),
			code: 400, want: []string{"CSeq"}},
		{group: "calls", name: "483 too many hops",
			flow: "SIPp sends an INVITE with `Max-Forwards: 0`.",
			run:  serverThen(nil, "INVITE", "bob", sippCaller("uac_expect_483.xml", "bob")),
			code: 483, outcome: "failed", want: []string{"Max-Forwards", "Via chain"}},
		{group: "policy", name: "483 too many hops, raw", noDoc: true,
			run:  serverThen(trust, "INVITE", "bob", rawInvites([]byte(strings.Replace(string(inviteTo("bob", "localhost", "")), "Max-Forwards: 70", "Max-Forwards: 0", 1)), 1)),
			code: 483, want: []string{"Max-Forwards"}},
		{group: "policy", name: "482 loop",
			flow: "Two siplens servers each have bob registered at the other one, so an INVITE for bob goes round between them.",
			run:  loop,
			code: 482, want: []string{"loop", "came back", "Via chain as it came back"}},

		// Challenges that are part of a success.
		{group: "auth", name: "401 then 200 is a success",
			flow: "bob's phone registers: the first REGISTER is challenged, the second carries credentials.",
			run: serverThen(nil, "REGISTER", "bob", func(t *testing.T, srv *testServer) {
				sipp(t, srv, "udp", "register_auth.xml", "bob", nil).Run(t).RequireOK(t)
			}),
			code: 200, outcome: "answered", want: []string{"succeeded", "usual digest challenge", "not a failure"}},
		{group: "auth", name: "407 then 200 on a call", noDoc: true,
			run:  serverThen(nil, "INVITE", "bob", then(answeringPhone("uas_answer.xml", nil), sippCaller("uac_call.xml", "bob"))),
			code: 200, outcome: "answered", want: []string{"407", "not a failure"}, not: []string{", but"}},

		// No audio after 200 OK.
		{group: "audio", name: "no audio: private address in the SDP",
			flow: "bob's phone answers with `c=IN IP4 192.168.77.7` in its SDP while it signals from 127.0.0.1.",
			run:  serverThen(nil, "INVITE", "bob", then(answeringPhone("uas_answer_private_sdp.xml", nil), sippCaller("uac_call.xml", "bob"))),
			code: 200, outcome: "answered", want: []string{"192.168.77.7", "private address"}},
		{group: "audio", name: "no audio: no codec in common",
			flow: "alice offers PCMU only; bob's phone answers with G729.",
			run:  serverThen(nil, "INVITE", "bob", then(answeringPhone("uas_answer_g729.xml", nil), sippCaller("uac_call.xml", "bob"))),
			code: 200, outcome: "answered", want: []string{"no codec", "G729"}},
		{group: "audio", name: "no audio: a=sendonly on both sides",
			flow: "alice's offer says `a=sendonly` and bob's phone answers `a=sendonly` too.",
			run:  directions("sendonly", "sendonly"),
			code: 200, outcome: "answered", want: []string{"both sides say a=sendonly", "offer: a=sendonly", "answer: a=sendonly"}},
		{group: "audio", name: "no audio: a=inactive",
			flow: "alice's offer says `a=inactive` and bob's phone answers `a=inactive`.",
			run:  directions("inactive", "inactive"),
			code: 200, outcome: "answered", want: []string{"a=inactive", "neither side sends"}},
		{group: "audio", name: "no audio: the ACK for the 200 never arrived",
			flow: "alice's phone (SIPp) gets the 200 OK but never sends the ACK; bob's phone (SIPp, `-max_retrans 4`) resends its 200 until it gives up, and siplens passes every copy on.",
			run:  noACK,
			code: 200, outcome: "answered", want: []string{"never acknowledged", "siplens sent it 5 times", "no ACK"},
			ladder: true},

		// Beyond the list, from the same flows.
		{group: "calls", name: "488 codec policy", noDoc: true,
			run: serverThen(func(c *config.Config) { c.Media.Codecs = []string{"G722"} }, "INVITE", "bob",
				then(func(t *testing.T, srv *testServer) { callee(t, srv, "udp", "bob", "uas_answer.xml", nil) }, sippCaller("uac_expect_488.xml", "bob"))),
			code: 488, want: []string{"488", "media", "PCMU"}},
	}
}

// directions: alice offers a=offer, bob's phone answers a=answer.
func directions(offer, answer string) func(t *testing.T) (*testServer, *trace.Call) {
	return serverThen(nil, "INVITE", "bob", func(t *testing.T, srv *testServer) {
		phone(t, srv, "udp", "bob", "uas_answer_direction.xml", map[string]string{"direction": answer})
		sipp(t, srv, "udp", "uac_call_direction.xml", "alice", map[string]string{"callee": "bob", "direction": offer}).Run(t).RequireOK(t)
	})
}

// neverAnswered: bob's registered contact is a port where nothing listens. The INVITE
// gets no answer at all, Timer B ends the branch, and the diagnosis names the silent
// address, not Timer C.
func neverAnswered(t *testing.T) (*testServer, *trace.Call) {
	srv := startServer(t, "", trust)
	dead := siptest.FreePort(t)
	registerRaw(t, srv, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(dead)+">")
	code, _, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, inviteTo("bob", "localhost", ""), 10*time.Second))
	if code != 408 {
		t.Fatalf("INVITE to a silent contact: %d, want 408", code)
	}
	c := settledCall(t, srv, "INVITE", "bob")
	if _, text := render(t, c); !strings.Contains(text, "127.0.0.1:"+strconv.Itoa(dead)) {
		t.Errorf("the diagnosis does not name the silent address 127.0.0.1:%d:\n%s", dead, text)
	}
	return srv, c
}

// overloaded: one call rings while another arrives, with at most one request in progress.
func overloaded(t *testing.T) (*testServer, *trace.Call) {
	// (Loopback is trusted: a challenged REGISTER's second request may arrive before the
	// first one's handler has returned, and would be shed too.)
	srv := startServer(t, "", func(c *config.Config) {
		trust(c)
		c.RateLimit.MaxInProgress, c.RateLimit.RetryAfter = 1, 9
	})
	trustedPhone(t, srv, "uas_ring_until_cancel.xml", nil)
	ringing := sipp(t, srv, "udp", "uac_cancel.xml", "alice", cancelVars("bob", "2000")).Start(t)
	ringing.WaitForResponse(t, 180, "INVITE", 5*time.Second) // that INVITE is in progress for 2 s
	sipp(t, srv, "udp", "uac_expect_503.xml", "carol", map[string]string{"callee": "dave"}).Run(t).RequireOK(t)
	if res := ringing.Wait(10 * time.Second); !res.OK() {
		t.Fatalf("the ringing call:\n%s", res.Details())
	}
	return srv, settledCall(t, srv, "INVITE", "dave")
}

// followedRedirect: bob forwards to carol; `siplens call` follows the 302 in the same
// call, and carol's SIPp phone answers.
func followedRedirect(t *testing.T) (*testServer, *trace.Call) {
	srv := startServer(t, "", withUser("bob", func(u *config.User) { u.ForwardTo = "sip:carol@localhost" }))
	phone(t, srv, "udp", "carol", "uas_answer.xml", nil)
	code, out, errOut := uaCmd("call", "alice@localhost", "bob", "--password", passwords["alice"], "--server", srv.Addr,
		"--listen", "127.0.0.1", "--duration", "100ms", "--ring-timeout", "10s")
	if code != 0 {
		t.Fatalf("siplens call: exit %d\n%s%s", code, out, errOut)
	}
	return srv, settledCall(t, srv, "INVITE", "bob")
}

// loop: two servers each have bob registered at the other.
func loop(t *testing.T) (*testServer, *trace.Call) {
	a, b := startServer(t, "", trust), startServer(t, "", trust)
	registerRaw(t, a, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(b.Port)+">")
	registerRaw(t, b, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(a.Port)+">")
	finalOf(t, siptest.SendUDP(t, a.Addr, inviteTo("bob", "localhost", ""), 2*time.Second))
	return a, settledCall(t, a, "INVITE", "bob")
}

// noACK: the caller never ACKs the 200. The callee (SIPp, at most 4 retransmissions)
// resends its 200 until it gives up; the test reads the record once it has. Loopback is
// trusted, so the caller is not challenged and the ladder shows only the call.
func noACK(t *testing.T) (*testServer, *trace.Call) {
	srv := startServer(t, "", trust)
	p := trustedPhone(t, srv, "uas_answer.xml", nil, "-max_retrans", "4")
	sipp(t, srv, "udp", "uac_call_no_ack.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
	res := p.Wait(30 * time.Second)
	if res.OK() || !strings.Contains(res.ErrorLog, "retransmission timeout") {
		t.Fatalf("bob's phone should give up on its 200 for want of an ACK:\n%s", res.Details())
	}
	return srv, settledCall(t, srv, "INVITE", "bob")
}

// checkDiagnosis asserts what a case wants of its diagnosis.
func (c diagCase) checkDiagnosis(t *testing.T, d diag.Diagnosis, text string) {
	t.Helper()
	if d.FinalCode != c.code || c.outcome != "" && string(d.Outcome) != c.outcome {
		t.Errorf("final %d, outcome %q; want %d %q", d.FinalCode, d.Outcome, c.code, c.outcome)
	}
	flat := strings.Join(strings.Fields(text), " ") // the text is wrapped at 80 columns
	for _, w := range c.want {
		if !strings.Contains(flat, w) {
			t.Errorf("the diagnosis does not mention %q", w)
		}
	}
	for _, n := range c.not {
		if strings.Contains(flat, n) {
			t.Errorf("the diagnosis mentions %q", n)
		}
	}
	if c.check != nil {
		c.check(t, d, text)
	}
	if t.Failed() {
		t.Logf("diagnosis:\n%s", text)
	}
}

// runGroup runs the cases of one group.
func runGroup(t *testing.T, group string) {
	var cases []diagCase
	for _, c := range diagnosisCases() {
		if c.group == group {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no case in group %q", group)
	}
	forEachCase(t, cases, func(t *testing.T, _ int, c diagCase) {
		_, call := c.run(t)
		d, text := render(t, call)
		c.checkDiagnosis(t, d, text)
	})
}

// forEachCase runs f for every case as a subtest, one after the other. Not in parallel:
// the wire tap hands a message read or written on a socket no server listens on (sipgo
// sends a forwarded request from a socket of its own) to the server started last in the
// process, so a server started by a parallel subtest takes some of the messages of this
// one's calls: branches go missing from the record.
func forEachCase(t *testing.T, cases []diagCase, f func(t *testing.T, i int, c diagCase)) {
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { f(t, i, c) })
	}
}

// TestDiagnosisOfRealCalls: who is called and whether anyone takes the call (404, 480,
// 486, 603, 600), Timer C, a branch's 503, a cancel, a redirect, Max-Forwards and codec
// policy, each from a real call through siplens, told apart by the diagnosis.
func TestDiagnosisOfRealCalls(t *testing.T) { runGroup(t, "calls") }

// TestDiagnosisAuth: a 401/407 answered and then accepted is no failure, nor is a stale
// nonce; a wrong password is told as such; a lockout as a lockout.
func TestDiagnosisAuth(t *testing.T) { runGroup(t, "auth") }

// TestDiagnosisOfPolicyRefusals: the 403s, the 503s of the rate limit and of overload,
// Max-Forwards' 483 and a loop's 482, each produced on the wire and told apart.
func TestDiagnosisOfPolicyRefusals(t *testing.T) { runGroup(t, "policy") }

// TestDiagnosisOfMalformed: a 400 on real traffic says which header was wrong.
func TestDiagnosisOfMalformed(t *testing.T) { runGroup(t, "malformed") }

// TestDiagnosisNoAudio: answered calls that will have no sound, from real signalling: a
// private address in the callee's SDP, no codec in common, audio switched off on both
// sides, and a 200 OK the caller never acknowledged.
func TestDiagnosisNoAudio(t *testing.T) { runGroup(t, "audio") }

// TestDiagnosisNeverAnswered: a contact that answers nothing at all is told apart from
// Timer C, by its address.
func TestDiagnosisNeverAnswered(t *testing.T) { runGroup(t, "timeout") }
