package e2e

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/siptest"
)

// diagnosisOf renders the diagnosis of the recorded call to toUser.
func diagnosisOf(t *testing.T, srv *testServer, method, toUser string) (diag.Diagnosis, string) {
	t.Helper()
	d := diag.Diagnose(srv.call(t, method, toUser))
	var b bytes.Buffer
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return d, b.String()
}

// TestDiagnosisOfRealCalls: each cause the issue lists, produced by a real call flow through
// siplens (SIPp as caller and phones), told apart by the diagnosis of the recorded call.
func TestDiagnosisOfRealCalls(t *testing.T) {
	type flow func(t *testing.T, srv *testServer)
	call := func(scenario, callee string) flow {
		return func(t *testing.T, srv *testServer) {
			sipp(t, srv, "udp", scenario, "alice", map[string]string{"callee": callee}).Run(t).RequireOK(t)
		}
	}
	rejectingPhone := func(code string, then flow) flow {
		return func(t *testing.T, srv *testServer) {
			callee(t, srv, "udp", "bob", "uas_reject.xml", map[string]string{"code": code})
			then(t, srv)
		}
	}
	cases := []struct {
		name    string
		edit    func(*config.Config)
		run     flow
		method  string
		to      string
		outcome string
		want    []string // substrings of the rendered diagnosis
	}{
		{name: "404 unknown user", run: call("uac_expect_404.xml", "nobody"), to: "nobody",
			outcome: "not-found", want: []string{"locate", "nobody@localhost"}},
		{name: "480 not registered", run: call("uac_expect_480.xml", "carol"), to: "carol",
			outcome: "unavailable", want: []string{"carol@localhost", "regist"}},
		{name: "480 do-not-disturb", edit: withUser("bob", func(u *config.User) { u.DND = 480 }),
			run: call("uac_expect_480.xml", "bob"), to: "bob", outcome: "unavailable", want: []string{"do-not-disturb"}},
		{name: "486 busy", run: rejectingPhone("486", call("uac_expect_486.xml", "bob")), to: "bob",
			outcome: "busy", want: []string{"486 Busy Here", "branch 1"}},
		{name: "603 declined", run: rejectingPhone("603", call("uac_expect_603.xml", "bob")), to: "bob",
			outcome: "declined", want: []string{"603", "branch 1"}},
		{name: "600 busy everywhere", run: rejectingPhone("600", call("uac_expect_600.xml", "bob")), to: "bob",
			outcome: "busy", want: []string{"600"}},
		{name: "503 from a phone becomes 500", run: rejectingPhone("503", func(t *testing.T, srv *testServer) {
			sipp(t, srv, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t) // fails with 500, as it should
		}), to: "bob", outcome: "failed", want: []string{"503", "500"}},
		{name: "302 forwarded", edit: withUser("bob", func(u *config.User) { u.ForwardTo = "sip:carol@localhost" }),
			run: call("uac_expect_302.xml", "bob"), to: "bob", outcome: "redirected", want: []string{"sip:carol@localhost"}},
		{name: "408 Timer C", edit: func(c *config.Config) { c.Proxy.NoAnswerTimeout = config.Duration{Duration: time.Second} },
			run: func(t *testing.T, srv *testServer) {
				phone(t, srv, "udp", "bob", "uas_ring_until_cancel.xml", nil)
				call("uac_expect_408.xml", "bob")(t, srv)
			}, to: "bob", outcome: "timed-out", want: []string{"Timer C"}},
		{name: "487 caller cancelled", run: func(t *testing.T, srv *testServer) {
			phone(t, srv, "udp", "bob", "uas_ring_until_cancel.xml", nil)
			sipp(t, srv, "udp", "uac_cancel.xml", "alice", cancelVars("bob", "300")).Run(t).RequireOK(t)
		}, to: "bob", outcome: "cancelled", want: []string{"cancel"}},
		{name: "483 too many hops", run: call("uac_expect_483.xml", "bob"), to: "bob",
			outcome: "failed", want: []string{"Max-Forwards"}},
		{name: "488 codec policy", edit: func(c *config.Config) { c.Media.Codecs = []string{"G722"} },
			run: func(t *testing.T, srv *testServer) {
				callee(t, srv, "udp", "bob", "uas_answer.xml", nil)
				call("uac_expect_488.xml", "bob")(t, srv)
			}, to: "bob", outcome: "", want: []string{"488", "media", "PCMU"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, "", c.edit)
			c.run(t, srv)
			method := c.method
			if method == "" {
				method = "INVITE"
			}
			d, text := diagnosisOf(t, srv, method, c.to)
			if c.outcome != "" && string(d.Outcome) != c.outcome {
				t.Errorf("outcome %q, want %q", d.Outcome, c.outcome)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("the diagnosis does not mention %q", w)
				}
			}
			if t.Failed() {
				t.Logf("diagnosis:\n%s", text)
			}
		})
	}
}

// TestDiagnosisAuth: a 401 answered and then accepted is no failure; a wrong password is
// told as such; a lockout as a lockout.
func TestDiagnosisAuth(t *testing.T) {
	t.Run("401 then 200 is a success", func(t *testing.T) {
		srv := startServer(t, "", nil)
		sipp(t, srv, "udp", "register_auth.xml", "bob", nil).Run(t).RequireOK(t)
		d, text := diagnosisOf(t, srv, "REGISTER", "bob")
		if d.FinalCode != 200 || d.Outcome != "answered" {
			t.Fatalf("final %d outcome %q, want 200 answered:\n%s", d.FinalCode, d.Outcome, text)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := startServer(t, "", nil)
		s := sipp(t, srv, "udp", "register_wrong_password.xml", "carol", nil)
		s.Auth.Password = "nope"
		s.Run(t).RequireOK(t)
		d, text := diagnosisOf(t, srv, "REGISTER", "carol")
		if d.FinalCode != 401 || !strings.Contains(strings.ToLower(text), "wrong password") {
			t.Fatalf("final %d, want 401 told as a wrong password:\n%s", d.FinalCode, text)
		}
	})
	t.Run("locked out", func(t *testing.T) {
		srv := startServer(t, "", func(c *config.Config) {
			c.Auth.Lockout = config.Lockout{MaxFailures: 1, Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: time.Minute}}
		})
		s := sipp(t, srv, "udp", "register_wrong_password.xml", "carol", nil)
		s.Auth.Password = "nope"
		s.Run(t) // the second answer is a 403 now, which this scenario does not expect
		d, text := diagnosisOf(t, srv, "REGISTER", "carol")
		if d.FinalCode != 403 || !strings.Contains(text, "locked out") {
			t.Fatalf("final %d, want 403 told as a lockout:\n%s", d.FinalCode, text)
		}
	})
}

// inviteTo is a raw INVITE from alice@localhost to user@host, answered 407 or not at all
// depending on policy; tests that need no authentication trust loopback.
func inviteTo(user, host, extra string) []byte {
	return crlf("INVITE sip:" + user + "@" + host + " SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:" + user + "@" + host + ">\nCall-ID: {{call_id}}\nCSeq: 1 INVITE\nContact: <sip:alice@{{local}}>\nMax-Forwards: 70\n" + extra + "Content-Length: 0\n\n")
}

// TestDiagnosisOfPolicyRefusals: the 403s, the rate limit's 503, Max-Forwards' 483 and a
// loop's 482, each produced on the wire and told apart by the diagnosis.
func TestDiagnosisOfPolicyRefusals(t *testing.T) {
	trust := func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} }
	cases := []struct {
		name    string
		edit    func(*config.Config)
		send    []byte
		times   int
		to      string
		code    int
		outcome string
		want    []string
	}{
		{name: "403 by ACL rule", edit: func(c *config.Config) { c.ACL.Deny = []string{"127.0.0.0/8"} },
			send: inviteTo("bob", "localhost", ""), to: "bob", code: 403, outcome: "rejected", want: []string{"acl", "127.0.0.0/8"}},
		{name: "403 relay refused", edit: trust,
			send: inviteTo("bob", "example.org", ""), to: "bob", code: 403, outcome: "rejected", want: []string{"example.org", "relay"}},
		{name: "503 rate limit", edit: func(c *config.Config) {
			trust(c)
			c.RateLimit.PerSource, c.RateLimit.PerSourceBurst, c.RateLimit.RetryAfter = 0.1, 1, 7
		}, send: inviteTo("nobody", "localhost", ""), times: 2, to: "nobody", code: 503, outcome: "rejected", want: []string{"ratelimit", "7 s"}},
		{name: "483 Max-Forwards", edit: trust,
			send: []byte(strings.Replace(string(inviteTo("bob", "localhost", "")), "Max-Forwards: 70", "Max-Forwards: 0", 1)), to: "bob", code: 483, want: []string{"Max-Forwards"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, "", c.edit)
			times := c.times
			if times == 0 {
				times = 1
			}
			for i := 0; i < times; i++ {
				finalOf(t, siptest.SendUDP(t, srv.Addr, c.send, 200*time.Millisecond))
			}
			d, text := diagnosisOf(t, srv, "INVITE", c.to)
			if d.FinalCode != c.code || (c.outcome != "" && string(d.Outcome) != c.outcome) {
				t.Fatalf("final %d outcome %q, want %d %q:\n%s", d.FinalCode, d.Outcome, c.code, c.outcome, text)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("the diagnosis does not mention %q:\n%s", w, text)
				}
			}
		})
	}
	t.Run("482 loop", func(t *testing.T) {
		a, b := startServer(t, "", trust), startServer(t, "", trust)
		registerRaw(t, a, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(b.Port)+">")
		registerRaw(t, b, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(a.Port)+">")
		finalOf(t, siptest.SendUDP(t, a.Addr, inviteTo("bob", "localhost", ""), 2*time.Second))
		d, text := diagnosisOf(t, a, "INVITE", "bob")
		if d.FinalCode != 482 || !strings.Contains(strings.ToLower(text), "loop") {
			t.Fatalf("final %d, want 482 told as a loop:\n%s", d.FinalCode, text)
		}
	})
}

// TestDiagnosisOfMalformed: a 400 on real traffic says which header was wrong.
func TestDiagnosisOfMalformed(t *testing.T) {
	srv := startServer(t, "", func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} })
	msg := strings.Replace(string(inviteTo("bob", "localhost", "")), "CSeq: 1 INVITE", "CSeq: 1 OPTIONS", 1)
	finalOf(t, siptest.SendUDP(t, srv.Addr, []byte(msg), 200*time.Millisecond))
	d, text := diagnosisOf(t, srv, "", "bob") // the CSeq names another method: no filter
	if d.FinalCode != 400 || !strings.Contains(text, "CSeq") {
		t.Fatalf("final %d, want a 400 that names CSeq:\n%s", d.FinalCode, text)
	}
}

// TestDiagnosisNoAudio: answered calls that will have no sound, from real signalling: the
// callee's SDP names a private address while it signals from elsewhere, or answers with a
// codec the caller did not offer.
func TestDiagnosisNoAudio(t *testing.T) {
	for _, c := range []struct {
		answer string
		want   []string
	}{
		{"uas_answer_private_sdp.xml", []string{"192.168.77.7", "private address"}},
		{"uas_answer_g729.xml", []string{"no codec", "G729"}},
	} {
		t.Run(c.answer, func(t *testing.T) {
			srv := startServer(t, "", nil)
			callee(t, srv, "udp", "bob", c.answer, nil)
			sipp(t, srv, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
			d, text := diagnosisOf(t, srv, "INVITE", "bob")
			if d.FinalCode != 200 {
				t.Fatalf("final %d, want an answered call:\n%s", d.FinalCode, text)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("the diagnosis does not mention %q:\n%s", w, text)
				}
			}
		})
	}
}

// TestDiagnosisNeverAnswered: bob's registered contact is a port where nothing listens (a
// phone that went away without unregistering). The INVITE gets no answer at all, Timer B
// ends the branch, and the diagnosis names the silent address, not Timer C.
func TestDiagnosisNeverAnswered(t *testing.T) {
	srv := startServer(t, "", func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} })
	dead := siptest.FreePort(t)
	registerRaw(t, srv, "udp", "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(dead)+">")
	code, _, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, inviteTo("bob", "localhost", ""), 10*time.Second))
	if code != 408 {
		t.Fatalf("INVITE to a silent contact: %d, want 408", code)
	}
	d, text := diagnosisOf(t, srv, "INVITE", "bob")
	if d.FinalCode != 408 || !strings.Contains(text, "127.0.0.1:"+strconv.Itoa(dead)) || strings.Contains(text, "Timer C") {
		t.Fatalf("want a 408 naming the silent address 127.0.0.1:%d (Timer B, not C):\n%s", dead, text)
	}
}
