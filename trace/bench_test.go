package trace_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// discardSink stores nothing: it isolates the cost of the request path and the writer.
type discardSink struct{ *trace.MemorySink }

func (discardSink) Write(context.Context, trace.Batch) error { return nil }

func benchMessages(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = tracetest.New(fmt.Sprintf("bench-%d@127.0.0.1", i), t0).Invite(caller, "alice", "bob").Bytes()
	}
	return out
}

// BenchmarkRecordMessage is what the wire tap costs on the request path: copy the bytes,
// stamp the time, queue.
func BenchmarkRecordMessage(b *testing.B) {
	tr, err := trace.NewTracer(trace.Options{Sink: discardSink{trace.NewMemorySink()}, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	msgs := benchMessages(1000)
	b.SetBytes(int64(len(msgs[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.SIPTraceRead("UDP", "127.0.0.1:5060", "127.0.0.1:5080", msgs[i%len(msgs)])
		if i%8192 == 8191 {
			// Let the writer catch up outside the timer: the point is the cost of an
			// accepted entry, not of a refused one.
			b.StopTimer()
			if err := tr.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	if st := tr.Stats(); st.Dropped > 0 {
		b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
	}
}

// BenchmarkRecordDecision is a step's decision with tracing on.
func BenchmarkRecordDecision(b *testing.B) {
	tr, err := trace.NewTracer(trace.Options{Sink: discardSink{trace.NewMemorySink()}, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx := trace.WithRecorder(context.Background(), tr.ForCall("bench"))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", Count: 1})
	}
}

// BenchmarkDecisionOff is a step's decision with tracing off.
func BenchmarkDecisionOff(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", Count: 1})
	}
}

// BenchmarkWriteSQLite is the whole path to disk: record, frame, key, summarise and write
// to SQLite in batches. The messages are those of whole calls (the nine of a call that
// rings and gets 486) one call after the other, as a loaded proxy sees them. It measures
// the writer's throughput per message, which bounds the sustained rate it keeps up with.
func BenchmarkWriteSQLite(b *testing.B) {
	sink, err := trace.OpenSQLite(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	tr, err := trace.NewTracer(trace.Options{Sink: sink, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	call := busyCall().Call().Messages
	msgs := make([][]byte, len(call))
	for i, m := range call {
		msgs[i] = m.Raw
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw := msgs[i%len(msgs)]
		// A new Call-ID for each round of the call's messages.
		raw = bytes.Replace(raw, []byte("busy-1"), []byte(fmt.Sprintf("bench-%08d", i/len(msgs))), 1)
		tr.Message(trace.Message{Direction: trace.In, Transport: "UDP", Local: "127.0.0.1:5060", Remote: "127.0.0.1:5080", Raw: raw})
		if i%8192 == 8191 {
			// Keep the queue from overflowing: the point is the writer's rate.
			if err := tr.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := tr.Stats(); st.Dropped > 0 || st.WriteErrors > 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.N)/float64(len(msgs))/b.Elapsed().Seconds(), "calls/s")
}
