package chain

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestNamed(t *testing.T) {
	raw := "REGISTER sip:example.com SIP/2.0\r\n" +
		"v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK2\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:a@192.0.2.1>\r\nm: <sip:a@192.0.2.3>\r\nX-Thing: one\r\nx-thing: two\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want int
	}{{"Via", 2}, {"via", 2}, {"Contact", 2}, {"X-Thing", 2}, {"Route", 0}, {"Expires", 0}} {
		// Named must agree with sipgo's GetHeaders, which it replaces on the hot path.
		if got, sipgo := CountNamed(msg.(*sip.Request), c.name), len(msg.GetHeaders(c.name)); got != c.want || sipgo != c.want {
			t.Errorf("%s: Named counts %d, GetHeaders %d, want %d", c.name, got, sipgo, c.want)
		}
		if has := Has(msg.(*sip.Request), c.name); has != (c.want > 0) {
			t.Errorf("Has(%s) = %v", c.name, has)
		}
	}
	var first string
	for h := range Named(msg.(*sip.Request), "x-thing") {
		first = h.Value()
		break
	}
	if first != "one" {
		t.Errorf("first X-Thing = %q, want one", first)
	}
}
