package sanity

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
)

// BenchmarkSanity: the checks every request goes through first.
func BenchmarkSanity(b *testing.B) {
	raw := strings.ReplaceAll("INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\nMax-Forwards: 70\nTo: Bob <sip:bob@example.com>\nFrom: Alice <sip:alice@example.com>;tag=1928301774\nCall-ID: a84b4c76e66710@pc33.example.com\nCSeq: 314159 INVITE\nContact: <sip:alice@192.0.2.10:5060>\nContent-Length: 0\n\n", "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sip.Request)
	s := &Step{MaxMessageSize: 16384, IsOwnVia: func(string, int) bool { return false }}
	w := chain.NewWriter(req, &chain.Recorder{})
	r := &chain.Request{SIP: req, Source: "192.0.2.10:5060", Transport: "UDP"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := s.Handle(context.Background(), w, r); err != nil {
			b.Fatal(err)
		}
	}
}
