package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	client "github.com/icholy/digest"

	"github.com/siplens/siplens/steps/auth"
)

// invite is an INVITE from {from}@example.com to bob; {auth} as in register.
const invite = `
INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKcall1
Max-Forwards: 70
From: <sip:{from}@example.com>;tag=77
To: <sip:bob@example.com>
Call-ID: call-1@10.0.0.1
CSeq: 1 INVITE
Contact: <sip:{from}@10.0.0.1:5060>
{auth}Content-Length: 0

`

func inviteFrom(from, proxyAuth string) string {
	msg := strings.ReplaceAll(invite, "{from}", from)
	if proxyAuth != "" {
		proxyAuth = "Proxy-Authorization: " + proxyAuth + "\n"
	}
	return strings.Replace(msg, "{auth}", proxyAuth, 1)
}

// answerProxy answers a Proxy-Authenticate challenge for the INVITE as a phone would.
func answerProxy(t *testing.T, chalValue, user, pass string, nc int) string {
	t.Helper()
	chal, err := client.ParseChallenge(chalValue)
	if err != nil {
		t.Fatal(err)
	}
	chal.Algorithm = sip.ASCIIToUpper(chal.Algorithm)
	req := parse(t, inviteFrom(user, ""))
	cred, err := client.Digest(chal, client.Options{Method: "INVITE", URI: req.Recipient.Addr(), Username: user, Password: pass, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestCallsNeedProxyAuth(t *testing.T) {
	f := newFixture(t)
	f.step.Calls = true

	// No credentials: 407 with one Proxy-Authenticate per algorithm.
	_, err := f.run(t, parse(t, inviteFrom("alice", "")), phone)
	rej := rejection(t, err, 407)
	chals := values(rej, "Proxy-Authenticate")
	if len(chals) != 2 || len(values(rej, "WWW-Authenticate")) != 0 {
		t.Fatalf("407 headers: %v", rej.Headers)
	}

	// Good credentials: passes, AuthUser set.
	r, err := f.run(t, parse(t, inviteFrom("alice", answerProxy(t, chals[0], "alice", password, 1))), phone)
	if err != nil || r.AuthUser != "alice@example.com" {
		t.Fatalf("authenticated INVITE: err %v, AuthUser %q", err, r.AuthUser)
	}

	// Authenticated as alice, but the From says carol: 403.
	_, err = f.run(t, parse(t, strings.Replace(inviteFrom("carol", answerProxy(t, chals[0], "alice", password, 2)), "sip:carol@10.0.0.1", "sip:carol@10.0.0.1", 1)), phone)
	rejection(t, err, 403)

	// A call from another domain is not ours to challenge.
	foreign := strings.Replace(inviteFrom("alice", ""), "<sip:alice@example.com>", "<sip:alice@elsewhere.net>", 1)
	if _, err := f.run(t, parse(t, foreign), phone); err != nil {
		t.Fatalf("call from a foreign domain was challenged: %v", err)
	}

	// With Calls off, nothing is challenged.
	f.step.Calls = false
	if _, err := f.run(t, parse(t, inviteFrom("alice", "")), phone); err != nil {
		t.Fatalf("Calls=false still challenged: %v", err)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	f.step.Calls = true
	f.step.Now = f.clock.Now
	f.step.Lockout = auth.NewLockout(3, time.Minute, 5*time.Minute)

	wrong := func(nc int) error {
		_, err := f.run(t, parse(t, inviteFrom("alice", "")), phone)
		chal := values(rejection(t, err, 407), "Proxy-Authenticate")[0]
		_, err = f.run(t, parse(t, inviteFrom("alice", answerProxy(t, chal, "alice", "guess", nc))), phone)
		return err
	}
	rejection(t, wrong(1), 407)
	rejection(t, wrong(1), 407)
	rej := rejection(t, wrong(1), 403) // the third failure locks alice out
	if !strings.Contains(rej.Phrase, "locked out") || len(values(rej, "Retry-After")) != 1 {
		t.Fatalf("lockout answer: phrase %q headers %v", rej.Phrase, rej.Headers)
	}

	// Even the right password is refused during the cool-down, from this source...
	_, err := f.run(t, parse(t, inviteFrom("alice", "")), phone)
	rej = rejection(t, err, 403)
	if !strings.Contains(rej.Reason, "locked out") {
		t.Fatalf("reason %q", rej.Reason)
	}
	// ...and for alice from anywhere.
	_, err = f.run(t, parse(t, inviteFrom("alice", "")), "203.0.113.50:5060")
	chal := values(rejection(t, err, 407), "Proxy-Authenticate")[0]
	_, err = f.run(t, parse(t, inviteFrom("alice", answerProxy(t, chal, "alice", password, 1))), "203.0.113.50:5060")
	rejection(t, err, 403)

	// After the cool-down, the right password works again.
	f.clock.Advance(5*time.Minute + time.Second)
	_, err = f.run(t, parse(t, inviteFrom("alice", "")), phone)
	chal = values(rejection(t, err, 407), "Proxy-Authenticate")[0]
	if _, err := f.run(t, parse(t, inviteFrom("alice", answerProxy(t, chal, "alice", password, 1))), phone); err != nil {
		t.Fatalf("after the cool-down: %v", err)
	}
}

func TestLockoutWindowForgetsOldFailures(t *testing.T) {
	l := auth.NewLockout(3, time.Minute, time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	l.Fail("k", t0)
	l.Fail("k", t0.Add(10*time.Second))
	if l.Fail("k", t0.Add(2*time.Minute)) {
		t.Fatal("failures outside the window counted")
	}
	if locked, _ := l.Locked("k", t0.Add(2*time.Minute)); locked {
		t.Fatal("locked after failures spread beyond the window")
	}
	var off *auth.Lockout
	if off.Fail("k", t0) {
		t.Fatal("a nil lockout locked")
	}
}
