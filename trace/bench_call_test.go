package trace_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// answeredCall is the call the load test sends through siplens: INVITE, 100, 180, 200,
// ACK, BYE, 200 on both legs (14 messages) and the 8 decisions siplens records about it.
func answeredCall(callID string) (*trace.Call, []trace.Event) {
	f := tracetest.New(callID, t0)
	inv := f.Invite(caller, "alice", "bob")
	f.After(time.Millisecond).Reply(inv, 100)
	br := f.Forward(inv, "sip:bob@"+bobAt, bobAt)
	f.Reply(br, 100)
	ring := f.After(2*time.Millisecond).Reply(br, 180)
	f.Relay(ring, inv)
	ok := f.After(time.Second).Reply(br, 200)
	f.Relay(ok, inv)
	f.InDialog(trace.In, caller, "ACK", caller, inv, ok, 1)
	f.InDialog(trace.Out, bobAt, "ACK", "127.0.0.1:5060", br, ok, 1)
	byeIn := f.After(10*time.Second).InDialog(trace.In, caller, "BYE", caller, inv, ok, 2)
	byeOut := f.InDialog(trace.Out, bobAt, "BYE", "127.0.0.1:5060", br, ok, 2)
	f.Reply(byeOut, 200)
	f.Reply(byeIn, 200)
	c := f.Call()
	evs := []trace.Event{
		{Kind: trace.KindACL, Verdict: trace.Allowed, Producer: "acl", Rule: "allow 127.0.0.0/8", Method: "INVITE", CSeq: 1},
		{Kind: trace.KindAuth, Verdict: trace.Trusted, Producer: "auth", User: "alice@localhost", Method: "INVITE", CSeq: 1},
		{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", Count: 1, User: "bob@localhost", Method: "INVITE", CSeq: 1},
		{Kind: trace.KindBranch, Verdict: trace.Opened, Producer: "forward", Branch: 1, Target: "sip:bob@" + bobAt, Destination: bobAt, Method: "INVITE", CSeq: 1},
		{Kind: trace.KindBranch, Verdict: trace.Provisional, Producer: "forward", Branch: 1, Code: 180, Method: "INVITE", CSeq: 1},
		{Kind: trace.KindBranch, Verdict: trace.Final, Producer: "forward", Branch: 1, Code: 200, Method: "INVITE", CSeq: 1},
		{Kind: trace.KindBest, Producer: "forward", Branch: 1, Code: 200, Reason: "first 2xx", Method: "INVITE", CSeq: 1},
		{Kind: trace.KindAnswer, Producer: "branch 1 (sip:bob@" + bobAt + ")", Code: 200, Method: "INVITE", CSeq: 1},
	}
	return c, evs
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCallSQLite records whole answered calls (14 messages through the wire tap, 8
// decisions) into SQLite, one op per call: the whole cost of recording a call, on the
// request path and in the writer. cpu-µs/call is the process CPU (both cores) per call,
// the number to compare with the proxy's own CPU per call.
func BenchmarkCallSQLite(b *testing.B) {
	benchCalls(b, func(b *testing.B) trace.Sink {
		sink, err := trace.OpenSQLite(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sink.Close() })
		return sink
	})
}

// BenchmarkCallDiscard is the same without a store: the tap and the writer's own work.
func BenchmarkCallDiscard(b *testing.B) {
	benchCalls(b, func(*testing.B) trace.Sink { return discardSink{trace.NewMemorySink()} })
}

func benchCalls(b *testing.B, newSink func(*testing.B) trace.Sink) {
	tr, err := trace.NewTracer(trace.Options{Sink: newSink(b), QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	const template = "bench-00000000@127.0.0.1"
	call, evs := answeredCall(template)
	type wire struct {
		dir    trace.Direction
		remote string
		raw    []byte
		at     []int // where the Call-ID's digits are
	}
	msgs := make([]wire, len(call.Messages))
	for i, m := range call.Messages {
		w := wire{dir: m.Direction, remote: m.Remote, raw: bytes.Clone(m.Raw)}
		for off := 0; ; {
			j := bytes.Index(w.raw[off:], []byte("bench-"))
			if j < 0 {
				break
			}
			w.at = append(w.at, off+j+len("bench-"))
			off += j + 1
		}
		msgs[i] = w
	}
	if len(msgs) != 14 || len(evs) != 8 {
		b.Fatalf("%d messages and %d events", len(msgs), len(evs))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		digits := fmt.Appendf(nil, "%08d", i)
		callID := "bench-" + string(digits) + "@127.0.0.1"
		rec := tr.ForCall(callID)
		for j, m := range msgs {
			for _, at := range m.at {
				copy(m.raw[at:], digits)
			}
			if m.dir == trace.In {
				tr.SIPTraceRead("UDP", "127.0.0.1:5060", m.remote, m.raw)
			} else {
				tr.SIPTraceWrite("UDP", "127.0.0.1:5060", m.remote, m.raw)
			}
			if j < len(evs) && j%2 == 0 || j >= 10 && j-6 < len(evs) {
				rec.Decision(evs[min(j, len(evs)-1)])
			}
		}
		if i%512 == 511 {
			// Keep the queue from overflowing: the point is the cost of what is recorded.
			if err := tr.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tr.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	st := tr.Stats()
	if st.Dropped > 0 || st.WriteErrors > 0 || st.Written != int64(b.N)*22 {
		b.Fatalf("stats %+v, want %d written", st, b.N*22)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}
