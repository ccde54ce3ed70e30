package forward

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestBestBranch: RFC 3261 16.7 step 6, table-driven.
func TestBestBranch(t *testing.T) {
	tests := []struct {
		name  string
		codes []int
		want  int // the code of the chosen branch
	}{
		{"6xx beats everything", []int{486, 603, 404}, 603},
		{"lowest class: 3xx before 4xx", []int{486, 302}, 302},
		{"4xx before 5xx", []int{500, 486}, 486},
		{"a challenge is preferred within 4xx", []int{404, 407, 480}, 407},
		{"415 is preferred within 4xx", []int{480, 415}, 415},
		{"lowest code otherwise", []int{486, 480}, 480},
		{"503 still loses to a 4xx", []int{503, 408}, 408},
		{"only timeouts", []int{408, 408}, 408},
		{"2xx are not candidates", []int{200, 486}, 486},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var bs []*branch
			for i, c := range tt.codes {
				bs = append(bs, &branch{index: i + 1, code: c})
			}
			if got := bestBranch(bs); got == nil || got.code != tt.want {
				t.Fatalf("best of %v = %v, want %d", tt.codes, got, tt.want)
			}
		})
	}
	if bestBranch(nil) != nil {
		t.Fatal("best of no branches is not nil")
	}
}

// TestMergeChallenges: several 401/407 answers become one response carrying every
// challenge (16.7 step 7).
func TestMergeChallenges(t *testing.T) {
	mk := func(code int, header, value string) *sip.Response {
		res := sip.NewResponse(code, "x")
		res.AppendHeader(sip.NewHeader(header, value))
		return res
	}
	a := mk(407, "Proxy-Authenticate", `Digest realm="a"`)
	b := mk(401, "WWW-Authenticate", `Digest realm="b"`)
	c := mk(486, "Warning", "busy")
	merged := mergeChallenges(a, []*branch{{final: a, code: 407}, {final: b, code: 401}, {final: c, code: 486}})
	if n := len(merged.GetHeaders("Proxy-Authenticate")) + len(merged.GetHeaders("WWW-Authenticate")); n != 2 {
		t.Fatalf("merged response has %d challenges, want 2:\n%s", n, merged.String())
	}
	if len(a.GetHeaders("WWW-Authenticate")) != 0 {
		t.Fatal("merging changed the branch's own response")
	}
}

// TestCancelFor: the CANCEL of a branch copies its Request-URI, top Via, Call-ID, From,
// To, CSeq number and Route set (RFC 3261 9.1).
func TestCancelFor(t *testing.T) {
	raw := "INVITE sip:bob@192.0.2.7:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK.sl1.x\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKcaller\r\nRoute: <sip:edge.example.net;lr>\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 42 INVITE\r\nMax-Forwards: 69\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	inv := msg.(*sip.Request)
	c := cancelFor(inv)
	if c.Method != sip.CANCEL || c.Recipient.String() != inv.Recipient.String() {
		t.Fatalf("request line %s %s", c.Method, c.Recipient.String())
	}
	vias := c.GetHeaders("Via")
	if len(vias) != 1 || vias[0].Value() != inv.Via().Value() {
		t.Fatalf("CANCEL Vias %v, want only the branch's own", vias)
	}
	if c.CSeq().SeqNo != 42 || c.CSeq().MethodName != sip.CANCEL || c.CallID().Value() != "c1" || c.Route() == nil {
		t.Fatalf("CANCEL:\n%s", c.String())
	}
}
