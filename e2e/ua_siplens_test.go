package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/ua"
)

// TestUAThroughSiplens: the phone of package ua registers with siplens, calls another ua
// phone through it, and the callee answers as told: 200, 486, 603, no answer.
func TestUAThroughSiplens(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		bob, _ := uaNewPhone(t, "bob", srv.Addr, transport)
		reg := uaRegister(t, bob)
		if reg.Expires <= 0 || len(reg.Bindings) != 1 || !reg.Bindings[0].Mine {
			t.Fatalf("bindings after REGISTER: %+v (expires %d)", reg.Bindings, reg.Expires)
		}
		script, err := ua.ParseScript(uaStringsReader(`
call 2   then=486
call 3   ring=100ms then=603
call 4   then=noanswer
call 5   then=noanswer
call 6   ring=300ms early=yes then=200
`), "test")
		if err != nil {
			t.Fatal(err)
		}
		calls := uaAnswering(t, bob, ua.Behaviour{Ring: 200 * time.Millisecond, Final: 200}, script)
		alice, _ := uaNewPhone(t, "alice", srv.Addr, transport)
		target, _ := ua.ParseTarget("bob@localhost", "")
		ctx := context.Background()

		t.Run("answered", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, Duration: 300 * time.Millisecond, RingTimeout: 10 * time.Second})
			if res.Outcome != ua.OutcomeAnswered || res.Exit != 0 || res.Code != 200 {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "← 200", "→ ACK", "→ BYE", "← 200 BYE")
			in := uaNextCall(t, calls, 5*time.Second)
			if in.Outcome != ua.InAnswered {
				t.Fatalf("callee: %s: %s", in.Outcome, in.Text)
			}
			uaRequireFlow(t, uaFlow(in.Events), "← INVITE", "→ 180", "→ 200", "← ACK", "← BYE", "→ 200 BYE")
			if !srv.logHas("method=INVITE", "code=200") {
				t.Fatal("siplens did not log the answered INVITE")
			}
		})
		t.Run("486", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, RingTimeout: 10 * time.Second})
			if res.Outcome != ua.OutcomeClient || res.Exit != ua.Exit4xx || res.Code != 486 {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 486", "→ ACK")
			uaNextCall(t, calls, 5*time.Second)
		})
		t.Run("603", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, RingTimeout: 10 * time.Second})
			if res.Outcome != ua.OutcomeGlobal || res.Exit != ua.Exit6xx || res.Code != 603 {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			uaNextCall(t, calls, 5*time.Second)
		})
		t.Run("ring timeout", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, RingTimeout: 500 * time.Millisecond})
			if res.Outcome != ua.OutcomeTimeout || res.Exit != ua.ExitTimeout || res.Code != 487 {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			// The 200 to the CANCEL and the 487 may be seen in either order.
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "→ CANCEL", "← 487", "→ ACK")
			uaRequireFlow(t, uaFlow(res.Events), "→ CANCEL", "← 200 CANCEL")
			in := uaNextCall(t, calls, 5*time.Second)
			if in.Outcome != ua.InCancelled {
				t.Fatalf("callee: %s: %s", in.Outcome, in.Text)
			}
		})
		t.Run("cancelled by the user", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(500*time.Millisecond, cancel)
			res := alice.Call(cctx, ua.CallOptions{Target: target, RingTimeout: 10 * time.Second})
			cancel()
			if res.Outcome != ua.OutcomeCancelled || res.Exit != ua.ExitCancelled || res.Code != 487 {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "→ CANCEL", "← 487", "→ ACK")
			if in := uaNextCall(t, calls, 5*time.Second); in.Outcome != ua.InCancelled {
				t.Fatalf("callee: %s: %s", in.Outcome, in.Text)
			}
		})
		t.Run("early media", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, Duration: 100 * time.Millisecond, RingTimeout: 10 * time.Second})
			if res.Outcome != ua.OutcomeAnswered {
				t.Fatalf("call: %s exit %d: %s", res.Outcome, res.Exit, res.Text)
			}
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 183", "← 200", "→ ACK", "→ BYE")
			if !uaHasNote(res.Events, "early media: audio PCMU") {
				t.Fatal("the caller did not note the early media of the 183")
			}
			in := uaNextCall(t, calls, 5*time.Second)
			uaRequireFlow(t, uaFlow(in.Events), "← INVITE", "→ 183", "→ 200", "← ACK")
		})
		t.Run("unregister", func(t *testing.T) {
			r := bob.Unregister(ctx)
			if !r.OK() || r.Expires != 0 {
				t.Fatalf("unregister: %s: %s", r.Outcome, r.Text)
			}
			bs, _ := srv.Bindings(t)
			for _, b := range bs {
				if b.AOR == "bob@localhost" {
					t.Fatalf("bob still has a binding: %+v", b)
				}
			}
			res := alice.Call(ctx, ua.CallOptions{Target: target})
			if res.Code != 480 || res.Exit != ua.Exit4xx {
				t.Fatalf("call to an unregistered user: %d %s", res.Code, res.Text)
			}
		})
	})
}

// TestUAPhoneToPhone: two phones call each other directly (no proxy, no registration),
// and closing them leaves no goroutine behind.
func TestUAPhoneToPhone(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		siptest.CheckGoroutines(t)
		bob, _ := uaNewPhone(t, "bob", "", transport)
		calls := uaAnswering(t, bob, ua.Behaviour{Ring: 100 * time.Millisecond, Final: 200, Hangup: 200 * time.Millisecond}, nil)
		alice, _ := uaNewPhone(t, "alice", "", transport)
		target, _ := ua.ParseTarget("sip:bob@"+bob.Addr(), "")
		res := alice.Call(context.Background(), ua.CallOptions{Target: target, Duration: 5 * time.Second})
		uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
		if !strings.Contains(res.Text, "the callee hung up") {
			t.Fatalf("bob should hang up first (hangup=200ms): %s", res.Text)
		}
		uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "← 200", "→ ACK", "← BYE", "→ 200 BYE")
		in := uaNextCall(t, calls, 5*time.Second)
		uaRequireFlow(t, uaFlow(in.Events), "← INVITE", "→ 180", "→ 200", "← ACK", "→ BYE", "← 200 BYE")
		alice.Close()
		bob.Close()
	})
}
