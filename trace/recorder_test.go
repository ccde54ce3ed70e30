package trace_test

import (
	"context"
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
)

func TestTracingOffIsFree(t *testing.T) {
	ctx := context.Background()
	if trace.Enabled(ctx) || trace.FromContext(ctx) != nil {
		t.Fatal("a bare context has a recorder")
	}
	var nilTracer *trace.Tracer
	if nilTracer.ForCall("x") != nil || nilTracer.ForRequest(nil) != nil {
		t.Fatal("a nil tracer made a recorder")
	}
	if trace.WithRecorder(ctx, nil) != ctx {
		t.Fatal("attaching a nil recorder changed the context")
	}
	nilTracer.SIPTraceRead("UDP", "l", "r", []byte("x"))
	nilTracer.Message(trace.Message{})
	allocs := testing.AllocsPerRun(100, func() {
		trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.NoBinding, Producer: "locate", Code: 480, User: "carol@localhost"})
	})
	if allocs != 0 {
		t.Errorf("a decision with tracing off allocates %v times", allocs)
	}
}

func TestStandaloneRecorder(t *testing.T) {
	clk := &clock{now: t0}
	rec := trace.NewRecorder("step-test", clk.Now)
	ctx := trace.WithRecorder(context.Background(), rec)
	if !trace.Enabled(ctx) || trace.FromContext(ctx) != rec || rec.CallID() != "step-test" {
		t.Fatal("recorder not found in its context")
	}
	clk.Set(t0.Add(time.Second))
	trace.Decision(ctx, trace.Event{Kind: trace.KindAuth, Verdict: trace.WrongPassword, Producer: "auth", User: "alice@localhost"})
	clk.Set(t0)
	rec.Message(trace.Message{Direction: trace.In, Raw: []byte("REGISTER sip:localhost SIP/2.0\r\n\r\n")})
	c := rec.Call()
	if len(c.Events) != 1 || len(c.Messages) != 1 {
		t.Fatalf("recorded %+v", c)
	}
	tl := c.Timeline()
	if tl[0].Message == nil || tl[1].Event == nil || tl[1].Event.Verdict != trace.WrongPassword || tl[1].Event.CallID != "step-test" {
		t.Errorf("timeline out of order or incomplete: %+v", tl)
	}
}

func TestDirectionText(t *testing.T) {
	for _, d := range []trace.Direction{trace.In, trace.Out} {
		b, err := d.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back trace.Direction
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("%s did not round-trip: %v", d, err)
		}
	}
	if _, err := trace.Direction(0).MarshalText(); err == nil {
		t.Error("direction 0 marshalled")
	}
}
