package digest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const validCred = `Digest username="bob", realm="x", nonce="n1", uri="sip:x", response="abc", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001, opaque="o1"`

func TestParseCredentials(t *testing.T) {
	base := Credentials{
		Username: "bob", Realm: "x", Nonce: "n1", URI: "sip:x", Response: "abc",
		Algorithm: MD5, CNonce: "c1", QOP: "auth", NC: 1, Opaque: "o1", ncText: "00000001",
	}
	with := func(f func(*Credentials)) Credentials { c := base; f(&c); return c }
	tests := []struct {
		name string
		in   string
		want Credentials
	}{
		{"canonical", validCred, base},
		{"no spaces", `Digest username="bob",realm="x",nonce="n1",uri="sip:x",response="abc",algorithm=MD5,cnonce="c1",qop=auth,nc=00000001,opaque="o1"`, base},
		{"lots of LWS and folding", "  Digest\t username = \"bob\" ,\r\n realm=\"x\" , nonce =\"n1\",uri= \"sip:x\" ,response=\"abc\",\talgorithm = MD5 , cnonce=\"c1\", qop = auth , nc = 00000001 , opaque=\"o1\"  ", base},
		{"case-insensitive scheme and names", `digest USERNAME="bob", Realm="x", NONCE="n1", Uri="sip:x", Response="abc", ALGORITHM=md5, CNonce="c1", QOP=auth, NC=00000001, Opaque="o1"`, base},
		{"quoted tokens", `Digest username="bob", realm="x", nonce="n1", uri="sip:x", response="abc", algorithm="MD5", cnonce="c1", qop="auth", nc="00000001", opaque="o1"`, base},
		{"unquoted values", `Digest username=bob, realm=x, nonce=n1, uri=sip:x, response=abc, algorithm=MD5, cnonce=c1, qop=auth, nc=00000001, opaque=o1`, base},
		{"empty list elements", `Digest ,username="bob",, realm="x", nonce="n1", uri="sip:x", response="abc", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001, opaque="o1",`, base},
		{"escaped chars", `Digest username="b\"o\\b\x", realm="x", nonce="n1", uri="sip:x", response="abc", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001, opaque="o1"`,
			with(func(c *Credentials) { c.Username = `b"o\bx` })},
		{"comma and equals inside quotes", `Digest username="a, b=c", realm="x", nonce="n1", uri="sip:x;transport=tcp", response="abc", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001, opaque="o1"`,
			with(func(c *Credentials) { c.Username = "a, b=c"; c.URI = "sip:x;transport=tcp" })},
		{"unknown params ignored", `Digest foo=bar, username="bob", realm="x", nonce="n1", uri="sip:x", response="abc", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001, opaque="o1", x-ext="y,z"`, base},
		{"algorithm absent means MD5", `Digest username="bob", realm="x", nonce="n1", uri="sip:x", response="abc", cnonce="c1", qop=auth, nc=00000001, opaque="o1"`, base},
		{"SHA-256", strings.Replace(validCred, "algorithm=MD5", "algorithm=sha-256", 1), with(func(c *Credentials) { c.Algorithm = SHA256 })},
		{"unknown algorithm kept raw", strings.Replace(validCred, "algorithm=MD5", "algorithm=SHA-512-256", 1), with(func(c *Credentials) { c.Algorithm = "SHA-512-256" })},
		{"uppercase short nc", strings.Replace(validCred, "nc=00000001", "nc=1A", 1), with(func(c *Credentials) { c.NC = 0x1a; c.ncText = "1A" })},
		{"no qop, no cnonce, no nc (RFC 2069 form parses; Verify refuses)", `Digest username="bob", realm="x", nonce="n1", uri="sip:x", response="abc"`,
			Credentials{Username: "bob", Realm: "x", Nonce: "n1", URI: "sip:x", Response: "abc", Algorithm: MD5}},
		{"userhash", validCred + ", userhash=TRUE", with(func(c *Credentials) { c.Userhash = true })},
		{"empty quoted username", strings.Replace(validCred, `username="bob"`, `username=""`, 1), with(func(c *Credentials) { c.Username = "" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(tt.in)
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	drop := func(param string) string {
		var kept []string
		for _, p := range strings.Split(strings.TrimPrefix(validCred, "Digest "), ", ") {
			if !strings.HasPrefix(p, param+"=") {
				kept = append(kept, p)
			}
		}
		return "Digest " + strings.Join(kept, ", ")
	}
	tests := []struct {
		name    string
		in      string
		wantErr error
		mention string // the error must name this
	}{
		{"empty", "", ErrNotDigest, `""`},
		{"basic", `Basic Ym9iOnNlY3JldA==`, ErrNotDigest, "Basic"},
		{"scheme glued", `Digestusername="bob"`, ErrNotDigest, "Digestusername"},
		{"scheme only", "Digest", ErrMissingParam, "username"},
		{"missing username", drop("username"), ErrMissingParam, "username"},
		{"missing realm", drop("realm"), ErrMissingParam, "realm"},
		{"missing nonce", drop("nonce"), ErrMissingParam, "nonce"},
		{"missing uri", drop("uri"), ErrMissingParam, "uri"},
		{"missing response", drop("response"), ErrMissingParam, "response"},
		{"qop without cnonce", drop("cnonce"), ErrMissingParam, "cnonce"},
		{"qop without nc", drop("nc"), ErrMissingParam, "nc"},
		{"duplicate", validCred + `, Nonce="n2"`, ErrMalformed, "Nonce"},
		{"unterminated quote", `Digest username="bob, realm=x`, ErrMalformed, "unterminated"},
		{"escaped closing quote", `Digest username="bob\"`, ErrMalformed, "unterminated"},
		{"missing equals", `Digest username "bob"`, ErrMalformed, "username"},
		{"missing value", `Digest username=, realm="x"`, ErrMalformed, "username"},
		{"missing comma", `Digest username="bob" realm="x"`, ErrMalformed, "username"},
		{"garbage after value", `Digest username="bob"x, realm="x"`, ErrMalformed, "username"},
		{"bad nc", strings.Replace(validCred, "nc=00000001", "nc=0000000g", 1), ErrMalformed, "nc"},
		{"nc too long", strings.Replace(validCred, "nc=00000001", "nc=000000001", 1), ErrMalformed, "nc"},
		{"bad userhash", validCred + ", userhash=maybe", ErrMalformed, "userhash"},
		{"param name missing", `Digest ="bob"`, ErrMalformed, "offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCredentials(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// FuzzParseCredentials checks that no input panics the parser or the
// verifier, that accepted inputs satisfy the documented invariants, and that
// garbage never authenticates. Seeds: testdata/fuzz/FuzzParseCredentials.
func FuzzParseCredentials(f *testing.F) {
	f.Add(validCred)
	nonces, err := NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, nil)
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewVerifier(Options{Nonces: nonces, Algorithms: []Algorithm{SHA256, MD5, MD5Sess, SHA256Sess}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCredentials(in)
		if err != nil {
			if !errors.Is(err, ErrNotDigest) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrMissingParam) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if c.Algorithm == "" {
			t.Fatal("accepted credentials without an algorithm")
		}
		if c.QOP != "" && (c.ncText == "" || c.NC == 0 && strings.Trim(c.ncText, "0") != "") {
			t.Fatalf("qop present but nc %q parsed as %d", c.ncText, c.NC)
		}
		if r := v.Verify("REGISTER", c, HA1(c.Algorithm.Base(), c.Username, c.Realm, "pw"), c.Realm); r.OK() || r.Outcome == 0 || r.Outcome > BadRequest {
			t.Fatalf("Verify of fuzzed credentials = %v", r)
		}
	})
}
