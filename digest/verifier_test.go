package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	client "github.com/icholy/digest"
)

const (
	testRealm  = "siplens.test"
	testUser   = "bob"
	testPass   = "s3cret"
	testMethod = "REGISTER"
	testURI    = "sip:siplens.test"
	lifetime   = time.Minute
)

type fixture struct {
	v   *Verifier
	clk *fakeClock
}

func newFixture(t testing.TB, opts Options) fixture {
	t.Helper()
	n, clk := newTestNonces(t, lifetime)
	opts.Nonces = n
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{v, clk}
}

// challenge returns the fixture's challenge for alg.
func (f fixture) challenge(t testing.TB, alg Algorithm) Challenge {
	t.Helper()
	for _, c := range f.v.Challenges(testRealm, false) {
		if c.Algorithm == alg {
			return c
		}
	}
	t.Fatalf("no %s challenge", alg)
	return Challenge{}
}

// answer plays the client, with github.com/icholy/digest (sipgo's client
// library), and returns the Authorization header value.
func answer(t testing.TB, c Challenge, password string, nc int) string {
	t.Helper()
	chal, err := client.ParseChallenge(c.String())
	if err != nil {
		t.Fatalf("client: parse challenge: %v", err)
	}
	cred, err := client.Digest(chal, client.Options{
		Method: testMethod, URI: testURI, Username: testUser, Password: password, Count: nc,
	})
	if err != nil {
		t.Fatalf("client: digest: %v", err)
	}
	return cred.String()
}

func parse(t testing.TB, header string) Credentials {
	t.Helper()
	c, err := ParseCredentials(header)
	if err != nil {
		t.Fatalf("ParseCredentials(%q): %v", header, err)
	}
	return c
}

func ha1For(alg Algorithm) string { return HA1(alg.Base(), testUser, testRealm, testPass) }

func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		alg      Algorithm
		opts     Options
		password string                     // client's password; testPass if empty
		advance  time.Duration              // clock moves between challenge and Verify
		header   func(h string) string      // edits the Authorization value
		cred     func(c *Credentials)       // edits the parsed credentials
		ha1      func(alg Algorithm) string // stored HA1; ha1For if nil
		realm    string                     // expected realm; testRealm if empty
		want     Outcome
		reason   string // substring of Result.Reason
	}{
		{name: "MD5 ok", alg: MD5, want: OK},
		{name: "SHA-256 ok", alg: SHA256, want: OK},
		{name: "uppercase response ok", alg: SHA256, want: OK,
			cred: func(c *Credentials) { c.Response = strings.ToUpper(c.Response) }},
		{name: "uppercase stored HA1 ok", alg: MD5, want: OK,
			ha1: func(a Algorithm) string { return strings.ToUpper(ha1For(a)) }},
		{name: "lowercase algorithm token ok", alg: MD5, want: OK,
			header: func(h string) string { return strings.Replace(h, "algorithm=MD5", "algorithm=md5", 1) }},
		{name: "just before expiry ok", alg: SHA256, advance: lifetime - time.Second, want: OK},
		{name: "opaque ok", alg: SHA256, opts: Options{Opaque: "xyz"}, want: OK},

		{name: "MD5 wrong password", alg: MD5, password: "guess", want: WrongPassword, reason: "does not match"},
		{name: "SHA-256 wrong password", alg: SHA256, password: "guess", want: WrongPassword},
		{name: "unknown user", alg: SHA256, ha1: func(Algorithm) string { return "" }, want: WrongPassword, reason: "no HA1"},
		{name: "MD5 HA1 given for SHA-256", alg: SHA256, ha1: func(Algorithm) string { return ha1For(MD5) },
			want: WrongPassword, reason: "64 hex digits"},
		{name: "tampered response", alg: MD5, want: WrongPassword,
			cred: func(c *Credentials) { c.Response = flipHex(c.Response) }},
		{name: "tampered uri", alg: MD5, want: WrongPassword,
			cred: func(c *Credentials) { c.URI = "sip:evil.test" }},
		{name: "tampered cnonce", alg: MD5, want: WrongPassword,
			cred: func(c *Credentials) { c.CNonce += "x" }},
		{name: "tampered nc", alg: MD5, want: WrongPassword,
			cred: func(c *Credentials) { c.NC, c.ncText = 2, "00000002" }},

		{name: "tampered nonce", alg: SHA256, want: BadNonce,
			cred: func(c *Credentials) { c.Nonce = flipBase64(c.Nonce) }},
		{name: "made-up nonce", alg: MD5, want: BadNonce,
			cred: func(c *Credentials) { c.Nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093" }},

		{name: "expired nonce", alg: SHA256, advance: lifetime, want: Stale, reason: "expired"},
		{name: "expired nonce, wrong password", alg: SHA256, advance: lifetime, password: "guess", want: WrongPassword},

		{name: "realm mismatch", alg: MD5, realm: "other.test", want: BadRequest, reason: "realm"},
		{name: "missing qop", alg: MD5, want: BadRequest, reason: "qop is missing",
			cred: func(c *Credentials) { c.QOP = "" }},
		{name: "qop auth-int", alg: MD5, want: BadRequest, reason: "auth-int",
			cred: func(c *Credentials) { c.QOP = "auth-int" }},
		{name: "missing cnonce", alg: MD5, want: BadRequest, reason: "cnonce",
			cred: func(c *Credentials) { c.CNonce = "" }},
		{name: "nc zero", alg: MD5, want: BadRequest, reason: "nc",
			cred: func(c *Credentials) { c.NC, c.ncText = 0, "00000000" }},
		{name: "algorithm not offered", alg: MD5, opts: Options{Algorithms: []Algorithm{SHA256, MD5}}, want: BadRequest, reason: "not offered",
			cred: func(c *Credentials) { c.Algorithm = MD5Sess }},
		{name: "MD5 refused when only SHA-256 offered", alg: SHA256, opts: Options{Algorithms: []Algorithm{SHA256}}, want: BadRequest, reason: "not offered",
			cred: func(c *Credentials) { c.Algorithm = MD5 }},
		{name: "unsupported algorithm", alg: SHA256, want: BadRequest, reason: "SHA-512",
			header: func(h string) string { return strings.Replace(h, "algorithm=SHA-256", "algorithm=SHA-512", 1) }},
		{name: "opaque not returned", alg: SHA256, opts: Options{Opaque: "xyz"}, want: BadRequest, reason: "opaque",
			cred: func(c *Credentials) { c.Opaque = "" }},
		{name: "response wrong length", alg: SHA256, want: BadRequest, reason: "64 hex digits",
			cred: func(c *Credentials) { c.Response = c.Response[:32] }},
		{name: "response not hex", alg: MD5, want: BadRequest, reason: "hex",
			cred: func(c *Credentials) { c.Response = "z" + c.Response[1:] }},
		{name: "userhash", alg: MD5, want: BadRequest, reason: "userhash",
			cred: func(c *Credentials) { c.Userhash = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			pw := tt.password
			if pw == "" {
				pw = testPass
			}
			h := answer(t, f.challenge(t, tt.alg), pw, 1)
			if tt.header != nil {
				h = tt.header(h)
			}
			c := parse(t, h)
			if tt.cred != nil {
				tt.cred(&c)
			}
			ha1 := ha1For(c.Algorithm)
			if tt.ha1 != nil {
				ha1 = tt.ha1(c.Algorithm)
			}
			realm := tt.realm
			if realm == "" {
				realm = testRealm
			}
			f.clk.Advance(tt.advance)
			got := f.v.Verify(testMethod, c, ha1, realm)
			if got.Outcome != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Verify = %v, want %v (reason containing %q)\nheader: %s", got, tt.want, tt.reason, h)
			}
			if got.OK() != (tt.want == OK) {
				t.Errorf("Result.OK() = %v for %v", got.OK(), got)
			}
		})
	}
}

// The -sess variants are not implemented by icholy/digest, so the client
// side is computed here from RFC 7616 §3.4.2 directly.
func TestVerifySession(t *testing.T) {
	for _, alg := range []Algorithm{MD5Sess, SHA256Sess} {
		t.Run(string(alg), func(t *testing.T) {
			f := newFixture(t, Options{Algorithms: []Algorithm{alg}})
			c := f.v.Challenges(testRealm, false)[0]
			const cnonce, nc = "0a4f113b", "00000001"
			h := func(s string) string {
				if alg == MD5Sess {
					sum := md5.Sum([]byte(s))
					return hex.EncodeToString(sum[:])
				}
				sum := sha256.Sum256([]byte(s))
				return hex.EncodeToString(sum[:])
			}
			sess := h(h(testUser+":"+testRealm+":"+testPass) + ":" + c.Nonce + ":" + cnonce)
			resp := h(sess + ":" + c.Nonce + ":" + nc + ":" + cnonce + ":auth:" + h(testMethod+":"+testURI))
			hdr := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=%s, cnonce="%s", qop=auth, nc=%s`,
				testUser, testRealm, c.Nonce, testURI, resp, alg, cnonce, nc)
			if r := f.v.Verify(testMethod, parse(t, hdr), ha1For(alg), testRealm); !r.OK() {
				t.Fatalf("Verify = %v", r)
			}
			wrong := HA1(alg, testUser, testRealm, "guess")
			if r := f.v.Verify(testMethod, parse(t, hdr), wrong, testRealm); r.Outcome != WrongPassword {
				t.Fatalf("Verify with wrong HA1 = %v", r)
			}
		})
	}
}

func TestVerifyNonceCount(t *testing.T) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		t.Run(string(alg), func(t *testing.T) {
			f := newFixture(t, Options{})
			c := f.challenge(t, alg)
			steps := []struct {
				nc   int
				want Outcome
			}{
				{1, OK},
				{1, Replay}, // same nc twice
				{2, OK},     // increasing
				{3, OK},
				{2, Replay}, // lower than the highest seen
				{3, Replay},
				{10, OK}, // gaps are fine: requests may be lost
				{0xffffffff, OK},
			}
			for i, s := range steps {
				got := f.v.Verify(testMethod, parse(t, answer(t, c, testPass, s.nc)), ha1For(alg), testRealm)
				if got.Outcome != s.want {
					t.Errorf("step %d nc=%d: %v, want %v", i, s.nc, got, s.want)
				}
			}
		})
	}
}

// A forged response must not advance the nonce-count, or an attacker could
// lock a user out of its nonce by sending nc=ffffffff with garbage.
func TestVerifyWrongPasswordDoesNotBurnNC(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.challenge(t, SHA256)
	if r := f.v.Verify(testMethod, parse(t, answer(t, c, "guess", 0xffffffff)), ha1For(SHA256), testRealm); r.Outcome != WrongPassword {
		t.Fatalf("forged = %v", r)
	}
	if r := f.v.Verify(testMethod, parse(t, answer(t, c, testPass, 1)), ha1For(SHA256), testRealm); !r.OK() {
		t.Fatalf("legit after forged = %v", r)
	}
}

// After a stale nonce, the re-challenge (stale=true) works.
func TestVerifyStaleThenRechallenge(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.challenge(t, SHA256)
	f.clk.Advance(2 * lifetime)
	r := f.v.Verify(testMethod, parse(t, answer(t, c, testPass, 1)), ha1For(SHA256), testRealm)
	if r.Outcome != Stale {
		t.Fatalf("Verify = %v, want Stale", r)
	}
	cs := f.v.Challenges(testRealm, true)
	if !cs[0].Stale || !strings.HasSuffix(cs[0].String(), ", stale=true") {
		t.Fatalf("re-challenge %q is not stale", cs[0])
	}
	if r := f.v.Verify(testMethod, parse(t, answer(t, cs[0], testPass, 1)), ha1For(SHA256), testRealm); !r.OK() {
		t.Fatalf("after re-challenge: %v", r)
	}
}

func TestVerifyConcurrentReplay(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.challenge(t, MD5)
	cred := parse(t, answer(t, c, testPass, 1))
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			switch r := f.v.Verify(testMethod, cred, ha1For(MD5), testRealm); r.Outcome {
			case OK:
				ok.Add(1)
			case Replay:
			default:
				t.Errorf("unexpected %v", r)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent verifications of one nc succeeded, want exactly 1", ok.Load())
	}
}

func TestReplayTableExpiry(t *testing.T) {
	const life = int64(time.Minute)
	tbl := newReplayTable(life, DefaultMaxTrackedNonces)
	id := func(shard, n byte) nonceID {
		var x nonceID
		x[nonceTSLen], x[nonceTSLen+1] = shard, n
		return x
	}
	now := int64(1_000_000_000_000)
	for sh := range byte(replayShards) {
		for n := range byte(10) {
			if v := tbl.observe(id(sh, n), now, 1, now); v != ncFresh {
				t.Fatalf("fresh id: %v", v)
			}
		}
	}
	if n := tbl.len(); n != 10*replayShards {
		t.Fatalf("tracking %d nonces, want %d", n, 10*replayShards)
	}
	// Entries vanish lazily once their nonces expired: the next use of
	// each shard after its sweep deadline sweeps it.
	now += life + life/2
	for sh := range byte(replayShards) {
		tbl.observe(id(sh, 100), now, 1, now)
	}
	if n := tbl.len(); n != replayShards {
		t.Fatalf("tracking %d nonces after expiry, want only the %d fresh ones", n, replayShards)
	}
}

func TestReplayTableEvictionFloor(t *testing.T) {
	tbl := newReplayTable(int64(time.Hour), 2*replayShards)                     // 2 per shard
	id := func(n byte) nonceID { var x nonceID; x[nonceTSLen+1] = n; return x } // all in shard 0
	const now = int64(1_000_000)
	steps := []struct {
		id     byte
		issued int64
		nc     uint32
		want   replayVerdict
	}{
		{1, 100, 1, ncFresh},
		{2, 200, 1, ncFresh},
		{3, 300, 1, ncFresh},     // shard full: issued <= 150 (midpoint) evicted, floor=150
		{1, 100, 2, ncForgotten}, // evicted: a higher nc must not count as fresh...
		{1, 100, 1, ncForgotten}, // ...nor may a replay of the evicted nc
		{2, 200, 1, ncReplay},    // still tracked
		{3, 300, 2, ncFresh},
		{4, 140, 1, ncForgotten}, // first use, but issued before the floor
		{5, 400, 1, ncFresh},     // full again: issued <= 250 evicted, floor=250
		{2, 200, 2, ncForgotten},
		{3, 300, 3, ncFresh},
	}
	for i, s := range steps {
		if got := tbl.observe(id(s.id), s.issued, s.nc, now); got != s.want {
			t.Errorf("step %d: observe(id %d, nc %d) = %v, want %v", i, s.id, s.nc, got, s.want)
		}
	}
}

// Under memory pressure entries are evicted, but an evicted nonce yields
// Stale, never OK: eviction must not open a replay window.
func TestReplayTableBounded(t *testing.T) {
	const maxTracked = 4 * replayShards
	f := newFixture(t, Options{MaxTrackedNonces: maxTracked})
	type used struct {
		c  Challenge
		nc int
	}
	var all []used
	for range 20 * maxTracked {
		f.clk.Advance(time.Millisecond) // distinct issue times
		c := f.challenge(t, MD5)
		if r := f.v.Verify(testMethod, parse(t, answer(t, c, testPass, 1)), ha1For(MD5), testRealm); !r.OK() {
			t.Fatalf("fresh nonce: %v", r)
		}
		all = append(all, used{c, 1})
	}
	if n := f.v.replay.len(); n > maxTracked {
		t.Fatalf("tracking %d nonces, cap is %d", n, maxTracked)
	}
	stale := 0
	for i, u := range all {
		r := f.v.Verify(testMethod, parse(t, answer(t, u.c, testPass, u.nc)), ha1For(MD5), testRealm)
		switch r.Outcome {
		case Stale:
			stale++
		case Replay:
		default:
			t.Fatalf("replay of nonce %d: %v, want Replay or Stale", i, r)
		}
	}
	if stale == 0 {
		t.Fatal("no nonce was evicted; the test does not exercise eviction")
	}
}

func TestNewVerifierErrors(t *testing.T) {
	for name, opts := range map[string]Options{
		"unsupported algorithm": {Algorithms: []Algorithm{"SHA-512"}},
		"duplicate algorithm":   {Algorithms: []Algorithm{MD5, MD5}},
		"negative max":          {MaxTrackedNonces: -1},
		"CRLF in opaque":        {Opaque: "a\r\nb"},
	} {
		if _, err := NewVerifier(opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestZeroResultIsNotOK(t *testing.T) {
	var r Result
	if r.OK() || r.Outcome == OK {
		t.Fatal("zero Result authenticates")
	}
}

func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func flipBase64(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(string(alg), func(b *testing.B) {
			// Realistic REGISTER traffic: every request answers its own
			// challenge with nc=1, so each OK inserts a replay entry. The
			// ring of pre-computed requests is replayed against a fresh
			// Verifier (same Nonces) whenever it wraps; that rare NewVerifier
			// is included in the measurement.
			const ring = 1 << 13
			nonces, _ := newTestNonces(b, time.Hour)
			opts := Options{Nonces: nonces}
			v, _ := NewVerifier(opts)
			creds := make([]Credentials, ring)
			for i := range creds {
				creds[i] = parse(b, answer(b, fixture{v: v}.challenge(b, alg), testPass, 1))
			}
			ha1 := ha1For(alg)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == ring {
					i = 0
					v, _ = NewVerifier(opts)
				}
				if r := v.Verify(testMethod, creds[i], ha1, testRealm); !r.OK() {
					b.Fatal(r)
				}
				i++
			}
		})
	}
}

func BenchmarkParseCredentials(b *testing.B) {
	f := newFixture(b, Options{})
	h := answer(b, f.challenge(b, SHA256), testPass, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCredentials(h); err != nil {
			b.Fatal(err)
		}
	}
}

// Verify is on the REGISTER hot path; apart from inserting a new nonce in
// the replay table, it must not allocate.
func TestVerifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	const runs = 200
	for _, alg := range []Algorithm{MD5, SHA256} {
		f := newFixture(t, Options{})
		c := f.challenge(t, alg)
		ha1 := ha1For(alg)
		// nc 1 inserts the nonce; AllocsPerRun then calls the function
		// runs+1 times, each with the next nc, updating the entry in place.
		creds := make([]Credentials, runs+2)
		for i := range creds {
			creds[i] = parse(t, answer(t, c, testPass, i+1))
		}
		if r := f.v.Verify(testMethod, creds[0], ha1, testRealm); !r.OK() {
			t.Fatal(r)
		}
		wrong := creds[0]
		wrong.Response = flipHex(wrong.Response)
		i := 1
		for _, tc := range []struct {
			name string
			f    func() Result
			want Outcome
		}{
			{"ok", func() Result { i++; return f.v.Verify(testMethod, creds[i-1], ha1, testRealm) }, OK},
			{"replay", func() Result { return f.v.Verify(testMethod, creds[0], ha1, testRealm) }, Replay},
			{"wrong password", func() Result { return f.v.Verify(testMethod, wrong, ha1, testRealm) }, WrongPassword},
		} {
			n := testing.AllocsPerRun(runs, func() {
				if r := tc.f(); r.Outcome != tc.want {
					t.Fatalf("%s %s: %v", alg, tc.name, r)
				}
			})
			if n != 0 {
				t.Errorf("%s %s path: %v allocs per Verify, want 0", alg, tc.name, n)
			}
		}
	}
}
