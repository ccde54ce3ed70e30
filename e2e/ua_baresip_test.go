package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/ua"
)

// TestUABaresip: the phone of package ua and baresip, a softphone we did not write, call
// each other through siplens.
func TestUABaresip(t *testing.T) {
	t.Run("ua calls baresip", func(t *testing.T) {
		srv := startServer(t, "", nil)
		startBaresip(t, srv, "carol")
		waitRegistered(t, srv, "carol@localhost")
		baresipAnswersUACall(t, srv.Addr, "carol@localhost")
		if !srv.logHas("method=INVITE", "code=200", "by=\"branch 1 (sip:carol") {
			t.Fatal("the log does not show baresip's 200 relayed by siplens")
		}
	})
	t.Run("baresip calls ua", func(t *testing.T) {
		srv := startServer(t, "", nil)
		uaAnswersBaresipCall(t, srv, srv.Addr)
		if !srv.logHas("method=INVITE", "code=200", "by=\"branch 1 (sip:bob") || !srv.logHas("method=BYE", "code=200") {
			t.Fatal("the log does not show the answered call and its BYE")
		}
	})
}

// baresipAnswersUACall calls callee (a registered baresip that answers by itself) through
// proxy from a ua phone, and checks the call was answered with a codec both support.
func baresipAnswersUACall(t *testing.T, proxy, callee string) {
	t.Helper()
	alice, _ := uaNewPhone(t, "alice", proxy, "udp")
	target, _ := ua.ParseTarget(callee, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codecs, _ := ua.ParseCodecs("opus,PCMA,PCMU")
	res := alice.Call(ctx, ua.CallOptions{Target: target, Codecs: codecs, Duration: time.Second, RingTimeout: 10 * time.Second})
	if res.Outcome != ua.OutcomeAnswered || res.Exit != 0 {
		t.Fatalf("call to baresip: %s (exit %d): %s", res.Outcome, res.Exit, res.Text)
	}
	uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 200", "→ ACK", "→ BYE", "← 200 BYE")
	// baresip has only G.711 loaded: its answer must pick PCMA or PCMU from our offer.
	if !strings.Contains(res.Media, "PCMA") && !strings.Contains(res.Media, "PCMU") || strings.Contains(res.Media, "opus") {
		t.Fatalf("negotiated media %q, want G.711 only", res.Media)
	}
	t.Logf("%s", res.Text)
}

// uaAnswersBaresipCall registers bob (a ua phone) through proxy and lets baresip (carol)
// dial him; the phone answers, baresip hangs up when it quits.
func uaAnswersBaresipCall(t *testing.T, srv *testServer, proxy string) {
	t.Helper()
	bob, _ := uaNewPhone(t, "bob", proxy, "udp")
	uaRegister(t, bob)
	calls := uaAnswering(t, bob, ua.Behaviour{Ring: 300 * time.Millisecond, Final: 200}, nil)
	phone := startBaresip(t, srv, "carol", "-e", "/dial sip:bob@localhost", "-t", "4")
	in := uaNextCall(t, calls, 20*time.Second)
	if in.Outcome != ua.InAnswered || in.Code != 200 {
		t.Fatalf("incoming call from baresip: %s: %s", in.Outcome, in.Text)
	}
	uaRequireFlow(t, uaFlow(in.Events), "← INVITE", "→ 180", "→ 200", "← ACK", "← BYE", "→ 200 BYE")
	if !strings.Contains(in.Text, "the caller hung up") {
		t.Fatalf("the call should end with baresip's BYE: %s", in.Text)
	}
	if err := phone.cmd.Wait(); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	if out := phone.out.String(); !strings.Contains(out, "Call established: sip:bob@localhost") {
		t.Fatalf("baresip did not report an established call:\n%s", out)
	}
}
