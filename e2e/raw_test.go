package e2e

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/siptest"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// finalOf returns the first final response among datagrams.
func finalOf(t *testing.T, got [][]byte) (int, string, map[string][]string) {
	t.Helper()
	for _, d := range got {
		if code, reason, h := siptest.ParseStatus(d); code >= 200 {
			return code, reason, h
		}
	}
	t.Fatalf("no final response among %d datagrams", len(got))
	return 0, "", nil
}

// TestLoopDetected: bob's contact points back at siplens itself, so an INVITE for bob goes
// round; the second time siplens sees it unchanged it answers 482 (RFC 3261 16.3 step 4).
func TestLoopDetected(t *testing.T) {
	srv := startServer(t, "", func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} })
	port := strconv.Itoa(srv.Port)
	register := crlf("REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:bob@localhost>;tag={{tag}}\nTo: <sip:bob@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 REGISTER\nContact: <sip:bob@127.0.0.1:" + port + ">\nExpires: 600\nMax-Forwards: 70\nContent-Length: 0\n\n")
	if code, _, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, register, 500*time.Millisecond)); code != 200 {
		t.Fatalf("REGISTER: %d", code)
	}
	invite := crlf("INVITE sip:bob@localhost SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:bob@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 INVITE\nContact: <sip:alice@{{local}}>\nMax-Forwards: 70\nContent-Length: 0\n\n")
	code, _, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, invite, 2*time.Second))
	if code != 482 {
		t.Fatalf("INVITE into a loop: %d, want 482", code)
	}
	if !srv.logHas("code=482", "by=sanity", "going round in a loop") {
		t.Fatal("the log does not show the loop detection")
	}
}

// TestOversize: a request above proxy.max_message_size gets 513.
func TestOversize(t *testing.T) {
	srv := startServer(t, "", nil)
	body := strings.Repeat("x", 20000)
	msg := crlf("MESSAGE sip:bob@localhost SIP/2.0\nVia: SIP/2.0/UDP {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:bob@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 MESSAGE\nMax-Forwards: 70\nContent-Type: text/plain\nContent-Length: " + strconv.Itoa(len(body)) + "\n\n")
	msg = append(msg, body...)
	if code, _, _ := finalOf(t, siptest.SendUDP(t, srv.Addr, msg, time.Second)); code != 513 {
		t.Fatalf("oversize MESSAGE: %d, want 513", code)
	}
}

// TestSipsak: sipsak, a tool we did not write, uses siplens as a keep-alive target
// (OPTIONS, -s) and as a registrar with digest authentication (-U).
func TestSipsak(t *testing.T) {
	siptest.RequireTool(t, "sipsak")
	srv := startServer(t, "", nil)
	out, err := exec.Command("sipsak", "-s", "sip:127.0.0.1:"+strconv.Itoa(srv.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("sipsak -s: %v\n%s", err, out)
	}
	contact := "sip:dave@127.0.0.1:" + strconv.Itoa(siptest.FreePort(t))
	// -u: sipsak 0.9.8 takes "dave@" as the user name from the URI otherwise.
	out, err = exec.Command("sipsak", "-U", "-C", contact, "-x", "600", "-s", "sip:dave@127.0.0.1:"+strconv.Itoa(srv.Port), "-u", "dave", "-a", passwords["dave"], "-v").CombinedOutput()
	if err != nil {
		t.Fatalf("sipsak -U (register with digest auth): %v\n%s", err, out)
	}
	if !srv.logHas("method=REGISTER", "code=200", "by=registrar") {
		t.Fatal("sipsak's REGISTER was not accepted")
	}
}
