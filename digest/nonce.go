package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
	"time"
)

// DefaultNonceLifetime is how long a nonce is accepted when the Verifier
// creates its own Nonces. Short enough to bound replay state, long enough
// that a user agent answering a challenge never hits it.
const DefaultNonceLifetime = 5 * time.Minute

// MinSecretLen is the shortest HMAC key NewNonces accepts (128 bits).
const MinSecretLen = 16

// Nonce layout: base64url(timestamp || random || mac), 8+8+20 = 36 bytes,
// which encodes to exactly 48 characters without padding (so every nonce has
// a single spelling). The timestamp makes expiry checkable without state;
// the random part makes nonces unique and unpredictable (RFC 7616 §3.3 asks
// for "uniquely generated" nonces); the MAC, HMAC-SHA-256 keyed with a
// server secret over timestamp, random and realm, makes them unforgeable and
// binds each nonce to the realm it was issued for (RFC 7616 §5.5 suggests a
// keyed hash over a time stamp). The MAC is truncated to 160 bits, which
// RFC 2104 §5 allows.
const (
	nonceTSLen   = 8
	nonceRandLen = 8
	nonceIDLen   = nonceTSLen + nonceRandLen
	nonceMACLen  = 20
	nonceRawLen  = nonceIDLen + nonceMACLen
	nonceLen     = nonceRawLen / 3 * 4
)

// nonceID identifies a nonce (timestamp || random) in the replay table.
type nonceID [nonceIDLen]byte

// NonceStatus is the result of checking a nonce.
type NonceStatus uint8

const (
	// NonceInvalid: not issued by us (bad MAC), for another realm, or
	// malformed.
	NonceInvalid NonceStatus = iota
	// NonceValid: issued by us for this realm and not expired.
	NonceValid
	// NonceExpired: issued by us for this realm, but older than the
	// lifetime; the client should get a challenge with stale=true.
	NonceExpired
)

func (s NonceStatus) String() string {
	switch s {
	case NonceValid:
		return "valid"
	case NonceExpired:
		return "expired"
	}
	return "invalid"
}

// Nonces issues and checks stateless, expiring nonces. It is safe for
// concurrent use.
type Nonces struct {
	lifetime time.Duration
	now      func() time.Time
	macs     sync.Pool // *macState; hmac.New allocates, so states are reused
}

type macState struct {
	h   hash.Hash
	buf []byte // timestamp || random || realm; grows to the longest realm seen
	sum []byte
}

// NewNonces returns a nonce issuer. secret keys the MAC; if it is empty a
// random 32-byte secret is generated, which is what a single process wants:
// the replay table lives in memory, so a secret that survived a restart
// would let nonces captured before the restart be replayed after it, within
// their lifetime. Share an explicit secret only between instances that also
// share replay state. lifetime must be positive; now may be nil for
// time.Now (tests inject a clock).
func NewNonces(secret []byte, lifetime time.Duration, now func() time.Time) (*Nonces, error) {
	if lifetime <= 0 {
		return nil, fmt.Errorf("digest: nonce lifetime %v must be positive", lifetime)
	}
	switch {
	case len(secret) == 0:
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("digest: generate nonce secret: %w", err)
		}
	case len(secret) < MinSecretLen:
		return nil, fmt.Errorf("digest: nonce secret has %d bytes, want at least %d", len(secret), MinSecretLen)
	default:
		secret = append([]byte(nil), secret...) // the caller may reuse its slice
	}
	if now == nil {
		now = time.Now
	}
	n := &Nonces{lifetime: lifetime, now: now}
	n.macs.New = func() any {
		return &macState{h: hmac.New(sha256.New, secret), sum: make([]byte, 0, sha256.Size)}
	}
	return n, nil
}

// Lifetime returns how long a nonce stays valid.
func (n *Nonces) Lifetime() time.Duration { return n.lifetime }

// New returns a fresh nonce for realm.
func (n *Nonces) New(realm string) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTSLen], uint64(n.now().UnixNano()))
	// crypto/rand.Read never fails since Go 1.24 (it crashes the program
	// instead), so the error is only checked for form.
	if _, err := rand.Read(raw[nonceTSLen:nonceIDLen]); err != nil {
		panic(fmt.Errorf("digest: read random nonce bytes: %w", err))
	}
	n.mac(raw[nonceIDLen:], raw[:nonceIDLen], realm)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Check reports whether nonce was issued by n for realm and whether it has
// expired.
func (n *Nonces) Check(nonce, realm string) NonceStatus {
	_, _, st := n.check(nonce, realm, n.now().UnixNano())
	return st
}

// check is Check for the Verifier: it also returns the nonce's identity and
// issue time (Unix ns) for the replay table. It does not allocate.
func (n *Nonces) check(nonce, realm string, now int64) (id nonceID, issued int64, st NonceStatus) {
	if len(nonce) != nonceLen {
		return id, 0, NonceInvalid
	}
	// Copy into an array so that decoding needs no []byte(nonce) allocation.
	var enc [nonceLen]byte
	copy(enc[:], nonce)
	var raw [nonceRawLen]byte
	if k, err := base64.RawURLEncoding.Decode(raw[:], enc[:]); err != nil || k != nonceRawLen {
		return id, 0, NonceInvalid
	}
	var want [nonceMACLen]byte
	n.mac(want[:], raw[:nonceIDLen], realm)
	// Constant-time, so that the MAC cannot be guessed byte by byte.
	if !hmac.Equal(want[:], raw[nonceIDLen:]) {
		return id, 0, NonceInvalid
	}
	copy(id[:], raw[:nonceIDLen])
	issued = int64(binary.BigEndian.Uint64(raw[:nonceTSLen]))
	if now-issued >= int64(n.lifetime) {
		return id, issued, NonceExpired
	}
	return id, issued, NonceValid
}

// mac writes the truncated HMAC of id || realm to dst.
func (n *Nonces) mac(dst, id []byte, realm string) {
	st := n.macs.Get().(*macState)
	st.buf = append(append(st.buf[:0], id...), realm...)
	st.h.Reset()
	st.h.Write(st.buf)
	st.sum = st.h.Sum(st.sum[:0])
	copy(dst, st.sum[:nonceMACLen])
	if cap(st.buf) > 4096 {
		st.buf = nil // do not pin memory for an absurdly long realm
	}
	n.macs.Put(st)
}
