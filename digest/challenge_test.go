package digest

import (
	"testing"

	client "github.com/icholy/digest"
)

func TestChallengeString(t *testing.T) {
	tests := []struct {
		c    Challenge
		want string
	}{
		{Challenge{Realm: "siplens", Nonce: "abc", Opaque: "op", Algorithm: SHA256},
			`Digest realm="siplens", nonce="abc", opaque="op", algorithm=SHA-256, qop="auth"`},
		{Challenge{Realm: "siplens", Nonce: "abc", Algorithm: MD5, Stale: true},
			`Digest realm="siplens", nonce="abc", algorithm=MD5, qop="auth", stale=true`},
		{Challenge{Realm: "siplens", Nonce: "abc"},
			`Digest realm="siplens", nonce="abc", algorithm=MD5, qop="auth"`},
		{Challenge{Realm: `a "quoted" \ realm` + "\r\nX-Injected: 1", Nonce: "n", Algorithm: MD5},
			`Digest realm="a \"quoted\" \\ realmX-Injected: 1", nonce="n", algorithm=MD5, qop="auth"`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() =\n %s\nwant\n %s", got, tt.want)
		}
	}
}

// The challenge must be understood by the client sipgo uses.
func TestChallengeParsedByClient(t *testing.T) {
	v, err := NewVerifier(Options{Opaque: "op/aque"})
	if err != nil {
		t.Fatal(err)
	}
	cs := v.Challenges(`re"alm`, true)
	if len(cs) != 2 || cs[0].Algorithm != SHA256 || cs[1].Algorithm != MD5 {
		t.Fatalf("Challenges = %+v, want SHA-256 then MD5 (RFC 8760 §2.3)", cs)
	}
	if cs[0].Nonce != cs[1].Nonce {
		t.Error("challenges of one response should share the nonce")
	}
	for _, c := range cs {
		got, err := client.ParseChallenge(c.String())
		if err != nil {
			t.Fatalf("client cannot parse %q: %v", c, err)
		}
		if got.Realm != `re"alm` || got.Nonce != c.Nonce || got.Opaque != "op/aque" ||
			got.Algorithm != string(c.Algorithm) || !got.Stale || !got.SupportsQOP("auth") {
			t.Errorf("client parsed %q as %+v", c, got)
		}
	}
}
