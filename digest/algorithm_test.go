package digest

import (
	"strings"
	"testing"
)

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in      string
		want    Algorithm
		wantErr bool
	}{
		{"", MD5, false}, // RFC 7616 §3.3 default
		{"MD5", MD5, false},
		{"md5", MD5, false},
		{"SHA-256", SHA256, false},
		{"sha-256", SHA256, false},
		{"MD5-sess", MD5Sess, false},
		{"sha-256-SESS", SHA256Sess, false},
		{"SHA-512-256", "", true},
		{"SHA256", "", true},
	}
	for _, tt := range tests {
		got, err := ParseAlgorithm(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAlgorithmBase(t *testing.T) {
	for a, want := range map[Algorithm]Algorithm{MD5: MD5, MD5Sess: MD5, SHA256: SHA256, SHA256Sess: SHA256, "SHA-512": ""} {
		if got := a.Base(); got != want {
			t.Errorf("%q.Base() = %q, want %q", a, got, want)
		}
	}
}

// Test vectors from RFC 2617 §3.5 and RFC 7616 §3.9.1, computed by an
// implementation we do not control, so a wrong field order or separator
// would show here.
func TestHA1AndResponseVectors(t *testing.T) {
	tests := []struct {
		name                           string
		alg                            Algorithm
		user, realm, pass              string
		method, uri, nonce, nc, cnonce string
		wantHA1, wantResponse          string
	}{
		{
			name: "RFC 2617 §3.5 MD5",
			alg:  MD5, user: "Mufasa", realm: "testrealm@host.com", pass: "Circle Of Life",
			method: "GET", uri: "/dir/index.html", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			nc: "00000001", cnonce: "0a4f113b",
			wantHA1:      "939e7578ed9e3c518a452acee763bce9",
			wantResponse: "6629fae49393a05397450978507c4ef1",
		},
		{
			name: "RFC 7616 §3.9.1 MD5",
			alg:  MD5, user: "Mufasa", realm: "http-auth@example.org", pass: "Circle of Life",
			method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			wantResponse: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			name: "RFC 7616 §3.9.1 SHA-256",
			alg:  SHA256, user: "Mufasa", realm: "http-auth@example.org", pass: "Circle of Life",
			method: "GET", uri: "/dir/index.html", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			nc: "00000001", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			wantResponse: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha1 := HA1(tt.alg, tt.user, tt.realm, tt.pass)
			if tt.wantHA1 != "" && ha1 != tt.wantHA1 {
				t.Errorf("HA1 = %s, want %s", ha1, tt.wantHA1)
			}
			nc, _ := parseNC(tt.nc)
			c := Credentials{URI: tt.uri, Nonce: tt.nonce, CNonce: tt.cnonce, QOP: "auth", NC: nc, ncText: tt.nc}
			var dst [2 * maxHashSize]byte
			if got := string(responseDigest(dst[:], tt.alg, []byte(ha1), tt.method, c)); got != tt.wantResponse {
				t.Errorf("response = %s, want %s", got, tt.wantResponse)
			}
			// Hand-built Credentials (no ncText) must hash the canonical nc.
			c.ncText = ""
			if got := string(responseDigest(dst[:], tt.alg, []byte(ha1), tt.method, c)); got != tt.wantResponse {
				t.Errorf("response without ncText = %s, want %s", got, tt.wantResponse)
			}
		})
	}
}

func TestHA1(t *testing.T) {
	if got := HA1("SHA-512", "u", "r", "p"); got != "" {
		t.Errorf("HA1 of unsupported algorithm = %q, want empty", got)
	}
	if len(HA1(MD5, "u", "r", "p")) != 32 || len(HA1(SHA256, "u", "r", "p")) != 64 {
		t.Error("HA1 lengths are not 32 (MD5) and 64 (SHA-256)")
	}
	if HA1(MD5Sess, "u", "r", "p") != HA1(MD5, "u", "r", "p") {
		t.Error("HA1(MD5-sess) must equal HA1(MD5): the session key is derived per nonce")
	}
	if h := HA1(SHA256, "u", "r", "p"); h != strings.ToLower(h) {
		t.Error("HA1 must be lowercase hex (RFC 8760 §2.2)")
	}
}
