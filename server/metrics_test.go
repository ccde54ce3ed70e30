package server

import (
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/metrics"
)

func TestCallClock(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "example.com"})
	for _, c := range []struct {
		name                string
		codes               []int
		wantRing, wantAnswr bool
	}{
		{"ringing then answered", []int{100, 180, 183, 200, 200}, true, true},
		{"answered without ringing", []int{100, 200}, false, true},
		{"ringing then busy", []int{183, 486}, true, false},
		{"100 only", []int{100, 408}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := &callClock{start: time.Now().Add(-time.Second)}
			var firstRing, firstAnswer int64
			for _, code := range c.codes {
				clock.wrote(chain.Written{Response: sip.NewResponseFromRequest(req, code, "", nil)})
				if firstRing == 0 {
					firstRing = clock.ringing.Load()
				}
				if firstAnswer == 0 {
					firstAnswer = clock.answered.Load()
				}
			}
			if got := clock.ringing.Load() > 0; got != c.wantRing {
				t.Errorf("ringing recorded = %v, want %v", got, c.wantRing)
			}
			if got := clock.answered.Load() > 0; got != c.wantAnswr {
				t.Errorf("answer recorded = %v, want %v", got, c.wantAnswr)
			}
			if clock.ringing.Load() != firstRing || clock.answered.Load() != firstAnswer {
				t.Error("a later response moved the first time")
			}
			if d := time.Duration(clock.ringing.Load()); c.wantRing && d < time.Second {
				t.Errorf("ringing after %v, want at least the second since the INVITE", d)
			}
		})
	}
}

// BenchmarkWireTapWriteMetricsOnly is the tap's cost per message sent with metrics on and
// recording off: the route lookup and the count.
func BenchmarkWireTapWriteMetricsOnly(b *testing.B) {
	d := &tapDispatcher{byLocal: map[string]tapSink{}}
	m := metrics.New(metrics.Options{})
	d.byLocal["127.0.0.1:5060"] = tapSink{metrics: m}
	raw := []byte("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		d.SIPTraceWrite("UDP", "127.0.0.1:5060", "127.0.0.1:5062", raw)
	}
}

// BenchmarkSipgoTapAddresses is what sipgo itself adds per message read or written once
// the tap is on (sip.SIPDebug): it formats both addresses for the tracer call.
func BenchmarkSipgoTapAddresses(b *testing.B) {
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	remote := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5062}
	b.ReportAllocs()
	for b.Loop() {
		_ = local.String()
		_ = remote.String()
	}
}
