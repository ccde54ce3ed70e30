package trace_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/siplens/siplens/trace"
)

const invite = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"v: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK.sl1, SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKabc;received=203.0.113.7;rport=40000\r\n" +
	"Via: SIP/2.0/TCP 172.16.0.1;branch=z9hG4bKlast\r\n" +
	"Max-Forwards: 69\r\n" +
	"f: \"Alice, A.\" <sip:alice:secret@example.com;transport=udp>;tag=1928301774\r\n" +
	"t: <sip:bob@example.com>\r\n" +
	"i: a84b4c76e66710@pc33\r\n" +
	"CSeq:   314159 INVITE\r\n" +
	"Subject: a folded\r\n" +
	"  header line\r\n" +
	"Content-Type: application/sdp\r\n" +
	"l: 4\r\n" +
	"\r\n" +
	"v=0\n"

func TestParseRequest(t *testing.T) {
	p, err := trace.Parse([]byte(invite))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Request || p.Method != "INVITE" || p.URI != "sip:bob@example.com" || p.Version != "SIP/2.0" {
		t.Errorf("start line: %+v", p)
	}
	if got := p.CallID(); got != "a84b4c76e66710@pc33" {
		t.Errorf("CallID = %q", got)
	}
	if n, m := p.CSeq(); n != 314159 || m != "INVITE" {
		t.Errorf("CSeq = %d %q", n, m)
	}
	vias := p.Values("Via")
	if len(vias) != 3 || p.Branch() != "z9hG4bK.sl1" {
		t.Fatalf("Vias = %q, branch %q", vias, p.Branch())
	}
	if sentBy, received, rport := trace.ViaSentBy(vias[1]); sentBy != "192.168.1.20:5060" || received != "203.0.113.7" || rport != "40000" {
		t.Errorf("ViaSentBy = %q %q %q", sentBy, received, rport)
	}
	if got := p.Get("Subject"); got != "a folded header line" {
		t.Errorf("folded Subject = %q", got)
	}
	if p.FromTag() != "1928301774" || p.ToTag() != "" {
		t.Errorf("tags %q %q", p.FromTag(), p.ToTag())
	}
	if got := trace.AOR(p.Get("From")); got != "alice@example.com" {
		t.Errorf("AOR(From) = %q", got)
	}
	if !p.HasSDP() || string(p.Body) != "v=0\n" {
		t.Errorf("body %q, HasSDP %v", p.Body, p.HasSDP())
	}
	if p.Label() != "INVITE" {
		t.Errorf("label %q", p.Label())
	}
}

func TestParseResponse(t *testing.T) {
	p, err := trace.Parse([]byte("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@h>;tag=x\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Request || p.Code != 486 || p.Phrase != "Busy Here" || !p.IsFinal() || p.Label() != "486 Busy Here" || p.ToTag() != "x" {
		t.Errorf("%+v", p)
	}
}

func TestParseRefusesWhatIsNotSIP(t *testing.T) {
	for _, raw := range []string{"", "\r\n\r\n", "hello world\r\n\r\n", "SIP/2.0 abc Nope\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"} {
		if _, err := trace.Parse([]byte(raw)); !errors.Is(err, trace.ErrNotSIP) {
			t.Errorf("Parse(%q) error = %v, want ErrNotSIP", raw, err)
		}
	}
}

func TestParseKeepsMalformedHeaders(t *testing.T) {
	// No CSeq, a header without colon: the message stays readable.
	p, err := trace.Parse([]byte("OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nno colon here\r\nCall-ID: x\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, m := p.CSeq(); n != 0 || m != "" || p.Has("CSeq") {
		t.Errorf("CSeq = %d %q", n, m)
	}
	if p.CallID() != "x" {
		t.Errorf("CallID %q", p.CallID())
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct{ got, want string }{
		{trace.Param(`"A;B" <sip:a@h;lr>;tag=9;x`, "tag"), "9"},
		{trace.Param(`<sip:a@h;tag=no>`, "tag"), ""},
		{trace.URIOf(`"Bob" <sip:bob@h:5070;transport=tcp>;expires=30`), "sip:bob@h:5070;transport=tcp"},
		{trace.URIOf(`sip:bob@h;tag=1`), "sip:bob@h"},
		{trace.AOR(`<sip:bob@10.0.0.7:5070;transport=udp>`), "bob@10.0.0.7"},
		{trace.AOR(`<sip:[2001:db8::1]:5060>`), "[2001:db8::1]"},
		{trace.CanonicalName("www-authenticate"), "WWW-Authenticate"},
		{trace.CanonicalName("x-custom-header"), "X-Custom-Header"},
		{trace.CanonicalName("i"), "Call-ID"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	if !trace.HasParam("<sip:h>;lr", "lr") || trace.HasParam("<sip:h;lr>", "lr") {
		t.Error("HasParam looks inside the URI or misses a flag")
	}
	if got := trace.SplitList(`<sip:a@h;x=1,2>, "c, d" <sip:c@h>,sip:e@h`); !slices.Equal(got, []string{"<sip:a@h;x=1,2>", `"c, d" <sip:c@h>`, "sip:e@h"}) {
		t.Errorf("SplitList = %q", got)
	}
}

func TestCallIDOf(t *testing.T) {
	tests := map[string]string{
		invite: "a84b4c76e66710@pc33",
		"SIP/2.0 200 OK\r\nCALL-ID:  x@y \r\n\r\n":                        "x@y",
		"\r\nBYE sip:a@b SIP/2.0\nCall-Id: lf-only\n\n":                   "lf-only",
		"OPTIONS sip:h SIP/2.0\r\nVia: x\r\n\r\nCall-ID: in-the-body\r\n": "",
		"garbage": "",
	}
	for raw, want := range tests {
		if got := trace.CallIDOf([]byte(raw)); got != want {
			t.Errorf("CallIDOf(%q) = %q, want %q", raw, got, want)
		}
	}
}
