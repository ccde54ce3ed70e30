package e2e

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/cli"
)

// TestCallsAndShow: after a real call through siplens, `siplens calls` lists it and
// `siplens show` explains it and draws its ladder, through the admin API.
func TestCallsAndShow(t *testing.T) {
	srv := startServer(t, "", nil)
	callee(t, srv, "udp", "bob", "uas_reject.xml", map[string]string{"code": "486"})
	sipp(t, srv, "udp", "uac_expect_486.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
	callID := srv.call(t, "INVITE", "bob").CallID

	api := httptest.NewServer(admin.New(admin.Options{Traces: srv.traces, Locations: srv.loc, Self: []string{srv.Addr}}))
	defer api.Close()
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := cli.Main(append(args, "--admin", api.URL), &out, &errOut); code != 0 {
			t.Fatalf("siplens %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
		}
		return out.String()
	}
	list := run("calls")
	if !strings.Contains(list, callID) || !strings.Contains(list, "486 Busy Here") || !strings.Contains(list, "busy") {
		t.Fatalf("siplens calls does not list the call:\n%s", list)
	}
	show := run("show", callID)
	for _, want := range []string{"Outcome:  busy (486 Busy Here)", "branch 1", "siplens", "486 Busy Here"} {
		if !strings.Contains(show, want) {
			t.Errorf("siplens show lacks %q:\n%s", want, show)
		}
	}
	mermaid := run("show", callID, "--format", "mermaid")
	if !strings.HasPrefix(mermaid, "sequenceDiagram") || !strings.Contains(mermaid, "486 Busy Here") {
		t.Fatalf("mermaid ladder:\n%s", mermaid)
	}
	regs := run("calls", "--code", "200", "--json")
	if !strings.Contains(regs, "REGISTER") {
		t.Fatalf("the registration is not among the recorded 200s:\n%s", regs)
	}
}
