package digest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable, concurrency-safe clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var testSecret = []byte("test secret, 32 bytes long......")

func newTestNonces(t testing.TB, lifetime time.Duration) (*Nonces, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	n, err := NewNonces(testSecret, lifetime, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return n, clk
}

func TestNewNoncesErrors(t *testing.T) {
	if _, err := NewNonces(testSecret, 0, nil); err == nil {
		t.Error("zero lifetime accepted")
	}
	if _, err := NewNonces([]byte("short"), time.Minute, nil); err == nil {
		t.Error("5-byte secret accepted")
	}
	if n, err := NewNonces(nil, time.Minute, nil); err != nil || n.Check(n.New("r"), "r") != NonceValid {
		t.Errorf("nil secret (random) does not work: %v", err)
	}
}

func TestNonceLifecycle(t *testing.T) {
	const life = time.Minute
	n, clk := newTestNonces(t, life)
	nonce := n.New("realm")
	if len(nonce) != nonceLen {
		t.Fatalf("nonce %q has length %d, want %d", nonce, len(nonce), nonceLen)
	}
	if n.New("realm") == nonce {
		t.Fatal("two nonces are equal")
	}
	steps := []struct {
		advance time.Duration
		want    NonceStatus
	}{
		{0, NonceValid},
		{life - time.Nanosecond, NonceValid},
		{time.Nanosecond, NonceExpired}, // exactly lifetime old
		{time.Hour, NonceExpired},       // still authentic, still stale
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := n.Check(nonce, "realm"); got != s.want {
			t.Errorf("step %d: Check = %v, want %v", i, got, s.want)
		}
	}
}

func TestNonceForgery(t *testing.T) {
	n, _ := newTestNonces(t, time.Minute)
	nonce := n.New("realm")
	other, _ := NewNonces([]byte("another secret, also 32 bytes..."), time.Minute, nil)

	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"empty":          "",
		"truncated":      nonce[:len(nonce)-1],
		"extended":       nonce + "A",
		"not base64":     nonce[:len(nonce)-1] + "!",
		"other secret":   other.New("realm"),
		"newline inside": nonce[:10] + "\n" + nonce[11:],
	}
	// Flipping any single bit of the decoded nonce (timestamp, random or
	// MAC) must invalidate it.
	for i := range raw {
		mod := bytes.Clone(raw)
		mod[i] ^= 0x01
		tests[fmt.Sprintf("bit flip in byte %d", i)] = base64.RawURLEncoding.EncodeToString(mod)
	}
	for name, bad := range tests {
		if got := n.Check(bad, "realm"); got != NonceInvalid {
			t.Errorf("%s: Check(%q) = %v, want invalid", name, bad, got)
		}
	}
	if got := n.Check(nonce, "other realm"); got != NonceInvalid {
		t.Errorf("nonce accepted for another realm: %v", got)
	}
}

func TestNonceSecretIsCopied(t *testing.T) {
	secret := bytes.Clone(testSecret)
	n, err := NewNonces(secret, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	nonce := n.New("r")
	secret[0] ^= 0xff
	if n.Check(nonce, "r") != NonceValid {
		t.Error("mutating the caller's secret slice changed the Nonces key")
	}
}

func TestNonceLongRealm(t *testing.T) {
	n, _ := newTestNonces(t, time.Minute)
	realm := string(bytes.Repeat([]byte("r"), 10000))
	if n.Check(n.New(realm), realm) != NonceValid {
		t.Error("nonce for a long realm not valid")
	}
}
