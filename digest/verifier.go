package digest

import (
	"crypto/subtle"
	"fmt"
	"strings"
)

// Outcome classifies a verification. The zero value is deliberately not OK,
// so that a forgotten or zero Result never authenticates anybody.
type Outcome uint8

const (
	_ Outcome = iota
	// OK: the credentials are valid; the request is authenticated.
	OK
	// Stale: the password is right but the nonce expired (or its replay
	// state was dropped under memory pressure). Re-challenge with
	// stale=true so the client retries without prompting (RFC 7616 §3.3).
	Stale
	// BadNonce: the nonce was not issued by us for this realm (forged,
	// from another server or realm, or mangled). Re-challenge.
	BadNonce
	// Replay: the nonce-count was not higher than one already accepted for
	// this nonce. Re-challenge: an honest client gets a fresh nonce, an
	// attacker gains nothing.
	Replay
	// WrongPassword: the response does not match the HA1 (or there is no
	// HA1 for this user and algorithm). Typically 403 Forbidden.
	WrongPassword
	// BadRequest: the credentials can never be valid: realm mismatch,
	// algorithm not offered, qop missing or unsupported, malformed
	// response, ... Typically 400 Bad Request (or a new challenge).
	BadRequest
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "OK"
	case Stale:
		return "Stale"
	case BadNonce:
		return "BadNonce"
	case Replay:
		return "Replay"
	case WrongPassword:
		return "WrongPassword"
	case BadRequest:
		return "BadRequest"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Result is the verdict of Verify. Reason explains any outcome but OK, for
// logs; it is not meant to be sent to the client.
type Result struct {
	Outcome Outcome
	Reason  string
}

// OK reports whether the request is authenticated.
func (r Result) OK() bool { return r.Outcome == OK }

func (r Result) String() string {
	if r.Reason == "" {
		return r.Outcome.String()
	}
	return r.Outcome.String() + ": " + r.Reason
}

// Options configures a Verifier. The zero value is usable.
type Options struct {
	// Nonces issues and checks nonces. Nil: a random secret,
	// DefaultNonceLifetime and time.Now.
	Nonces *Nonces
	// Algorithms offered by Challenges, most preferred first, and the only
	// ones Verify accepts. Empty: SHA-256 then MD5, the order RFC 8760 §2.3
	// asks for (most preferred first) with MD5 kept for old user agents.
	Algorithms []Algorithm
	// Opaque, if not empty, is sent in every challenge and must come back
	// unchanged (RFC 7616 §3.3, §3.4).
	Opaque string
	// MaxTrackedNonces bounds the replay table. 0: DefaultMaxTrackedNonces.
	MaxTrackedNonces int
}

// Verifier issues challenges and verifies Digest credentials. It is safe
// for concurrent use.
type Verifier struct {
	nonces *Nonces
	algs   []Algorithm
	opaque string
	replay *replayTable
}

// NewVerifier returns a Verifier configured by opts.
func NewVerifier(opts Options) (*Verifier, error) {
	v := &Verifier{nonces: opts.Nonces, opaque: opts.Opaque}
	if v.nonces == nil {
		n, err := NewNonces(nil, DefaultNonceLifetime, nil)
		if err != nil {
			return nil, fmt.Errorf("digest: new verifier: %w", err)
		}
		v.nonces = n
	}
	algs := opts.Algorithms
	if len(algs) == 0 {
		algs = []Algorithm{SHA256, MD5}
	}
	for i, a := range algs {
		if !a.Supported() {
			return nil, fmt.Errorf("digest: new verifier: unsupported algorithm %q", a)
		}
		for _, b := range algs[:i] {
			if a == b {
				// RFC 8760 §2.3: at most one challenge per algorithm and realm.
				return nil, fmt.Errorf("digest: new verifier: algorithm %q listed twice", a)
			}
		}
	}
	v.algs = append([]Algorithm(nil), algs...)
	if strings.ContainsAny(opts.Opaque, "\r\n") {
		return nil, fmt.Errorf("digest: new verifier: opaque %q contains CR or LF", opts.Opaque)
	}
	maxTracked := opts.MaxTrackedNonces
	switch {
	case maxTracked < 0:
		return nil, fmt.Errorf("digest: new verifier: MaxTrackedNonces %d is negative", maxTracked)
	case maxTracked == 0:
		maxTracked = DefaultMaxTrackedNonces
	}
	v.replay = newReplayTable(int64(v.nonces.Lifetime()), maxTracked)
	return v, nil
}

// Challenges returns one challenge per configured algorithm, in order of
// preference, all carrying the same fresh nonce. Put each in its own
// WWW-Authenticate (401) or Proxy-Authenticate (407) header field, in this
// order (RFC 8760 §2.3). Set stale after a Stale outcome.
func (v *Verifier) Challenges(realm string, stale bool) []Challenge {
	nonce := v.nonces.New(realm)
	out := make([]Challenge, len(v.algs))
	for i, a := range v.algs {
		out[i] = Challenge{Realm: realm, Nonce: nonce, Opaque: v.opaque, Algorithm: a, Stale: stale}
	}
	return out
}

func (v *Verifier) offers(a Algorithm) bool {
	for _, b := range v.algs {
		if a == b {
			return true
		}
	}
	return false
}

// Verify checks cred, received with a request of the given method (the SIP
// method, e.g. "REGISTER"), against expectedRealm, the realm this server
// challenges with.
//
// ha1 is the stored hex H(username:realm:password) of cred.Username, for the
// hash function of cred.Algorithm, i.e. the value HA1(cred.Algorithm.Base(),
// ...) returned when the account was provisioned. Pass "" when the user is
// unknown or has no HA1 for that hash: the outcome is then WrongPassword,
// the same as for a wrong password. The caller picks the HA1 because only
// it knows the user store; taking one string keeps Verify free of callbacks
// and allocations.
//
// Verify does not compare cred.URI with the Request-URI; the caller should
// (RFC 7616 §3.4.6), since only it can parse and compare SIP URIs.
//
// A successful Verify consumes the nonce-count: the same credentials
// verified again yield Replay. SIP retransmissions are absorbed by the
// transaction layer before they reach the handler, so this only refuses
// genuine replays.
func (v *Verifier) Verify(method string, cred Credentials, ha1, expectedRealm string) Result {
	alg := cred.Algorithm
	if alg == "" {
		alg = MD5 // RFC 7616 §3.3 default, for hand-built Credentials
	}
	// Cheap syntactic and policy checks first: none needs the nonce or the
	// HA1, and each identifies a request that can never succeed.
	switch {
	case cred.QOP == "":
		// RFC 7616 §3.3 makes qop mandatory and we always offer qop="auth";
		// an RFC 2069-style response without qop has no cnonce and no nc,
		// hence no replay protection, so it is refused, not downgraded.
		return Result{BadRequest, "qop is missing; qop=auth is required (RFC 2069-style responses are not accepted)"}
	case !strings.EqualFold(cred.QOP, "auth"):
		return Result{BadRequest, fmt.Sprintf("qop %q is not supported; only auth is offered", cred.QOP)}
	case !alg.Supported():
		return Result{BadRequest, fmt.Sprintf("algorithm %q is not supported", string(alg))}
	case !v.offers(alg):
		return Result{BadRequest, fmt.Sprintf("algorithm %q was not offered", string(alg))}
	case cred.Userhash:
		return Result{BadRequest, "userhash=true is not supported (never offered; RFC 7616 §3.4.4)"}
	case cred.Realm != expectedRealm:
		// The realm is hashed into HA1, so a response for another realm
		// cannot match ours (RFC 3261 §22.1: realms are protection domains).
		return Result{BadRequest, fmt.Sprintf("realm %q does not match %q", cred.Realm, expectedRealm)}
	case cred.CNonce == "":
		return Result{BadRequest, "cnonce is missing; it is required with qop (RFC 7616 §3.4)"}
	case cred.NC == 0:
		// nc counts requests made with the nonce, starting at 1
		// (RFC 7616 §3.4); 0 would be a replay of nothing.
		return Result{BadRequest, "nc is missing or 0; it must start at 00000001"}
	case v.opaque != "" && cred.Opaque != v.opaque:
		return Result{BadRequest, "opaque was not returned unchanged (RFC 7616 §3.4)"}
	}
	n := alg.hexLen()
	var resp [2 * maxHashSize]byte
	if !lowerHex(resp[:], cred.Response, n) {
		return Result{BadRequest, fmt.Sprintf("response is not %d hex digits as %s requires", n, alg)}
	}

	now := v.nonces.now().UnixNano()
	id, issued, st := v.nonces.check(cred.Nonce, expectedRealm, now)
	if st == NonceInvalid {
		return Result{BadNonce, "nonce was not issued by this server for this realm"}
	}

	// The response is checked before expiry and replay state: stale=true
	// must only be sent to a client that proved it knows the password
	// (RFC 7616 §3.3), and the replay table must only be updated by
	// authentic requests, or an attacker could burn a victim's nonce-counts
	// by sending a high nc with a bogus response.
	var key [2 * maxHashSize]byte
	if len(ha1) == 0 {
		return Result{WrongPassword, "no HA1 for this user and algorithm"}
	}
	if !lowerHex(key[:], ha1, n) {
		return Result{WrongPassword, fmt.Sprintf("stored HA1 is not %d hex digits as %s requires (server misconfiguration?)", n, alg)}
	}
	var want [2 * maxHashSize]byte
	expected := responseDigest(want[:], alg, key[:n], method, cred)
	// Constant time, so the response cannot be found digit by digit.
	if subtle.ConstantTimeCompare(expected, resp[:n]) != 1 {
		return Result{WrongPassword, "response does not match"}
	}

	if st == NonceExpired {
		return Result{Stale, "nonce expired"}
	}
	switch v.replay.observe(id, issued, cred.NC, now) {
	case ncReplay:
		return Result{Replay, "nc was already used with this nonce"}
	case ncForgotten:
		return Result{Stale, "nonce no longer tracked (replay table full)"}
	}
	return Result{Outcome: OK}
}

// responseDigest computes the request-digest for qop=auth into dst
// (RFC 7616 §3.4.1):
//
//	response = H(A1' ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
//	A2       = method ":" uri                      (§3.4.3, qop=auth)
//	A1'      = HA1                                 (plain algorithms)
//	A1'      = H(HA1 ":" nonce ":" cnonce)         (-sess, §3.4.2)
//
// All values are hashed as the client sent them. Buffers live on the stack
// unless the inputs are unusually long.
func responseDigest(dst []byte, alg Algorithm, ha1 []byte, method string, c Credentials) []byte {
	var stack [512]byte
	var ha2Buf, sessBuf [2 * maxHashSize]byte

	buf := append(stack[:0], method...)
	buf = append(buf, ':')
	buf = append(buf, c.URI...)
	ha2 := alg.sumHex(ha2Buf[:], buf)

	if alg.Session() {
		buf = append(buf[:0], ha1...)
		buf = append(buf, ':')
		buf = append(buf, c.Nonce...)
		buf = append(buf, ':')
		buf = append(buf, c.CNonce...)
		ha1 = alg.sumHex(sessBuf[:], buf)
	}

	buf = append(buf[:0], ha1...)
	buf = append(buf, ':')
	buf = append(buf, c.Nonce...)
	buf = append(buf, ':')
	if c.ncText != "" {
		buf = append(buf, c.ncText...)
	} else {
		// Hand-built Credentials: the canonical 8LHEX form (RFC 7616 §3.4).
		buf = appendNC(buf, c.NC)
	}
	buf = append(buf, ':')
	buf = append(buf, c.CNonce...)
	buf = append(buf, ':')
	buf = append(buf, c.QOP...)
	buf = append(buf, ':')
	buf = append(buf, ha2...)
	return alg.sumHex(dst, buf)
}

func appendNC(b []byte, nc uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[nc>>uint(shift)&0xf])
	}
	return b
}

// lowerHex copies s, which must be exactly n hex digits, into dst in lower
// case. Digests are lowercase hex (RFC 8760 §2.2), but some clients and
// provisioning tools use upper case; folding makes both compare equal.
func lowerHex(dst []byte, s string, n int) bool {
	if len(s) != n || n > len(dst) {
		return false
	}
	for i := 0; i < n; i++ {
		ch := s[i]
		switch {
		case '0' <= ch && ch <= '9', 'a' <= ch && ch <= 'f':
		case 'A' <= ch && ch <= 'F':
			ch += 'a' - 'A'
		default:
			return false
		}
		dst[i] = ch
	}
	return true
}
