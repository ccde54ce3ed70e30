package ua

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

func inviteTo(uri string) *sip.Request {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		panic(err)
	}
	return sip.NewRequest(sip.INVITE, u)
}

func TestAuthOncePerRealm(t *testing.T) {
	chal := `Digest realm="example.com", nonce="abc", algorithm=MD5, qop="auth"`
	for _, c := range []struct {
		name      string
		password  string
		responses []*sip.Response
		errs      []string // "" for success, else part of the error
	}{
		{
			name:      "a 401 is answered once; a second one is a wrong password",
			password:  "pw",
			responses: []*sip.Response{response(401, "WWW-Authenticate: "+chal), response(401, "WWW-Authenticate: "+chal)},
			errs:      []string{"", "wrong password or user"},
		},
		{
			name:      "a stale nonce is answered once more",
			password:  "pw",
			responses: []*sip.Response{response(401, "WWW-Authenticate: "+chal), response(401, "WWW-Authenticate: "+chal+", stale=true"), response(401, "WWW-Authenticate: "+chal+", stale=true")},
			errs:      []string{"", "", "wrong password or user"},
		},
		{
			name:      "a proxy and the callee each challenge once",
			password:  "pw",
			responses: []*sip.Response{response(407, `Proxy-Authenticate: Digest realm="proxy", nonce="p"`), response(401, "WWW-Authenticate: "+chal)},
			errs:      []string{"", ""},
		},
		{
			name:      "no password",
			responses: []*sip.Response{response(401, "WWW-Authenticate: "+chal)},
			errs:      []string{"no password was given"},
		},
		{
			name:      "no challenge header",
			password:  "pw",
			responses: []*sip.Response{response(407)},
			errs:      []string{"no Proxy-Authenticate header"},
		},
		{
			name:      "an algorithm we cannot do",
			password:  "pw",
			responses: []*sip.Response{response(401, `WWW-Authenticate: Digest realm="x", nonce="n", algorithm=AKAv1-MD5`)},
			errs:      []string{"no challenge the phone can answer"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAuthState("alice", c.password)
			req := inviteTo("sip:bob@example.com")
			for i, res := range c.responses {
				_, err := a.apply(req, res)
				switch {
				case c.errs[i] == "" && err != nil:
					t.Fatalf("response %d: %v", i+1, err)
				case c.errs[i] != "" && (err == nil || !strings.Contains(err.Error(), c.errs[i])):
					t.Fatalf("response %d: error %v, want %q", i+1, err, c.errs[i])
				}
			}
		})
	}
}

func TestAuthPicksTheFirstSupportedChallenge(t *testing.T) {
	res := response(401,
		`WWW-Authenticate: Digest realm="example.com", nonce="n", algorithm=SHA-256, qop="auth"`,
		`WWW-Authenticate: Digest realm="example.com", nonce="n", algorithm=MD5, qop="auth"`)
	a := newAuthState("alice", "secret")
	req := inviteTo("sip:bob@example.com")
	if _, err := a.apply(req, res); err != nil {
		t.Fatal(err)
	}
	cred, err := digest.ParseCredentials(req.GetHeader("Authorization").Value())
	if err != nil {
		t.Fatal(err)
	}
	if cred.Algorithm != "SHA-256" || cred.Username != "alice" || cred.URI != "sip:bob@example.com" || cred.QOP != "auth" || cred.Nc != 1 {
		t.Fatalf("credentials %+v", cred)
	}
	// The response is the one a server computes with the same password.
	ch, _ := digest.ParseChallenge(`Digest realm="example.com", nonce="n", algorithm=SHA-256, qop="auth"`)
	want, _ := digest.Digest(ch, digest.Options{Method: "INVITE", URI: "sip:bob@example.com", Username: "alice", Password: "secret", Cnonce: cred.Cnonce, Count: 1})
	if cred.Response != want.Response {
		t.Fatalf("response %s, want %s", cred.Response, want.Response)
	}
	// Answering again replaces, never adds, the header.
	a2 := newAuthState("alice", "secret")
	_, _ = a2.apply(req, res)
	if n := len(req.GetHeaders("Authorization")); n != 1 {
		t.Fatalf("%d Authorization headers", n)
	}
}
