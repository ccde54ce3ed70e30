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
