package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	client "github.com/icholy/digest"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/digest"
	"github.com/siplens/siplens/steps/auth"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

const (
	domain   = "example.com"
	realm    = "example.com"
	password = "wonderland"
	lifetime = time.Minute
)

// register is Alice's REGISTER; {auth} is replaced by an Authorization line or nothing.
const register = `
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds7
Max-Forwards: 70
From: Alice <sip:alice@example.com>;tag=456248
To: Alice <sip:alice@example.com>
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
Contact: <sip:alice@10.0.0.1:5060>
Expires: 3600
{auth}Content-Length: 0

`

func parse(t *testing.T, raw string) *sip.Request {
	t.Helper()
	raw = strings.ReplaceAll(strings.TrimLeft(raw, "\n"), "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse:\n%s\nerror: %v", raw, err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parse: %T is not a request", msg)
	}
	return req
}

// withAuth fills {auth} in msg with an Authorization header, or removes it when authz is "".
func withAuth(msg, authz string) string {
	if authz != "" {
		authz = "Authorization: " + authz + "\n"
	}
	return strings.Replace(msg, "{auth}", authz, 1)
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	step  *auth.Step
	clock *clock
}

// newFixture is an auth step for example.com with one user, alice, and the algorithms
// given (the config default, MD5 then SHA-256, when none).
func newFixture(t *testing.T, algs ...digest.Algorithm) *fixture {
	t.Helper()
	if len(algs) == 0 {
		algs = []digest.Algorithm{digest.MD5, digest.SHA256}
	}
	clk := &clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	nonces, err := digest.NewNonces([]byte("0123456789abcdef0123456789abcdef"), lifetime, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := digest.NewVerifier(digest.Options{Nonces: nonces, Algorithms: algs})
	if err != nil {
		t.Fatal(err)
	}
	users := memory.NewUsers()
	if err := users.PutUser(context.Background(), store.User{
		Name: "alice", Domain: domain, Realm: realm,
		HA1MD5:    digest.HA1(digest.MD5, "alice", realm, password),
		HA1SHA256: digest.HA1(digest.SHA256, "alice", realm, password),
	}); err != nil {
		t.Fatal(err)
	}
	return &fixture{
		step: &auth.Step{
			Verifier: v, Users: users,
			Domains:  chain.NewDomains([]string{domain, "192.0.2.1"}),
			Realm:    func(string) string { return realm },
			Register: true,
		},
		clock: clk,
	}
}

// run passes req through the step from source; the auth step never writes a response.
func (f *fixture) run(t *testing.T, req *sip.Request, source string) (*chain.Request, error) {
	t.Helper()
	rec := &chain.Recorder{}
	r := &chain.Request{SIP: req, Source: source, Transport: "UDP", Domain: domain, ToServer: req.Recipient.User == ""}
	err := f.step.Handle(context.Background(), chain.NewWriter(req, rec), r)
	if n := len(rec.Responses); n != 0 {
		t.Errorf("auth wrote %d responses; it should only return errors", n)
	}
	return r, err
}

const phone = "198.51.100.7:5060"

// challenge sends the REGISTER without credentials and returns the WWW-Authenticate values.
func (f *fixture) challenge(t *testing.T) []string {
	t.Helper()
	_, err := f.run(t, parse(t, withAuth(register, "")), phone)
	rej := rejection(t, err, 401)
	return values(rej, "WWW-Authenticate")
}

// answer plays the phone as sipgo's client does (client.go digestAuthApply): parse the
// challenge with github.com/icholy/digest, upper-case the algorithm, compute the digest for
// the REGISTER's method and Request-URI.
func answer(t *testing.T, wwwAuth, user, pass string, nc int) string {
	t.Helper()
	chal, err := client.ParseChallenge(wwwAuth)
	if err != nil {
		t.Fatalf("client cannot parse %q: %v", wwwAuth, err)
	}
	chal.Algorithm = sip.ASCIIToUpper(chal.Algorithm)
	req := parse(t, withAuth(register, ""))
	cred, err := client.Digest(chal, client.Options{
		Method: req.Method.String(), URI: req.Recipient.Addr(), Username: user, Password: pass, Count: nc,
	})
	if err != nil {
		t.Fatalf("client digest: %v", err)
	}
	return cred.String()
}

func rejection(t *testing.T, err error, code int) *chain.Error {
	t.Helper()
	var rej *chain.Error
	if !errors.As(err, &rej) {
		t.Fatalf("want %d, got %v (not a *chain.Error)", code, err)
	}
	if rej.Code != code {
		t.Fatalf("code = %d (%s), want %d", rej.Code, rej.Reason, code)
	}
	return rej
}

func values(rej *chain.Error, name string) []string {
	var out []string
	for _, h := range rej.Headers {
		if strings.EqualFold(h.Name(), name) {
			out = append(out, h.Value())
		}
	}
	return out
}

// TestHandle: each case builds the Authorization header (from a fresh challenge when it
// needs one), optionally lets time pass, and checks the step's verdict.
func TestHandle(t *testing.T) {
	tests := []struct {
		name   string
		algs   []digest.Algorithm
		config func(*auth.Step)
		msg    string // default: register
		source string // default: phone
		// authz returns the Authorization value; nil sends none.
		authz   func(t *testing.T, f *fixture) string
		advance time.Duration

		code     int    // 0: passes
		phrase   string // for 400
		reason   string
		stale    bool // 401 carries stale=true
		algsSent []string
		authUser string
	}{
		{name: "no credentials: one challenge per algorithm, config order", code: 401,
			reason: "no credentials", algsSent: []string{"MD5", "SHA-256"}},
		{name: "no credentials, SHA-256 only", algs: []digest.Algorithm{digest.SHA256}, code: 401,
			algsSent: []string{"SHA-256"}},
		{name: "no credentials, SHA-256 preferred", algs: []digest.Algorithm{digest.SHA256, digest.MD5}, code: 401,
			algsSent: []string{"SHA-256", "MD5"}},

		{name: "answer to the first challenge (MD5)", authUser: "alice@example.com",
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", password, 1) }},
		{name: "answer to the SHA-256 challenge", authUser: "alice@example.com",
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[1], "alice", password, 1) }},
		{name: "answer just before the nonce expires", authUser: "alice@example.com", advance: lifetime - time.Second,
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", password, 1) }},
		{name: "answer to the challenge of an alias domain", authUser: "alice@example.com",
			msg:   strings.ReplaceAll(register, "alice@example.com", "alice@192.0.2.1"),
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", password, 1) }},

		{name: "wrong password", code: 401, reason: "wrong password for alice@example.com", algsSent: []string{"MD5", "SHA-256"},
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", "guess", 1) }},
		{name: "unknown user", code: 401, reason: "wrong password for mallory@example.com, or no such user", algsSent: []string{"MD5", "SHA-256"},
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "mallory", password, 1) }},
		{name: "expired nonce, right password: stale", code: 401, stale: true, reason: "expired", advance: lifetime,
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", password, 1) }},
		{name: "expired nonce, wrong password: not stale", code: 401, reason: "wrong password", advance: lifetime,
			authz: func(t *testing.T, f *fixture) string { return answer(t, f.challenge(t)[0], "alice", "guess", 1) }},
		{name: "nonce we never issued", code: 401, reason: "BadNonce",
			authz: func(t *testing.T, f *fixture) string {
				c := strings.Replace(f.challenge(t)[0], `nonce="`, `nonce="A`, 1)
				return answer(t, c, "alice", password, 1)
			}},
		{name: "credentials for another realm only: challenged", code: 401, reason: "no credentials",
			authz: func(t *testing.T, f *fixture) string {
				return answer(t, strings.Replace(f.challenge(t)[0], `realm="example.com"`, `realm="elsewhere"`, 1), "alice", password, 1)
			}},

		{name: "malformed Authorization", code: 400, phrase: "Bad Authorization header",
			authz: func(*testing.T, *fixture) string { return `Digest username="alice", realm=` }},
		{name: "Basic Authorization", code: 400, phrase: "Bad Authorization header",
			authz: func(*testing.T, *fixture) string { return `Basic YWxpY2U6d29uZGVybGFuZA==` }},
		{name: "no qop (RFC 2069 style)", code: 400, phrase: "Bad Authorization header", reason: "qop is missing",
			authz: func(t *testing.T, f *fixture) string {
				chal, _ := client.ParseChallenge(f.challenge(t)[0])
				chal.QOP = nil
				cred, err := client.Digest(chal, client.Options{Method: "REGISTER", URI: "sip:example.com", Username: "alice", Password: password})
				if err != nil {
					t.Fatal(err)
				}
				return cred.String()
			}},
		{name: "algorithm not offered", algs: []digest.Algorithm{digest.SHA256}, code: 400, reason: "not offered",
			authz: func(t *testing.T, f *fixture) string {
				return answer(t, strings.Replace(f.challenge(t)[0], "algorithm=SHA-256", "algorithm=MD5", 1), "alice", password, 1)
			}},

		{name: "trusted source skips auth", source: "10.1.2.3:5060",
			config: func(s *auth.Step) { s.Trusted = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }},
		{name: "trusted single address", source: "203.0.113.9:5080",
			config: func(s *auth.Step) { s.Trusted = []netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")} }},
		{name: "source outside the trusted prefix", source: "11.0.0.1:5060", code: 401,
			config: func(s *auth.Step) { s.Trusted = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }},
		{name: "Register=false passes", config: func(s *auth.Step) { s.Register = false }},
		{name: "INVITE passes untouched", msg: strings.NewReplacer("REGISTER sip:example.com", "INVITE sip:bob@example.com",
			"CSeq: 1826 REGISTER", "CSeq: 1826 INVITE").Replace(register)},
		{name: "OPTIONS passes untouched", msg: strings.NewReplacer("REGISTER sip:", "OPTIONS sip:",
			"CSeq: 1826 REGISTER", "CSeq: 1826 OPTIONS").Replace(register)},
		{name: "REGISTER for a domain not served passes (the registrar refuses it)",
			msg: strings.ReplaceAll(register, "example.com", "example.org")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.algs...)
			if tt.config != nil {
				tt.config(f.step)
			}
			msg, source := tt.msg, tt.source
			if msg == "" {
				msg = register
			}
			if source == "" {
				source = phone
			}
			authz := ""
			if tt.authz != nil {
				authz = tt.authz(t, f)
			}
			f.clock.Advance(tt.advance)
			r, err := f.run(t, parse(t, withAuth(msg, authz)), source)
			if r.AuthUser != tt.authUser {
				t.Errorf("AuthUser = %q, want %q", r.AuthUser, tt.authUser)
			}
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			rej := rejection(t, err, tt.code)
			if tt.phrase != "" && rej.StatusPhrase() != tt.phrase {
				t.Errorf("phrase = %q, want %q", rej.StatusPhrase(), tt.phrase)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", rej.Reason, tt.reason)
			}
			chals := values(rej, "WWW-Authenticate")
			if tt.code != 401 {
				if len(chals) != 0 {
					t.Errorf("%d carries WWW-Authenticate %q", tt.code, chals)
				}
				return
			}
			if len(chals) == 0 {
				t.Fatal("401 without WWW-Authenticate")
			}
			var sent []string
			for _, c := range chals {
				p, err := client.ParseChallenge(c)
				if err != nil {
					t.Fatalf("client cannot parse %q: %v", c, err)
				}
				if p.Realm != realm || p.Nonce == "" || !p.SupportsQOP("auth") {
					t.Errorf("challenge %q: want realm %q, a nonce and qop=auth", c, realm)
				}
				if p.Stale != tt.stale {
					t.Errorf("challenge %q: stale = %v, want %v", c, p.Stale, tt.stale)
				}
				sent = append(sent, p.Algorithm)
			}
			if tt.algsSent != nil && !slices.Equal(sent, tt.algsSent) {
				t.Errorf("algorithms challenged = %q, want %q", sent, tt.algsSent)
			}
		})
	}
}

// A replayed Authorization (same nonce, same nc) is refused with a fresh challenge; the
// next nc on the same nonce is accepted.
func TestReplay(t *testing.T) {
	f := newFixture(t)
	chal := f.challenge(t)[0]
	first := answer(t, chal, "alice", password, 1)
	steps := []struct {
		authz string
		code  int
	}{
		{first, 0},
		{first, 401},
		{answer(t, chal, "alice", password, 2), 0},
		{answer(t, chal, "alice", password, 2), 401},
	}
	for i, s := range steps {
		r, err := f.run(t, parse(t, withAuth(register, s.authz)), phone)
		if s.code == 0 {
			if err != nil || r.AuthUser != "alice@example.com" {
				t.Fatalf("step %d: err %v, AuthUser %q; want pass as alice", i, err, r.AuthUser)
			}
			continue
		}
		rej := rejection(t, err, s.code)
		if len(values(rej, "WWW-Authenticate")) != 2 || r.AuthUser != "" {
			t.Errorf("step %d: replay got %v, AuthUser %q; want a fresh challenge", i, rej.Headers, r.AuthUser)
		}
	}
}

// shape is what a scanner sees of a 401: the code, phrase, the header names and, for each
// challenge, its parameter names and values except the nonce.
func shape(t *testing.T, rej *chain.Error) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(rej.StatusPhrase())
	for _, h := range rej.Headers {
		b.WriteString("|" + h.Name() + ":")
		p, err := client.ParseChallenge(h.Value())
		if err != nil {
			t.Fatalf("parse %q: %v", h.Value(), err)
		}
		if p.Nonce == "" {
			t.Fatalf("challenge %q has no nonce", h.Value())
		}
		p.Nonce = "*"
		b.WriteString(p.String())
	}
	return b.String()
}

// The anti-enumeration property: an unknown user gets the same 401 as a known user with a
// wrong password, down to the header names and challenge parameters; only the nonce differs.
func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	for _, idx := range []int{0, 1} { // MD5 and SHA-256 answers
		f := newFixture(t)
		var shapes, nonces []string
		for _, user := range []string{"alice", "mallory"} {
			authz := answer(t, f.challenge(t)[idx], user, "guess", 1)
			_, err := f.run(t, parse(t, withAuth(register, authz)), phone)
			rej := rejection(t, err, 401)
			shapes = append(shapes, shape(t, rej))
			c, _ := client.ParseChallenge(values(rej, "WWW-Authenticate")[0])
			nonces = append(nonces, c.Nonce)
		}
		if shapes[0] != shapes[1] {
			t.Errorf("wrong password and unknown user differ:\n%s\n%s", shapes[0], shapes[1])
		}
		if nonces[0] == nonces[1] {
			t.Error("the two challenges share a nonce; each 401 must carry a fresh one")
		}
	}
}

// The challenges of one 401 share a nonce and list the same parameters.
func TestChallengeHeaders(t *testing.T) {
	f := newFixture(t)
	chals := f.challenge(t)
	var nonces []string
	for _, c := range chals {
		p, _ := client.ParseChallenge(c)
		nonces = append(nonces, p.Nonce)
	}
	sort.Strings(nonces)
	if len(nonces) != 2 || nonces[0] != nonces[1] {
		t.Errorf("nonces %q: want one nonce shared by both challenges", nonces)
	}
	want := `Digest realm="example.com", nonce="`
	for _, c := range chals {
		if !strings.HasPrefix(c, want) {
			t.Errorf("challenge %q does not start with %q", c, want)
		}
	}
}

func TestName(t *testing.T) {
	if got := (&auth.Step{}).Name(); got != "auth" {
		t.Fatalf("Name() = %q", got)
	}
}
