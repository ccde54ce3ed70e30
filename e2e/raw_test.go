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

// registerRaw binds user at srv (which trusts loopback) to a Contact header value
// ("<sip:...>;q=0.5"), without a phone.
func registerRaw(t *testing.T, srv *testServer, transport, user, contact string) {
	t.Helper()
	register := crlf("REGISTER sip:localhost SIP/2.0\nVia: SIP/2.0/" + strings.ToUpper(transport) + " {{local}};branch={{branch}};rport\nFrom: <sip:" + user + "@localhost>;tag={{tag}}\nTo: <sip:" + user + "@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 REGISTER\nContact: " + contact + "\nExpires: 600\nMax-Forwards: 70\nContent-Length: 0\n\n")
	if code, _, _ := finalOf(t, sendRaw(t, transport, srv.Addr, register, 500*time.Millisecond)); code != 200 {
		t.Fatalf("REGISTER %s -> %s: %d", user, contact, code)
	}
}

func inviteRaw(callee, transport string) []byte {
	return crlf("INVITE sip:" + callee + "@localhost SIP/2.0\nVia: SIP/2.0/" + strings.ToUpper(transport) + " {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:" + callee + "@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 INVITE\nContact: <sip:alice@{{local}}>\nMax-Forwards: 70\nContent-Length: 0\n\n")
}

// TestLoopDetected: two proxies whose registrations point at each other pass an INVITE
// back and forth. The first return is a legitimate spiral (the Request-URI changed); the
// second time a proxy sees the request unchanged it answers 482 (RFC 3261 16.3 step 4),
// and the 482 travels back to the caller.
func TestLoopDetected(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		trust := func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} }
		a, b := startServer(t, "", trust), startServer(t, "", trust)
		registerRaw(t, a, transport, "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(b.Port)+";transport="+transport+">")
		registerRaw(t, b, transport, "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(a.Port)+";transport="+transport+">")
		code, _, _ := finalOf(t, sendRaw(t, transport, a.Addr, inviteRaw("bob", transport), 3*time.Second))
		if code != 482 {
			t.Fatalf("INVITE into a loop: %d, want 482", code)
		}
		if !a.logHas("code=482", "by=sanity", "going round in a loop") && !b.logHas("code=482", "by=sanity", "going round in a loop") {
			t.Fatal("neither proxy logged the loop detection")
		}
	})
}

// TestContactPointsAtItself: a binding whose contact is siplens' own address is answered
// 482 at once instead of being sent round.
func TestContactPointsAtItself(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", func(c *config.Config) { c.Auth.Trusted = []string{"127.0.0.1"} })
		registerRaw(t, srv, transport, "bob", "<sip:bob@127.0.0.1:"+strconv.Itoa(srv.Port)+";transport="+transport+">")
		code, _, _ := finalOf(t, sendRaw(t, transport, srv.Addr, inviteRaw("bob", transport), time.Second))
		if code != 482 || !srv.logHas("code=482", "points back at siplens itself") {
			t.Fatalf("INVITE to a contact naming siplens: %d, want 482 with the reason logged", code)
		}
	})
}

// sendRaw sends one message over UDP or TCP and returns the messages that came back.
func sendRaw(t *testing.T, transport, addr string, msg []byte, wait time.Duration) [][]byte {
	t.Helper()
	if transport == "udp" {
		return siptest.SendUDP(t, addr, msg, wait)
	}
	return siptest.SplitMessages(siptest.SendTCP(t, addr, msg, wait))
}

// TestOversize: a request above proxy.max_message_size gets 513.
func TestOversize(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		body := strings.Repeat("x", 20000)
		msg := crlf("MESSAGE sip:bob@localhost SIP/2.0\nVia: SIP/2.0/" + strings.ToUpper(transport) + " {{local}};branch={{branch}};rport\nFrom: <sip:alice@localhost>;tag={{tag}}\nTo: <sip:bob@localhost>\nCall-ID: {{call_id}}\nCSeq: 1 MESSAGE\nMax-Forwards: 70\nContent-Type: text/plain\nContent-Length: " + strconv.Itoa(len(body)) + "\n\n")
		msg = append(msg, body...)
		if code, _, _ := finalOf(t, sendRaw(t, transport, srv.Addr, msg, time.Second)); code != 513 {
			t.Fatalf("oversize MESSAGE: %d, want 513", code)
		}
	})
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
