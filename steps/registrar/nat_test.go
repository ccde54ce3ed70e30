package registrar

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
)

func TestBehindNAT(t *testing.T) {
	tests := []struct {
		name, via, contact, source, transport string
		want                                  bool
	}{
		{"public phone, Via matches source", "198.51.100.7:5060", "sip:a@198.51.100.7:5060", "198.51.100.7:5060", "UDP", false},
		{"private contact from a public source", "192.168.1.20:5060", "sip:a@192.168.1.20:5060", "203.0.113.9:40000", "UDP", true},
		{"Via port rewritten by NAT", "198.51.100.7:5060", "sip:a@198.51.100.7:5060", "198.51.100.7:61000", "UDP", true},
		{"loopback test peers", "127.0.0.1:5070", "sip:a@127.0.0.1:5070", "127.0.0.1:5070", "UDP", false},
		{"TCP ephemeral source port is not NAT", "198.51.100.7:5060", "sip:a@198.51.100.7:5060;transport=tcp", "198.51.100.7:53211", "TCP", false},
		{"TCP with a private contact", "10.1.2.3:5060", "sip:a@10.1.2.3:5060;transport=tcp", "203.0.113.9:53211", "TCP", true},
		{"carrier-grade NAT contact", "100.64.3.4:5060", "sip:a@100.64.3.4:5060", "203.0.113.9:5060", "UDP", true},
		{"host name in Via", "phone.example.net:5060", "sip:a@phone.example.net", "198.51.100.7:5060", "UDP", true},
		{"contact elsewhere but public: third-party contact, not NAT", "198.51.100.7:5060", "sip:a@192.0.2.44:5060", "198.51.100.7:5060", "UDP", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := strings.ReplaceAll("REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/"+tt.transport+" "+tt.via+";branch=z9hG4bKx\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:a@example.com>\nCall-ID: c\nCSeq: 1 REGISTER\nContent-Length: 0\n\n", "\n", "\r\n")
			msg, err := sip.ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			var uri sip.Uri
			if err := sip.ParseUri(tt.contact, &uri); err != nil {
				t.Fatal(err)
			}
			r := &chain.Request{SIP: msg.(*sip.Request), Source: tt.source, Transport: tt.transport}
			if got := behindNAT(r, uri); got != tt.want {
				t.Fatalf("behindNAT = %v, want %v", got, tt.want)
			}
		})
	}
}
