package acl_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/acl"
	"github.com/siplens/siplens/trace"
)

func request(t *testing.T, ua string) *sip.Request {
	t.Helper()
	raw := "OPTIONS sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:bob@example.com>\nCall-ID: c\nCSeq: 1 OPTIONS\n"
	if ua != "" {
		raw += "User-Agent: " + ua + "\n"
	}
	raw += "Content-Length: 0\n\n"
	msg, err := sip.ParseMessage([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

func prefixes(ps ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestACL(t *testing.T) {
	step := &acl.Step{
		Global:         acl.Rules{Allow: prefixes("10.0.0.0/8", "192.0.2.0/24"), Deny: prefixes("10.6.6.6/32")},
		Drop:           prefixes("203.0.113.0/24"),
		DropUserAgents: []string{"friendly-scanner"},
		Domains:        map[string]acl.Rules{"example.com": {Deny: prefixes("192.0.2.99/32")}},
	}
	tests := []struct {
		name, source, ua, domain string
		code                     int // 0 pass, -1 dropped
		reason                   string
		rule                     string // the Rule of the recorded denial or drop
	}{
		{"allowed network", "10.1.2.3:5060", "", "example.com", 0, "", ""},
		{"denied host inside the allowed network", "10.6.6.6:5060", "", "example.com", 403, "denied by the acl rule 10.6.6.6/32", "10.6.6.6/32"},
		{"outside the allow list", "198.51.100.1:5060", "", "example.com", 403, "not in the acl allow list", ""},
		{"drop list", "203.0.113.9:5060", "", "example.com", -1, "drop list", "203.0.113.0/24"},
		{"scanner user agent", "10.1.2.3:5060", "friendly-scanner", "example.com", -1, "friendly-scanner", "friendly-scanner"},
		{"scanner user agent, other case", "10.1.2.3:5060", "Friendly-Scanner 1.0", "example.com", -1, "friendly-scanner", "friendly-scanner"},
		{"denied for one domain", "192.0.2.99:5060", "", "example.com", 403, "acl for example.com", "192.0.2.99/32"},
		{"same host into another domain", "192.0.2.99:5060", "", "", 0, "", ""},
		{"IPv4-mapped IPv6 source", "[::ffff:10.6.6.6]:5060", "", "", 403, "denied", "10.6.6.6/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, tt.ua)
			r := &chain.Request{SIP: req, Source: tt.source, Domain: tt.domain}
			rec := trace.NewRecorder("acl-test", nil)
			err := step.Handle(trace.WithRecorder(context.Background(), rec), chain.NewWriter(req, &chain.Recorder{}), r)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			var rej *chain.Error
			if !errors.As(err, &rej) {
				t.Fatalf("want a rejection, got %v", err)
			}
			if (tt.code == -1) != rej.Dropped() || (tt.code > 0 && rej.Code != tt.code) {
				t.Fatalf("got %d (dropped %v), want %d", rej.Code, rej.Dropped(), tt.code)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Fatalf("reason %q does not contain %q", rej.Reason, tt.reason)
			}
			evs := rec.Call().Events
			if len(evs) != 1 || evs[0].Kind != trace.KindACL || evs[0].Rule != tt.rule {
				t.Fatalf("recorded %+v, want one acl refusal with rule %q", evs, tt.rule)
			}
		})
	}
}
