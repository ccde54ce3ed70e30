package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/siptest"
)

// withUser applies call-handling settings to one of the test users.
func withUser(name string, edit func(u *config.User)) func(*config.Config) {
	return func(c *config.Config) {
		for i := range c.Users {
			if c.Users[i].User == name {
				edit(&c.Users[i])
			}
		}
	}
}

// TestDoNotDisturb: a user with do-not-disturb gets the configured code without any
// phone ringing, and the log names the setting.
func TestDoNotDisturb(t *testing.T) {
	for _, code := range []int{480, 486, 603} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			siptest.RunWithTransports(t, func(t *testing.T, transport string) {
				srv := startServer(t, "", withUser("bob", func(u *config.User) { u.DND = code }))
				sipp(t, srv, transport, "uac_expect_"+strconv.Itoa(code)+".xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
				if !srv.logHas("method=INVITE", "code="+strconv.Itoa(code), "by=locate", "do-not-disturb") {
					t.Fatal("the log does not show the do-not-disturb answer")
				}
			})
		})
	}
}

// TestForwarding: redirect mode answers 302 with the target as Contact; proxy mode rings
// the target's phone instead.
func TestForwarding(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		t.Run("redirect", func(t *testing.T) {
			srv := startServer(t, "", withUser("bob", func(u *config.User) { u.ForwardTo = "sip:carol@localhost" }))
			res := sipp(t, srv, transport, "uac_expect_302.xml", "alice", map[string]string{"callee": "bob"}).Run(t)
			res.RequireOK(t)
			moved := received(t, res.Trace(), "SIP/2.0 302")
			if !strings.Contains(moved.Text, "Contact: <sip:carol@localhost>") {
				t.Fatalf("the 302 does not name the forwarding target:\n%s", moved.Text)
			}
		})
		t.Run("proxy", func(t *testing.T) {
			srv := startServer(t, "", withUser("bob", func(u *config.User) {
				u.ForwardTo, u.ForwardMode = "sip:carol@localhost", "proxy"
			}))
			carol := callee(t, srv, transport, "carol", "uas_answer.xml", nil)
			sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
			carol.WaitForMessage(t, 5*time.Second, "the call at carol's phone", func(m siptest.TracedMessage) bool {
				return !m.Sent && strings.HasPrefix(m.FirstLine(), "INVITE")
			})
		})
	})
}

// TestMaxCalls: with max_calls 1, a second call while the first is up gets 486.
func TestMaxCalls(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", withUser("bob", func(u *config.User) { u.MaxCalls = 1 }))
		callee(t, srv, transport, "bob", "uas_answer.xml", nil)
		first := sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "3000"}).Start(t)
		first.WaitForResponse(t, 200, "INVITE", 5*time.Second)
		sipp(t, srv, transport, "uac_expect_486.xml", "dave", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		if !srv.logHas("code=486", "by=locate", "already in 1 calls") {
			t.Fatal("the log does not show the call limit")
		}
		if res := first.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the first call:\n%s", res.Details())
		}
	})
}

// TestCodecPolicy: SIPp offers PCMU only; with a policy that allows only G722 the call is
// refused before any phone rings: 488, or 606 when the policy is global.
func TestCodecPolicy(t *testing.T) {
	for _, global := range []bool{false, true} {
		code := map[bool]string{false: "488", true: "606"}[global]
		t.Run(code, func(t *testing.T) {
			siptest.RunWithTransports(t, func(t *testing.T, transport string) {
				srv := startServer(t, "", func(c *config.Config) { c.Media.Codecs, c.Media.Global = []string{"G722"}, global })
				bob := callee(t, srv, transport, "bob", "uas_answer.xml", nil)
				res := sipp(t, srv, transport, "uac_expect_"+code+".xml", "alice", map[string]string{"callee": "bob"}).Run(t)
				res.RequireOK(t)
				refused := received(t, res.Trace(), "SIP/2.0 "+code)
				if !strings.Contains(refused.Text, "Warning: 305") {
					t.Errorf("no Warning 305 in:\n%s", refused.Text)
				}
				for _, m := range siptest.ParseMessageLog(bob.Messages()) {
					if !m.Sent && strings.HasPrefix(m.FirstLine(), "INVITE") {
						t.Fatal("bob's phone rang although the offer could only fail")
					}
				}
				if !srv.logHas("code="+code, "by=media", "PCMU") {
					t.Fatal("the log does not say which codecs were offered")
				}
			})
		})
	}
}

func optionsFrom(ua string) []byte {
	msg := "OPTIONS sip:127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:alice@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 OPTIONS\nMax-Forwards: 70\n"
	if ua != "" {
		msg += "User-Agent: " + ua + "\n"
	}
	return crlf(msg + "Content-Length: 0\n\n")
}

// TestACL: a denied source gets 403 naming the rule; a scanner's User-Agent gets nothing.
func TestACL(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		srv := startServer(t, "", func(c *config.Config) { c.ACL.Deny = []string{"127.0.0.1"} })
		code, reason, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, optionsFrom(""), 300*time.Millisecond))
		if code != 403 || !srv.logHas("code=403", "by=acl", "127.0.0.1/32") {
			t.Fatalf("denied source: %d %s, want 403 with the rule logged", code, reason)
		}
	})
	t.Run("drop scanners", func(t *testing.T) {
		srv := startServer(t, "", func(c *config.Config) { c.ACL.DropUserAgents = []string{"friendly-scanner"} })
		if got := siptest.SendUDP(t, srv.Addr, optionsFrom("friendly-scanner"), 300*time.Millisecond); len(got) != 0 {
			t.Fatalf("a scanner got %d answers, want none", len(got))
		}
		if got := siptest.SendUDP(t, srv.Addr, optionsFrom("Yealink SIP-T46S"), 300*time.Millisecond); len(got) == 0 {
			t.Fatal("a phone got no answer")
		}
	})
}

// TestRateLimit: past its burst, a source gets 503 with Retry-After, and the others do not.
func TestRateLimit(t *testing.T) {
	srv := startServer(t, "", func(c *config.Config) {
		c.RateLimit.PerSource, c.RateLimit.PerSourceBurst, c.RateLimit.RetryAfter = 0.5, 2, 9
	})
	// Every request comes from 127.0.0.1: one source, one bucket (rate 0.5/s, burst 2).
	var codes []int
	for i := 0; i < 4; i++ {
		code, _, h := finalOf(t, siptest.SendUDP(t, srv.Addr, optionsFrom(""), 200*time.Millisecond))
		codes = append(codes, code)
		if code == 503 && (len(h["retry-after"]) != 1 || h["retry-after"][0] != "9") {
			t.Fatalf("503 without Retry-After: 9: %v", h)
		}
	}
	if codes[0] != 200 || codes[3] != 503 {
		t.Fatalf("codes %v: want the first answered and the fourth refused with 503", codes)
	}
}
