package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/ua"
)

// uaSIPpCallee starts a SIPp callee for the phone to call directly (no proxy between them).
func uaSIPpCallee(t *testing.T, transport, scenario string, vars map[string]string) *siptest.Process {
	t.Helper()
	siptest.RequireTool(t, "sipp")
	return siptest.SIPp{
		Scenario:  siptest.Scenario(t, scenario),
		Transport: transport,
		Service:   "bob",
		Vars:      vars,
		Timeout:   30 * time.Second,
	}.Start(t)
}

// uaCallSIPp calls the SIPp callee p from a new phone of alice (with alice's password) and
// returns the result; the phone is not registered and has no outbound proxy.
func uaCallSIPp(t *testing.T, transport string, p *siptest.Process, o ua.CallOptions) *ua.CallResult {
	t.Helper()
	alice, _ := uaNewPhone(t, "alice", "", transport)
	target, err := ua.ParseTarget("sip:bob@"+p.Addr(), "")
	if err != nil {
		t.Fatal(err)
	}
	o.Target = target
	if o.Duration == 0 {
		o.Duration = 200 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	res := alice.Call(ctx, o)
	var b strings.Builder
	_ = ua.WriteLadder(&b, res.Events)
	t.Logf("ladder:\n%s\noutcome %s (exit %d): %s", b.String(), res.Outcome, res.Exit, res.Text)
	return res
}

// uaSIPpReceived lists the first lines of what SIPp received.
func uaSIPpReceived(res siptest.Result) []string {
	var out []string
	for _, m := range res.Trace() {
		if !m.Sent {
			out = append(out, m.FirstLine())
		}
	}
	return out
}

func uaCountPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func uaRequireOutcome(t *testing.T, res *ua.CallResult, outcome string, exit, code int) {
	t.Helper()
	if res.Outcome != outcome || res.Exit != exit || res.Code != code {
		t.Fatalf("outcome %s, exit %d, code %d; want %s, exit %d, code %d: %s", res.Outcome, res.Exit, res.Code, outcome, exit, code, res.Text)
	}
}

// TestUACodesAgainstSIPp: the phone acts on each final answer of a SIPp callee as RFC 3261
// says (8.1.3, 9.1, 13.2.2, 22.2).
//
// The SIPp callees send their 180 and their final response back to back. sipgo handles
// each incoming message on its own goroutine, so the final response can overtake the 180,
// which its transaction then drops: the flows below do not require the 180.
func TestUACodesAgainstSIPp(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		t.Run("401 then credentials", func(t *testing.T) {
			p := uaSIPpCallee(t, transport, "uas_401.xml", map[string]string{"user": "alice", "password": passwords["alice"]})
			res := uaCallSIPp(t, transport, p, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 401", "→ ACK", "→ INVITE", "← 200", "→ ACK", "→ BYE", "← 200 BYE")
			sr := p.Wait(10 * time.Second)
			sr.RequireOK(t)
			var invites []siptest.TracedMessage
			for _, m := range sr.Trace() {
				if !m.Sent && strings.HasPrefix(m.FirstLine(), "INVITE") {
					invites = append(invites, m)
				}
			}
			if len(invites) != 2 || strings.Contains(invites[0].Text, "Authorization:") || !strings.Contains(invites[1].Text, "Authorization: Digest") {
				t.Fatalf("want an INVITE without and a retried one with Authorization; SIPp got:\n%s", sr.Messages)
			}
			// The retry is a new transaction: next CSeq, new branch (RFC 3261 8.1.3.5).
			_, _, h0 := invites[0].Status()
			_, _, h1 := invites[1].Status()
			if h0["cseq"][0] == h1["cseq"][0] || h0["via"][0] == h1["via"][0] {
				t.Fatalf("the retried INVITE reuses CSeq or Via: %q %q / %q %q", h0["cseq"], h0["via"], h1["cseq"], h1["via"])
			}
		})
		t.Run("401 twice is a wrong password", func(t *testing.T) {
			p := uaSIPpCallee(t, transport, "uas_401.xml", map[string]string{"user": "alice", "password": "not-the-password"})
			res := uaCallSIPp(t, transport, p, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeClient, ua.Exit4xx, 401)
			if !strings.Contains(res.Text, "wrong password or user") {
				t.Fatalf("the outcome does not say why: %s", res.Text)
			}
			sr := p.Wait(10 * time.Second)
			sr.RequireOK(t)
			if n := uaCountPrefix(uaSIPpReceived(sr), "INVITE"); n != 2 {
				t.Fatalf("SIPp got %d INVITEs, want 2 (no loop on a refused password)", n)
			}
		})
		t.Run("302 to a second callee", func(t *testing.T) {
			b := uaSIPpCallee(t, transport, "uas_answer.xml", nil)
			a := uaSIPpCallee(t, transport, "uas_302.xml", map[string]string{"contact": "<sip:bob@" + b.Addr() + ">"})
			res := uaCallSIPp(t, transport, a, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 302", "→ ACK", "→ INVITE", "← 200", "→ ACK", "→ BYE")
			a.Wait(10 * time.Second).RequireOK(t)
			br := b.Wait(10 * time.Second)
			br.RequireOK(t)
			if got := uaSIPpReceived(br); len(got) == 0 || got[0] != "INVITE sip:bob@"+b.Addr()+" SIP/2.0" {
				t.Fatalf("the redirected INVITE should go to the Contact of the 302; the second callee got %q", got)
			}
		})
		t.Run("302 contacts in q order", func(t *testing.T) {
			busy := uaSIPpCallee(t, transport, "uas_reject.xml", map[string]string{"code": "486"})
			answers := uaSIPpCallee(t, transport, "uas_answer.xml", nil)
			contact := fmt.Sprintf("<sip:bob@%s>;q=0.5, <sip:bob@%s>;q=0.9", answers.Addr(), busy.Addr())
			a := uaSIPpCallee(t, transport, "uas_302.xml", map[string]string{"contact": contact})
			res := uaCallSIPp(t, transport, a, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 302", "→ INVITE", "← 486", "→ ACK", "→ INVITE", "← 200", "→ ACK", "→ BYE")
			var peers []string
			for _, e := range res.Events {
				if e.Type == ua.EventSent && e.Method == "INVITE" {
					peers = append(peers, e.Peer)
				}
			}
			if len(peers) != 3 || peers[1] != busy.Addr() || peers[2] != answers.Addr() {
				t.Fatalf("INVITEs went to %q; want the q=0.9 contact (%s) before the q=0.5 one (%s)", peers, busy.Addr(), answers.Addr())
			}
			busy.Wait(10 * time.Second).RequireOK(t)
			answers.Wait(10 * time.Second).RequireOK(t)
		})
		t.Run("302 loop", func(t *testing.T) {
			// The redirect names the redirecting SIPp itself: the target already tried.
			port := siptest.FreePort(t)
			self := siptest.SIPp{Scenario: siptest.Scenario(t, "uas_302.xml"), Transport: transport, Service: "bob",
				LocalPort: port, Vars: map[string]string{"contact": fmt.Sprintf("<sip:bob@127.0.0.1:%d>", port)}, Timeout: 30 * time.Second}.Start(t)
			res := uaCallSIPp(t, transport, self, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeRedirected, ua.Exit3xx, 302)
			if !strings.Contains(res.Text, "redirect loop") {
				t.Fatalf("the outcome does not name the loop: %s", res.Text)
			}
			if n := uaCountFlow(uaFlow(res.Events), "→ INVITE"); n != 1 {
				t.Fatalf("%d INVITEs sent, want 1", n)
			}
			self.Wait(10 * time.Second).RequireOK(t)
		})
		t.Run("503 Retry-After 1", func(t *testing.T) {
			p := uaSIPpCallee(t, transport, "uas_503_retry_after.xml", map[string]string{"retry": "1"})
			res := uaCallSIPp(t, transport, p, ua.CallOptions{})
			uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 503", "→ ACK", "→ INVITE", "← 200", "→ ACK", "→ BYE")
			var got503, retry time.Time
			for _, e := range res.Events {
				if e.Type == ua.EventReceived && e.Code == 503 {
					got503 = e.Time
				}
				if e.Type == ua.EventSent && e.Method == "INVITE" && !got503.IsZero() && retry.IsZero() {
					retry = e.Time
				}
			}
			if d := retry.Sub(got503); d < time.Second || d > 3*time.Second {
				t.Fatalf("the INVITE was retried %v after the 503, want about 1 s (Retry-After: 1)", d)
			}
			p.Wait(10 * time.Second).RequireOK(t)
		})
		t.Run("503 Retry-After too long", func(t *testing.T) {
			p := uaSIPpCallee(t, transport, "uas_503_retry_after.xml", map[string]string{"retry": "30"})
			res := uaCallSIPp(t, transport, p, ua.CallOptions{MaxRetryAfter: 10 * time.Second})
			uaRequireOutcome(t, res, ua.OutcomeServer, ua.Exit5xx, 503)
			if !strings.Contains(res.Text, "longer than the limit") {
				t.Fatalf("the outcome does not say why it did not wait: %s", res.Text)
			}
			sr := p.Stop()
			if n := uaCountPrefix(uaSIPpReceived(sr), "INVITE"); n != 1 {
				t.Fatalf("SIPp got %d INVITEs, want 1", n)
			}
		})
		for _, c := range []struct {
			code    string
			outcome string
			exit    int
		}{{"486", ua.OutcomeClient, ua.Exit4xx}, {"603", ua.OutcomeGlobal, ua.Exit6xx}} {
			t.Run(c.code, func(t *testing.T) {
				p := uaSIPpCallee(t, transport, "uas_reject.xml", map[string]string{"code": c.code})
				res := uaCallSIPp(t, transport, p, ua.CallOptions{})
				code := 0
				fmt.Sscan(c.code, &code)
				uaRequireOutcome(t, res, c.outcome, c.exit, code)
				uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← "+c.code, "→ ACK")
				// SIPp ends its scenario only on the ACK.
				p.Wait(10 * time.Second).RequireOK(t)
			})
		}
		t.Run("never answers", func(t *testing.T) {
			p := uaSIPpCallee(t, transport, "uas_never.xml", nil)
			res := uaCallSIPp(t, transport, p, ua.CallOptions{RingTimeout: time.Second})
			uaRequireOutcome(t, res, ua.OutcomeTimeout, ua.ExitTimeout, 487)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "→ CANCEL", "← 487", "→ ACK")
			uaRequireFlow(t, uaFlow(res.Events), "→ CANCEL", "← 200 CANCEL")
			sr := p.Wait(10 * time.Second)
			sr.RequireOK(t)
			if n := uaCountPrefix(uaSIPpReceived(sr), "CANCEL"); n < 1 {
				t.Fatalf("SIPp got no CANCEL:\n%s", sr.Messages)
			}
		})
	})
}
