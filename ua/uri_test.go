package ua

import (
	"strings"
	"testing"
)

func TestParseAOR(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "alice@example.com", want: "sip:alice@example.com"},
		{in: "sip:alice@example.com", want: "sip:alice@example.com"},
		{in: "SIPS:alice@example.com", want: "sips:alice@example.com"},
		{in: "alice.smith+work@192.0.2.1", want: "sip:alice.smith+work@192.0.2.1"},
		{in: "al%20ice@example.com", want: "sip:al%20ice@example.com"},
		{in: "", err: "empty address"},
		{in: "alice", err: `"alice" has no @DOMAIN`},
		{in: "alice@", err: "no domain after the @"},
		{in: "@example.com", err: "no user before the @"},
		{in: "alice@@example.com", err: "more than one @"},
		{in: "alice@example.com:5060", err: "without a port"},
		{in: "alice@example.com;transport=tcp", err: "without a port or parameters"},
		{in: "tel:+15551234", err: `scheme "tel" is not sip or sips`},
		{in: "http://alice@example.com", err: `scheme "http"`},
		{in: "sip://alice@example.com", err: "no // after"},
		{in: "alice@exa mple.com", err: "contains a space"},
		{in: "alice@ex_ample.com", err: `contains '_'`},
		{in: "alice@-bad.example", err: "starting or ending with '-'"},
		{in: "alice@example..com", err: "empty label"},
		{in: "al#ice@example.com", err: "must be %-escaped"},
		{in: "al%2@example.com", err: "two hex digits"},
		{in: "alice:secret@example.com", err: "puts a password in the URI"},
		{in: "<sip:alice@example.com>", err: "angle bracket"},
	} {
		u, err := ParseAOR(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseAOR(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAOR(%q): %v", c.in, err)
			continue
		}
		if got := u.String(); got != c.want {
			t.Errorf("ParseAOR(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "bob", want: "sip:bob@example.com"},
		{in: "bob@other.example", want: "sip:bob@other.example"},
		{in: "sip:bob@10.0.0.7:5070;transport=tcp", want: "sip:bob@10.0.0.7:5070;transport=tcp"},
		{in: "bob@[2001:db8::1]:5070", want: "sip:bob@[2001:db8::1]:5070"},
		{in: "bob@2001:db8::1", err: "IPv6 address in brackets"},
		{in: "bob@host:0", err: `port "0"`},
		{in: "bob@host:", err: "empty port"},
		{in: "bob@host;transport=carrier-pigeon", err: `transport="carrier-pigeon"`},
	} {
		u, err := ParseTarget(c.in, "example.com")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTarget(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", c.in, err)
			continue
		}
		if got := u.String(); got != c.want {
			t.Errorf("ParseTarget(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseHostTargetAndHostPort(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"example.com", "sip:example.com"},
		{"192.0.2.1:5070", "sip:192.0.2.1:5070"},
		{"sip:alice@example.com:5070", "sip:alice@example.com:5070"},
	} {
		u, err := ParseHostTarget(c.in)
		if err != nil || u.String() != c.want {
			t.Errorf("ParseHostTarget(%q) = %s, %v; want %s", c.in, u.String(), err, c.want)
		}
	}
	for _, c := range []struct{ in, want, err string }{
		{in: "example.com", want: "example.com:5060"},
		{in: "192.0.2.1:5070", want: "192.0.2.1:5070"},
		{in: "[2001:db8::1]:5070", want: "[2001:db8::1]:5070"},
		{in: "2001:db8::1", err: "in brackets"},
		{in: "sip:example.com", err: "no scheme"},
		{in: "example.com:99999", err: "port"},
		{in: "", err: "empty address"},
	} {
		got, err := ParseHostPort(c.in, 5060)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseHostPort(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseHostPort(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
