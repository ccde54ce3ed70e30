package digest

import "strings"

// Challenge is one Digest challenge, the value of a WWW-Authenticate (401,
// registrar/UAS) or Proxy-Authenticate (407, proxy) header field.
type Challenge struct {
	Realm     string
	Nonce     string
	Opaque    string // omitted from String when empty
	Algorithm Algorithm
	// Stale tells the client that its password was right but the nonce has
	// expired, so it may retry without prompting the user (RFC 7616 §3.3).
	Stale bool
}

// String formats c as a header field value:
//
//	Digest realm="r", nonce="n", opaque="o", algorithm=SHA-256, qop="auth", stale=true
//
// qop="auth" is always offered: RFC 7616 §3.3 makes qop mandatory and
// Verify refuses responses without it. realm, nonce and opaque are written
// as quoted-strings (RFC 3261 §25.1); CR and LF cannot be escaped there and
// are dropped rather than allowed to split the header.
func (c Challenge) String() string {
	var b strings.Builder
	b.Grow(len("Digest realm=\"\", nonce=\"\", opaque=\"\", algorithm=SHA-256-sess, qop=\"auth\", stale=true") +
		len(c.Realm) + len(c.Nonce) + len(c.Opaque) + 8)
	b.WriteString("Digest realm=")
	writeQuoted(&b, c.Realm)
	b.WriteString(", nonce=")
	writeQuoted(&b, c.Nonce)
	if c.Opaque != "" {
		b.WriteString(", opaque=")
		writeQuoted(&b, c.Opaque)
	}
	alg := c.Algorithm
	if alg == "" {
		alg = MD5
	}
	// algorithm is a token, not a quoted-string (RFC 7616 §3.3).
	b.WriteString(", algorithm=")
	b.WriteString(string(alg))
	b.WriteString(`, qop="auth"`)
	if c.Stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}

// writeQuoted writes s as a quoted-string: '"' and '\' become quoted-pairs
// (RFC 3261 §25.1), CR and LF are dropped (no quoted-pair exists for them).
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case '\r', '\n':
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
}
