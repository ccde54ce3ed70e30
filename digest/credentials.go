package digest

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned (wrapped, with the offending parameter named) by
// ParseCredentials; test with errors.Is.
var (
	// ErrNotDigest: the header uses another scheme, e.g. Basic, which
	// RFC 3261 §22.4 forbids SIP servers to accept.
	ErrNotDigest = errors.New("not a Digest credential")
	// ErrMalformed: the header does not follow the auth-param grammar.
	ErrMalformed = errors.New("malformed")
	// ErrMissingParam: a parameter required by RFC 7616 §3.4 is absent.
	ErrMissingParam = errors.New("missing parameter")
)

// Credentials is a parsed Authorization / Proxy-Authorization Digest value
// (RFC 3261 §22.4, RFC 7616 §3.4). Values are unescaped.
type Credentials struct {
	Username string
	Realm    string
	Nonce    string
	URI      string // digest-uri as sent; the caller should check it against the Request-URI
	Response string // request-digest, hex
	// Algorithm is canonical (MD5, SHA-256, ...) when supported, the raw
	// value otherwise (Verify then reports it), and MD5 when absent
	// (RFC 7616 §3.3 default).
	Algorithm Algorithm
	CNonce    string
	QOP       string // as sent; "" when absent
	NC        uint32 // nonce-count; 0 when absent
	Opaque    string
	Userhash  bool // RFC 7616 §3.4.4; we never offer it, Verify refuses it

	// ncText is nc exactly as received: the client hashed that text, so
	// Verify must hash the same bytes (e.g. "0000000A" vs "0000000a").
	ncText string
}

// Parameter bits, to detect duplicates (RFC 3261 §7.3.1: "any given
// parameter-name MUST NOT appear more than once") and missing fields without
// allocating a map.
const (
	pUsername uint16 = 1 << iota
	pRealm
	pNonce
	pURI
	pResponse
	pAlgorithm
	pCNonce
	pQOP
	pNC
	pOpaque
	pUserhash
)

// paramName returns the name of the parameter with the given bit. Missing
// parameters are reported lowest bit first.
func paramName(bit uint16) string {
	switch bit {
	case pUsername:
		return "username"
	case pRealm:
		return "realm"
	case pNonce:
		return "nonce"
	case pURI:
		return "uri"
	case pResponse:
		return "response"
	case pAlgorithm:
		return "algorithm"
	case pCNonce:
		return "cnonce"
	case pQOP:
		return "qop"
	case pNC:
		return "nc"
	case pOpaque:
		return "opaque"
	case pUserhash:
		return "userhash"
	}
	return ""
}

// knownParam maps a parameter name to its bit, 0 for extensions we ignore.
// Names compare case-insensitively (RFC 3261 §7.3.1).
func knownParam(name string) uint16 {
	for bit := pUsername; bit <= pUserhash; bit <<= 1 {
		if n := paramName(bit); len(n) == len(name) && strings.EqualFold(n, name) {
			return bit
		}
	}
	return 0
}

// ParseCredentials parses the value of an Authorization or
// Proxy-Authorization header field:
//
//	Digest username="bob", realm="x", nonce="...", uri="sip:x",
//	  response="...", algorithm=MD5, cnonce="...", qop=auth, nc=00000001
//
// It accepts any linear whitespace around tokens, '=' and ',', empty list
// elements, quoted-strings with quoted-pairs, unquoted values, and parameter
// names in any case; unknown parameters are ignored (RFC 7616 §3.4
// auth-param). username, realm, nonce, uri and response are required, and
// cnonce and nc as well when qop is present (RFC 7616 §3.4). It never panics;
// errors wrap ErrNotDigest, ErrMalformed or ErrMissingParam.
//
// Parsing only checks syntax; Verify checks the values.
func ParseCredentials(value string) (Credentials, error) {
	var c Credentials
	p := scanner{s: value}
	p.skipLWS()
	scheme := p.token()
	if !strings.EqualFold(scheme, "Digest") {
		return Credentials{}, fmt.Errorf("digest: credentials scheme %q: %w", scheme, ErrNotDigest)
	}
	if !p.eof() && !isLWS(p.peek()) {
		return Credentials{}, fmt.Errorf("digest: credentials: %w: expected space after scheme at offset %d", ErrMalformed, p.i)
	}
	var seen uint16
	for {
		// Empty list elements (",,") are legal in a #rule list.
		for {
			p.skipLWS()
			if !p.consume(',') {
				break
			}
		}
		if p.eof() {
			break
		}
		start := p.i
		name := p.token()
		if name == "" {
			return Credentials{}, fmt.Errorf("digest: credentials: %w: expected parameter name at offset %d", ErrMalformed, start)
		}
		p.skipLWS()
		if !p.consume('=') {
			return Credentials{}, fmt.Errorf("digest: credentials: %w: expected '=' after %q", ErrMalformed, name)
		}
		p.skipLWS()
		val, err := p.value()
		if err != nil {
			return Credentials{}, fmt.Errorf("digest: credentials: parameter %q: %w", name, err)
		}
		if bit := knownParam(name); bit != 0 {
			if seen&bit != 0 {
				return Credentials{}, fmt.Errorf("digest: credentials: %w: duplicate parameter %q", ErrMalformed, name)
			}
			seen |= bit
			if err := c.set(bit, val); err != nil {
				return Credentials{}, fmt.Errorf("digest: credentials: parameter %q: %w", name, err)
			}
		}
		p.skipLWS()
		if !p.eof() && !p.consume(',') {
			return Credentials{}, fmt.Errorf("digest: credentials: %w: expected ',' after parameter %q at offset %d", ErrMalformed, name, p.i)
		}
	}

	required := pUsername | pRealm | pNonce | pURI | pResponse
	if seen&pQOP != 0 {
		// RFC 7616 §3.4: cnonce and nc "MUST be specified if a qop
		// parameter is sent".
		required |= pCNonce | pNC
	}
	if missing := required &^ seen; missing != 0 {
		return Credentials{}, fmt.Errorf("digest: credentials: %w %q", ErrMissingParam, paramName(missing&-missing))
	}
	if seen&pAlgorithm == 0 {
		c.Algorithm = MD5 // RFC 7616 §3.3: absent means MD5
	}
	return c, nil
}

// set stores one known parameter, validating the few with a fixed syntax.
func (c *Credentials) set(bit uint16, val string) error {
	switch bit {
	case pUsername:
		c.Username = val
	case pRealm:
		c.Realm = val
	case pNonce:
		c.Nonce = val
	case pURI:
		c.URI = val
	case pResponse:
		c.Response = val
	case pAlgorithm:
		if a, err := ParseAlgorithm(val); err == nil {
			c.Algorithm = a
		} else {
			c.Algorithm = Algorithm(val) // Verify names it in its Reason
		}
	case pCNonce:
		c.CNonce = val
	case pQOP:
		c.QOP = val
	case pNC:
		n, ok := parseNC(val)
		if !ok {
			return fmt.Errorf("%w: nc %q is not 1 to 8 hex digits", ErrMalformed, val)
		}
		c.NC, c.ncText = n, val
	case pOpaque:
		c.Opaque = val
	case pUserhash:
		switch {
		case strings.EqualFold(val, "true"):
			c.Userhash = true
		case strings.EqualFold(val, "false"):
			c.Userhash = false
		default:
			return fmt.Errorf("%w: userhash %q is neither true nor false", ErrMalformed, val)
		}
	}
	return nil
}

// parseNC parses nc-value. RFC 7616 §3.4 says exactly 8 lowercase hex
// digits; we accept 1 to 8 hex digits of either case, because the client
// hashes the text it sent and ncText preserves it.
func parseNC(s string) (uint32, bool) {
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(s); i++ {
		d, ok := hexVal(s[i])
		if !ok {
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

func hexVal(ch byte) (byte, bool) {
	switch {
	case '0' <= ch && ch <= '9':
		return ch - '0', true
	case 'a' <= ch && ch <= 'f':
		return ch - 'a' + 10, true
	case 'A' <= ch && ch <= 'F':
		return ch - 'A' + 10, true
	}
	return 0, false
}

// scanner walks a header value. All methods are bounds-checked so that
// arbitrary input cannot panic.
type scanner struct {
	s string
	i int
}

func (p *scanner) eof() bool  { return p.i >= len(p.s) }
func (p *scanner) peek() byte { return p.s[p.i] }

func (p *scanner) consume(ch byte) bool {
	if p.i < len(p.s) && p.s[p.i] == ch {
		p.i++
		return true
	}
	return false
}

// isLWS: SP and HTAB, plus CR and LF in case the value still contains a
// folded line (RFC 3261 §7.3.1 LWS).
func isLWS(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' }

func (p *scanner) skipLWS() {
	for p.i < len(p.s) && isLWS(p.s[p.i]) {
		p.i++
	}
}

// isTokenChar reports whether ch may appear in a token (RFC 3261 §25.1).
func isTokenChar(ch byte) bool {
	switch {
	case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", ch) >= 0
}

func (p *scanner) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a quoted-string or an unquoted value. Unquoted values are
// accepted up to the next ',', whitespace or '"' rather than strictly as
// tokens, because some user agents send uri=sip:... without quotes. Quoted
// values without quoted-pairs are returned as substrings of the input (no
// allocation).
func (p *scanner) value() (string, error) {
	if !p.consume('"') {
		start := p.i
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if ch == ',' || ch == '"' || isLWS(ch) {
				break
			}
			p.i++
		}
		if p.i == start {
			return "", fmt.Errorf("%w: empty value at offset %d", ErrMalformed, start)
		}
		return p.s[start:p.i], nil
	}
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			v := p.s[start:p.i]
			p.i++
			if escaped {
				v = unescape(v)
			}
			return v, nil
		case '\\':
			// quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F), RFC 3261 §25.1
			escaped = true
			p.i += 2
			continue
		}
		p.i++
	}
	return "", fmt.Errorf("%w: unterminated quoted-string starting at offset %d", ErrMalformed, start-1)
}

// unescape removes the backslash of each quoted-pair of the body of a
// quoted-string whose closing quote has already been found.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
