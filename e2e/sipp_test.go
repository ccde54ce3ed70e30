package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
)

// sipp builds a SIPp run against srv for one user over one transport.
func sipp(t *testing.T, srv *testServer, transport, scenario, user string, vars map[string]string) siptest.SIPp {
	t.Helper()
	siptest.RequireTool(t, "sipp")
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars["domain"]; !ok {
		vars["domain"] = "localhost"
	}
	s := siptest.SIPp{
		Scenario:  siptest.Scenario(t, scenario),
		Target:    srv.Addr,
		Transport: transport,
		Service:   user,
		Vars:      vars,
		Timeout:   20 * time.Second,
	}
	if pw, ok := passwords[user]; ok {
		s.Auth = siptest.Auth{User: user, Password: pw}
	}
	return s
}

// callee registers user with SIPp and answers incoming INVITEs with answer (an
// out-of-call scenario: uas_answer.xml or uas_reject.xml). It returns once the REGISTER
// has been accepted.
func callee(t *testing.T, srv *testServer, transport, user, answer string, vars map[string]string) *siptest.Process {
	t.Helper()
	main := "uas_register_then_answer.xml"
	if answer == "uas_reject.xml" {
		main = "uas_register_then_reject.xml"
	}
	s := sipp(t, srv, transport, main, user, vars)
	s.OOCScenario = siptest.Scenario(t, answer)
	s.Timeout = 30 * time.Second
	p := s.Start(t)
	p.WaitForResponse(t, 200, "REGISTER", 10*time.Second)
	return p
}

func TestRegister(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)

		t.Run("401 then 200", func(t *testing.T) {
			res := sipp(t, srv, transport, "register_auth.xml", "bob", nil).Run(t)
			res.RequireOK(t)
			if !srv.logHas("method=REGISTER", "code=401", "by=auth") || !srv.logHas("method=REGISTER", "code=200", "by=registrar") {
				t.Fatal("the log does not show the 401 challenge and the 200")
			}
			bs, err := srv.Bindings(t)
			if err != nil || len(bs) != 1 || bs[0].AOR != "bob@localhost" || bs[0].Transport != map[string]string{"udp": "UDP", "tcp": "TCP"}[transport] {
				t.Fatalf("bindings after REGISTER: %+v, %v", bs, err)
			}
		})
		t.Run("wrong password gets a new challenge", func(t *testing.T) {
			s := sipp(t, srv, transport, "register_wrong_password.xml", "carol", nil)
			s.Auth.Password = "not-carols-password"
			s.Run(t).RequireOK(t)
			if !srv.logHas("code=401", "wrong password for carol@localhost") {
				t.Fatal("the log does not say why the second 401 was sent")
			}
		})
		t.Run("423 with Min-Expires", func(t *testing.T) {
			sipp(t, srv, transport, "register_too_brief.xml", "dave", map[string]string{"expires": "10"}).Run(t).RequireOK(t)
			if !srv.logHas("code=423", "below the minimum of 60 s") {
				t.Fatal("no 423 in the log")
			}
		})
		t.Run("unregister with Contact *", func(t *testing.T) {
			sipp(t, srv, transport, "register_auth.xml", "alice", nil).Run(t).RequireOK(t)
			sipp(t, srv, transport, "unregister.xml", "alice", map[string]string{"contact": "*"}).Run(t).RequireOK(t)
			bs, _ := srv.Bindings(t)
			for _, b := range bs {
				if b.AOR == "alice@localhost" {
					t.Fatalf("alice still has a binding after Contact: *: %+v", b)
				}
			}
		})
	})
}

func TestCallAnswered(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		bob := callee(t, srv, transport, "bob", "uas_answer.xml", nil)
		res := sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "200"}).Run(t)
		res.RequireOK(t)
		bob.WaitForMessage(t, 5*time.Second, "the BYE at the callee", func(m siptest.TracedMessage) bool {
			return !m.Sent && strings.HasPrefix(m.FirstLine(), "BYE")
		})
		// What crossed siplens, as the phones saw it (RFC 3261 16.6 and 16.7).
		invite := received(t, siptest.ParseMessageLog(bob.Messages()), "INVITE")
		if n := headerCount(invite, "via"); n != 2 {
			t.Errorf("the callee's INVITE has %d Vias, want 2 (the caller's and siplens'):\n%s", n, invite.Text)
		}
		if n := headerCount(invite, "record-route"); n != 1 {
			t.Errorf("the callee's INVITE has %d Record-Routes, want 1:\n%s", n, invite.Text)
		}
		if !strings.Contains(invite.Text, "Max-Forwards: 69") {
			t.Errorf("Max-Forwards was not decremented from 70 to 69:\n%s", invite.Text)
		}
		ok := received(t, res.Trace(), "SIP/2.0 200")
		if n := headerCount(ok, "via"); n != 1 {
			t.Errorf("the caller's 200 has %d Vias, want only its own:\n%s", n, ok.Text)
		}
		for _, want := range [][]string{
			{"method=INVITE", "code=200", "by=\"branch 1"},
			{"method=BYE", "code=200"},
		} {
			if !srv.logHas(want...) {
				t.Errorf("log has no line with %q", want)
			}
		}
	})
}

// TestCallRejected: the callee's final answer comes back to the caller unchanged.
func TestCallRejected(t *testing.T) {
	for _, c := range []struct{ code, reason string }{{"486", "Busy Here"}, {"603", "Decline"}, {"600", "Busy Everywhere"}} {
		t.Run(c.code, func(t *testing.T) {
			siptest.RunWithTransports(t, func(t *testing.T, transport string) {
				srv := startServer(t, "", nil)
				callee(t, srv, transport, "bob", "uas_reject.xml", map[string]string{"code": c.code, "reason": c.reason})
				res := sipp(t, srv, transport, "uac_expect_"+c.code+".xml", "alice", map[string]string{"callee": "bob"}).Run(t)
				res.RequireOK(t)
				final := received(t, res.Trace(), "SIP/2.0 "+c.code)
				if n := headerCount(final, "via"); n != 1 {
					t.Errorf("the relayed %s has %d Vias, want only the caller's:\n%s", c.code, n, final.Text)
				}
				if !srv.logHas("method=INVITE", "code="+c.code, "by=\"branch 1") {
					t.Fatalf("log does not show the %s relayed from the branch", c.code)
				}
			})
		})
	}
}

// TestLocalRejections: codes siplens itself sends for a call.
func TestLocalRejections(t *testing.T) {
	cases := []struct {
		scenario, callee, code, by, reason string
	}{
		{"uac_expect_404.xml", "nobody", "404", "locate", "not a user of this server"},
		{"uac_expect_480.xml", "carol", "480", "locate", "has no registered contact"},
		{"uac_expect_483.xml", "bob", "483", "sanity", "Max-Forwards"},
		{"uac_expect_420.xml", "bob", "420", "sanity", "extensions siplens does not support"},
	}
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		for _, c := range cases {
			t.Run(c.code, func(t *testing.T) {
				sipp(t, srv, transport, c.scenario, "alice", map[string]string{"callee": c.callee}).Run(t).RequireOK(t)
				if !srv.logHas("method=INVITE", "code="+c.code, "by="+c.by, c.reason) {
					t.Fatalf("no log line for %s by %s with %q", c.code, c.by, c.reason)
				}
			})
		}
		t.Run("405", func(t *testing.T) {
			sipp(t, srv, transport, "uac_expect_405.xml", "alice", nil).Run(t).RequireOK(t)
		})
		t.Run("OPTIONS to the server", func(t *testing.T) {
			sipp(t, srv, transport, "options_server.xml", "alice", nil).Run(t).RequireOK(t)
		})
	})
}

// received returns the first message SIPp received whose first line starts with prefix.
func received(t *testing.T, trace []siptest.TracedMessage, prefix string) siptest.TracedMessage {
	t.Helper()
	for _, m := range trace {
		if !m.Sent && strings.HasPrefix(m.FirstLine(), prefix) {
			return m
		}
	}
	t.Fatalf("SIPp never received %q", prefix)
	return siptest.TracedMessage{}
}

// headerCount counts the header lines of a traced message with the given (lower-case) name.
func headerCount(m siptest.TracedMessage, name string) int {
	_, _, h := m.Status()
	if len(h) == 0 {
		// Status parses responses; for requests count by hand.
		n := 0
		for _, line := range strings.Split(m.Text, "\n") {
			if k, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
				n++
			}
		}
		return n
	}
	return len(h[name])
}

// TestMessage: an out-of-dialog MESSAGE to a user is forwarded to the phone like an
// INVITE, and the phone's 200 comes back.
func TestMessage(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		reg := sipp(t, srv, transport, "register_auth.xml", "bob", nil)
		reg.LocalPort = siptest.FreePort(t)
		reg.Run(t).RequireOK(t)
		phone := sipp(t, srv, transport, "uas_message.xml", "bob", nil)
		phone.Vars, phone.Target, phone.Auth = nil, "", siptest.Auth{}
		phone.LocalPort = reg.LocalPort
		p := phone.Start(t)
		sipp(t, srv, transport, "uac_message.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		if res := p.Wait(5 * time.Second); !res.OK() {
			t.Fatalf("bob's phone did not get the MESSAGE:\n%s", res.Details())
		}
		if !srv.logHas("method=MESSAGE", "code=200", "by=\"branch 1") {
			t.Fatal("the log does not show the relayed 200")
		}
	})
}
