package e2e

import (
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
)

// TestBindingsSurviveRestart: a phone registers, siplens stops and starts again on the same
// store, and a call still reaches the phone.
func TestBindingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	first := startServer(t, dir, nil)
	reg := sipp(t, first, "udp", "register_auth.xml", "bob", nil)
	reg.LocalPort = siptest.FreePort(t)
	reg.Run(t).RequireOK(t)
	first.Close()

	second := startServer(t, dir, nil)
	bs, err := second.Bindings(t)
	if err != nil || len(bs) != 1 {
		t.Fatalf("bindings after restart: %+v, %v", bs, err)
	}
	// The phone is still there, on the port it registered from.
	phone := sipp(t, second, "udp", "uas_answer.xml", "bob", nil)
	phone.Vars = nil
	phone.Target = ""
	phone.LocalPort = reg.LocalPort
	phone.Auth = siptest.Auth{}
	p := phone.Start(t)
	sipp(t, second, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
	if res := p.Wait(5 * time.Second); !res.OK() {
		t.Fatalf("the phone did not get the call after the restart:\n%s", res.Details())
	}
}
