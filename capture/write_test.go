package capture_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/capture/capturetest"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// proxied is a call relayed by siplens from alice to bob: INVITE (sent twice), 100, 180,
// 200, ACK, BYE, 200, as siplens records it.
func proxied(callID, transport, self, alice, bob string) *trace.Call {
	f := tracetest.New(callID, t0)
	f.Self, f.Transport = self, transport
	req := f.Invite(alice, "alice", "bob")
	f.After(500 * time.Millisecond).Again(req)
	f.After(time.Millisecond).Reply(req, 100)
	out := f.After(time.Millisecond).Forward(req, "sip:bob@"+bob, bob)
	ring := f.After(10*time.Millisecond).Reply(out, 180)
	f.Relay(ring, req)
	ok := f.After(time.Second).Reply(out, 200, tracetest.SDP(tracetest.Offer("127.0.0.1", 30000)))
	f.Relay(ok, req)
	f.After(time.Millisecond).InDialog(trace.In, alice, "ACK", alice, req, ok, 1)
	f.After(2*time.Second).InDialog(trace.In, alice, "BYE", alice, req, ok, 2)
	return f.Call()
}

// counts are what tshark should see in a call: requests by method, responses by code.
func counts(t *testing.T, calls ...*trace.Call) capturetest.Stats {
	s := capturetest.Stats{Requests: map[string]int{}, Responses: map[int]int{}}
	for _, c := range calls {
		for _, m := range c.Messages {
			p, err := trace.Parse(m.Raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if p.Request {
				s.Requests[p.Method]++
			} else {
				s.Responses[p.Code]++
			}
		}
	}
	return s
}

func TestWritePCAPReadByTshark(t *testing.T) {
	for _, tc := range []struct {
		name string
		call *trace.Call
	}{
		{"udp-v4", proxied("w-udp", "UDP", "127.0.0.1:5062", "127.0.0.1:5080", "127.0.0.1:5070")},
		{"tcp-v4", proxied("w-tcp", "TCP", "127.0.0.1:5062", "127.0.0.1:5080", "127.0.0.1:5070")},
		{"udp-v6", proxied("w-udp6", "UDP", "[::1]:5062", "[::1]:5080", "[::1]:5070")},
		{"tcp-v6", proxied("w-tcp6", "TCP", "[2001:db8::1]:15060", "[2001:db8::2]:15080", "[2001:db8::3]:15070")},
		{"tls-as-tcp", proxied("w-tls", "TLS", "10.0.0.1:17000", "10.0.0.2:17001", "10.0.0.3:17002")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := capture.WritePCAP(&buf, tc.call); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "call.pcap")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got := capturetest.Tshark(t, file)
			want := counts(t, tc.call)
			if !got.Equal(want) {
				t.Errorf("tshark counts %v, want %v", got, want)
			}
		})
	}
}
