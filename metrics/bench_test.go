package metrics

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/trace"
)

// The per-message hooks: each must cost a few nanoseconds and allocate nothing
// (go test -run '^$' -bench . -benchmem ./metrics/).

func BenchmarkSentResponse(b *testing.B) {
	m := New(Options{})
	raw := []byte("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		m.Sent(raw)
	}
}

func BenchmarkSentRequest(b *testing.B) {
	m := New(Options{})
	raw := []byte("INVITE sip:bob@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		m.Sent(raw)
	}
}

func BenchmarkReceivedRequest(b *testing.B) {
	m := New(Options{})
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "example.com"})
	var msg sip.Message = req
	b.ReportAllocs()
	for b.Loop() {
		m.Received(msg)
	}
}

func BenchmarkReceivedResponse(b *testing.B) {
	m := New(Options{})
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "example.com"})
	var msg sip.Message = sip.NewResponseFromRequest(req, 200, "OK", nil)
	b.ReportAllocs()
	for b.Loop() {
		m.Received(msg)
	}
}

// Per call, not per message, but on the same path.
func BenchmarkCallEnded(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.CallEnded(200, "branch 1 (sip:bob@127.0.0.1:5062)", 80*time.Millisecond, 2*time.Second)
	}
}

func BenchmarkAuthVerdict(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.AuthVerdict(trace.WrongPassword)
	}
}

func BenchmarkParallelSent(b *testing.B) {
	m := New(Options{})
	raw := []byte("SIP/2.0 200 OK\r\n\r\n")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Sent(raw)
		}
	})
}

// TestHooksDoNotAllocate keeps the benchmarks' promise in the ordinary test run.
func TestHooksDoNotAllocate(t *testing.T) {
	m := New(Options{})
	res := []byte("SIP/2.0 486 Busy Here\r\n\r\n")
	req := []byte("REGISTER sip:example.com SIP/2.0\r\n\r\n")
	var in sip.Message = sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "example.com"})
	for name, f := range map[string]func(){
		"Sent response":    func() { m.Sent(res) },
		"Sent request":     func() { m.Sent(req) },
		"Received request": func() { m.Received(in) },
		"CallEnded":        func() { m.CallEnded(486, "branch 1", time.Second, 0) },
		"AuthVerdict":      func() { m.AuthVerdict(trace.Stale) },
		"RateLimited":      func() { m.RateLimited("per_source") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}
