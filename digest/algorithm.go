package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Algorithm is the value of the digest "algorithm" parameter, in its
// canonical spelling from the IANA "HTTP Digest Algorithm Values" registry
// (RFC 7616 §6.1).
type Algorithm string

// Supported algorithms. RFC 8760 §2.1 lets SIP use any algorithm of the
// registry; we implement the two that SIP user agents actually ship.
const (
	MD5        Algorithm = "MD5"
	SHA256     Algorithm = "SHA-256"
	MD5Sess    Algorithm = "MD5-sess"
	SHA256Sess Algorithm = "SHA-256-sess"
)

// maxHashSize is the largest digest size we handle (SHA-256), used to size
// stack buffers so that verification does not allocate.
const maxHashSize = sha256.Size

// ParseAlgorithm returns the canonical Algorithm for s, compared
// case-insensitively because real user agents send "md5" or "sha-256" even
// though the registry spelling is fixed. An empty s means MD5: RFC 7616 §3.3
// ("If this is not present, it is assumed to be MD5"), which is also the
// RFC 3261 §22.4 default.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch {
	case s == "":
		return MD5, nil
	case strings.EqualFold(s, string(MD5)):
		return MD5, nil
	case strings.EqualFold(s, string(SHA256)):
		return SHA256, nil
	case strings.EqualFold(s, string(MD5Sess)):
		return MD5Sess, nil
	case strings.EqualFold(s, string(SHA256Sess)):
		return SHA256Sess, nil
	}
	return "", fmt.Errorf("digest: unsupported algorithm %q", s)
}

// Base returns the non-session algorithm whose hash function a uses: MD5 for
// MD5-sess, SHA-256 for SHA-256-sess. The stored HA1 of a user for a session
// variant is the one of its base algorithm (RFC 7616 §3.4.2 builds the
// session A1 on top of H(username:realm:password)), so user stores should
// look HA1 up by Base(). Base returns "" for an unsupported algorithm.
func (a Algorithm) Base() Algorithm {
	switch a {
	case MD5, MD5Sess:
		return MD5
	case SHA256, SHA256Sess:
		return SHA256
	}
	return ""
}

// Session reports whether a is a "-sess" variant (RFC 7616 §3.4.2).
func (a Algorithm) Session() bool { return a == MD5Sess || a == SHA256Sess }

// Supported reports whether this package implements a.
func (a Algorithm) Supported() bool { return a.Base() != "" }

// hexLen is the length of an H(...) value in lowercase hex for a (32 for MD5,
// 64 for SHA-256), 0 if a is unsupported. RFC 8760 §2.2: the digest is
// represented as lowercase hex, so its length follows from the algorithm.
func (a Algorithm) hexLen() int {
	switch a.Base() {
	case MD5:
		return 2 * md5.Size
	case SHA256:
		return 2 * sha256.Size
	}
	return 0
}

// sumHex writes the lowercase hex of H(in) to dst, which must hold
// a.hexLen() bytes, and returns the written prefix of dst. md5.Sum and
// sha256.Sum256 return arrays, so nothing is allocated.
func (a Algorithm) sumHex(dst, in []byte) []byte {
	switch a.Base() {
	case MD5:
		s := md5.Sum(in)
		hex.Encode(dst, s[:])
		return dst[:2*md5.Size]
	case SHA256:
		s := sha256.Sum256(in)
		hex.Encode(dst, s[:])
		return dst[:2*sha256.Size]
	}
	panic("digest: sumHex on unsupported algorithm " + string(a)) // callers check Supported first
}

// HA1 returns hex(H(user ":" realm ":" password)), the value a user store
// keeps instead of the password (RFC 7616 §3.4.2, RFC 3261 §22.4). For the
// "-sess" variants it returns the HA1 of the base algorithm, which is what
// Verify expects; the per-nonce session key is derived during verification.
// It returns "" for an unsupported algorithm.
//
// user and realm must be exactly what the client will send (the realm is the
// one in our challenge), since they are hashed as-is.
func HA1(alg Algorithm, user, realm, password string) string {
	if !alg.Supported() {
		return ""
	}
	buf := make([]byte, 0, len(user)+len(realm)+len(password)+2)
	buf = append(buf, user...)
	buf = append(buf, ':')
	buf = append(buf, realm...)
	buf = append(buf, ':')
	buf = append(buf, password...)
	var out [2 * maxHashSize]byte
	return string(alg.sumHex(out[:], buf))
}
