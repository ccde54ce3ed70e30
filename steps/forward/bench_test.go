package forward

import (
	"bytes"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
)

const benchInvite = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@example.com>\r\n" +
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:alice@192.0.2.10:5060>\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 142\r\n\r\n" +
	"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"

// BenchmarkPrepareBranch: one INVITE from the wire to the bytes of its branch: parse,
// the proxy's changes of RFC 3261 16.6 (Request-URI, Max-Forwards, Record-Route, Via with
// the loop-hash branch) and serialisation. The send itself is sipgo's.
func BenchmarkPrepareBranch(b *testing.B) {
	s := &Step{Self: Self{Host: "192.0.2.1", Ports: map[string]int{"UDP": 5060}}, RecordRoute: true,
		IsSelf: func(sip.Uri) bool { return false }}
	var target sip.Uri
	if err := sip.ParseUri("sip:bob@192.0.2.20:5062", &target); err != nil {
		b.Fatal(err)
	}
	parser := sip.NewParser()
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		msg, err := parser.ParseSIP([]byte(benchInvite))
		if err != nil {
			b.Fatal(err)
		}
		r := &chain.Request{SIP: msg.(*sip.Request), Source: "192.0.2.10:5060", Transport: "UDP"}
		out := s.prepare(r, chain.Target{URI: target}, true)
		buf.Reset()
		out.StringWrite(&buf)
	}
}

const benchOK = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-siplens-1\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10\r\n" +
	"Record-Route: <sip:192.0.2.1:5060;lr>\r\n" +
	"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n" +
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:bob@192.0.2.20:5062>\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 142\r\n\r\n" +
	"v=0\r\no=bob 2890844527 2890844527 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

// BenchmarkRelayResponse: one response of a branch from the wire to the bytes the caller
// gets: parse, our Via off the top (RFC 3261 16.7 step 3), serialisation.
func BenchmarkRelayResponse(b *testing.B) {
	parser := sip.NewParser()
	r := &chain.Request{Source: "192.0.2.10:5060", Transport: "UDP"}
	var buf bytes.Buffer
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		msg, err := parser.ParseSIP([]byte(benchOK))
		if err != nil {
			b.Fatal(err)
		}
		out := upstream(r, msg.(*sip.Response))
		buf.Reset()
		out.StringWrite(&buf)
	}
}
