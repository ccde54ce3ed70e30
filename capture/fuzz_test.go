package capture_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/siplens/siplens/capture"
)

// FuzzReader: no input, however damaged, makes the reader panic or loop; it reads what
// it can and counts the rest.
func FuzzReader(f *testing.F) {
	t := &testing.T{}
	inv := sipMsg("INVITE sip:bob@example.com SIP/2.0", "fz-1", "v=0\r\n")
	ip := ipPacket(t, l4{src: alice, dst: pbx, payload: inv})
	tcp := ipPacket(t, l4{tcp: true, src: alice, dst: pbx, seq: 7, payload: inv})
	frames := []frame{{t1, link(layers.LinkTypeEthernet, ip)}, {t1, link(layers.LinkTypeEthernet, tcp)}}
	f.Add(pcapFile(t, layers.LinkTypeEthernet, frames))
	f.Add(pcapngFile(t, layers.LinkTypeEthernet, frames))
	f.Add(pcapFile(t, layers.LinkType(276), []frame{{t1, link(layers.LinkType(276), ip)}}))
	hep, _ := capture.EncodeHEP(capture.Record{Time: t1, Src: alice.String(), Dst: pbx.String(), Raw: inv})
	f.Add(hep)
	f.Add([]byte("2026/03/01 12:00:00.250000 10.0.0.1:5060 -> 10.0.0.2:5080\n" + string(inv) + "\n\n"))
	f.Add([]byte(`{"call_id":"x","messages":[{"time":"2026-03-01T12:00:00Z","direction":"in","transport":"UDP","local":"10.0.0.2:5060","remote":"10.0.0.1:5060","raw":"SU5WSVRF"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := capture.NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		deadline := time.Now().Add(5 * time.Second)
		for n := 0; ; n++ {
			r, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if len(r.Raw) > len(b)+65536 && r.Event == nil {
				t.Fatalf("a record of %d bytes from %d bytes of input", len(r.Raw), len(b))
			}
			if time.Now().After(deadline) {
				t.Fatalf("still reading after %d records", n)
			}
		}
	})
}
