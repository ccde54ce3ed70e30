package trace_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// The Tracer is sipgo's wire tap.
var _ sip.SIPTracer = (*trace.Tracer)(nil)

// clock is a settable clock for tracers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func newTracer(t *testing.T, opts trace.Options) *trace.Tracer {
	t.Helper()
	tr, err := trace.NewTracer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func flush(t *testing.T, tr *trace.Tracer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTracerNeedsASink(t *testing.T) {
	if _, err := trace.NewTracer(trace.Options{}); err == nil {
		t.Fatal("a tracer without a sink was accepted")
	}
}

func TestTracerRecordsWireAndDecisions(t *testing.T) {
	sink := trace.NewMemorySink()
	clk := &clock{now: t0}
	tr := newTracer(t, trace.Options{Sink: sink, Now: clk.Now})

	f := tracetest.New("wire-1", t0)
	inv := f.Invite(caller, "alice", "carol")
	raw := inv.Bytes()
	tr.SIPTraceRead("udp", "127.0.0.1:5060", caller, raw)
	raw[0] = 'X' // sipgo reuses its buffer: the tracer must have copied it

	req, err := sip.ParseMessage(inv.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ctx := trace.WithRecorder(context.Background(), tr.ForRequest(req.(*sip.Request)))
	clk.Set(t0.Add(1500 * time.Nanosecond)) // recorded to the microsecond
	trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.NoBinding, Producer: "locate", Code: 480,
		User: "carol@localhost", Reason: "carol@localhost exists but has no registered contact"})
	trace.Decision(ctx, trace.Event{Kind: trace.KindAnswer, Producer: "locate", Code: 480,
		Reason: "carol@localhost exists but has no registered contact"})
	clk.Set(t0.Add(2 * time.Millisecond))
	tr.SIPTraceWrite("UDP", "127.0.0.1:5060", caller, f.Reply(inv, 480).Bytes())
	tr.SIPTraceRead("UDP", "127.0.0.1:5060", caller, []byte("\r\n\r\n")) // a keep-alive: no Call-ID
	flush(t, tr)

	c, err := sink.Call(context.Background(), "wire-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 2 || len(c.Events) != 2 {
		t.Fatalf("got %d messages and %d events, want 2 and 2", len(c.Messages), len(c.Events))
	}
	in := c.Messages[0]
	if in.Direction != trace.In || in.Transport != "UDP" || in.Local != "127.0.0.1:5060" || in.Remote != caller ||
		in.Raw[0] != 'I' || !in.Time.Equal(t0) {
		t.Errorf("received message recorded as %+v", in)
	}
	ev := c.Events[0]
	if ev.Method != "INVITE" || ev.CSeq != 1 || ev.CallID != "wire-1" || !ev.Time.Equal(t0.Add(time.Microsecond)) {
		t.Errorf("decision recorded as %+v", ev)
	}
	list, _ := sink.Calls(context.Background(), trace.Query{})
	if len(list) != 1 || list[0].Code != 480 || list[0].Producer != "locate" || list[0].Outcome != trace.OutcomeUnavailable {
		t.Errorf("summary %+v", list)
	}
	if st := tr.Stats(); st.Recorded != 5 || st.Written != 4 || st.Unkeyed != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTracerFramesTCP(t *testing.T) {
	sink := trace.NewMemorySink()
	tr := newTracer(t, trace.Options{Sink: sink})
	a := tracetest.New("tcp-a", t0)
	a.Transport = "TCP"
	b := tracetest.New("tcp-b", t0)
	b.Transport = "TCP"
	stream := append(a.Invite(caller, "alice", "bob").Bytes(), b.Invite(caller, "alice", "carol").Bytes()...)
	// Three reads that cut both messages in the middle.
	for _, chunk := range [][]byte{stream[:100], stream[100 : len(stream)-50], stream[len(stream)-50:]} {
		tr.SIPTraceRead("TCP", "127.0.0.1:5060", caller, chunk)
	}
	flush(t, tr)
	for _, id := range []string{"tcp-a", "tcp-b"} {
		c, err := sink.Call(context.Background(), id)
		if err != nil || len(c.Messages) != 1 {
			t.Fatalf("%s: %v, %+v", id, err, c)
		}
		if p, err := c.Messages[0].Parse(); err != nil || p.Method != "INVITE" || !p.HasSDP() {
			t.Errorf("%s: message not framed whole: %v %q", id, err, c.Messages[0].Raw)
		}
	}
}

// blockingSink holds every Write until released.
type blockingSink struct {
	*trace.MemorySink
	release chan struct{}
}

func (s *blockingSink) Write(ctx context.Context, b trace.Batch) error {
	<-s.release
	return s.MemorySink.Write(ctx, b)
}

func TestTracerDropsWhenTheQueueIsFull(t *testing.T) {
	sink := &blockingSink{MemorySink: trace.NewMemorySink(), release: make(chan struct{})}
	tr := newTracer(t, trace.Options{Sink: sink, QueueSize: 4, BatchSize: 1})
	msg := tracetest.New("full-1", t0).Invite(caller, "alice", "bob").Bytes()
	done := make(chan struct{})
	go func() {
		// Never blocks, whatever the writer does.
		for i := 0; i < 100; i++ {
			tr.SIPTraceRead("UDP", "127.0.0.1:5060", caller, msg)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("recording blocked on a stuck sink")
	}
	close(sink.release)
	flush(t, tr)
	st := tr.Stats()
	if st.Dropped == 0 || st.Recorded+st.Dropped != 100 || st.Written != st.Recorded {
		t.Errorf("stats %+v", st)
	}
}

type failingSink struct{ *trace.MemorySink }

func (failingSink) Write(context.Context, trace.Batch) error { return errors.New("disk full") }

func TestTracerReportsWriteErrors(t *testing.T) {
	var mu sync.Mutex
	var got []error
	tr := newTracer(t, trace.Options{Sink: failingSink{trace.NewMemorySink()}, OnError: func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	}})
	tr.SIPTraceRead("UDP", "l", "r", tracetest.New("e-1", t0).Invite(caller, "a", "b").Bytes())
	flush(t, tr)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || tr.Stats().WriteErrors != 1 {
		t.Fatalf("errors %v, stats %+v", got, tr.Stats())
	}
}

func TestTracerClose(t *testing.T) {
	sink := trace.NewMemorySink()
	tr, err := trace.NewTracer(trace.Options{Sink: sink, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tr.SIPTraceRead("UDP", "l", "r", tracetest.New("close-1", t0).Invite(caller, "a", "b").Bytes())
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Call(context.Background(), "close-1"); err != nil {
		t.Errorf("Close did not write what was queued: %v", err)
	}
	tr.SIPTraceRead("UDP", "l", "r", []byte("late"))
	if tr.Stats().Dropped != 1 {
		t.Errorf("an entry after Close was not dropped: %+v", tr.Stats())
	}
	if err := tr.Flush(context.Background()); !errors.Is(err, trace.ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTracerSurvivesARestart(t *testing.T) {
	// A call that spans a restart: its INVITE and 180 before, its 486 after. The summary
	// written after the restart covers the whole call.
	path := filepath.Join(t.TempDir(), "siplens.db")
	f := busyCall()
	msgs := f.Call().Messages
	record := func(msgs []trace.Message) {
		sink, err := trace.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		tr, err := trace.NewTracer(trace.Options{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			m.CallID, m.Seq = "", 0
			tr.Message(m)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	record(msgs[:5])
	record(msgs[5:])

	sink, err := trace.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	c, err := sink.Call(context.Background(), "busy-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != len(msgs) {
		t.Fatalf("reopened file holds %d messages, want %d", len(c.Messages), len(msgs))
	}
	list, err := sink.Calls(context.Background(), trace.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Code != 486 || !list[0].First.Equal(t0) || list[0].Messages != len(msgs) {
		t.Errorf("summary after restart %+v", list)
	}
}

func TestTracerAppliesRetention(t *testing.T) {
	sink := trace.NewMemorySink()
	clk := &clock{now: t0}
	tr := newTracer(t, trace.Options{Sink: sink, Now: clk.Now, PruneInterval: 5 * time.Millisecond,
		Retention: trace.Retention{MaxCalls: 1}})
	for i, id := range []string{"old-1", "new-1"} {
		clk.Set(t0.Add(time.Duration(i) * time.Second))
		tr.SIPTraceRead("UDP", "l", "r", tracetest.New(id, t0).Invite(caller, "a", "b").Bytes())
	}
	flush(t, tr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _ := sink.Calls(context.Background(), trace.Query{})
		if len(list) == 1 && list[0].CallID == "new-1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention not applied: %+v", list)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
