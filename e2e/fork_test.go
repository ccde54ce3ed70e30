package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/siptest"
)

// phone registers user from a fresh port (register_auth.xml) and then runs answer on that
// port: several phones of one user, as the registrar sees them.
func phone(t *testing.T, srv *testServer, transport, user, answer string, vars map[string]string) *siptest.Process {
	t.Helper()
	reg := sipp(t, srv, transport, "register_auth.xml", user, nil)
	reg.LocalPort = siptest.FreePort(t)
	reg.Run(t).RequireOK(t)
	p := sipp(t, srv, transport, answer, user, nil)
	p.Vars, p.Target, p.Auth = vars, "", siptest.Auth{}
	p.LocalPort = reg.LocalPort
	p.Timeout = 30 * time.Second
	return p.Start(t)
}

// cancelVars are uac_cancel.xml's variables for a call to callee.
func cancelVars(callee, ring string) map[string]string {
	return map[string]string{"callee": callee, "from_domain": "caller.example", "ring": ring}
}

func gotRequest(t *testing.T, p *siptest.Process, method string) bool {
	t.Helper()
	for _, m := range siptest.ParseMessageLog(p.Messages()) {
		if !m.Sent && strings.HasPrefix(m.FirstLine(), method+" ") {
			return true
		}
	}
	return false
}

// TestForkFirst2xxWins: bob has a phone that answers and one that rings forever; the call
// is answered, and siplens CANCELs the ringing phone (RFC 3261 16.7 step 5).
func TestForkFirst2xxWins(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		ringing := phone(t, srv, transport, "bob", "uas_ring_until_cancel.xml", nil)
		phone(t, srv, transport, "bob", "uas_answer.xml", nil)
		sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "200"}).Run(t).RequireOK(t)
		if res := ringing.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the other phone was not cancelled properly:\n%s", res.Details())
		}
	})
}

// TestFork603EndsSearch: one phone declines while the other rings: the 603 ends the search,
// the ringing phone is cancelled, and the caller gets the 603 (16.7 step 5).
func TestFork603EndsSearch(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		ringing := phone(t, srv, transport, "bob", "uas_ring_until_cancel.xml", nil)
		phone(t, srv, transport, "bob", "uas_reject.xml", map[string]string{"code": "603"})
		sipp(t, srv, transport, "uac_expect_603.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		if res := ringing.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the ringing phone was not cancelled after the 603:\n%s", res.Details())
		}
	})
}

// TestForkBestResponse: two phones answer 486 and 480; the caller gets the lowest code of
// the lowest class... both 4xx: siplens relays one of them, never a mix.
func TestForkBestResponse(t *testing.T) {
	srv := startServer(t, "", nil)
	phone(t, srv, "udp", "bob", "uas_reject.xml", map[string]string{"code": "486"})
	phone(t, srv, "udp", "bob", "uas_reject.xml", map[string]string{"code": "500"})
	// 486 (4xx) beats 500 (5xx): the lowest class wins (16.7 step 6).
	sipp(t, srv, "udp", "uac_expect_486.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
}

// TestTimerC: with a 1 s no-answer time, siplens CANCELs the ringing phone and the caller
// gets 408 (RFC 3261 16.8).
func TestTimerC(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", func(c *config.Config) { c.Proxy.NoAnswerTimeout = config.Duration{Duration: time.Second} })
		ringing := phone(t, srv, transport, "bob", "uas_ring_until_cancel.xml", nil)
		start := time.Now()
		sipp(t, srv, transport, "uac_expect_408.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		if took := time.Since(start); took < time.Second || took > 5*time.Second {
			t.Errorf("the 408 came after %s; Timer C is 1 s", took)
		}
		if res := ringing.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the phone was not cancelled by Timer C:\n%s", res.Details())
		}
		if !srv.logHas("code=408", "Timer C") {
			t.Fatal("the log does not name Timer C")
		}
	})
}

// TestCallerCancel: the caller CANCELs while the phone rings: the caller gets 200 and 487,
// and siplens CANCELs the phone (16.10).
func TestCallerCancel(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		ringing := phone(t, srv, transport, "bob", "uas_ring_until_cancel.xml", nil)
		sipp(t, srv, transport, "uac_cancel.xml", "alice", cancelVars("bob", "300")).Run(t).RequireOK(t)
		if res := ringing.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the phone was not cancelled:\n%s", res.Details())
		}
		if !gotRequest(t, ringing, "CANCEL") {
			t.Fatal("no CANCEL reached the phone")
		}
	})
}

// TestAnswerCrossesCancel: the caller's CANCEL crosses the phone's 200 OK. sipgo has
// already answered 487 upstream, but RFC 3261 16.7 step 10 still requires the 200 to reach
// the caller, who then ACKs and hangs up; siplens relays it statelessly, and the ACK and
// BYE follow the Record-Route to the phone.
func TestAnswerCrossesCancel(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		answering := phone(t, srv, transport, "bob", "uas_answer_despite_cancel.xml", nil)
		sipp(t, srv, transport, "uac_cancel_answered.xml", "alice", cancelVars("bob", "100")).Run(t).RequireOK(t)
		if res := answering.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("the phone did not get ACK and BYE for its 200:\n%s", res.Details())
		}
	})
}

// TestSequentialForking: bob's desk phone (q=1) rings first and does not answer; after the
// 1 s group time siplens cancels it and rings his mobile (q=0.5), which answers.
func TestSequentialForking(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", func(c *config.Config) {
			c.Proxy.Forking = "sequential"
			c.Proxy.NoAnswerTimeout = config.Duration{Duration: time.Second}
			c.Auth.Trusted = []string{"127.0.0.1"}
		})
		start := func(answer string, q string) *siptest.Process {
			port := siptest.FreePort(t)
			registerRaw(t, srv, transport, "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(port)+";transport="+transport+">;q="+q)
			p := sipp(t, srv, transport, answer, "bob", nil)
			p.Vars, p.Target, p.Auth, p.LocalPort = nil, "", siptest.Auth{}, port
			return p.Start(t)
		}
		desk := start("uas_ring_until_cancel.xml", "1.0")
		mobile := start("uas_answer.xml", "0.5")
		began := time.Now()
		sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		if took := time.Since(began); took < time.Second {
			t.Errorf("answered after %s: the mobile rang before the desk phone's turn was over", took)
		}
		for name, p := range map[string]*siptest.Process{"desk": desk, "mobile": mobile} {
			if res := p.Wait(10 * time.Second); !res.OK() {
				t.Fatalf("%s phone:\n%s", name, res.Details())
			}
		}
	})
}
