package trace

import (
	"testing"
)

// quickFacts must read what Parse reads, or say it is not sure.
func TestQuickFactsAgreeWithParse(t *testing.T) {
	msgs := []string{
		"INVITE sip:bob@localhost SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:alice@localhost>;tag=1\r\nTo: <sip:bob@localhost>\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\nContent-Length: 3\r\n\r\nabc",
		"SIP/2.0 486 Busy Here\r\nf: <sip:alice@localhost>;tag=1\r\nt: <sip:bob@localhost>;tag=2\r\ni: a\r\ncseq:  2   INVITE \r\n\r\n",
		"\r\n\r\nACK sip:bob@h SIP/2.0\nFROM : x\nTO: y;tag=3\nCSeq: 3 ACK\n\n",
		"SIP/2.0 200 OK\r\nTo: a\r\nTo: b\r\nFrom: c\r\nf: d\r\nCSeq: x INVITE\r\n\r\n",
		"SIP/2.0 99 Odd\r\n\r\n",
		"SIP/2.0 +200 OK\r\nCSeq: 1 BYE\r\n\r\n",
		"BYE sip:x SIP/2.0 extra\r\n\r\n",
		"BYE  sip:x\tSIP/2.0\r\nCSeq: 4294967296 BYE\r\n\r\n",
		"HELLO\r\n\r\n",
		"",
		"\r\n",
		"INVITE sip:b SIP/2.0\r\nFrom: <sip:a@h>\r\n ;tag=folded\r\nCSeq: 1 INVITE\r\n\r\n",
		"INVITE sip:b SIP/2.0\r\n From: early\r\nCSeq: 1 INVITE\r\n\r\n",
		"INVITE sip:bé SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n",
		"REGISTER sip:h SIP/2.0\r\nnocolon\r\nCSeq:1 REGISTER\r\nTo:<sip:bob@h>\r\n",
		"OPTIONS sip:h SIP/2.0\r\nCSeq: 7\r\nx: y\r\n\r\nbody\r\n\r\nmore",
		// The scan stops once From, To and CSeq are found, unless the next line folds.
		"BYE sip:b SIP/2.0\r\nFrom: a\r\nTo: b\r\nCSeq: 2 BYE\r\n\tcontinued\r\nVia: v\r\n\r\n",
		"BYE sip:b SIP/2.0\r\nCSeq: 2 BYE\r\nFrom: a\r\nTo: <sip:b@h>\r\n ;tag=9\r\n\r\n",
		"BYE sip:b SIP/2.0\r\nCSeq: 2 BYE\r\nFrom: a\r\nTo: b\r\nVia: v\r\n x\r\nnocolon\r\n\r\n",
	}
	for _, m := range msgs {
		raw := []byte(m)
		got, ok := factsOf(raw)
		p, err := Parse(raw)
		if (err == nil) != ok {
			t.Errorf("%q: ok %v, Parse error %v", m, ok, err)
			continue
		}
		if !ok {
			continue
		}
		want := facts{request: p.Request, method: p.Method, code: p.Code, from: p.Get("From"), to: p.Get("To")}
		want.cseq, want.cseqMethod = p.CSeq()
		if got != want {
			t.Errorf("%q:\n got %+v\nwant %+v", m, got, want)
		}
	}
}

func TestStartsCall(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{"INVITE sip:bob@x SIP/2.0\r\nTo: <sip:bob@x>\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", true},
		{"INVITE sip:bob@x SIP/2.0\r\nTo: <sip:bob@x>;tag=9\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 2 INVITE\r\n\r\n", false},
		{"INVITE sip:bob@x SIP/2.0\r\nt: <sip:bob@x>;TAG=9\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 2 INVITE\r\n\r\n", false},
		{"REGISTER sip:x SIP/2.0\r\nTo: <sip:bob@x>\r\nFrom: <sip:bob@x>;tag=1\r\nCall-ID: c\r\nCSeq: 7 REGISTER\r\n\r\n", false},
		{"REGISTER sip:x SIP/2.0\r\nTo: <sip:bob@x>\r\nFrom: <sip:bob@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n\r\n", true},
		{"BYE sip:x SIP/2.0\r\nTo: <sip:bob@x>;tag=2\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 BYE\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\nTo: <sip:bob@x>\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", false},
		{"", false},
	} {
		if got := startsCall([]byte(c.raw)); got != c.want {
			t.Errorf("startsCall(%q) = %v, want %v", c.raw, got, c.want)
		}
	}
}
