package siptest

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests prove the SIPp runner and the e2e scenarios against SIPp
// peers only (no server needed): SIPp's embedded "uas", and the test-only
// fake peers in testdata/ (a digest registrar, a "proxy" answering with a
// given final response, ...). The real server is exercised by the e2e tests.

func fake(name string) string { return filepath.Join("testdata", name) }

// startFake starts a fake SIPp peer (server scenario) and returns it. A
// ".xml.tmpl" peer gets vars["code"] substituted for @CODE@ (SIPp 3.6
// wants a literal status code in a <send>).
func startFake(t *testing.T, scenario, transport string, calls int, vars map[string]string) *Process {
	t.Helper()
	path := fake(scenario)
	if strings.HasSuffix(scenario, ".tmpl") {
		path = instantiate(t, path, vars["code"])
		rest := map[string]string{}
		for k, v := range vars {
			if k != "code" {
				rest[k] = v
			}
		}
		vars = rest
	}
	return SIPp{
		Scenario:  path,
		Transport: transport,
		Calls:     calls,
		Vars:      vars,
		Timeout:   15 * time.Second,
	}.Start(t)
}

// instantiate writes the template with @CODE@ replaced by code into a
// temporary .xml file and returns its path.
func instantiate(t testing.TB, tmpl, code string) string {
	t.Helper()
	data, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if code == "" {
		t.Fatalf("%s needs a code", tmpl)
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(tmpl), ".tmpl"))
	if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(data), "@CODE@", code)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func requireOK(t *testing.T, what string, r Result) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("%s: %s", what, r.Details())
	}
}

// requireFailedCall checks that SIPp ran the call to its end and counted
// it as failed (a scenario expectation was not met).
func requireFailedCall(t *testing.T, what string, r Result) {
	t.Helper()
	if r.OK() || r.ExitCode != 1 || r.Failed != 1 || r.Successful != 0 || r.TimedOut {
		t.Fatalf("%s: want exactly one failed call (exit 1), got: %s", what, r.Details())
	}
}

// (a) uac_call.xml against SIPp's embedded UAS: proves the runner (start in
// the background, readiness, run to completion, result parsing) and the
// structure of the caller scenario.
func TestSIPpUACCallAgainstEmbeddedUAS(t *testing.T) {
	CheckGoroutines(t)
	RunWithTransports(t, func(t *testing.T, transport string) {
		uas := SIPp{Builtin: "uas", Transport: transport, Timeout: 15 * time.Second}.Start(t)
		res := SIPp{
			Scenario:  Scenario(t, "uac_call.xml"),
			Target:    uas.Addr(),
			Transport: transport,
			Service:   "alice",
			Vars:      map[string]string{"callee": "bob", "hold": "100"},
			Timeout:   10 * time.Second,
		}.Run(t)
		requireOK(t, "uac_call", res)
		flow := strings.Join(res.Flow(), "\n")
		for _, want := range []string{
			"-> INVITE sip:bob@" + uas.Addr() + " SIP/2.0",
			"<- SIP/2.0 180 Ringing",
			"<- SIP/2.0 200 OK",
			"-> ACK sip:" + uas.Addr() + ";transport=" + strings.ToUpper(transport) + " SIP/2.0", // [next_url]: the UAS Contact
			"-> BYE sip:" + uas.Addr(),
		} {
			if !strings.Contains(flow, want) {
				t.Errorf("flow lacks %q:\n%s", want, flow)
			}
		}
		uasRes := uas.Wait(10 * time.Second) // the embedded uas exits after its 4 s timewait
		if transport == "udp" {
			requireOK(t, "embedded uas", uasRes)
		} else if uasRes.TimedOut {
			// Over TCP SIPp's embedded uas counts its call as failed when the
			// caller closes the connection during its 4 s timewait: only
			// check that it ended by itself and saw the whole call.
			t.Fatalf("embedded uas: %s", uasRes.Details())
		}
		if got := strings.Join(uasRes.Flow(), "\n"); !strings.Contains(got, "<- BYE ") {
			t.Errorf("embedded uas did not see the BYE:\n%s", got)
		}
	})
}

// (b) Result parsing of failures.
func TestSIPpResultOfFailures(t *testing.T) {
	CheckGoroutines(t)
	t.Run("udp_nobody_listens", func(t *testing.T) {
		start := time.Now()
		res := SIPp{
			Scenario:    Scenario(t, "options_server.xml"),
			Target:      fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
			Transport:   "udp",
			RecvTimeout: time.Second,
			Timeout:     10 * time.Second,
		}.Run(t)
		requireFailedCall(t, "OPTIONS to nowhere", res)
		if time.Since(start) > 8*time.Second {
			t.Errorf("took %v: -recv_timeout not applied?", time.Since(start))
		}
		if res.Stats["FailedTimeoutOnRecv(C)"] != "1" {
			t.Errorf("FailedTimeoutOnRecv(C) = %q, want 1", res.Stats["FailedTimeoutOnRecv(C)"])
		}
		if !strings.Contains(res.String(), "exit 1 (at least one call failed); calls: 0 successful, 1 failed") ||
			!strings.Contains(res.String(), "-> OPTIONS sip:127.0.0.1:") {
			t.Errorf("String() = %s", res)
		}
		if !strings.Contains(res.Details(), "UDP message sent") {
			t.Errorf("Details() lacks the message trace: %s", res.Details())
		}
	})
	t.Run("tcp_connection_refused", func(t *testing.T) {
		res := SIPp{
			Scenario:  Scenario(t, "options_server.xml"),
			Target:    fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
			Transport: "tcp",
			Timeout:   10 * time.Second,
		}.Run(t)
		if res.OK() || res.ExitCode != 255 || res.TimedOut {
			t.Fatalf("want a fatal error (exit 255): %s", res.Details())
		}
		if !strings.Contains(res.ErrorLog+res.Stderr, "connect") {
			t.Errorf("no connect error reported: %s", res)
		}
	})
	t.Run("global_timeout_fails_loudly", func(t *testing.T) {
		// A server scenario that never gets its call: -timeout with
		// -timeout_error makes SIPp exit with a fatal error by itself.
		start := time.Now()
		p := SIPp{Scenario: Scenario(t, "uas_answer.xml"), Transport: "udp", Timeout: 2 * time.Second}.Start(t)
		res := p.Wait(10 * time.Second)
		if res.OK() || res.ExitCode != 255 || res.TimedOut || res.Successful != 0 {
			t.Fatalf("want exit 255 on -timeout: %s", res.Details())
		}
		if !strings.Contains(res.ErrorLog+res.Stderr, "timed out") {
			t.Errorf("timeout not reported: %s", res)
		}
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("wait_timeout_stops_process", func(t *testing.T) {
		p := SIPp{Scenario: Scenario(t, "uas_answer.xml"), Transport: "udp", Timeout: 30 * time.Second}.Start(t)
		start := time.Now()
		res := p.Wait(300 * time.Millisecond)
		if !res.TimedOut || res.OK() || !p.Exited() {
			t.Fatalf("want TimedOut: %s", res)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Wait took %v", d)
		}
	})
	t.Run("stop", func(t *testing.T) {
		p := SIPp{Scenario: Scenario(t, "uas_answer.xml"), Transport: "tcp", Timeout: 30 * time.Second}.Start(t)
		if p.PID() <= 0 || p.Port() <= 0 || p.Addr() != fmt.Sprintf("127.0.0.1:%d", p.Port()) || p.Dir() == "" {
			t.Fatalf("bad process: pid %d port %d addr %s", p.PID(), p.Port(), p.Addr())
		}
		res := p.Stop()
		if !res.Stopped || res.TimedOut || res.Successful != 0 || res.OK() {
			t.Fatalf("after Stop: %s", res.Details())
		}
		if again := p.Stop(); again.ExitCode != res.ExitCode {
			t.Errorf("second Stop differs: %s", again)
		}
	})
	t.Run("port_in_use", func(t *testing.T) {
		// A user-chosen port that is taken: sipp cannot bind (exit 254)
		// and Start fails the test with the details.
		p := SIPp{Builtin: "uas", Transport: "udp", Timeout: 5 * time.Second}.Start(t)
		msg := runFake(t, func(tb testing.TB) {
			SIPp{Builtin: "uas", Transport: "udp", LocalPort: p.Port(), Timeout: 5 * time.Second}.Start(tb)
		})
		if !strings.Contains(msg, "exit 254") {
			t.Errorf("Start on a taken port: %q", msg)
		}
	})
}

func TestSIPpRegisterScenarios(t *testing.T) {
	CheckGoroutines(t)
	registrar := func(t *testing.T, transport string) *Process {
		return startFake(t, "fake_registrar.xml", transport, 1,
			map[string]string{"user": "alice", "password": "secret", "minexp": "60"})
	}
	RunWithTransports(t, func(t *testing.T, transport string) {
		run := func(scenario, password string, vars map[string]string, reg *Process) Result {
			return SIPp{
				Scenario:  Scenario(t, scenario),
				Target:    reg.Addr(),
				Transport: transport,
				Service:   "alice",
				Auth:      Auth{Password: password},
				Vars:      vars,
				Timeout:   10 * time.Second,
			}.Run(t)
		}
		t.Run("register_auth", func(t *testing.T) {
			reg := registrar(t, transport)
			res := run("register_auth.xml", "secret", map[string]string{"domain": "example.com", "expires": "120"}, reg)
			requireOK(t, "register_auth", res)
			requireOK(t, "fake registrar", reg.Wait(5*time.Second))
			tr := res.Trace()
			if len(tr) != 4 {
				t.Fatalf("want 4 messages, got %q", res.Flow())
			}
			first, second := tr[0].Text, tr[2].Text
			for _, want := range []string{
				"REGISTER sip:example.com SIP/2.0\r\n",
				"From: <sip:alice@example.com>;tag=",
				"To: <sip:alice@example.com>\r\n",
				fmt.Sprintf("Contact: <sip:alice@127.0.0.1:%d;transport=%s>\r\n", res.LocalPort, strings.ToUpper(transport)),
				"Expires: 120\r\n",
				"Content-Length: 0\r\n",
				fmt.Sprintf("Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK", strings.ToUpper(transport), res.LocalPort),
			} {
				if !strings.Contains(first, want) || !strings.Contains(second, want) {
					t.Errorf("REGISTERs lack %q:\n%s\n%s", want, first, second)
				}
			}
			if !strings.Contains(second, `Authorization: Digest username="alice",realm="siptest"`) || strings.Contains(first, "Authorization") {
				t.Errorf("credentials misplaced:\n%s\n%s", first, second)
			}
		})
		t.Run("register_auth_defaults", func(t *testing.T) {
			reg := registrar(t, transport)
			res := run("register_auth.xml", "secret", nil, reg)
			requireOK(t, "register_auth", res)
			first := res.Trace()[0].Text
			if !strings.Contains(first, "REGISTER sip:"+reg.Addr()+" SIP/2.0") || !strings.Contains(first, "Expires: 3600\r\n") ||
				!strings.Contains(first, "To: <sip:alice@"+reg.Addr()+">") {
				t.Errorf("defaults not applied:\n%s", first)
			}
		})
		t.Run("register_auth_wrong_password_fails", func(t *testing.T) {
			reg := registrar(t, transport)
			requireFailedCall(t, "register_auth with a wrong password", run("register_auth.xml", "wrong", nil, reg))
		})
		t.Run("register_wrong_password", func(t *testing.T) {
			reg := registrar(t, transport)
			requireOK(t, "register_wrong_password", run("register_wrong_password.xml", "wrong", nil, reg))
		})
		t.Run("register_wrong_password_with_good_password_fails", func(t *testing.T) {
			reg := registrar(t, transport)
			requireFailedCall(t, "register_wrong_password with the right password", run("register_wrong_password.xml", "secret", nil, reg))
		})
		t.Run("register_too_brief", func(t *testing.T) {
			reg := registrar(t, transport)
			res := run("register_too_brief.xml", "secret", nil, reg)
			requireOK(t, "register_too_brief", res)
			if !strings.Contains(res.Trace()[0].Text, "Expires: 10\r\n") {
				t.Errorf("default Expires is not 10: %s", res.Trace()[0].Text)
			}
			if got := res.Flow(); !strings.Contains(got[len(got)-1], "423") {
				t.Errorf("flow = %q", got)
			}
		})
		t.Run("register_too_brief_gets_200_fails", func(t *testing.T) {
			reg := registrar(t, transport)
			requireFailedCall(t, "register_too_brief with a long Expires",
				run("register_too_brief.xml", "secret", map[string]string{"expires": "3600"}, reg))
		})
		t.Run("unregister", func(t *testing.T) {
			reg := registrar(t, transport)
			res := run("unregister.xml", "secret", nil, reg)
			requireOK(t, "unregister", res)
			if s := res.Trace()[2].Text; !strings.Contains(s, "Expires: 0\r\n") ||
				!strings.Contains(s, fmt.Sprintf("Contact: <sip:alice@127.0.0.1:%d;transport=%s>", res.LocalPort, strings.ToUpper(transport))) {
				t.Errorf("unregister REGISTER:\n%s", s)
			}
		})
		t.Run("unregister_wildcard", func(t *testing.T) {
			reg := registrar(t, transport)
			res := run("unregister.xml", "secret", map[string]string{"contact": "*"}, reg)
			requireOK(t, "unregister *", res)
			if s := res.Trace()[2].Text; !strings.Contains(s, "Contact: *\r\n") || !strings.Contains(s, "Expires: 0\r\n") {
				t.Errorf("unregister * REGISTER:\n%s", s)
			}
		})
	})
}

// uas_register_then_answer.xml + uas_answer.xml (out-of-call) in one
// process: registers with the fake registrar, then answers a call that
// uac_call.xml places directly to it (standing in for the proxy).
func TestSIPpCalleeRegistersThenAnswers(t *testing.T) {
	CheckGoroutines(t)
	RunWithTransports(t, func(t *testing.T, transport string) {
		// Two calls' worth: it must outlive the callee's registration
		// connection (over TCP the callee fails if it is closed); stopped below.
		reg := startFake(t, "fake_registrar.xml", transport, 2,
			map[string]string{"user": "bob", "password": "secret", "minexp": "60"})
		callee := SIPp{
			Scenario:    Scenario(t, "uas_register_then_answer.xml"),
			OOCScenario: Scenario(t, "uas_answer.xml"),
			Target:      reg.Addr(),
			Transport:   transport,
			Service:     "bob",
			Auth:        Auth{Password: "secret"},
			Vars:        map[string]string{"domain": "example.com"},
			Timeout:     15 * time.Second,
		}.Start(t)
		callee.WaitForResponse(t, 200, "REGISTER", 5*time.Second)

		caller := SIPp{
			Scenario:  Scenario(t, "uac_call.xml"),
			Target:    callee.Addr(),
			Transport: transport,
			Service:   "alice",
			Vars:      map[string]string{"callee": "bob", "domain": "example.com", "hold": "200"},
			Timeout:   10 * time.Second,
		}.Run(t)
		requireOK(t, "caller", caller)
		calleeRes := callee.Wait(10 * time.Second)
		requireOK(t, "callee", calleeRes)
		reg.Stop()

		flow := strings.Join(calleeRes.Flow(), "\n")
		for _, want := range []string{"<- INVITE sip:bob@example.com", "-> SIP/2.0 180 Ringing", "-> SIP/2.0 200 OK", "<- ACK ", "<- BYE "} {
			if !strings.Contains(flow, want) {
				t.Errorf("callee flow lacks %q:\n%s", want, flow)
			}
		}
		// The 200 for the INVITE: To-tag added, own Contact, SDP.
		for _, m := range calleeRes.Trace() {
			if code, _, h := m.Status(); m.Sent && code == 200 && strings.HasSuffix(h["cseq"][0], "INVITE") {
				if !strings.Contains(h["to"][0], ";tag=") || h["contact"][0] != fmt.Sprintf("<sip:bob@%s;transport=%s>", callee.Addr(), strings.ToUpper(transport)) ||
					h["content-type"][0] != "application/sdp" {
					t.Errorf("200 OK:\n%s", m.Text)
				}
			}
		}
	})
}

// uas_register_then_reject.xml + uas_reject.xml against uac_expect_NNN.xml.
func TestSIPpCalleeRegistersThenRejects(t *testing.T) {
	CheckGoroutines(t)
	cases := []struct {
		code, reason string
		transports   []string
	}{
		{"486", "Busy Here", []string{"udp", "tcp"}},
		{"603", "Decline", []string{"udp"}},
		{"600", "Busy Everywhere", []string{"tcp"}},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			RunWithTransports(t, func(t *testing.T, transport string) {
				reg := startFake(t, "fake_registrar.xml", transport, 2,
					map[string]string{"user": "bob", "password": "secret", "minexp": "60"})
				callee := SIPp{
					Scenario:    Scenario(t, "uas_register_then_reject.xml"),
					OOCScenario: Scenario(t, "uas_reject.xml"),
					Target:      reg.Addr(),
					Transport:   transport,
					Service:     "bob",
					Auth:        Auth{Password: "secret"},
					Vars:        map[string]string{"code": c.code, "reason": c.reason},
					Timeout:     15 * time.Second,
				}.Start(t)
				callee.WaitForResponse(t, 200, "REGISTER", 5*time.Second)
				caller := SIPp{
					Scenario:  Scenario(t, "uac_expect_"+c.code+".xml"),
					Target:    callee.Addr(),
					Transport: transport,
					Service:   "alice",
					Vars:      map[string]string{"callee": "bob"},
					Timeout:   10 * time.Second,
				}.Run(t)
				requireOK(t, "caller", caller)
				requireOK(t, "callee", callee.Wait(10*time.Second))
				reg.Stop()
				if flow := strings.Join(caller.Flow(), "\n"); !strings.Contains(flow, "<- SIP/2.0 "+c.code+" "+c.reason) {
					t.Errorf("caller flow:\n%s", flow)
				}
			}, c.transports...)
		})
	}
}

// The two-process variant: uas_answer.xml / uas_reject.xml standalone.
func TestSIPpStandaloneCallee(t *testing.T) {
	CheckGoroutines(t)
	RunWithTransports(t, func(t *testing.T, transport string) {
		t.Run("answer", func(t *testing.T) {
			callee := SIPp{Scenario: Scenario(t, "uas_answer.xml"), Transport: transport, Service: "bob"}.Start(t)
			requireOK(t, "caller", SIPp{
				Scenario: Scenario(t, "uac_call.xml"), Target: callee.Addr(), Transport: transport,
				Vars: map[string]string{"callee": "bob"},
			}.Run(t))
			requireOK(t, "callee", callee.Wait(5*time.Second))
		})
		t.Run("reject_default_486", func(t *testing.T) {
			callee := SIPp{Scenario: Scenario(t, "uas_reject.xml"), Transport: transport}.Start(t)
			requireOK(t, "caller", SIPp{
				Scenario: Scenario(t, "uac_expect_486.xml"), Target: callee.Addr(), Transport: transport,
				Vars: map[string]string{"callee": "bob"},
			}.Run(t))
			requireOK(t, "callee", callee.Wait(5*time.Second))
		})
	})
}

// uac_call.xml through a fake proxy that records a route (and optionally
// challenges the INVITE with 407): ACK and BYE must follow [next_url] and
// [routes].
func TestSIPpUACCallRouteSetAndChallenge(t *testing.T) {
	CheckGoroutines(t)
	RunWithTransports(t, func(t *testing.T, transport string) {
		for _, challenge := range []string{"0", "1"} {
			t.Run("challenge="+challenge, func(t *testing.T) {
				peer := startFake(t, "fake_uas_answer_rr.xml", transport, 1, map[string]string{"challenge": challenge})
				res := SIPp{
					Scenario:  Scenario(t, "uac_call.xml"),
					Target:    peer.Addr(),
					Transport: transport,
					Service:   "alice",
					Auth:      Auth{Password: "pw"},
					Vars:      map[string]string{"callee": "bob"},
					Timeout:   10 * time.Second,
				}.Run(t)
				requireOK(t, "uac_call", res)
				requireOK(t, "fake proxy", peer.Wait(5*time.Second))
				wantCSeq := map[string]string{"INVITE": "1", "ACK": "1", "BYE": "2"}
				if challenge == "1" {
					wantCSeq = map[string]string{"INVITE": "2", "ACK": "2", "BYE": "3"} // last INVITE/ACK
				}
				for _, m := range res.Trace() {
					if !m.Sent {
						continue
					}
					method, _, _ := strings.Cut(m.FirstLine(), " ")
					_, _, h := m.Status()
					wantCSeq[method+"-seen"] = h["cseq"][0]
				}
				for _, method := range []string{"INVITE", "ACK", "BYE"} {
					if got := wantCSeq[method+"-seen"]; got != wantCSeq[method]+" "+method {
						t.Errorf("last %s CSeq = %q, want %q", method, got, wantCSeq[method]+" "+method)
					}
				}
			})
		}
	})
}

// uac_expect_NNN.xml against a fake proxy answering NNN (and optionally
// challenging first): the fake checks that both ACKs reuse the INVITE's
// branch ([branch-N]) and carry the To-tag.
func TestSIPpUACExpectScenarios(t *testing.T) {
	CheckGoroutines(t)
	cases := []struct {
		scenario, code, reason, extra string
		wantOK                        bool
	}{
		{"uac_expect_404.xml", "404", "Not Found", "X-Fake: 1", true},
		{"uac_expect_480.xml", "480", "Temporarily Unavailable", "X-Fake: 1", true},
		{"uac_expect_483.xml", "483", "Too Many Hops", "X-Fake: 1", true},
		{"uac_expect_486.xml", "486", "Busy Here", "X-Fake: 1", true},
		{"uac_expect_600.xml", "600", "Busy Everywhere", "X-Fake: 1", true},
		{"uac_expect_603.xml", "603", "Decline", "X-Fake: 1", true},
		{"uac_expect_420.xml", "420", "Bad Extension", "Unsupported: foo", true},
		{"uac_expect_420.xml", "420", "Bad Extension", "Unsupported: bar, foo", true},
		{"uac_expect_420.xml", "420", "Bad Extension", "X-Fake: 1", false},           // no Unsupported
		{"uac_expect_420.xml", "420", "Bad Extension", "Unsupported: foobar", false}, // not "foo"
		{"uac_expect_404.xml", "486", "Busy Here", "X-Fake: 1", false},               // wrong code
	}
	RunWithTransports(t, func(t *testing.T, transport string) {
		for _, c := range cases {
			for _, challenge := range []string{"0", "1"} {
				if challenge == "1" && (!c.wantOK || c.code != "404" && c.code != "420") {
					continue // the auth path is the same in every file: check two
				}
				name := fmt.Sprintf("%s/%s/challenge=%s/%s", strings.TrimSuffix(c.scenario, ".xml"), c.code, challenge, strings.Fields(c.extra)[0]+strings.Join(strings.Fields(c.extra)[1:], ""))
				t.Run(name, func(t *testing.T) {
					peer := startFake(t, "fake_uas_final.xml.tmpl", transport, 1, map[string]string{
						"code": c.code, "reason": c.reason, "extra": c.extra, "challenge": challenge,
					})
					res := SIPp{
						Scenario:    Scenario(t, c.scenario),
						Target:      peer.Addr(),
						Transport:   transport,
						Service:     "alice",
						Auth:        Auth{Password: "pw"},
						Vars:        map[string]string{"callee": "bob"},
						RecvTimeout: 3 * time.Second,
						Timeout:     10 * time.Second,
					}.Run(t)
					if !c.wantOK {
						requireFailedCall(t, c.scenario, res)
						peer.Stop()
						return
					}
					requireOK(t, c.scenario, res)
					requireOK(t, "fake proxy", peer.Wait(5*time.Second))
					inv := res.Trace()[0].Text
					if c.code == "483" && !strings.Contains(inv, "Max-Forwards: 0\r\n") {
						t.Errorf("483 INVITE:\n%s", inv)
					}
					if c.code == "420" && !strings.Contains(inv, "Proxy-Require: foo\r\n") {
						t.Errorf("420 INVITE:\n%s", inv)
					}
				})
			}
		}
	})
}

func TestSIPpNonInviteScenarios(t *testing.T) {
	CheckGoroutines(t)
	cases := []struct {
		scenario, code, reason, extra string
		wantOK                        bool
	}{
		{"options_server.xml", "200", "OK", "Allow: INVITE, ACK, OPTIONS", true},
		{"options_server.xml", "404", "Not Found", "X-Fake: 1", false},
		{"uac_expect_405.xml", "405", "Method Not Allowed", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER", true},
		{"uac_expect_405.xml", "405", "Method Not Allowed", "X-Fake: 1", false},                // no Allow
		{"uac_expect_405.xml", "405", "Method Not Allowed", "Allow: INVITE, PUBLISH", false},   // lists PUBLISH
		{"uac_expect_405.xml", "501", "Not Implemented", "Allow: INVITE, ACK, OPTIONS", false}, // wrong code
	}
	RunWithTransports(t, func(t *testing.T, transport string) {
		for _, c := range cases {
			t.Run(strings.TrimSuffix(c.scenario, ".xml")+"/"+c.code+"/"+strings.ReplaceAll(c.extra, " ", ""), func(t *testing.T) {
				peer := startFake(t, "fake_uas_nonInvite.xml.tmpl", transport, 1, map[string]string{"code": c.code, "reason": c.reason, "extra": c.extra})
				res := SIPp{
					Scenario:    Scenario(t, c.scenario),
					Target:      peer.Addr(),
					Transport:   transport,
					RecvTimeout: 3 * time.Second,
					Timeout:     10 * time.Second,
				}.Run(t)
				if c.wantOK {
					requireOK(t, c.scenario, res)
				} else {
					requireFailedCall(t, c.scenario, res)
				}
				peer.Stop()
			})
		}
	})
}

// Static checks of every scenario file: well-formed XML, a top comment
// describing it, every [$var] used is declared in <Global variables>, and
// every declared global is used (SIPp refuses variables referenced once).
func TestScenarioFilesStatic(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(ScenarioDir(t), "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	fakes, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	tmpls, _ := filepath.Glob(filepath.Join("testdata", "*.xml.tmpl"))
	for _, tm := range tmpls {
		fakes = append(fakes, instantiate(t, tm, "200"))
	}
	varRe := regexp.MustCompile(`\[\$([A-Za-z0-9_]+)\]`)
	for _, f := range append(files, fakes...) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(strings.NewReader(string(data)))
			dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
			var globals []string
			assigned := map[string]bool{}
			sawComment := false
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed: %v", err)
				}
				switch tok := tok.(type) {
				case xml.Comment:
					if !sawComment && len(strings.TrimSpace(string(tok))) > 40 {
						sawComment = true
					}
				case xml.StartElement:
					if tok.Name.Local == "scenario" && !sawComment {
						t.Errorf("no descriptive comment before <scenario>")
					}
					if tok.Name.Local == "Global" {
						for _, a := range tok.Attr {
							if a.Name.Local == "variables" {
								globals = append(globals, strings.Split(a.Value, ",")...)
							}
						}
					}
					// A call variable set by an action (ereg, assign, ...) needs no
					// declaration: SIPp creates it for the call.
					for _, a := range tok.Attr {
						if a.Name.Local == "assign_to" && tok.Name.Local != "Global" {
							for _, v := range strings.Split(a.Value, ",") {
								assigned[strings.TrimSpace(v)] = true
							}
						}
					}
				}
			}
			declared := map[string]bool{}
			for _, g := range globals {
				declared[strings.TrimSpace(g)] = true
			}
			used := map[string]bool{}
			code := regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(string(data), "")
			for _, m := range varRe.FindAllStringSubmatch(code, -1) {
				used[m[1]] = true
				if !declared[m[1]] && !assigned[m[1]] {
					t.Errorf("[$%s] used but not declared in <Global variables>", m[1])
				}
			}
			for g := range declared {
				if !used[g] && !strings.Contains(code, `"`+g+`"`) {
					t.Errorf("global %q declared but never used", g)
				}
			}
			if strings.Contains(f, "e2e") {
				body := string(data)
				if strings.Contains(body, "<send") && !strings.Contains(body, "Content-Length:") {
					t.Errorf("no Content-Length")
				}
				if strings.Count(body, "SIP/2.0/[transport]") < strings.Count(body, "\n      Via:") {
					t.Errorf("a Via does not use [transport]")
				}
			}
		})
	}
}

// readSIP reads one SIP message (headers + Content-Length body) from r.
func readSIP(r *bufio.Reader) ([]byte, error) {
	var msg bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if msg.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keep-alive
		}
		msg.WriteString(line)
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	_, _, h := ParseStatus(msg.Bytes())
	if cl := h["content-length"]; len(cl) > 0 {
		n, _ := strconv.Atoi(strings.TrimSpace(cl[0]))
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		msg.Write(body)
	}
	return msg.Bytes(), nil
}

// A stateful proxy over TCP typically sends the INVITE to a registered
// contact over the connection the REGISTER came in on (its source address
// is the Contact address, since SIPp binds its client socket to -p). This
// Go fake plays registrar + proxy on one connection and checks the
// out-of-call answering works on it, and that Record-Route is copied.
func TestSIPpCalleeOverRegistrationConnection(t *testing.T) {
	CheckGoroutines(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	proxy := ln.Addr().String()

	callee := SIPp{
		Scenario:    Scenario(t, "uas_register_then_answer.xml"),
		OOCScenario: Scenario(t, "uas_answer.xml"),
		Target:      proxy,
		Transport:   "tcp",
		Service:     "bob",
		Auth:        Auth{Password: "secret"},
		Vars:        map[string]string{"domain": "example.com"},
		Timeout:     15 * time.Second,
	}.Start(t)

	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("no connection from the callee: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	read := func(what string) (int, map[string][]string, []byte) {
		t.Helper()
		m, err := readSIP(r)
		if err != nil {
			t.Fatalf("reading %s: %v\ncallee trace:\n%s", what, err, callee.Messages())
		}
		c, _, h := ParseStatus(m)
		return c, h, m
	}
	reply := func(status string, h map[string][]string, extra ...string) {
		t.Helper()
		var b strings.Builder
		b.WriteString("SIP/2.0 " + status + "\r\n")
		for _, v := range h["via"] {
			b.WriteString("Via: " + v + "\r\n")
		}
		fmt.Fprintf(&b, "From: %s\r\nTo: %s;tag=reg1\r\nCall-ID: %s\r\nCSeq: %s\r\n", h["from"][0], h["to"][0], h["call-id"][0], h["cseq"][0])
		for _, e := range extra {
			b.WriteString(e + "\r\n")
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
	}

	// REGISTER -> 401 -> REGISTER with credentials -> 200.
	_, h, m := read("REGISTER")
	if !bytes.HasPrefix(m, []byte("REGISTER sip:example.com SIP/2.0")) {
		t.Fatalf("want a REGISTER, got:\n%s", m)
	}
	reply("401 Unauthorized", h, `WWW-Authenticate: Digest realm="example.com", nonce="abc123", algorithm=MD5`)
	_, h, m = read("REGISTER with credentials")
	if len(h["authorization"]) == 0 {
		t.Fatalf("no Authorization:\n%s", m)
	}
	contact := h["contact"][0]
	reply("200 OK", h, "Contact: "+contact+";expires=3600")

	// INVITE to the contact over the same connection.
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	target := strings.Trim(contact, "<>")
	rr := "Record-Route: <sip:" + proxy + ";transport=tcp;lr>"
	invite := "INVITE " + target + " SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP " + proxy + ";branch=z9hG4bKproxy1\r\n" +
		rr + "\r\n" +
		"Max-Forwards: 69\r\n" +
		"From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: proxy-call-1\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:alice@" + proxy + ";transport=tcp>\r\n" +
		"Content-Type: application/sdp\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(sdp)) + sdp
	if _, err := conn.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	code, h, m := read("180")
	if code != 180 {
		t.Fatalf("want 180:\n%s", m)
	}
	code, h, m = read("200")
	if code != 200 || len(h["record-route"]) != 1 || "Record-Route: "+h["record-route"][0] != rr ||
		!strings.Contains(h["to"][0], ";tag=") || h["call-id"][0] != "proxy-call-1" || !bytes.Contains(m, []byte("\r\n\r\nv=0")) {
		t.Fatalf("bad 200 OK:\n%s", m)
	}
	to := h["to"][0]
	inDialog := func(method, branch, cseq string) string {
		return method + " " + target + " SIP/2.0\r\n" +
			"Via: SIP/2.0/TCP " + proxy + ";branch=" + branch + "\r\n" +
			"Max-Forwards: 69\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: " + to + "\r\n" +
			"Call-ID: proxy-call-1\r\nCSeq: " + cseq + " " + method + "\r\nContent-Length: 0\r\n\r\n"
	}
	if _, err := conn.Write([]byte(inDialog("ACK", "z9hG4bKproxy2", "1") + inDialog("BYE", "z9hG4bKproxy3", "2"))); err != nil {
		t.Fatal(err)
	}
	code, h, m = read("200 for BYE")
	if code != 200 || h["cseq"][0] != "2 BYE" {
		t.Fatalf("want 200 to BYE:\n%s", m)
	}
	requireOK(t, "callee", callee.Wait(10*time.Second))
}
